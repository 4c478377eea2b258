//! The model → canonical KDL: the inverse of [`super::convert`], used by `steward export`.
//!
//! Output is deterministic: fields in the model's order, set-valued lists sorted, strings quoted
//! unless they are enum members or Graph's special values, blocks indented by four spaces.

use serde_json::{Map, Value};

use crate::model::shape::{ObjectShape, Shape};
use crate::model::{Arity, Kind};

/// Writes one resource of `kind`, given its JSON form (as the model serialises it).
pub fn resource(kind: Kind, json: &Map<String, Value>) -> String {
    let shape = kind.shape();
    let mut out = String::new();
    out.push_str(kind.node_name());
    if kind.arity() == Arity::Named {
        let name = json
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.push(' ');
        out.push_str(&quote(name));
        // A pin, for objects whose display name the tenant does not hold once only.
        if let Some(id) = json.get("id").and_then(Value::as_str) {
            out.push_str(" id=");
            out.push_str(&quote(id));
        }
    }
    let body = fields(shape, json, 1, &["displayName", "id", "renamedFrom"]);
    if body.is_empty() {
        out.push('\n');
    } else {
        out.push_str(" {\n");
        out.push_str(&body);
        out.push_str("}\n");
    }
    out
}

fn fields(shape: &ObjectShape, json: &Map<String, Value>, depth: usize, skip: &[&str]) -> String {
    let indent = "    ".repeat(depth);
    let mut out = String::new();
    for field in &shape.fields {
        if skip.contains(&field.json.as_str()) {
            continue;
        }
        let Some(value) = json.get(&field.json) else {
            continue;
        };
        match (&field.shape, value) {
            // Graph's "nothing here" (null, [], a block of nothing) is written as nothing.
            (_, Value::Null) => {}
            (Shape::Array(_), Value::Array(items)) if items.is_empty() => {}
            (Shape::Object(object), Value::Object(map)) => {
                if let Some(node) = object_node(&field.kdl, object, map, depth) {
                    out.push_str(&indent);
                    out.push_str(&node);
                }
            }
            (Shape::Array(item), Value::Array(items)) => match item.as_ref() {
                Shape::Object(object) => {
                    for element in items.iter().filter_map(Value::as_object) {
                        let node = object_node(&field.kdl, object, element, depth)
                            .unwrap_or_else(|| format!("{}\n", field.kdl));
                        out.push_str(&indent);
                        out.push_str(&node);
                    }
                }
                scalar => {
                    let mut values: Vec<String> =
                        items.iter().map(|v| scalar_text(scalar, v)).collect();
                    // Lists of values are sets in Graph's semantics: sorted, they export the same
                    // way whatever order the tenant returns them in.
                    values.sort();
                    values.dedup();
                    out.push_str(&indent);
                    out.push_str(&field.kdl);
                    for v in values {
                        out.push(' ');
                        out.push_str(&v);
                    }
                    out.push('\n');
                }
            },
            (scalar, value) => {
                out.push_str(&format!(
                    "{indent}{} {}\n",
                    field.kdl,
                    scalar_text(scalar, value)
                ));
            }
        }
    }
    out
}

/// A block whose settings are all single values is written on one line as key=value.
fn object_node(
    name: &str,
    shape: &ObjectShape,
    json: &Map<String, Value>,
    depth: usize,
) -> Option<String> {
    let present: Vec<_> = shape
        .fields
        .iter()
        .filter(|f| json.get(&f.json).is_some_and(|v| !v.is_null()))
        .collect();
    if !present.is_empty() && present.len() <= 4 && present.iter().all(|f| f.shape.is_scalar()) {
        let props: Vec<String> = present
            .iter()
            .map(|f| format!("{}={}", f.kdl, scalar_text(&f.shape, &json[&f.json])))
            .collect();
        return Some(format!("{name} {}\n", props.join(" ")));
    }
    let body = fields(shape, json, depth + 1, &[]);
    if body.is_empty() {
        return None;
    }
    Some(format!("{name} {{\n{body}{}}}\n", "    ".repeat(depth)))
}

