//! The authorization policy (`/policies/authorizationPolicy`): guest invitations, consent and
//! what ordinary users may do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;

graph_enum!(
    /// Who may invite guests.
    AllowInvitesFrom {
        None = "none",
        AdminsAndGuestInviters = "adminsAndGuestInviters",
        AdminsGuestInvitersAndAllMembers = "adminsGuestInvitersAndAllMembers",
        Everyone = "everyone",
    }
);

/// The tenant's authorization policy. Undeclared settings are left alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationPolicy {
    /// Who may invite guests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_invites_from: Option<AllowInvitesFrom>,
    /// Whether users may sign up for email-based subscriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to_sign_up_email_based_subscriptions: Option<bool>,
    /// Whether users may use self-service password reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "allowedToUseSSPR")]
    pub allowed_to_use_sspr: Option<bool>,
    /// Whether users may join the tenant by email validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_email_verified_users_to_join_organization: Option<bool>,
    /// Whether users may consent to apps flagged as risky.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_user_consent_for_risky_apps: Option<bool>,
    /// Whether the legacy MSOnline PowerShell module is blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_msol_power_shell: Option<bool>,
    /// The role guests get: its template id (User, Guest User or Restricted Guest User).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uuid"))]
    pub guest_user_role_id: Option<String>,
    /// What ordinary users may do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_user_role_permissions: Option<DefaultUserRolePermissions>,
}

/// What ordinary users may do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultUserRolePermissions {
    /// Whether users may register applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to_create_apps: Option<bool>,
    /// Whether users may create security groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to_create_security_groups: Option<bool>,
    /// Whether users may create tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to_create_tenants: Option<bool>,
    /// Whether users may read BitLocker keys of their own devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to_read_bitlocker_keys_for_owned_device: Option<bool>,
    /// Whether users may read other users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_to_read_other_users: Option<bool>,
    /// The permission grant policies for user consent (`microsoft-user-default-low`, …; empty: no
    /// user consent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_grant_policies_assigned: Option<Vec<String>>,
}

impl super::Resource for AuthorizationPolicy {}
