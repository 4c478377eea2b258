//! Graph's own type metadata (a CSDL slice), used to validate request bodies.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

const TYPES_JSON: &str = include_str!("graph-v1.0-types.json");
const NS: &str = "microsoft.graph.";

/// One structural property.
#[derive(Debug, Clone)]
pub struct Prop {
    pub ty: String,
    pub nullable: bool,
    pub navigation: bool,
}

/// An entity or complex type.
#[derive(Debug, Default)]
pub struct TypeDef {
    pub base: Option<String>,
    pub is_abstract: bool,
    pub open: bool,
    pub props: Vec<(String, Prop)>,
    pub derived: Vec<String>,
}

/// An enum type.
#[derive(Debug)]
pub struct EnumDef {
    pub members: Vec<String>,
    pub flags: bool,
}

/// Every type in the slice, keyed by full name (`microsoft.graph.x`).
#[derive(Debug, Default)]
pub struct Schema {
    types: HashMap<String, TypeDef>,
    enums: HashMap<String, EnumDef>,
}

/// The schema, parsed once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The file is compiled in and tested; a parse failure leaves an empty schema, which
        // makes every typed body invalid rather than crashing the server.
        serde_json::from_str::<Value>(TYPES_JSON)
            .map(|v| Schema::from_json(&v))
            .unwrap_or_default()
    })
}

/// `#microsoft.graph.x`, `microsoft.graph.x` or bare `x` → `microsoft.graph.x`.
pub fn full_type_name(name: &str) -> String {
    let name = name.trim_start_matches('#');
    if name.starts_with(NS) {
        name.to_string()
    } else {
        format!("{NS}{name}")
    }
}

/// The form Graph returns: `#microsoft.graph.x`.
pub fn odata_type(name: &str) -> String {
    format!("#{}", full_type_name(name))
}

