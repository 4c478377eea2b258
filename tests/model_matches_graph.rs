//! Every property the model sends to Graph exists in Graph's v1.0 metadata under that exact
//! name, so a typo in a model field can never become a silently ignored (or refused) payload.

use serde_json::Value;

use steward::model::Kind;
use steward::model::shape::{ObjectShape, Shape};

fn metadata() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/steward-sandbox/src/graph-v1.0-types.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default()).unwrap_or(Value::Null)
}

/// Every property name of a Graph type, its base types and (for abstract or polymorphic
/// types) its derived types, with their types.
fn properties(meta: &Value, type_name: &str, out: &mut Vec<(String, String)>) {
    let name = type_name.trim_start_matches("microsoft.graph.");
    for section in ["entityTypes", "complexTypes"] {
        let Some(t) = meta[section].get(name) else {
            continue;
        };
        for (p, v) in t["properties"].as_object().into_iter().flatten() {
            out.push((
                p.clone(),
                v["type"].as_str().unwrap_or_default().to_string(),
            ));
        }
        for (p, v) in t["navigationProperties"].as_object().into_iter().flatten() {
            out.push((
                p.clone(),
                v["type"].as_str().unwrap_or_default().to_string(),
            ));
        }
        if let Some(base) = t["baseType"].as_str() {
            properties(meta, base, out);
        }
        for derived in t["derivedTypes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let d = derived.trim_start_matches("microsoft.graph.");
            for section in ["entityTypes", "complexTypes"] {
                if let Some(dt) = meta[section].get(d) {
                    for (p, v) in dt["properties"].as_object().into_iter().flatten() {
                        out.push((
                            p.clone(),
                            v["type"].as_str().unwrap_or_default().to_string(),
                        ));
                    }
                }
            }
        }
    }
}

fn element(type_name: &str) -> &str {
    type_name
        .strip_prefix("Collection(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(type_name)
}

/// Fields the model has that are steward's own, or reshaped on the way to Graph.
const STEWARD_ONLY: &[&str] = &[
    "id",
    "renamedFrom",
    "lockoutWaiver",
    "ignoreChanges",
    "forever",
    "days",
];

fn check(
    meta: &Value,
    shape: &ObjectShape,
    graph_type: &str,
    path: &str,
    problems: &mut Vec<String>,
) {
    let mut props = Vec::new();
    properties(meta, graph_type, &mut props);
    for field in &shape.fields {
        if STEWARD_ONLY.contains(&field.json.as_str()) {
            continue;
        }
        let here = format!("{path}/{}", field.json);
        match props.iter().find(|(p, _)| *p == field.json) {
            None => problems.push(format!("{here}: no such property on {graph_type}")),
            Some((_, ty)) => {
                let inner = match &field.shape {
                    Shape::Object(o) => Some(o),
                    Shape::Array(item) => match item.as_ref() {
                        Shape::Object(o) => Some(o),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(inner) = inner {
                    check(meta, inner, element(ty), &here, problems);
                }
            }
        }
    }
}

#[test]
fn model_property_names_are_graphs() {
    let meta = metadata();
    let mut problems = Vec::new();
    for (kind, graph_type) in [
        (Kind::ConditionalAccessPolicy, "conditionalAccessPolicy"),
        (Kind::AuthenticationStrength, "authenticationStrengthPolicy"),
        (
            Kind::SecurityDefaults,
            "identitySecurityDefaultsEnforcementPolicy",
        ),
        (Kind::AuthorizationPolicy, "authorizationPolicy"),
        (Kind::SharepointSettings, "sharepointSettings"),
        (Kind::RetentionLabel, "security.retentionLabel"),
    ] {
        check(
            &meta,
            kind.shape(),
            graph_type,
            kind.node_name(),
            &mut problems,
        );
    }
    // Named locations are one model type for Graph's two derived types.
    let location = Kind::NamedLocation.shape();
    let mut props = Vec::new();
    properties(&meta, "ipNamedLocation", &mut props);
    properties(&meta, "countryNamedLocation", &mut props);
    for f in &location.fields {
        if !STEWARD_ONLY.contains(&f.json.as_str()) && !props.iter().any(|(p, _)| *p == f.json) {
            problems.push(format!("named-location/{}: no such property", f.json));
        }
    }
    // The methods policy: its own properties, and one field per method configuration.
    let methods = Kind::AuthenticationMethodsPolicy.shape();
    for f in &methods.fields {
        let graph_type = format!("{}AuthenticationMethodConfiguration", f.json);
        let Shape::Object(inner) = &f.shape else {
            check(
                &meta,
                &ObjectShape {
                    fields: vec![f.clone()],
                },
                "authenticationMethodsPolicy",
                "authentication-methods-policy",
                &mut problems,
            );
            continue;
        };
        if f.json == "registrationEnforcement" {
            check(
                &meta,
                inner,
                "registrationEnforcement",
                "authentication-methods-policy/registrationEnforcement",
                &mut problems,
            );
            continue;
        }
        let mut props = Vec::new();
        properties(&meta, &graph_type, &mut props);
        for m in &inner.fields {
            // Method targets are navigation properties the slice does not expand.
            if m.json == "includeTargets" || m.json == "excludeTargets" {
                continue;
            }
            if !props.iter().any(|(p, _)| *p == m.json) {
                problems.push(format!(
                    "authentication-methods-policy/{}/{}: no such property on {graph_type}",
                    f.json, m.json
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
