//! The model: one Rust type per resource kind, describing desired and live state alike.
//!
//! Types serialise with Graph's camelCase property names, so the JSON form of a model value is
//! close to the Graph payload; references to other objects stay typed (see [`reference`]) until
//! the `graph` layer resolves them. No I/O happens here.

mod macros;

pub mod authentication_methods;
pub mod authentication_strength;
pub mod authorization_policy;
pub mod checks;
pub mod conditional_access;
pub mod meta;
pub mod named_location;
pub mod plan;
pub mod reference;
pub mod retention_label;
pub mod security_defaults;
pub mod shape;
pub mod sharepoint;

use std::fmt;

use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

pub use authentication_methods::AuthenticationMethodsPolicy;
pub use authentication_strength::AuthenticationStrength;
pub use authorization_policy::AuthorizationPolicy;
pub use conditional_access::ConditionalAccessPolicy;
pub use meta::{EmergencyAccess, Prune, PruneKind};
pub use named_location::NamedLocation;
pub use retention_label::RetentionLabel;
pub use security_defaults::SecurityDefaults;
pub use sharepoint::SharepointSettings;

/// Every kind of node a policy file may declare at its top level.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `emergency-access`: the break-glass accounts.
    EmergencyAccess,
    /// `prune`: a scope steward owns exclusively.
    Prune,
    /// `named-location "Name"`.
    NamedLocation,
    /// `authentication-strength "Name"`.
    AuthenticationStrength,
    /// `conditional-access-policy "Name"`.
    ConditionalAccessPolicy,
    /// `authentication-methods-policy`.
    AuthenticationMethodsPolicy,
    /// `security-defaults`.
    SecurityDefaults,
    /// `authorization-policy`.
    AuthorizationPolicy,
    /// `sharepoint-settings`.
    SharepointSettings,
    /// `retention-label "Name"`.
    RetentionLabel,
}

impl Kind {
    /// Every kind, in the order resources are listed and applied.
    pub const ALL: &'static [Kind] = &[
        Kind::EmergencyAccess,
        Kind::Prune,
        Kind::NamedLocation,
        Kind::AuthenticationStrength,
        Kind::ConditionalAccessPolicy,
        Kind::AuthenticationMethodsPolicy,
        Kind::SecurityDefaults,
        Kind::AuthorizationPolicy,
        Kind::SharepointSettings,
        Kind::RetentionLabel,
    ];

    /// The top-level KDL node name.
    pub fn node_name(self) -> &'static str {
        match self {
            Kind::EmergencyAccess => "emergency-access",
            Kind::Prune => "prune",
            Kind::NamedLocation => "named-location",
            Kind::AuthenticationStrength => "authentication-strength",
            Kind::ConditionalAccessPolicy => "conditional-access-policy",
            Kind::AuthenticationMethodsPolicy => "authentication-methods-policy",
            Kind::SecurityDefaults => "security-defaults",
            Kind::AuthorizationPolicy => "authorization-policy",
            Kind::SharepointSettings => "sharepoint-settings",
            Kind::RetentionLabel => "retention-label",
        }
    }

    /// Looks a kind up by its node name.
    pub fn from_node_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.node_name() == name)
    }

    /// How a node of this kind is written.
    pub fn arity(self) -> Arity {
        match self {
            Kind::NamedLocation
            | Kind::AuthenticationStrength
            | Kind::ConditionalAccessPolicy
            | Kind::RetentionLabel => Arity::Named,
            Kind::Prune => Arity::Repeated,
            _ => Arity::Singleton,
        }
    }

    /// True for kinds that describe tenant settings (not steward's own declarations).
    pub fn is_resource(self) -> bool {
        !matches!(self, Kind::EmergencyAccess | Kind::Prune)
    }

    /// The Graph v1.0 path the kind lives at.
    pub fn graph_path(self) -> Option<&'static str> {
        match self {
            Kind::EmergencyAccess | Kind::Prune => None,
            Kind::NamedLocation => Some("identity/conditionalAccess/namedLocations"),
            Kind::AuthenticationStrength => Some("policies/authenticationStrengthPolicies"),
            Kind::ConditionalAccessPolicy => Some("identity/conditionalAccess/policies"),
            Kind::AuthenticationMethodsPolicy => Some("policies/authenticationMethodsPolicy"),
            Kind::SecurityDefaults => Some("policies/identitySecurityDefaultsEnforcementPolicy"),
            Kind::AuthorizationPolicy => Some("policies/authorizationPolicy"),
            Kind::SharepointSettings => Some("admin/sharepoint/settings"),
            Kind::RetentionLabel => Some("security/labels/retentionLabels"),
        }
    }

    /// The JSON Schema of this kind's JSON form (what a node converts to).
    pub fn schema(self) -> Schema {
        fn of<T: JsonSchema>() -> Schema {
            schemars::generate::SchemaSettings::draft2020_12()
                .into_generator()
                .into_root_schema_for::<T>()
        }
        match self {
            Kind::EmergencyAccess => of::<EmergencyAccess>(),
            Kind::Prune => of::<Prune>(),
            Kind::NamedLocation => of::<NamedLocation>(),
            Kind::AuthenticationStrength => of::<AuthenticationStrength>(),
            Kind::ConditionalAccessPolicy => of::<ConditionalAccessPolicy>(),
            Kind::AuthenticationMethodsPolicy => of::<AuthenticationMethodsPolicy>(),
            Kind::SecurityDefaults => of::<SecurityDefaults>(),
            Kind::AuthorizationPolicy => of::<AuthorizationPolicy>(),
            Kind::SharepointSettings => of::<SharepointSettings>(),
            Kind::RetentionLabel => of::<RetentionLabel>(),
        }
    }

    /// The shape of this kind's JSON form: its fields, their types and enum members.
    ///
    /// Built once per kind and kept: deriving it from the JSON Schema is far too slow to
    /// repeat for every object of a large tenant.
    pub fn shape(self) -> &'static shape::ObjectShape {
        match self.root_shape() {
            shape::Shape::Object(object) => object,
            _ => &EMPTY_SHAPE,
        }
    }

    /// [`Kind::shape`] as a [`shape::Shape`], for walks that start at the root.
    pub fn root_shape(self) -> &'static shape::Shape {
        static SHAPES: std::sync::OnceLock<Vec<shape::Shape>> = std::sync::OnceLock::new();
        let shapes = SHAPES.get_or_init(|| {
            Kind::ALL
                .iter()
                .map(|kind| {
                    let schema = serde_json::to_value(kind.schema()).unwrap_or_default();
                    shape::of_root(&schema)
                })
                .collect()
        });
        let index = Kind::ALL.iter().position(|k| *k == self).unwrap_or(0);
        &shapes[index]
    }

    /// One line on what the kind is, for schemas and help.
    pub fn description(self) -> &'static str {
        match self {
            Kind::EmergencyAccess => {
                "Break-glass accounts every enabled blocking Conditional Access policy must exclude."
            }
            Kind::Prune => {
                "A scope steward owns exclusively: undeclared objects in it may be deleted."
            }
            Kind::NamedLocation => {
                "A named location (IP ranges or countries) used by Conditional Access."
            }
            Kind::AuthenticationStrength => "A custom authentication strength.",
            Kind::ConditionalAccessPolicy => "A Conditional Access policy.",
            Kind::AuthenticationMethodsPolicy => {
                "The authentication methods policy and its method configurations."
            }
            Kind::SecurityDefaults => "Microsoft's security defaults.",
            Kind::AuthorizationPolicy => {
                "Guest invitations, user consent and default user permissions."
            }
            Kind::SharepointSettings => "SharePoint and OneDrive tenant settings.",
            Kind::RetentionLabel => "A Microsoft Purview retention label.",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.node_name())
    }
}

