//! The kind registry: one entry per kind of top-level node, from which [`Kind`], [`Desired`]
//! and every per-kind table are derived (node names, Graph paths, arity, permissions, export
//! files, prune scopes, references and the read and apply order).
//!
//! Adding a kind is one entry in [`registry!`]'s invocation below plus its model type
//! implementing [`Resource`]; `docs/adding-a-kind.md` lists the rest. Code elsewhere asks the
//! registry (`kind.spec()`, `desired.resources(kind)`, `desired.insert(kind, json)`) instead of
//! keeping its own list of kinds, and every remaining `match` on [`Kind`] is exhaustive, so a
//! kind cannot be read but silently never planned.

use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::reference::RefKind;
use super::{
    AccessReview, Arity, AuthenticationMethodsPolicy, AuthenticationStrength, AuthorizationPolicy,
    CheckException, ConditionalAccessPolicy, CrossTenantAccess, CrossTenantPartner,
    EmergencyAccess, Finding, NamedLocation, Prune, PruneKind, RetentionLabel, SecurityDefaults,
    SharepointSettings,
};

/// What the registry needs of a kind's model type. The defaults fit a singleton without
/// checks of its own.
pub trait Resource: Serialize + DeserializeOwned + JsonSchema {
    /// The display name that identifies a collection object; `None` for singletons.
    fn display_name(&self) -> Option<&str> {
        None
    }

    /// The kind's own checks, beyond what its type already enforces (run on files and on
    /// what export would write).
    fn checks(&self) -> Vec<Finding> {
        Vec::new()
    }

    /// JSON pointers (in the model's form) of settings Graph cannot change on an existing
    /// object: a change under one is planned as a replacement (delete, then create).
    fn forces_replacement() -> &'static [&'static str] {
        &[]
    }
}

/// One kind's entry in the registry: everything about it that is data, not code.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// The top-level KDL node name.
    pub node: &'static str,
    /// One line on what the kind is, for schemas and help.
    pub description: &'static str,
    /// How a node of this kind is written.
    pub arity: Arity,
    /// The Graph v1.0 path the kind lives at; `None` for steward's own declarations.
    pub graph_path: Option<&'static str>,
    /// The least-privilege Graph permissions to read and write it; `None` for steward's own
    /// declarations.
    pub permissions: Option<Permissions>,
    /// The file `steward export` writes it to.
    pub export_file: &'static str,
    /// The prune scope that covers it, for collections a `prune` node may name.
    pub prune: Option<PruneKind>,
    /// What its declarations refer to (checked against its schema by a test). Kinds among
    /// these (see [`RefKind::kind`]) are read with it and applied before it.
    pub references: &'static [RefKind],
}

/// The least-privilege Microsoft Graph permissions of a kind, as Microsoft documents them on
/// each endpoint's reference page.
#[derive(Debug, Clone, Copy)]
pub struct Permissions {
    /// Permissions to read.
    pub read: &'static [&'static str],
    /// Permissions to write (in addition to the read ones).
    pub write: &'static [&'static str],
    /// True when Graph grants these as application permissions too (app-only sign-in can
    /// manage the kind); false when they exist only as delegated permissions.
    pub application: bool,
    /// The least-privileged Entra or Purview role a signed-in admin needs to write it.
    pub admin_role: &'static str,
}

/// Where a kind's objects are kept in [`Desired`]: one optional object or a list.
trait Slot {
    type Item: Resource;
    fn put(&mut self, item: Self::Item);
    fn sort_by_name(&mut self);
}

impl<T: Resource> Slot for Option<T> {
    type Item = T;
    fn put(&mut self, item: T) {
        *self = Some(item);
    }
    fn sort_by_name(&mut self) {}
}

impl<T: Resource> Slot for Vec<T> {
    type Item = T;
    fn put(&mut self, item: T) {
        self.push(item);
    }
    fn sort_by_name(&mut self) {
        // Stable: objects without a display name keep their order.
        self.sort_by(|a, b| a.display_name().cmp(&b.display_name()));
    }
}

