//! References to other directory or policy objects, kept in typed form until resolution.
//!
//! Where Graph wants an id, a file may say a name (a UPN, a display name, an application name).
//! The model keeps what the file said, and which kind of object it names; the `graph` layer
//! resolves it against the tenant.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefKind {
    /// A user, by UPN or object id.
    User,
    /// A group, by display name or object id.
    Group,
    /// A directory role, by display name or role template id.
    Role,
    /// An application (cloud app), by service principal display name or appId.
    Application,
    /// A service principal (workload identity), by display name or object id.
    ServicePrincipal,
    /// A named location, by display name or id.
    NamedLocation,
    /// An authentication strength policy, by display name or id.
    AuthenticationStrength,
    /// A target of an authentication method: a group (or `all_users`), by name or id.
    MethodTarget,
}

impl RefKind {
    /// Every reference kind.
    pub const ALL: &'static [RefKind] = &[
        RefKind::User,
        RefKind::Group,
        RefKind::Role,
        RefKind::Application,
        RefKind::ServicePrincipal,
        RefKind::NamedLocation,
        RefKind::AuthenticationStrength,
        RefKind::MethodTarget,
    ];

    /// The name a schema's reference marker uses (`x-steward-ref`), in kebab-case.
    pub fn name(self) -> &'static str {
        match self {
            RefKind::User => "user",
            RefKind::Group => "group",
            RefKind::Role => "role",
            RefKind::Application => "application",
            RefKind::ServicePrincipal => "service-principal",
            RefKind::NamedLocation => "named-location",
            RefKind::AuthenticationStrength => "authentication-strength",
            RefKind::MethodTarget => "method-target",
        }
    }

    /// Looks a reference kind up by its [`RefKind::name`].
    pub fn from_name(name: &str) -> Option<RefKind> {
        RefKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The kind steward manages objects of this reference kind as, if it does: a reference
    /// to one needs that kind read (to name it) and applied first (to have its id).
    pub fn kind(self) -> Option<super::Kind> {
        use super::Kind;
        match self {
            RefKind::NamedLocation => Some(Kind::NamedLocation),
            RefKind::AuthenticationStrength => Some(Kind::AuthenticationStrength),
            RefKind::User
            | RefKind::Group
            | RefKind::Role
            | RefKind::Application
            | RefKind::ServicePrincipal
            | RefKind::MethodTarget => None,
        }
    }

    /// Graph's special values this kind of reference accepts, in their canonical spelling.
    pub fn special_values(self) -> &'static [&'static str] {
        match self {
            RefKind::User => &["All", "None", "GuestsOrExternalUsers"],
            RefKind::Group | RefKind::Role | RefKind::AuthenticationStrength => &[],
            RefKind::Application => &["All", "None", "Office365", "MicrosoftAdminPortals"],
            RefKind::ServicePrincipal => &["ServicePrincipalsInMyTenant"],
            RefKind::NamedLocation => &["All", "AllTrusted"],
            RefKind::MethodTarget => &["all_users"],
        }
    }

    /// How the kind is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::User => "user",
            RefKind::Group => "group",
            RefKind::Role => "directory role",
            RefKind::Application => "application",
            RefKind::ServicePrincipal => "service principal",
            RefKind::NamedLocation => "named location",
            RefKind::AuthenticationStrength => "authentication strength",
            RefKind::MethodTarget => "group",
        }
    }

    /// What a file may write for this kind, for help lines and schema descriptions.
    pub fn accepted(self) -> &'static str {
        match self {
            RefKind::User => {
                "a user principal name, an object id, or All / None / GuestsOrExternalUsers"
            }
            RefKind::Group => "a group's display name or object id",
            RefKind::Role => "a directory role's display name or template id",
            RefKind::Application => {
                "an application's display name, its appId, or All / None / Office365 / MicrosoftAdminPortals"
            }
            RefKind::ServicePrincipal => {
                "a service principal's display name or object id, or ServicePrincipalsInMyTenant"
            }
            RefKind::NamedLocation => "a named location's display name or id, or All / AllTrusted",
            RefKind::AuthenticationStrength => "an authentication strength's display name or id",
            RefKind::MethodTarget => "a group's display name or object id, or all_users",
        }
    }
}