fn scalar_text(shape: &Shape, value: &Value) -> String {
    match value {
        Value::Bool(b) => format!("#{b}"),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let bare = match shape {
                Shape::String {
                    members: Some(_), ..
                } => true,
                Shape::String {
                    reference: Some(_), ..
                } => is_special_token(s),
                _ => false,
            };
            if bare && is_bare_identifier(s) {
                s.clone()
            } else {
                quote(s)
            }
        }
        other => quote(&other.to_string()),
    }
}

fn is_special_token(s: &str) -> bool {
    matches!(
        s,
        "All"
            | "None"
            | "GuestsOrExternalUsers"
            | "AllTrusted"
            | "Office365"
            | "MicrosoftAdminPortals"
            | "ServicePrincipalsInMyTenant"
            | "all_users"
    )
}

/// True when KDL v2 reads `s` unquoted as the same string.
fn is_bare_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !matches!(s, "true" | "false" | "null" | "inf" | "nan")
}

/// A KDL v2 quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if must_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Code points KDL v2 does not allow literally in a quoted string: controls, newlines of
/// every kind, the byte-order mark and the bidirectional controls (which could make a file
/// read differently from how it parses).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{FEFF}'
        )
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// Any display name, any Unicode, exports to a file that loads back to the same name.
        #[test]
        fn any_display_name_survives_export_and_load(name in "\\PC+|[\\u{0}-\\u{40}\\u{7f}-\\u{a0}\\u{2000}-\\u{206f}\\u{feff}\\\\\"]{1,12}") {
            // A blank display name is refused by the language, as Graph refuses it.
            proptest::prop_assume!(!name.trim().is_empty());
            let text = format!(
                "named-location {} {{\n    ip-ranges \"192.0.2.0/24\"\n}}\n",
                quote(&name)
            );
            let loaded = load_str("name.kdl", &text);
            proptest::prop_assert!(!loaded.has_errors(), "{text:?}: {:?}", loaded.diagnostics);
            proptest::prop_assert_eq!(&loaded.desired.named_locations[0].display_name, &name);
        }
    }

    const POLICY: &str = r#"conditional-access-policy "CA1 \"quoted\" name" {
    state enabledForReportingButNotEnforced
    conditions {
        users {
            include-users All
            exclude-users "b@contoso.com" "a@contoso.com"
            include-guests-or-external-users {
                guest-or-external-user-types internalGuest b2bCollaborationGuest
                external-tenants membership-kind=all
            }
        }
        applications {
            include-applications All
        }
        client-app-types exchangeActiveSync other
    }
    grant-controls operator=OR {
        built-in-controls mfa
    }
    session-controls {
        sign-in-frequency is-enabled=#true value=4 type=hours
    }
}
"#;

    #[test]
    fn written_kdl_loads_back_to_the_same_model() {
        let loaded = load_str("in.kdl", POLICY);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let policy = &loaded.desired.conditional_access_policies[0];
        let json = crate::config::to_map(policy);
        let text = resource(Kind::ConditionalAccessPolicy, &json);
        let again = load_str("out.kdl", &text);
        assert!(!again.has_errors(), "{text}\n{:?}", again.diagnostics);
        let mut expected = policy.clone();
        if let Some(users) = expected.conditions.users.as_mut() {
            if let Some(exclude) = users.exclude_users.as_mut() {
                exclude.sort();
            }
            if let Some(guests) = users.include_guests_or_external_users.as_mut() {
                guests
                    .guest_or_external_user_types
                    .sort_by_key(|t| t.as_str());
            }
        }
        if let Some(types) = expected.conditions.client_app_types.as_mut() {
            types.sort_by_key(|t| t.as_str());
        }
        assert_eq!(again.desired.conditional_access_policies[0], expected);
    }

    #[test]
    fn output_is_canonical() {
        let loaded = load_str("in.kdl", POLICY);
        let json = crate::config::to_map(&loaded.desired.conditional_access_policies[0]);
        let text = resource(Kind::ConditionalAccessPolicy, &json);
        assert_eq!(crate::config::format::canonical(&text), text);
        assert!(
            text.contains("exclude-users \"a@contoso.com\" \"b@contoso.com\"\n"),
            "{text}"
        );
        assert!(
            text.contains("sign-in-frequency is-enabled=#true value=4 type=hours\n"),
            "{text}"
        );
        assert!(
            text.starts_with("conditional-access-policy \"CA1 \\\"quoted\\\" name\" {\n"),
            "{text}"
        );
    }
}