fn to_map(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn schema_of<T: JsonSchema>() -> Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// Declares the kinds: `Kind`, `Kind::ALL`, `Kind::spec`, `Desired` and the per-kind
/// dispatch over `Desired`, all from one list whose order is the order kinds are listed,
/// read and applied.
macro_rules! registry {
    ($(
        $(#[$doc:meta])*
        $variant:ident($ty:ty) in $field:ident: $slot:ident, $field_doc:literal => $spec:expr;
    )+) => {
        /// Every kind of node a policy file may declare at its top level.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            JsonSchema,
        )]
        #[serde(rename_all = "kebab-case")]
        pub enum Kind {
            $($(#[$doc])* $variant,)+
        }

        impl Kind {
            /// Every kind, in the order resources are listed, read and applied.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            /// The kind's entry in the registry.
            pub fn spec(self) -> &'static KindSpec {
                match self {
                    $(Kind::$variant => {
                        const SPEC: KindSpec = $spec;
                        &SPEC
                    })+
                }
            }

            /// The JSON Schema of this kind's JSON form (what a node converts to).
            pub fn schema(self) -> Schema {
                match self {
                    $(Kind::$variant => schema_of::<$ty>(),)+
                }
            }

            /// JSON pointers of the settings whose change replaces the object (see
            /// [`Resource::forces_replacement`]).
            pub fn forces_replacement(self) -> &'static [&'static str] {
                match self {
                    $(Kind::$variant => <$ty as Resource>::forces_replacement(),)+
                }
            }

            /// Reads one object of this kind from its JSON form and runs the kind's own
            /// checks; `Err` when the JSON does not fit the model.
            pub fn check(self, json: Value) -> Result<Vec<Finding>, serde_json::Error> {
                match self {
                    $(Kind::$variant => {
                        let resource: $ty = serde_json::from_value(json)?;
                        Ok(resource.checks())
                    })+
                }
            }
        }

        /// The whole desired (or live) configuration of a tenant.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Desired {
            $(#[doc = $field_doc] pub $field: $slot<$ty>,)+
        }

        impl Desired {
            /// The resources of `kind` held: display name (collections) and JSON form.
            pub fn resources(&self, kind: Kind) -> Vec<(Option<&str>, Map<String, Value>)> {
                match kind {
                    $(Kind::$variant => self
                        .$field
                        .iter()
                        .map(|r| (r.display_name(), to_map(r)))
                        .collect(),)+
                }
            }

            /// Adds one resource of `kind` from its JSON form (a singleton replaces the one
            /// held); `Err` when the JSON does not fit the model (nothing is added then).
            pub fn insert(&mut self, kind: Kind, json: Value) -> Result<(), serde_json::Error> {
                match kind {
                    $(Kind::$variant => {
                        let resource: $ty = serde_json::from_value(json)?;
                        Slot::put(&mut self.$field, resource);
                        Ok(())
                    })+
                }
            }

            /// [`Desired::insert`], returning the findings of the kind's own checks.
            pub fn insert_checked(
                &mut self,
                kind: Kind,
                json: Value,
            ) -> Result<Vec<Finding>, serde_json::Error> {
                match kind {
                    $(Kind::$variant => {
                        let resource: $ty = serde_json::from_value(json)?;
                        let findings = resource.checks();
                        Slot::put(&mut self.$field, resource);
                        Ok(findings)
                    })+
                }
            }

            /// Orders every collection by display name, so that what is built from a read
            /// is deterministic.
            pub fn sort(&mut self) {
                $(Slot::sort_by_name(&mut self.$field);)+
            }
        }
    };
}

/// Graph's conditional-access permissions, shared by the kinds under `identity/conditionalAccess`.
const CONDITIONAL_ACCESS: Permissions = Permissions {
    read: &["Policy.Read.All"],
    write: &["Policy.ReadWrite.ConditionalAccess"],
    application: true,
    admin_role: "Conditional Access Administrator",
};

/// Graph's cross-tenant access permissions, shared by the default and partner configurations.
const CROSS_TENANT_ACCESS: Permissions = Permissions {
    read: &["Policy.Read.All"],
    write: &["Policy.ReadWrite.CrossTenantAccess"],
    application: true,
    admin_role: "Security Administrator",
};

