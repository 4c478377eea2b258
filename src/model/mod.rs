//! The model: one Rust type per resource kind, describing desired and live state alike.
//!
//! Types serialise with Graph's camelCase property names, so the JSON form of a model value is
//! close to the Graph payload; references to other objects stay typed (see [`reference`]) until
//! the `graph` layer resolves them. No I/O happens here.

mod macros;

pub mod access_review;
pub mod authentication_methods;
pub mod authentication_strength;
pub mod authorization_policy;
pub mod check_exception;
pub mod checks;
pub mod conditional_access;
pub mod cross_tenant;
pub mod deviation;
pub mod meta;
pub mod named_location;
pub mod plan;
pub mod reference;
pub mod registry;
pub mod retention_label;
pub mod security_defaults;
pub mod shape;
pub mod sharepoint;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use access_review::AccessReview;
pub use authentication_methods::AuthenticationMethodsPolicy;
pub use authentication_strength::AuthenticationStrength;
pub use authorization_policy::AuthorizationPolicy;
pub use check_exception::CheckException;
pub use conditional_access::ConditionalAccessPolicy;
pub use cross_tenant::{CrossTenantAccess, CrossTenantPartner};
pub use deviation::{Accepted, Deviation};
pub use meta::{EmergencyAccess, Prune, PruneKind};
pub use named_location::NamedLocation;
pub use registry::{Desired, Kind, KindSpec, Permissions, Resource};
pub use retention_label::RetentionLabel;
pub use security_defaults::SecurityDefaults;
pub use sharepoint::SharepointSettings;

impl Kind {
    /// The top-level KDL node name.
    pub fn node_name(self) -> &'static str {
        self.spec().node
    }

    /// Looks a kind up by its node name.
    pub fn from_node_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.node_name() == name)
    }

    /// How a node of this kind is written.
    pub fn arity(self) -> Arity {
        self.spec().arity
    }

    /// True for kinds that describe tenant settings (not steward's own declarations).
    pub fn is_resource(self) -> bool {
        self.spec().graph_path.is_some()
    }

    /// The Graph v1.0 path the kind lives at.
    pub fn graph_path(self) -> Option<&'static str> {
        self.spec().graph_path
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
        self.spec().description
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
