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
    /// The licence the tenant needs for the feature, when Graph refuses it without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<&'static str>,
}

/// The licence a kind's feature needs, when the tenant's base licences do not include it.
pub fn licence(kind: Kind) -> Option<&'static str> {
    (kind == Kind::AccessReview).then_some(
        "Microsoft Entra ID Governance (or Microsoft Entra ID P2), for every reviewer and reviewed guest",
    )
}

/// The permissions of one kind (`None` for steward's own declarations), from the kind registry.
pub fn for_kind(kind: Kind) -> Option<KindPermissions> {
    let p = kind.spec().permissions?;
    let application = |list: &'static [&'static str]| {
        if p.application {
            list.to_vec()
        } else {
            Vec::new()
        }
    };
    Some(KindPermissions {
        kind: kind.node_name(),
        application_read: application(p.read),
        application_write: application(p.write),
        delegated_read: p.read.to_vec(),
        delegated_write: p.write.to_vec(),
        app_only: p.application,
        admin_role: p.admin_role,
        licence: licence(kind),
    })
}

/// Permissions for turning names into ids and back: users, groups, service principals
/// (`directoryObjects/getByIds` needs Directory.Read.All) and directory roles.
pub const NAME_RESOLUTION: &[&str] = &["Directory.Read.All", "RoleManagement.Read.Directory"];

/// Kinds whose files refer to directory objects by name (users, groups, roles, applications).
pub fn needs_name_resolution(kind: Kind) -> bool {
    kind.spec().references.iter().any(|r| r.kind().is_none())
}
