//! The shape of a resource kind, read from its JSON Schema.
//!
//! The model's types are the single source of truth: their schemars schemas say which
//! properties exist, their types, enum members and ranges. The language layer walks that shape
//! to convert KDL, so a new property in the model is a new node in the language, with its
//! diagnostics, without touching the converter.

use serde_json::{Map, Value};

/// What a value must look like.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// An object with named fields.
    Object(ObjectShape),
    /// A list of values of one shape.
    Array(Box<Shape>),
    /// A string, maybe restricted to enum members, a format, or a reference.
    String {
        /// Allowed values, when an enum.
        members: Option<Vec<String>>,
        /// `cidr`, `country`, `uuid`, `method-combination`, …
        format: Option<String>,
        /// The kind of object it references (`user`, `group`, …).
        reference: Option<String>,
    },
    /// `#true` or `#false`.
    Bool,
    /// A whole number within a range.
    Integer {
        /// Smallest value allowed.
        min: i128,
        /// Largest value allowed.
        max: i128,
    },
}

/// An object's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectShape {
    /// The fields, in declaration order.
    pub fields: Vec<Field>,
}

/// One field of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON (Graph) name, camelCase.
    pub json: String,
    /// The KDL node or property name, kebab-case.
    pub kdl: String,
    /// What its value must look like.
    pub shape: Shape,
    /// Whether it must be given.
    pub required: bool,
    /// One line on what it is.
    pub description: String,
}

impl ObjectShape {
    /// The field a KDL name refers to.
    pub fn field(&self, kdl: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.kdl == kdl)
    }

    /// True when a dotted path of KDL names (`conditions.users.exclude-groups`) names a
    /// setting of this shape.
    pub fn has_path(&self, dotted: &str) -> bool {
        let mut shape = self;
        let mut parts = dotted.split('.').peekable();
        while let Some(part) = parts.next() {
            let Some(field) = shape.field(part) else {
                return false;
            };
            if parts.peek().is_none() {
                return true;
            }
            let inner = match &field.shape {
                Shape::Object(o) => o,
                Shape::Array(item) => match item.as_ref() {
                    Shape::Object(o) => o,
                    _ => return false,
                },
                _ => return false,
            };
            shape = inner;
        }
        false
    }
}

impl Shape {
    /// True for values written as a single KDL value.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Shape::String { .. } | Shape::Bool | Shape::Integer { .. }
        )
    }

    /// A short description of what is expected, for messages.
    pub fn expected(&self) -> String {
        match self {
            Shape::Object(_) => "a block of settings".into(),
            Shape::Array(item) => format!("a list of {}", item.expected_plural()),
            Shape::String {
                members: Some(_), ..
            } => "one of the allowed values".into(),
            Shape::String { .. } => "a string".into(),
            Shape::Bool => "#true or #false".into(),
            Shape::Integer { min, max } => format!("a whole number from {min} to {max}"),
        }
    }

    fn expected_plural(&self) -> String {
        match self {
            Shape::Object(_) => "blocks".into(),
            Shape::Bool => "booleans".into(),
            Shape::Integer { .. } => "numbers".into(),
            Shape::String {
                members: Some(_), ..
            } => "allowed values".into(),
            _ => "strings".into(),
        }
    }
}

/// Reads the shape of a root schema (as produced by `Kind::schema`).
pub fn of_root(schema: &Value) -> Shape {
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    read(schema, &defs, 0)
}

