//! Security defaults (`/policies/identitySecurityDefaultsEnforcementPolicy`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Microsoft's security defaults. They must be off for Conditional Access policies to be enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityDefaults {
    /// Whether security defaults are on.
    pub is_enabled: bool,
}

impl super::Resource for SecurityDefaults {}
