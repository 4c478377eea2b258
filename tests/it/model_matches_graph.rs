//! Every property the model sends to Graph exists in Graph's v1.0 metadata under that exact
//! name, so a typo in a model field can never become a silently ignored (or refused) payload.

use steward::graph::sharepoint::is_admin_setting;
use steward::model::Kind;
use steward::model::shape::{ObjectShape, Shape};
use steward_sandbox::csdl::{Schema, full_type_name};

/// Graph's v1.0 metadata, as the sandbox holds it.
fn metadata() -> &'static Schema {
    steward_sandbox::csdl::schema()
}

/// The property `name` of a Graph type, its base types or (for abstract or polymorphic types)
/// its derived types, with its type.
fn property(meta: &Schema, type_name: &str, name: &str) -> Option<String> {
    meta.property_in_hierarchy(&full_type_name(type_name), name)
        .map(|p| p.ty)
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

/// Properties of the model that its kind's adapter reshapes into Graph's, by Graph type (`*`:
/// every property of the type): the cross-tenant `targets` list is split into users, groups and
/// applications, a partner's tenant id is its display name, and an access review's scope,
/// reviewers and recurrence are named settings the adapter turns into Graph's queries.
const ADAPTED: &[(&str, &str)] = &[
    ("crossTenantAccessPolicyTargetConfiguration", "users"),
    ("crossTenantAccessPolicyTargetConfiguration", "groups"),
    ("crossTenantAccessPolicyTargetConfiguration", "applications"),
    ("crossTenantAccessPolicyConfigurationPartner", "displayName"),
    ("accessReviewScope", "*"),
    ("accessReviewReviewerScope", "*"),
    ("patternedRecurrence", "*"),
];

fn check(
    meta: &Schema,
    shape: &ObjectShape,
    graph_type: &str,
    path: &str,
    problems: &mut Vec<String>,
) {
    for field in &shape.fields {
        if STEWARD_ONLY.contains(&field.json.as_str())
            || ADAPTED.iter().any(|(t, p)| {
                graph_type.trim_start_matches("microsoft.graph.") == *t
                    && (*p == "*" || field.json == *p)
            })
        {
            continue;
        }
        let here = format!("{path}/{}", field.json);
        match property(meta, graph_type, &field.json) {
            None => problems.push(format!("{here}: no such property on {graph_type}")),
            Some(ty) => {
                let inner = match &field.shape {
                    Shape::Object(o) => Some(o),
                    Shape::Array(item) => match item.as_ref() {
                        Shape::Object(o) => Some(o),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(inner) = inner {
                    check(meta, inner, element(&ty), &here, problems);
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
        (
            Kind::CrossTenantAccess,
            "crossTenantAccessPolicyConfigurationDefault",
        ),
        (
            Kind::CrossTenantPartner,
            "crossTenantAccessPolicyConfigurationPartner",
        ),
        (Kind::AccessReview, "accessReviewScheduleDefinition"),
    ] {
        // SharePoint's own settings are checked below.
        let graph_fields = ObjectShape {
            fields: kind
                .shape()
                .fields
                .iter()
                .filter(|f| !is_admin_setting(&f.json))
                .cloned()
                .collect(),
        };
        check(
            meta,
            &graph_fields,
            graph_type,
            kind.node_name(),
            &mut problems,
        );
    }
    // Each setting has one owner: what SharePoint's admin API holds for steward is nothing
    // Graph's sharepointSettings holds too.
    for f in &Kind::SharepointSettings.shape().fields {
        if is_admin_setting(&f.json) && property(meta, "sharepointSettings", &f.json).is_some() {
            problems.push(format!(
                "sharepoint-settings/{}: Graph holds it too; it must be read and written through Graph",
                f.json
            ));
        }
    }
    // Named locations are one model type for Graph's two derived types.
    let location = Kind::NamedLocation.shape();
    for f in &location.fields {
        let declared = ["ipNamedLocation", "countryNamedLocation"]
            .iter()
            .any(|t| property(meta, t, &f.json).is_some());
        if !STEWARD_ONLY.contains(&f.json.as_str()) && !declared {
            problems.push(format!("named-location/{}: no such property", f.json));
        }
    }
    // The methods policy: its own properties, and one field per method configuration.
    let methods = Kind::AuthenticationMethodsPolicy.shape();
    for f in &methods.fields {
        let graph_type = format!("{}AuthenticationMethodConfiguration", f.json);
        let Shape::Object(inner) = &f.shape else {
            check(
                meta,
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
                meta,
                inner,
                "registrationEnforcement",
                "authentication-methods-policy/registrationEnforcement",
                &mut problems,
            );
            continue;
        }
        for m in &inner.fields {
            // Method targets are navigation properties the slice does not expand.
            if m.json == "includeTargets" || m.json == "excludeTargets" {
                continue;
            }
            if property(meta, &graph_type, &m.json).is_none() {
                problems.push(format!(
                    "authentication-methods-policy/{}/{}: no such property on {graph_type}",
                    f.json, m.json
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