fn read(schema: &Value, defs: &Map<String, Value>, depth: usize) -> Shape {
    // The model has no recursive types; the bound only protects against a future mistake.
    if depth > 32 {
        return Shape::String {
            members: None,
            format: None,
            reference: None,
        };
    }
    let schema = unwrap_nullable(schema, defs);
    let ty = primary_type(schema);
    match ty.as_deref() {
        Some("object") => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(name, prop)| Field {
                            json: name.clone(),
                            kdl: kebab_case(name),
                            shape: read(prop, defs, depth + 1),
                            required: required.contains(&name.as_str()),
                            description: prop
                                .get("description")
                                .or_else(|| resolve(prop, defs).get("description"))
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Shape::Object(ObjectShape { fields })
        }
        Some("array") => {
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            Shape::Array(Box::new(read(&items, defs, depth + 1)))
        }
        Some("boolean") => Shape::Bool,
        Some("integer") => {
            let (lo, hi) = match schema.get("format").and_then(Value::as_str) {
                Some("int32") => (i32::MIN as i128, i32::MAX as i128),
                Some("uint32") => (0, u32::MAX as i128),
                _ => (i64::MIN as i128, i64::MAX as i128),
            };
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64).map(|f| f as i128);
            Shape::Integer {
                min: bound("minimum").unwrap_or(lo).max(lo),
                max: bound("maximum").unwrap_or(hi).min(hi),
            }
        }
        _ => {
            let members = schema
                .get("enum")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .or_else(|| {
                    schema
                        .get("oneOf")
                        .and_then(Value::as_array)
                        .map(|variants| {
                            variants
                                .iter()
                                .filter_map(|v| v.get("const").and_then(Value::as_str))
                                .map(String::from)
                                .collect()
                        })
                });
            Shape::String {
                members,
                format: schema
                    .get("format")
                    .and_then(Value::as_str)
                    .map(String::from),
                reference: schema
                    .get("x-steward-ref")
                    .and_then(Value::as_str)
                    .map(String::from),
            }
        }
    }
}

/// Follows a `$ref` into `$defs`, keeping the referring schema's own keywords where the target
/// lacks them (schemars puts `description` beside `$ref`).
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
        .unwrap_or(schema)
}

/// Strips `Option`'s null: `anyOf: [X, {type: null}]` becomes X, `type: [T, "null"]` T.
fn unwrap_nullable<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    let schema = resolve(schema, defs);
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && let Some(inner) = any
            .iter()
            .find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
    {
        return unwrap_nullable(inner, defs);
    }
    schema
}

fn primary_type(schema: &Value) -> Option<String> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(String::from),
        _ => None,
    }
}

/// Graph's camelCase property name in the language's kebab-case
/// (`includeUsers` → `include-users`, `allowedToUseSSPR` → `allowed-to-use-sspr`).
pub fn kebab_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('-');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_follows_word_and_acronym_boundaries() {
        assert_eq!(kebab_case("includeUsers"), "include-users");
        assert_eq!(kebab_case("allowedToUseSSPR"), "allowed-to-use-sspr");
        assert_eq!(
            kebab_case("personalSiteDefaultStorageLimitInMB"),
            "personal-site-default-storage-limit-in-mb"
        );
        assert_eq!(
            kebab_case("isSiteCreationUIEnabled"),
            "is-site-creation-ui-enabled"
        );
        assert_eq!(
            kebab_case("x509CertificateAuthenticationDefaultMode"),
            "x509-certificate-authentication-default-mode"
        );
        assert_eq!(kebab_case("type"), "type");
    }

    #[test]
    fn the_ca_policy_shape_has_its_fields_with_types() {
        let schema = serde_json::to_value(crate::model::Kind::ConditionalAccessPolicy.schema())
            .unwrap_or_default();
        let Shape::Object(policy) = of_root(&schema) else {
            panic!("a policy is an object");
        };
        let state = policy.field("state").map(|f| (&f.shape, f.required));
        assert!(matches!(
            state,
            Some((Shape::String { members: Some(m), .. }, true)) if m.len() == 3
        ));
        let Some(Shape::Object(conditions)) = policy.field("conditions").map(|f| &f.shape) else {
            panic!("conditions is an object");
        };
        let Some(Shape::Object(users)) = conditions.field("users").map(|f| &f.shape) else {
            panic!("users is an object");
        };
        let include = users.field("include-users").map(|f| &f.shape);
        assert!(matches!(
            include,
            Some(Shape::Array(item)) if matches!(item.as_ref(), Shape::String { reference: Some(r), .. } if r == "user")
        ));
    }
}