impl Schema {
    fn from_json(v: &Value) -> Schema {
        let mut schema = Schema::default();
        for section in ["entityTypes", "complexTypes"] {
            let Some(types) = v.get(section).and_then(Value::as_object) else {
                continue;
            };
            for (key, t) in types {
                let mut def = TypeDef {
                    base: t.get("baseType").and_then(Value::as_str).map(String::from),
                    is_abstract: t.get("abstract").and_then(Value::as_bool).unwrap_or(false),
                    open: t.get("openType").and_then(Value::as_bool).unwrap_or(false),
                    props: Vec::new(),
                    derived: t
                        .get("derivedTypes")
                        .and_then(Value::as_array)
                        .map(|d| {
                            d.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                for (field, navigation) in [("properties", false), ("navigationProperties", true)] {
                    if let Some(props) = t.get(field).and_then(Value::as_object) {
                        for (name, p) in props {
                            def.props.push((
                                name.clone(),
                                Prop {
                                    ty: p.get("type").and_then(Value::as_str).unwrap_or("").into(),
                                    nullable: p
                                        .get("nullable")
                                        .and_then(Value::as_bool)
                                        .unwrap_or(true),
                                    navigation,
                                },
                            ));
                        }
                    }
                }
                schema.types.insert(format!("{NS}{key}"), def);
            }
        }
        if let Some(enums) = v.get("enumTypes").and_then(Value::as_object) {
            for (key, e) in enums {
                let members = e
                    .get("members")
                    .and_then(Value::as_array)
                    .map(|m| {
                        m.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                let flags = e.get("isFlags").and_then(Value::as_bool).unwrap_or(false);
                schema
                    .enums
                    .insert(format!("{NS}{key}"), EnumDef { members, flags });
            }
        }
        schema
    }

    /// Whether the type is known.
    #[cfg(test)]
    pub fn has_type(&self, full: &str) -> bool {
        self.types.contains_key(full)
    }

    /// An enum's members.
    pub fn enum_def(&self, full: &str) -> Option<&EnumDef> {
        self.enums.get(full)
    }

    /// The property named `name` on `ty` or one of its base types.
    pub fn property(&self, ty: &str, name: &str) -> Option<Prop> {
        let mut cur = Some(ty.to_string());
        while let Some(t) = cur {
            let def = self.types.get(&t)?;
            if let Some((_, p)) = def.props.iter().find(|(n, _)| n == name) {
                return Some(p.clone());
            }
            cur = def.base.clone();
        }
        None
    }

    /// Whether `name` is a property of `ty`, its base types or any type derived from it (what
    /// `$select` may name on a polymorphic collection).
    pub fn selectable(&self, ty: &str, name: &str) -> bool {
        if self.property(ty, name).is_some() {
            return true;
        }
        let mut stack: Vec<String> = self
            .types
            .get(ty)
            .map(|d| d.derived.clone())
            .unwrap_or_default();
        let mut seen = 0;
        while let Some(t) = stack.pop() {
            seen += 1;
            if seen > 1000 {
                break;
            }
            if let Some(def) = self.types.get(&t) {
                if def.props.iter().any(|(n, _)| n == name) {
                    return true;
                }
                stack.extend(def.derived.iter().cloned());
            }
        }
        false
    }

    /// Every property of `ty`, base types first.
    pub fn all_props(&self, ty: &str) -> Vec<(String, Prop)> {
        let mut chain = Vec::new();
        let mut cur = Some(ty.to_string());
        while let Some(t) = cur {
            let Some(def) = self.types.get(&t) else { break };
            chain.push(def);
            cur = def.base.clone();
        }
        chain
            .iter()
            .rev()
            .flat_map(|d| d.props.iter().cloned())
            .collect()
    }

    /// Whether `ty` is `base` or derives from it.
    pub fn derives_from(&self, ty: &str, base: &str) -> bool {
        let mut cur = Some(ty.to_string());
        while let Some(t) = cur {
            if t == base {
                return true;
            }
            cur = self.types.get(&t).and_then(|d| d.base.clone());
        }
        false
    }

    fn is_open(&self, ty: &str) -> bool {
        let mut cur = Some(ty.to_string());
        while let Some(t) = cur {
            let Some(def) = self.types.get(&t) else {
                return false;
            };
            if def.open {
                return true;
            }
            cur = def.base.clone();
        }
        false
    }

    /// Checks `value` against the declared type `ty` (`Edm.*`, `microsoft.graph.*` or
    /// `Collection(...)`), normalising every `@odata.type` to `#microsoft.graph.x` in place.
    pub fn validate(
        &self,
        value: &mut Value,
        ty: &str,
        nullable: bool,
        path: &str,
    ) -> Result<(), String> {
        if value.is_null() {
            return if nullable {
                Ok(())
            } else {
                Err(format!("Property '{path}' cannot be null."))
            };
        }
        if let Some(inner) = ty
            .strip_prefix("Collection(")
            .and_then(|s| s.strip_suffix(')'))
        {
            let Value::Array(items) = value else {
                return Err(format!(
                    "Property '{path}' must be a collection (JSON array) of {inner}."
                ));
            };
            for (i, item) in items.iter_mut().enumerate() {
                self.validate(item, inner, false, &format!("{path}[{i}]"))?;
            }
            return Ok(());
        }
        if let Some(edm) = ty.strip_prefix("Edm.") {
            return check_edm(value, edm, path);
        }
        if let Some(e) = self.enums.get(ty) {
            let Value::String(s) = value else {
                return Err(format!(
                    "Property '{path}' must be a string member of {ty}."
                ));
            };
            let parts: Vec<&str> = if e.flags {
                s.split(',').map(str::trim).collect()
            } else {
                vec![s.as_str()]
            };
            for part in parts {
                if !e.members.iter().any(|m| m == part) {
                    return Err(format!(
                        "Requested value '{part}' was not found in enum type '{ty}' (property '{path}')."
                    ));
                }
            }
            return Ok(());
        }
        if self.types.contains_key(ty) {
            return self.validate_structured(value, ty, path);
        }
        // A type outside the metadata slice: accept it as Graph would for open content.
        Ok(())
    }

    /// Validates an object against an entity or complex type (or a type derived from it).
    pub fn validate_structured(
        &self,
        value: &mut Value,
        declared: &str,
        path: &str,
    ) -> Result<(), String> {
        let Value::Object(obj) = value else {
            return Err(format!("Property '{path}' must be a JSON object."));
        };
        let mut effective = declared.to_string();
        if let Some(t) = obj.get("@odata.type") {
            let Some(t) = t.as_str() else {
                return Err(format!("'{path}@odata.type' must be a string."));
            };
            let full = full_type_name(t);
            if !self.types.contains_key(&full) {
                return Err(format!(
                    "Type '{full}' is not supported here (at '{path}')."
                ));
            }
            if !self.derives_from(&full, declared) {
                return Err(format!(
                    "Type '{full}' is not compatible with '{declared}' (at '{path}')."
                ));
            }
            obj.insert("@odata.type".into(), Value::String(format!("#{full}")));
            effective = full;
        }
        if self
            .types
            .get(&effective)
            .map(|d| d.is_abstract)
            .unwrap_or(false)
        {
            return Err(format!(
                "'{path}' is of the abstract type '{effective}': the request must name a derived type in '@odata.type'."
            ));
        }
        let props = self.all_props(&effective);
        let open = self.is_open(&effective);
        for (key, v) in obj.iter_mut() {
            if key.contains('@') {
                continue; // instance annotations (`@odata.type`, `x@odata.bind`, …)
            }
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match props.iter().find(|(n, _)| n == key) {
                Some((_, p)) => self.validate(v, &p.ty, p.nullable, &child)?,
                None if open => {}
                None => {
                    return Err(format!(
                        "Invalid property '{child}': it does not exist on type '{effective}'."
                    ));
                }
            }
        }
        Ok(())
    }

    /// Fills properties a created object lacks the way Graph does: absent non-nullable
    /// collections become `[]`, absent nullable properties `null`; nested objects likewise.
    pub fn fill_defaults(&self, value: &mut Value, declared: &str) {
        let Value::Object(obj) = value else { return };
        let ty = obj
            .get("@odata.type")
            .and_then(Value::as_str)
            .map(full_type_name)
            .unwrap_or_else(|| declared.to_string());
        for (name, p) in self.all_props(&ty) {
            if p.navigation {
                continue;
            }
            match obj.get_mut(&name) {
                Some(v) => self.fill_nested(v, &p.ty),
                None => {
                    if p.ty.starts_with("Collection(") && !p.nullable {
                        obj.insert(name, Value::Array(Vec::new()));
                    } else if p.nullable {
                        obj.insert(name, Value::Null);
                    }
                }
            }
        }
    }

    fn fill_nested(&self, v: &mut Value, ty: &str) {
        if let Some(inner) = ty
            .strip_prefix("Collection(")
            .and_then(|s| s.strip_suffix(')'))
        {
            if let Value::Array(items) = v {
                for item in items {
                    self.fill_nested(item, inner);
                }
            }
        } else if v.is_object() && self.types.contains_key(ty) {
            self.fill_defaults(v, ty);
        }
    }
}

fn check_edm(value: &Value, edm: &str, path: &str) -> Result<(), String> {
    let ok = match edm {
        "String" | "Binary" | "Duration" | "Date" | "TimeOfDay" => value.is_string(),
        "Boolean" => value.is_boolean(),
        "Int32" => value
            .as_i64()
            .map(|n| i32::try_from(n).is_ok())
            .unwrap_or(false),
        "Int64" | "Int16" | "Byte" | "SByte" => value.is_i64() || value.is_u64(),
        "Double" | "Single" | "Decimal" => value.is_number(),
        "Guid" => value
            .as_str()
            .map(|s| uuid::Uuid::parse_str(s).is_ok() && s.len() == 36)
            .unwrap_or(false),
        "DateTimeOffset" => value
            .as_str()
            .map(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
            .unwrap_or(false),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Cannot convert the literal '{}' to the expected type 'Edm.{edm}' (property '{path}').",
            match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        ))
    }
}

/// Merges a PATCH body into an object: nested objects merge, everything else (arrays
/// included) is replaced.
pub fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match (target.get_mut(k), v) {
            (Some(Value::Object(t)), Value::Object(p)) => merge(t, p),
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_parses_and_knows_the_policy_types() {
        let s = schema();
        assert!(s.has_type("microsoft.graph.conditionalAccessPolicy"));
        assert!(s.has_type("microsoft.graph.security.retentionLabel"));
        assert!(
            s.enum_def("microsoft.graph.authenticationMethodModes")
                .is_some()
        );
    }

    #[test]
    fn select_may_name_properties_of_derived_types() {
        let s = schema();
        assert!(s.selectable("microsoft.graph.namedLocation", "ipRanges"));
        assert!(s.selectable("microsoft.graph.namedLocation", "displayName"));
        assert!(!s.selectable("microsoft.graph.namedLocation", "colour"));
    }

    #[test]
    fn unknown_property_is_rejected() {
        let mut v = json!({"displayName": "x", "colour": "red"});
        let err = schema()
            .validate_structured(&mut v, "microsoft.graph.conditionalAccessPolicy", "")
            .unwrap_err();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn enum_value_outside_graphs_list_is_rejected() {
        let mut v = json!({"state": "on"});
        let err = schema()
            .validate_structured(&mut v, "microsoft.graph.conditionalAccessPolicy", "")
            .unwrap_err();
        assert!(err.contains("'on'"), "{err}");
    }

    #[test]
    fn wrong_scalar_type_is_rejected() {
        let mut v = json!({"isEnabled": "true"});
        assert!(
            schema()
                .validate_structured(
                    &mut v,
                    "microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
                    ""
                )
                .is_err()
        );
    }

    #[test]
    fn scalar_types_follow_edm() {
        let s = schema();
        let ok = |v: Value, ty: &str| s.validate(&mut v.clone(), ty, false, "p").is_ok();
        assert!(ok(json!(5), "Edm.Int32"));
        assert!(!ok(json!(5_000_000_000i64), "Edm.Int32"));
        assert!(ok(json!(5_000_000_000i64), "Edm.Int64"));
        assert!(!ok(json!(1.5), "Edm.Int32"));
        assert!(ok(
            json!("0854951d-5fc0-4eb1-b392-9b2c9d7949c2"),
            "Edm.Guid"
        ));
        assert!(!ok(
            json!("ad31vb6b-5zd0-7tyg-m231-kj8d6578432c"),
            "Edm.Guid"
        ));
        assert!(ok(
            json!("2019-09-15T21:53:34.5001162Z"),
            "Edm.DateTimeOffset"
        ));
        assert!(!ok(json!("yesterday"), "Edm.DateTimeOffset"));
        assert!(!ok(Value::Null, "Edm.String"), "non-nullable");
        assert!(
            s.validate(&mut Value::Null, "Edm.String", true, "p")
                .is_ok()
        );
        assert!(!ok(json!(["a", 1]), "Collection(Edm.String)"));
    }

    #[test]
    fn abstract_item_needs_its_derived_type() {
        let mut v = json!({"@odata.type": "ipNamedLocation", "displayName": "x",
            "ipRanges": [{"cidrAddress": "10.0.0.0/8"}]});
        assert!(
            schema()
                .validate_structured(&mut v, "microsoft.graph.namedLocation", "")
                .is_err()
        );
        let mut ok = json!({"@odata.type": "microsoft.graph.ipNamedLocation", "displayName": "x",
            "ipRanges": [{"@odata.type": "iPv4CidrRange", "cidrAddress": "10.0.0.0/8"}]});
        schema()
            .validate_structured(&mut ok, "microsoft.graph.namedLocation", "")
            .unwrap();
        assert_eq!(ok["@odata.type"], "#microsoft.graph.ipNamedLocation");
        assert_eq!(
            ok["ipRanges"][0]["@odata.type"],
            "#microsoft.graph.iPv4CidrRange"
        );
    }

    #[test]
    fn flags_enum_accepts_comma_joined_members() {
        let mut v = json!({"allowedCombinations": ["password, sms", "fido2"]});
        schema()
            .validate_structured(&mut v, "microsoft.graph.authenticationStrengthPolicy", "")
            .unwrap();
    }

    #[test]
    fn defaults_fill_collections_and_nulls() {
        let mut v = json!({"displayName": "p", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}}});
        schema().fill_defaults(&mut v, "microsoft.graph.conditionalAccessPolicy");
        assert_eq!(v["sessionControls"], Value::Null);
        assert_eq!(v["conditions"]["users"]["excludeUsers"], json!([]));
        assert_eq!(v["conditions"]["signInRiskLevels"], json!([]));
        assert_eq!(v["conditions"]["platforms"], Value::Null);
    }

    #[test]
    fn merge_replaces_arrays_and_merges_objects() {
        let mut t = json!({"a": {"x": 1, "y": [1, 2]}, "b": 1});
        let p = json!({"a": {"y": [3]}});
        merge(t.as_object_mut().unwrap(), p.as_object().unwrap());
        assert_eq!(t, json!({"a": {"x": 1, "y": [3]}, "b": 1}));
    }
}