registry! {
    /// `emergency-access`: the break-glass accounts.
    EmergencyAccess(EmergencyAccess) in emergency_access: Option, "The break-glass accounts." => KindSpec {
        node: "emergency-access",
        description: "Break-glass accounts every enabled blocking Conditional Access policy must exclude.",
        arity: Arity::Singleton,
        graph_path: None,
        permissions: None,
        export_file: "emergency-access.kdl",
        prune: None,
        references: &[RefKind::User, RefKind::Group],
    };
    /// `prune`: a scope steward owns exclusively.
    Prune(Prune) in prune: Vec, "Scopes steward owns exclusively." => KindSpec {
        node: "prune",
        description: "A scope steward owns exclusively: undeclared objects in it may be deleted.",
        arity: Arity::Repeated,
        graph_path: None,
        permissions: None,
        export_file: "prune.kdl",
        prune: None,
        references: &[],
    };
    /// `check-exception "MS.AAD.3.1v1"`: a baseline policy accepted as not met, until a date.
    CheckException(CheckException) in check_exceptions: Vec, "Recorded exceptions to baseline policies." => KindSpec {
        node: "check-exception",
        description: "A baseline policy (`steward check`) accepted as not met, with a reason, until a date.",
        arity: Arity::Named,
        graph_path: None,
        permissions: None,
        export_file: "check-exceptions.kdl",
        prune: None,
        references: &[],
    };
    /// `named-location "Name"`.
    NamedLocation(NamedLocation) in named_locations: Vec, "Named locations." => KindSpec {
        node: "named-location",
        description: "A named location (IP ranges or countries) used by Conditional Access.",
        arity: Arity::Named,
        graph_path: Some("identity/conditionalAccess/namedLocations"),
        permissions: Some(CONDITIONAL_ACCESS),
        export_file: "named-locations.kdl",
        prune: Some(PruneKind::NamedLocation),
        references: &[],
    };
    /// `authentication-strength "Name"`.
    AuthenticationStrength(AuthenticationStrength) in authentication_strengths: Vec, "Custom authentication strengths." => KindSpec {
        node: "authentication-strength",
        description: "A custom authentication strength.",
        arity: Arity::Named,
        graph_path: Some("policies/authenticationStrengthPolicies"),
        permissions: Some(CONDITIONAL_ACCESS),
        export_file: "authentication-strengths.kdl",
        prune: Some(PruneKind::AuthenticationStrength),
        references: &[],
    };
    /// `conditional-access-policy "Name"`.
    ConditionalAccessPolicy(ConditionalAccessPolicy) in conditional_access_policies: Vec, "Conditional Access policies." => KindSpec {
        node: "conditional-access-policy",
        description: "A Conditional Access policy.",
        arity: Arity::Named,
        graph_path: Some("identity/conditionalAccess/policies"),
        permissions: Some(CONDITIONAL_ACCESS),
        export_file: "conditional-access-policies.kdl",
        prune: Some(PruneKind::ConditionalAccessPolicy),
        references: &[
            RefKind::User,
            RefKind::Group,
            RefKind::Role,
            RefKind::Application,
            RefKind::ServicePrincipal,
            RefKind::NamedLocation,
            RefKind::AuthenticationStrength,
        ],
    };
    /// `authentication-methods-policy`.
    AuthenticationMethodsPolicy(AuthenticationMethodsPolicy) in authentication_methods_policy: Option, "The authentication methods policy." => KindSpec {
        node: "authentication-methods-policy",
        description: "The authentication methods policy and its method configurations.",
        arity: Arity::Singleton,
        graph_path: Some("policies/authenticationMethodsPolicy"),
        permissions: Some(Permissions {
            read: &["Policy.Read.AuthenticationMethod"],
            write: &["Policy.ReadWrite.AuthenticationMethod"],
            application: true,
            admin_role: "Authentication Policy Administrator",
        }),
        export_file: "authentication-methods-policy.kdl",
        prune: None,
        references: &[RefKind::MethodTarget],
    };
    /// `security-defaults`.
    SecurityDefaults(SecurityDefaults) in security_defaults: Option, "Security defaults." => KindSpec {
        node: "security-defaults",
        description: "Microsoft's security defaults.",
        arity: Arity::Singleton,
        graph_path: Some("policies/identitySecurityDefaultsEnforcementPolicy"),
        permissions: Some(Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.SecurityDefaults"],
            application: true,
            admin_role: "Security Administrator",
        }),
        export_file: "security-defaults.kdl",
        prune: None,
        references: &[],
    };
    /// `authorization-policy`.
    AuthorizationPolicy(AuthorizationPolicy) in authorization_policy: Option, "The authorization policy." => KindSpec {
        node: "authorization-policy",
        description: "Guest invitations, user consent and default user permissions.",
        arity: Arity::Singleton,
        graph_path: Some("policies/authorizationPolicy"),
        permissions: Some(Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.Authorization"],
            application: true,
            admin_role: "Privileged Role Administrator",
        }),
        export_file: "authorization-policy.kdl",
        prune: None,
        references: &[],
    };
    /// `sharepoint-settings`.
    SharepointSettings(SharepointSettings) in sharepoint_settings: Option, "SharePoint and OneDrive settings." => KindSpec {
        node: "sharepoint-settings",
        description: "SharePoint and OneDrive tenant settings.",
        arity: Arity::Singleton,
        graph_path: Some("admin/sharepoint/settings"),
        permissions: Some(Permissions {
            read: &["SharePointTenantSettings.Read.All"],
            write: &["SharePointTenantSettings.ReadWrite.All"],
            application: true,
            admin_role: "SharePoint Administrator",
        }),
        export_file: "sharepoint-settings.kdl",
        prune: None,
        references: &[],
    };
    /// `retention-label "Name"`.
    RetentionLabel(RetentionLabel) in retention_labels: Vec, "Retention labels." => KindSpec {
        node: "retention-label",
        description: "A Microsoft Purview retention label.",
        arity: Arity::Named,
        graph_path: Some("security/labels/retentionLabels"),
        // Graph has no application permission for retention labels: a signed-in admin only.
        permissions: Some(Permissions {
            read: &["RecordsManagement.Read.All"],
            write: &["RecordsManagement.ReadWrite.All"],
            application: false,
            admin_role: "Compliance Administrator (or a Purview role group with Retention Management)",
        }),
        export_file: "retention-labels.kdl",
        prune: Some(PruneKind::RetentionLabel),
        references: &[],
    };
    /// `cross-tenant-access`.
    CrossTenantAccess(CrossTenantAccess) in cross_tenant_access: Option, "The default cross-tenant access configuration." => KindSpec {
        node: "cross-tenant-access",
        description: "The default cross-tenant access settings: B2B collaboration, B2B direct connect, inbound trust.",
        arity: Arity::Singleton,
        graph_path: Some("policies/crossTenantAccessPolicy/default"),
        permissions: Some(CROSS_TENANT_ACCESS),
        export_file: "cross-tenant-access.kdl",
        prune: None,
        references: &[RefKind::User, RefKind::Group, RefKind::Application],
    };
    /// `cross-tenant-partner "tenant id"`.
    CrossTenantPartner(CrossTenantPartner) in cross_tenant_partners: Vec, "Cross-tenant access partner configurations." => KindSpec {
        node: "cross-tenant-partner",
        description: "Cross-tenant access settings for one partner organisation, by tenant id.",
        arity: Arity::Named,
        graph_path: Some("policies/crossTenantAccessPolicy/partners"),
        // CrossTenantInformation.ReadBasic.All looks up the tenant id of a partner named by domain.
        permissions: Some(Permissions {
            read: &["Policy.Read.All", "CrossTenantInformation.ReadBasic.All"],
            ..CROSS_TENANT_ACCESS
        }),
        export_file: "cross-tenant-partners.kdl",
        prune: Some(PruneKind::CrossTenantPartner),
        references: &[RefKind::User, RefKind::Group, RefKind::Application],
    };
    /// `access-review "Name"`.
    AccessReview(AccessReview) in access_reviews: Vec, "Access reviews of guests." => KindSpec {
        node: "access-review",
        description: "A recurring access review of guests (needs Microsoft Entra ID Governance or P2).",
        arity: Arity::Named,
        graph_path: Some("identityGovernance/accessReviews/definitions"),
        permissions: Some(Permissions {
            read: &["AccessReview.Read.All"],
            write: &["AccessReview.ReadWrite.All"],
            application: true,
            admin_role: "User Administrator",
        }),
        export_file: "access-reviews.kdl",
        prune: Some(PruneKind::AccessReview),
        references: &[RefKind::User, RefKind::Group, RefKind::ServicePrincipal],
    };
}

