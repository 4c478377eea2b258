//! The least-privilege Microsoft Graph permissions each kind needs, as Microsoft documents them
//! on each endpoint's reference page (application and delegated).

use serde::Serialize;

use crate::model::Kind;

/// What one kind needs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct KindPermissions {
    /// The kind's node name.
    pub kind: &'static str,
    /// Application permissions to read; empty when app-only sign-in cannot read the kind.
    pub application_read: Vec<&'static str>,
    /// Application permissions to write (in addition to the read ones).
    pub application_write: Vec<&'static str>,
    /// Delegated permissions to read.
    pub delegated_read: Vec<&'static str>,
    /// Delegated permissions to write.
    pub delegated_write: Vec<&'static str>,
    /// Whether an app-only sign-in (secret, certificate, workload identity) can manage it.
    pub app_only: bool,
    /// The least-privileged Entra or Purview role a signed-in admin needs to write it.
    pub admin_role: &'static str,
}

/// The permissions of one kind (`None` for steward's own declarations).
pub fn for_kind(kind: Kind) -> Option<KindPermissions> {
    let p = |read: &[&'static str], write: &[&'static str], role: &'static str| KindPermissions {
        kind: kind.node_name(),
        application_read: read.to_vec(),
        application_write: write.to_vec(),
        delegated_read: read.to_vec(),
        delegated_write: write.to_vec(),
        app_only: true,
        admin_role: role,
    };
    Some(match kind {
        Kind::EmergencyAccess | Kind::Prune => return None,
        Kind::ConditionalAccessPolicy | Kind::NamedLocation => p(
            &["Policy.Read.All"],
            &["Policy.ReadWrite.ConditionalAccess"],
            "Conditional Access Administrator",
        ),
        Kind::AuthenticationStrength => p(
            &["Policy.Read.All"],
            &["Policy.ReadWrite.ConditionalAccess"],
            "Conditional Access Administrator",
        ),
        Kind::AuthenticationMethodsPolicy => p(
            &["Policy.Read.AuthenticationMethod"],
            &["Policy.ReadWrite.AuthenticationMethod"],
            "Authentication Policy Administrator",
        ),
        Kind::SecurityDefaults => p(
            &["Policy.Read.All"],
            &["Policy.ReadWrite.SecurityDefaults"],
            "Security Administrator",
        ),
        Kind::AuthorizationPolicy => p(
            &["Policy.Read.All"],
            &["Policy.ReadWrite.Authorization"],
            "Privileged Role Administrator",
        ),
        Kind::SharepointSettings => p(
            &["SharePointTenantSettings.Read.All"],
            &["SharePointTenantSettings.ReadWrite.All"],
            "SharePoint Administrator",
        ),
        Kind::RetentionLabel => KindPermissions {
            kind: kind.node_name(),
            application_read: Vec::new(),
            application_write: Vec::new(),
            delegated_read: vec!["RecordsManagement.Read.All"],
            delegated_write: vec!["RecordsManagement.ReadWrite.All"],
            app_only: false,
            admin_role: "Compliance Administrator (or a Purview role group with Retention Management)",
        },
    })
}

/// Permissions for turning names into ids and back: users, groups, service principals
/// (`directoryObjects/getByIds` needs Directory.Read.All) and directory roles.
pub const NAME_RESOLUTION: &[&str] = &["Directory.Read.All", "RoleManagement.Read.Directory"];

/// Kinds whose files refer to directory objects by name.
pub fn needs_name_resolution(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::ConditionalAccessPolicy | Kind::AuthenticationMethodsPolicy | Kind::EmergencyAccess
    )
}
