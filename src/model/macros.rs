//! Declarative helpers shared by the model's kind files.

/// Declares a Graph enum: a Rust enum whose serialised values are Graph's own enum members.
///
/// The language, the JSON Schemas and the Graph payloads all use the Graph spelling, so the
/// Graph reference stays the manual.
macro_rules! graph_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $value)] $variant,)+
        }

        impl $name {
            /// Every member, in Graph's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Graph's spelling of this member.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use graph_enum;