impl From<PruneKind> for Kind {
    fn from(kind: PruneKind) -> Kind {
        match kind {
            PruneKind::ConditionalAccessPolicy => Kind::ConditionalAccessPolicy,
            PruneKind::NamedLocation => Kind::NamedLocation,
            PruneKind::AuthenticationStrength => Kind::AuthenticationStrength,
            PruneKind::RetentionLabel => Kind::RetentionLabel,
            PruneKind::CrossTenantPartner => Kind::CrossTenantPartner,
            PruneKind::AccessReview => Kind::AccessReview,
        }
    }
}

impl Kind {
    /// The kinds this kind's declarations refer to: read with it (to name them) and applied
    /// before it (to have their ids).
    pub fn depends_on(self) -> impl Iterator<Item = Kind> {
        self.spec().references.iter().filter_map(|r| r.kind())
    }

    /// How other kinds refer to objects of this kind, if they can.
    pub fn as_ref_kind(self) -> Option<RefKind> {
        RefKind::ALL
            .iter()
            .copied()
            .find(|r| r.kind() == Some(self))
    }

    /// The prune scope that covers this kind, if a `prune` node can name it.
    pub fn prune_kind(self) -> Option<PruneKind> {
        self.spec().prune
    }
}

impl Resource for EmergencyAccess {}

