//! Normalisation: the forms in which two values Graph treats as the same compare equal.
//!
//! Each rule has a test below naming the false drift it prevents.

use serde_json::Value;

use crate::model::authentication_strength::Combination;
use crate::model::shape::Shape;

/// The comparable form of a single value of `shape`.
pub fn scalar(shape: &Shape, value: &Value) -> Value {
    match (shape, value) {
        (
            Shape::String {
                members: Some(_), ..
            },
            Value::String(s),
        ) => {
            // Enum members are case-insensitive in Graph.
            Value::String(s.to_ascii_lowercase())
        }
        (
            Shape::String {
                reference: Some(_), ..
            },
            Value::String(s),
        ) => {
            // GUIDs, UPNs, display names and special values compare case-insensitively.
            Value::String(s.to_ascii_lowercase())
        }
        (
            Shape::String {
                format: Some(f), ..
            },
            Value::String(s),
        ) => match f.as_str() {
            "method-combination" => match Combination::parse(s) {
                // "password, sms" == "sms,password"
                Ok(c) => Value::String(c.to_string()),
                Err(_) => value.clone(),
            },
            "cidr" => Value::String(canonical_cidr(s)),
            "country" | "uuid" => Value::String(s.to_ascii_lowercase()),
            _ => value.clone(),
        },
        _ => value.clone(),
    }
}

/// `2001:0:9d38:90d6:0:0:0:0/63` and `2001:0:9d38:90d6::/63` are one range.
fn canonical_cidr(text: &str) -> String {
    match text.split_once('/') {
        Some((addr, len)) => match addr.parse::<std::net::IpAddr>() {
            Ok(ip) => format!("{ip}/{}", len.trim()),
            Err(_) => text.to_string(),
        },
        None => text.to_string(),
    }
}

/// True when Graph treats `value` as "nothing": absent, `null`, `[]`, or a block of nothing.
pub fn is_nothing(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.values().all(|v| is_nothing(Some(v))),
        Some(_) => false,
    }
}

/// True when a declared value equals the tenant's unset value: a declared `false` against a
/// tenant `null` (Graph reports unset switches as null and treats them as off).
pub fn declared_default_matches_unset(declared: &Value, live: Option<&Value>) -> bool {
    matches!(live, None | Some(Value::Null))
        && (declared == &Value::Bool(false) || is_nothing(Some(declared)))
}

/// Graph's value for a property of a collection object nobody set, where it is not empty or
/// `false`: what the tenant holds when a file leaves the property out.
pub fn graph_default(kind: crate::model::Kind, pointer: &str) -> Option<Value> {
    use crate::model::Kind;
    use serde_json::json;
    match kind {
        Kind::NamedLocation => match pointer {
            "/countryLookupMethod" => Some(json!("clientIpAddress")),
            _ => None,
        },
        Kind::ConditionalAccessPolicy => match pointer {
            "/grantControls/operator" => Some(json!("OR")),
            "/conditions/clientAppTypes" => Some(json!(["all"])),
            "/sessionControls/signInFrequency/frequencyInterval" => Some(json!("timeBased")),
            "/sessionControls/signInFrequency/authenticationType" => {
                Some(json!("primaryAndSecondaryAuthentication"))
            }
            _ => None,
        },
        Kind::AccessReview => match pointer {
            "/settings/defaultDecision" => Some(json!("None")),
            _ => None,
        },
        Kind::EmergencyAccess
        | Kind::Prune
        | Kind::CheckException
        | Kind::AuthenticationStrength
        | Kind::AuthenticationMethodsPolicy
        | Kind::SecurityDefaults
        | Kind::AuthorizationPolicy
        | Kind::SharepointSettings
        | Kind::RetentionLabel
        | Kind::CrossTenantAccess
        | Kind::CrossTenantPartner => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enum_shape() -> Shape {
        Shape::String {
            members: Some(vec!["iOS".into()]),
            format: None,
            reference: None,
        }
    }

    #[test]
    fn enum_values_compare_case_insensitively() {
        assert_eq!(
            scalar(&enum_shape(), &json!("iOS")),
            scalar(&enum_shape(), &json!("ios"))
        );
    }

    #[test]
    fn guids_and_names_in_references_compare_case_insensitively() {
        let shape = Shape::String {
            members: None,
            format: None,
            reference: Some("user".into()),
        };
        assert_eq!(
            scalar(&shape, &json!("3F0C2A1B-0000-4000-8000-00000000ABCD")),
            scalar(&shape, &json!("3f0c2a1b-0000-4000-8000-00000000abcd"))
        );
    }

    #[test]
    fn combinations_with_or_without_spaces_are_equal() {
        let shape = Shape::String {
            members: None,
            format: Some("method-combination".into()),
            reference: None,
        };
        assert_eq!(
            scalar(&shape, &json!("password, sms")),
            scalar(&shape, &json!("sms,password"))
        );
    }

    #[test]
    fn ipv6_ranges_compare_in_canonical_form() {
        let shape = Shape::String {
            members: None,
            format: Some("cidr".into()),
            reference: None,
        };
        assert_eq!(
            scalar(&shape, &json!("2001:0:9d38:90d6:0:0:0:0/63")),
            scalar(&shape, &json!("2001:0:9d38:90d6::/63"))
        );
    }

    #[test]
    fn null_empty_list_and_absent_are_all_nothing() {
        assert!(is_nothing(None));
        assert!(is_nothing(Some(&json!(null))));
        assert!(is_nothing(Some(&json!([]))));
        assert!(is_nothing(Some(&json!({"a": null, "b": []}))));
        assert!(!is_nothing(Some(&json!(false))));
    }

    #[test]
    fn declared_false_matches_a_null_switch() {
        assert!(declared_default_matches_unset(
            &json!(false),
            Some(&json!(null))
        ));
        assert!(!declared_default_matches_unset(
            &json!(true),
            Some(&json!(null))
        ));
    }
}
