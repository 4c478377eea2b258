//! Declarations about how steward manages the tenant, rather than tenant settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::reference::{GroupRef, UserRef};

/// The break-glass accounts every enabled blocking Conditional Access policy must exclude.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmergencyAccess {
    /// The accounts, by UPN or object id: users of the tenant.
    #[serde(default)]
    pub user: Vec<UserRef>,
    /// Groups holding only the accounts listed in `user` (checked against the tenant): a
    /// policy that excludes one excludes the accounts in it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<GroupRef>,
}

/// A scope steward owns exclusively: undeclared objects in it may be deleted (within the
/// deletion guard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Prune {
    /// The resource kind (`conditional-access-policy`, `named-location`,
    /// `authentication-strength`, `retention-label`, `cross-tenant-partner`, `access-review`).
    pub kind: PruneKind,
    /// Only objects whose display name starts with this prefix; absent: the whole kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
}

/// The collection kinds a prune scope can cover.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum PruneKind {
    /// Conditional Access policies.
    ConditionalAccessPolicy,
    /// Named locations.
    NamedLocation,
    /// Custom authentication strengths.
    AuthenticationStrength,
    /// Retention labels.
    RetentionLabel,
    /// Cross-tenant access partner configurations.
    CrossTenantPartner,
    /// Access reviews.
    AccessReview,
}

impl PruneKind {
    /// Every prune scope kind.
    pub const ALL: &'static [PruneKind] = &[
        PruneKind::ConditionalAccessPolicy,
        PruneKind::NamedLocation,
        PruneKind::AuthenticationStrength,
        PruneKind::RetentionLabel,
        PruneKind::CrossTenantPartner,
        PruneKind::AccessReview,
    ];
}

/// The `ignore-changes` paths of a resource's canonical JSON (`ignoreChanges`), in file order.
pub fn ignored_paths(json: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    json.get("ignoreChanges")
        .and_then(serde_json::Value::as_array)
        .map(|paths| {
            paths
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}