impl Resource for Prune {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every reference kind a kind's schema holds, found by walking its shape.
    fn schema_references(kind: Kind) -> BTreeSet<RefKind> {
        fn walk(shape: &crate::model::shape::Shape, out: &mut BTreeSet<String>) {
            use crate::model::shape::Shape;
            match shape {
                Shape::Object(object) => object.fields.iter().for_each(|f| walk(&f.shape, out)),
                Shape::Array(item) => walk(item, out),
                Shape::String {
                    reference: Some(r), ..
                } => {
                    out.insert(r.clone());
                }
                _ => {}
            }
        }
        let mut names = BTreeSet::new();
        walk(kind.root_shape(), &mut names);
        RefKind::ALL
            .iter()
            .copied()
            .filter(|r| names.contains(r.name()))
            .collect()
    }

    #[test]
    fn each_kinds_listed_references_are_those_its_schema_holds() {
        for kind in Kind::ALL {
            let listed: BTreeSet<RefKind> = kind.spec().references.iter().copied().collect();
            assert_eq!(listed, schema_references(*kind), "{kind}");
        }
    }

    #[test]
    fn a_kind_is_listed_after_every_kind_it_depends_on() {
        let position = |k: Kind| Kind::ALL.iter().position(|x| *x == k);
        for kind in Kind::ALL {
            for dependency in kind.depends_on() {
                assert!(
                    position(dependency) < position(*kind),
                    "{kind} depends on {dependency}, which must come first in Kind::ALL"
                );
            }
        }
    }