/// The target of a reference, as the file (or the tenant) gave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    /// A GUID: used as is.
    Id(String),
    /// A name to resolve (UPN, display name).
    Name(String),
    /// One of Graph's special values (`All`, `None`, …), in canonical spelling.
    Special(&'static str),
}

impl RefTarget {
    /// Classifies what a file wrote for a reference of `kind`.
    pub fn parse(kind: RefKind, text: &str) -> RefTarget {
        if let Some(special) = kind
            .special_values()
            .iter()
            .find(|s| s.eq_ignore_ascii_case(text))
        {
            return RefTarget::Special(special);
        }
        if is_guid(text) {
            return RefTarget::Id(text.to_ascii_lowercase());
        }
        RefTarget::Name(text.to_string())
    }

    /// The text as written back to a file.
    pub fn as_str(&self) -> &str {
        match self {
            RefTarget::Id(s) | RefTarget::Name(s) => s,
            RefTarget::Special(s) => s,
        }
    }
}

impl fmt::Display for RefTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for a GUID in its 8-4-4-4-12 hex form.
pub fn is_guid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

macro_rules! reference_type {
    ($(#[$meta:meta])* $name:ident, $kind:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub RefTarget);

        impl $name {
            /// The kind of object this reference names.
            pub const KIND: RefKind = $kind;

            /// Classifies `text` as an id, a name or a special value.
            pub fn parse(text: &str) -> Self {
                $name(RefTarget::parse($kind, text))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.0.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                if text.trim().is_empty() {
                    return Err(serde::de::Error::custom(format!(
                        "an empty {} reference", $kind.noun()
                    )));
                }
                Ok($name::parse(&text))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let kind = serde_json::to_value($kind).unwrap_or_default();
                json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "description": format!("A reference: {}.", $kind.accepted()),
                    "x-steward-ref": kind,
                })
            }
        }
    };
}

reference_type!(
    /// A user: UPN, object id, or `All` / `None` / `GuestsOrExternalUsers`.
    UserRef,
    RefKind::User
);
reference_type!(
    /// A group: display name or object id.
    GroupRef,
    RefKind::Group
);
reference_type!(
    /// A directory role: display name or role template id.
    RoleRef,
    RefKind::Role
);
reference_type!(
    /// A cloud application: display name, appId, or a Graph special value.
    ApplicationRef,
    RefKind::Application
);
reference_type!(
    /// A service principal: display name or object id.
    ServicePrincipalRef,
    RefKind::ServicePrincipal
);
reference_type!(
    /// A named location: display name, id, `All` or `AllTrusted`.
    NamedLocationRef,
    RefKind::NamedLocation
);
reference_type!(
    /// An authentication strength: display name or id.
    AuthenticationStrengthRef,
    RefKind::AuthenticationStrength
);
reference_type!(
    /// An authentication-method target group: display name, object id or `all_users`.
    MethodTargetRef,
    RefKind::MethodTarget
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values_are_recognised_case_insensitively_and_canonicalised() {
        assert_eq!(UserRef::parse("all").0, RefTarget::Special("All"));
        assert_eq!(
            NamedLocationRef::parse("alltrusted").0,
            RefTarget::Special("AllTrusted")
        );
    }

    #[test]
    fn a_guid_is_an_id_in_lower_case() {
        assert_eq!(
            GroupRef::parse("3F0C2A1B-0000-4000-8000-00000000ABCD").0,
            RefTarget::Id("3f0c2a1b-0000-4000-8000-00000000abcd".into())
        );
    }

    #[test]
    fn anything_else_is_a_name() {
        assert_eq!(
            UserRef::parse("alice@contoso.com").0,
            RefTarget::Name("alice@contoso.com".into())
        );
        // A special value of one kind is only a name for another.
        assert_eq!(GroupRef::parse("All").0, RefTarget::Name("All".into()));
    }

    #[test]
    fn an_empty_reference_is_refused() {
        assert!(serde_json::from_str::<UserRef>("\"  \"").is_err());
    }
}