static EMPTY_SHAPE: shape::ObjectShape = shape::ObjectShape { fields: Vec::new() };

/// How a top-level node is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Once, with a display name argument per object (`named-location "HQ" { … }`).
    Named,
    /// At most once in the whole configuration (`sharepoint-settings { … }`).
    Singleton,
    /// Any number of times, no name (`prune kind=… `).
    Repeated,
}

/// Names one declared or live resource: its kind and, for collections, its display name (and
/// the id a declaration pins it to, if any).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    /// The kind.
    pub kind: Kind,
    /// The display name, for collection kinds.
    pub name: Option<String>,
    /// The object id a declaration pins it to (`id="…"`), lowercase; `None` for live objects
    /// and unpinned declarations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
}

impl Address {
    /// A collection object's address by name, unpinned.
    pub fn named(kind: Kind, name: impl Into<String>) -> Address {
        Address {
            kind,
            name: Some(name.into()),
            pin: None,
        }
    }

    /// A singleton's address.
    pub fn singleton(kind: Kind) -> Address {
        Address {
            kind,
            name: None,
            pin: None,
        }
    }

    /// The address of a declared resource from its JSON form: display name and pinned id.
    pub fn of(kind: Kind, json: &serde_json::Map<String, serde_json::Value>) -> Address {
        if kind.arity() != Arity::Named {
            return Address::singleton(kind);
        }
        let text = |key: &str| json.get(key).and_then(serde_json::Value::as_str);
        Address {
            kind,
            name: text("displayName").map(String::from),
            pin: text("id").map(str::to_ascii_lowercase),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} {:?}", self.kind, name)?,
            None => write!(f, "{}", self.kind)?,
        }
        if let Some(pin) = &self.pin {
            write!(f, " id={pin:?}")?;
        }
        Ok(())
    }
}

/// The whole desired (or live) configuration of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Desired {
    /// The break-glass accounts.
    pub emergency_access: Option<EmergencyAccess>,
    /// Scopes steward owns exclusively.
    pub prune: Vec<Prune>,
    /// Named locations.
    pub named_locations: Vec<NamedLocation>,
    /// Custom authentication strengths.
    pub authentication_strengths: Vec<AuthenticationStrength>,
    /// Conditional Access policies.
    pub conditional_access_policies: Vec<ConditionalAccessPolicy>,
    /// The authentication methods policy.
    pub authentication_methods_policy: Option<AuthenticationMethodsPolicy>,
    /// Security defaults.
    pub security_defaults: Option<SecurityDefaults>,
    /// The authorization policy.
    pub authorization_policy: Option<AuthorizationPolicy>,
    /// SharePoint and OneDrive settings.
    pub sharepoint_settings: Option<SharepointSettings>,
    /// Retention labels.
    pub retention_labels: Vec<RetentionLabel>,
}

impl Desired {
    /// True when the configuration declares at least one retention label (needs a signed-in
    /// admin to manage).
    pub fn declares_retention_labels(&self) -> bool {
        !self.retention_labels.is_empty()
    }
}

/// How serious a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the command.
    Error,
    /// Reported; the command goes on.
    Warning,
}

/// A problem found in a resource, located by a JSON pointer into its JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// A stable code (`steward::…`).
    pub code: &'static str,
    /// JSON pointer (camelCase segments) of the offending property, `""` for the resource.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
}