    #[test]
    fn prune_kinds_and_kinds_convert_both_ways() {
        let prunable: BTreeSet<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.prune_kind().is_some())
            .collect();
        let from_prune: BTreeSet<Kind> = PruneKind::ALL.iter().map(|p| Kind::from(*p)).collect();
        assert_eq!(prunable, from_prune);
        for p in PruneKind::ALL {
            assert_eq!(Kind::from(*p).prune_kind(), Some(*p));
            assert_eq!(Kind::from(*p).arity(), Arity::Named, "{p:?}");
        }
    }

    #[test]
    fn ref_kinds_and_kinds_convert_both_ways() {
        for r in RefKind::ALL {
            if let Some(kind) = r.kind() {
                assert_eq!(kind.as_ref_kind(), Some(*r));
                assert_eq!(kind.arity(), Arity::Named, "{kind}");
            }
        }
    }

    #[test]
    fn node_names_and_export_files_are_unique() {
        let nodes: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.node_name()).collect();
        let files: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.spec().export_file).collect();
        assert_eq!(nodes.len(), Kind::ALL.len());
        assert_eq!(files.len(), Kind::ALL.len());
    }

    #[test]
    fn resources_are_exactly_the_kinds_with_a_graph_path_and_permissions() {
        for kind in Kind::ALL {
            let spec = kind.spec();
            assert_eq!(
                spec.graph_path.is_some(),
                spec.permissions.is_some(),
                "{kind}"
            );
            assert_eq!(kind.is_resource(), spec.graph_path.is_some(), "{kind}");
        }
    }

    #[test]
    fn a_resource_inserted_from_its_json_form_reads_back_the_same() {
        let mut desired = Desired::default();
        let json = serde_json::json!({ "displayName": "HQ", "ipRanges": ["203.0.113.0/24"] });
        let findings = desired.insert_checked(Kind::NamedLocation, json);
        assert!(findings.is_ok_and(|f| f.is_empty()));
        let resources = desired.resources(Kind::NamedLocation);
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].0, Some("HQ"));
        assert_eq!(
            resources[0].1.get("ipRanges"),
            Some(&serde_json::json!(["203.0.113.0/24"]))
        );
        assert!(
            desired
                .insert(Kind::NamedLocation, serde_json::json!({}))
                .is_err()
        );
    }

    /// One object of every kind: the example policy files plus what they do not show.
    fn one_of_each() -> Desired {
        let mut paths = vec![
            std::path::PathBuf::from("policies"),
            std::path::PathBuf::from("policies-admin"),
        ];
        paths.retain(|p| p.exists());
        let examples = crate::config::load(&paths);
        assert!(!examples.has_errors(), "the example policies load cleanly");
        let extra = crate::config::load_str(
            "extra.kdl",
            r#"
named-location "HQ" { ip-ranges "203.0.113.0/24"; }
authentication-strength "FIDO or WHfB" { allowed-combinations "fido2" "windowsHelloForBusiness"; }
prune kind=named-location name-prefix="Legacy"
check-exception "MS.AAD.3.1v1" { reason "migration"; expires "2027-03-31"; }
cross-tenant-partner "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a" { inbound-trust is-mfa-accepted=#false; }
"#,
        );
        assert!(!extra.has_errors(), "the extra declarations load cleanly");
        let mut desired = examples.desired;
        for kind in Kind::ALL {
            for (_, json) in extra.desired.resources(*kind) {
                assert!(desired.insert(*kind, Value::Object(json)).is_ok());
            }
        }
        desired
    }

    /// A kind in `Kind::ALL` must be in every list derived from the registry: declared, read,
    /// planned, permitted, published as a schema and exported.
    #[test]
    fn every_kind_is_in_every_derived_list() {
        let desired = one_of_each();
        let plan = crate::reconcile::plan(
            &desired,
            &Desired::default(),
            &Default::default(),
            &Default::default(),
        )
        .expect("a plan of creations");
        let empty = serde_json::to_value(Desired::default()).unwrap_or_default();
        let mut fields = BTreeSet::new();
        let mut export_files = BTreeSet::new();
        for kind in Kind::ALL {
            let spec = kind.spec();
            assert!(
                !desired.resources(*kind).is_empty(),
                "{kind}: Desired holds it"
            );
            // Its objects live in a field of their own in Desired's JSON form.
            let mut probe = Desired::default();
            for (_, json) in desired.resources(*kind) {
                assert!(probe.insert(*kind, Value::Object(json)).is_ok(), "{kind}");
            }
            let probe = serde_json::to_value(&probe).unwrap_or_default();
            let changed: Vec<&String> = probe
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| empty.get(k.as_str()) != Some(v))
                .map(|(k, _)| k)
                .collect();
            assert_eq!(changed.len(), 1, "{kind}: one field of Desired");
            assert!(
                fields.insert(changed[0].clone()),
                "{kind}: a field of its own"
            );
            // `steward schema --check` keeps the committed files equal to `Kind::schema`.
            let schema = std::path::Path::new("schemas").join(format!("{}.schema.json", spec.node));
            assert!(
                schema.exists(),
                "{kind}: schema published as {}",
                schema.display()
            );
            assert!(export_files.insert(spec.export_file), "{kind}: export file");
            assert_eq!(
                Kind::from_node_name(spec.node),
                Some(*kind),
                "{kind}: node name"
            );
            let read = crate::graph::read::kinds_to_read(&BTreeSet::from([*kind]));
            let planned = plan.resources.iter().any(|r| r.kind == *kind);
            let permitted = crate::graph::permissions::for_kind(*kind).is_some();
            let expected = crate::graph::expect::expected(*kind).is_some();
            if kind.is_resource() {
                assert!(read.contains(kind), "{kind}: read");
                assert!(
                    kind.depends_on().all(|d| read.contains(&d)),
                    "{kind}: read with what it depends on"
                );
                assert!(expected, "{kind}: Graph's answer checked");
                assert!(planned, "{kind}: planned");
                assert!(permitted, "{kind}: permissions listed");
            } else {
                assert!(read.is_empty(), "{kind}: steward's own, never read");
                assert!(!planned && !permitted && !expected, "{kind}: steward's own");
            }
        }
    }
}
