//! The model → Graph's request bodies, per kind: what `apply` sends.
//!
//! Payloads are what Graph documents: names become ids, the derived `@odata.type` is present
//! where Graph requires it, flag sets are comma-joined, and an update sends only the top-level
//! properties that change — each merged over the tenant's current value, so a nested block the
//! files declare only in part keeps the rest of what the tenant has.

use serde_json::{Map, Value, json};

use super::map_refs;
use crate::model::authentication_methods::METHOD_IDS;
use crate::model::plan::FieldChange;
use crate::model::reference::{RefKind, is_guid};
use crate::model::{Arity, Kind};

/// Finds the id of a named object (including objects created earlier in the same apply).
pub trait Ids {
    /// The id of the object `name` of `kind`, if known.
    fn id_of(&self, kind: RefKind, name: &str) -> Option<String>;
}

/// A name that has no id yet (its object was not created, or does not exist).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{noun} {name:?} has no id: it does not exist in the tenant and was not created")]
pub struct UnknownName {
    /// What kind of object.
    pub noun: &'static str,
    /// The name.
    pub name: String,
}

/// One request of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRequest {
    /// `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Path relative to `/v1.0/`.
    pub path: String,
    /// The JSON body.
    pub body: Option<Value>,
}

/// Properties of the model that are steward's, never sent.
const META: &[&str] = &["id", "renamedFrom", "lockoutWaiver"];

/// The model's JSON form of a resource → Graph's JSON, names replaced by ids.
pub fn to_graph(
    kind: Kind,
    json: &Map<String, Value>,
    ids: &dyn Ids,
) -> Result<Value, UnknownName> {
    let mut value = Value::Object(json.clone());
    if let Some(map) = value.as_object_mut() {
        for key in META {
            map.remove(*key);
        }
    }
    let missing = std::cell::RefCell::new(None);
    map_refs(kind.root_shape(), &mut value, &|k, text| {
        if is_guid(text)
            || k.special_values()
                .iter()
                .any(|s| s.eq_ignore_ascii_case(text))
        {
            return None;
        }
        let found = ids.id_of(k, text);
        if found.is_none() && missing.borrow().is_none() {
            *missing.borrow_mut() = Some(UnknownName {
                noun: k.noun(),
                name: text.to_string(),
            });
        }
        found
    });
    if let Some(e) = missing.into_inner() {
        return Err(e);
    }
    (super::adapter(kind).to_graph)(&mut value);
    Ok(value)
}

/// Merges `over` onto `base`: objects recursively, everything else (lists included) replaced.
pub fn merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, over) => over.clone(),
    }
}

/// Mutable access to a nested object member by a path of keys.
fn at<'a>(value: &'a mut Value, keys: &[&str]) -> Option<&'a mut Value> {
    let mut current = value;
    for key in keys {
        current = current.as_object_mut()?.get_mut(*key)?;
    }
    Some(current)
}

/// The requests that create a resource.
pub fn create(
    kind: Kind,
    json: &Map<String, Value>,
    ids: &dyn Ids,
) -> Result<Vec<WriteRequest>, UnknownName> {
    let Some(path) = kind.graph_path() else {
        return Ok(Vec::new());
    };
    if kind.arity() != Arity::Named {
        // Singletons always exist; "creating" one is updating every declared setting.
        return update(kind, "", json, &Value::Null, None, ids);
    }
    Ok(vec![WriteRequest {
        method: "POST",
        path: path.to_string(),
        body: Some(to_graph(kind, json, ids)?),
    }])
}

/// The top-level (model) properties a set of field changes touches.
fn touched(changes: &[FieldChange]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in changes {
        let top = c
            .pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        if !top.is_empty() && !out.contains(&top) {
            out.push(top);
        }
    }
    out
}

/// The requests that update resource `id` so its declared settings hold; `changes` `None`
/// means every declared setting.
pub fn update(
    kind: Kind,
    id: &str,
    json: &Map<String, Value>,
    live_raw: &Value,
    changes: Option<&[FieldChange]>,
    ids: &dyn Ids,
) -> Result<Vec<WriteRequest>, UnknownName> {
    let Some(path) = kind.graph_path() else {
        return Ok(Vec::new());
    };
    let adapter = super::adapter(kind);
    let graph = to_graph(kind, json, ids)?;
    let keys: Vec<String> = match changes {
        Some(changes) => touched(changes),
        None => graph
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
    };
    let pick = |key: &str| -> Option<Value> {
        let want = graph.get(key)?;
        Some(match live_raw.get(key) {
            Some(have) if have.is_object() => merge(have, want),
            _ => want.clone(),
        })
    };
    let target = if kind.arity() == Arity::Named {
        format!("{path}/{id}")
    } else {
        path.to_string()
    };
    if adapter.put_whole {
        // The whole object replaces the tenant's: every writable property is sent.
        return Ok(vec![WriteRequest {
            method: "PUT",
            path: target,
            body: Some(graph),
        }]);
    }
    let mut requests = Vec::new();
    let mut body = Map::new();
    for key in &keys {
        if key.starts_with('@') {
            continue;
        }
        let own = Property {
            key,
            target: &target,
            graph: &graph,
            live_raw,
            changes,
        };
        match (adapter.own_requests)(&own) {
            Some(own) => requests.extend(own),
            None => {
                if let Some(v) = pick(key) {
                    body.insert(key.clone(), v);
                }
            }
        }
    }
    // A setting an owned declaration leaves out is cleared: the merge with the tenant's object
    // above would otherwise keep it (an exclusion added in the portal stays).
    for change in changes.into_iter().flatten().filter(|c| c.after.is_null()) {
        let cleared = if change.before.is_array() {
            Value::Array(Vec::new())
        } else {
            Value::Null
        };
        let mut keys = change.pointer.trim_start_matches('/').split('/');
        let Some(name) = keys.next() else { continue };
        let rest: Vec<&str> = keys.collect();
        if graph.get(name).is_none() {
            // The declaration leaves the whole block out: clear the block.
            let whole = if rest.is_empty() {
                cleared
            } else {
                Value::Null
            };
            body.insert(name.to_string(), whole);
            continue;
        }
        let Some(top) = body.get_mut(name) else {
            continue;
        };
        if rest.is_empty() {
            *top = cleared;
        } else if let Some(slot) = at(top, &rest) {
            *slot = cleared;
        }
    }
    if !body.is_empty() {
        for key in adapter.patch_carries {
            if let Some(v) = graph.get(*key) {
                body.insert((*key).to_string(), v.clone());
            }
        }
        requests.insert(
            0,
            WriteRequest {
                method: "PATCH",
                path: target,
                body: Some(Value::Object(body)),
            },
        );
    }
    Ok(requests)
}

/// One top-level property of an update, for a kind's [`super::KindAdapter::own_requests`].
pub struct Property<'a> {
    /// The property's (model and Graph) name.
    pub key: &'a str,
    /// The path of the object being updated.
    pub target: &'a str,
    /// The whole object as Graph's JSON, names replaced by ids.
    pub graph: &'a Value,
    /// The tenant's object as read.
    pub live_raw: &'a Value,
    /// The field changes the update is for; `None` means every declared setting.
    pub changes: Option<&'a [FieldChange]>,
}

/// The PATCH of one method configuration: its derived type and the settings that change.
pub(super) fn method_update(
    field: &str,
    graph: &Value,
    live_raw: &Value,
    changes: Option<&[FieldChange]>,
) -> Option<WriteRequest> {
    let (_, graph_id) = METHOD_IDS.iter().find(|(f, _)| *f == field)?;
    let want = graph.get(field)?.as_object()?;
    let live_method = live_raw
        .get("authenticationMethodConfigurations")
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter().find(|m| {
                m.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.eq_ignore_ascii_case(graph_id))
            })
        })
        .cloned()
        .unwrap_or(Value::Null);
    let keys: Vec<String> = match changes {
        Some(changes) => changes
            .iter()
            .filter_map(|c| {
                let mut parts = c.pointer.trim_start_matches('/').split('/');
                (parts.next() == Some(field))
                    .then(|| parts.next().map(String::from))
                    .flatten()
            })
            .collect(),
        None => want.keys().cloned().collect(),
    };
    let mut body = Map::new();
    body.insert(
        "@odata.type".into(),
        json!(format!(
            "#microsoft.graph.{field}AuthenticationMethodConfiguration"
        )),
    );
    for key in keys {
        if let Some(v) = want.get(&key) {
            let merged = match live_method.get(&key) {
                Some(have) if have.is_object() => merge(have, v),
                _ => v.clone(),
            };
            body.insert(key, merged);
        } else if let Some(cleared) = changes
            .into_iter()
            .flatten()
            .find(|c| c.after.is_null() && c.pointer == format!("/{field}/{key}"))
        {
            // A list the declaration leaves out that must be empty (an exclusion added in the
            // portal).
            let empty = if cleared.before.is_array() {
                Value::Array(Vec::new())
            } else {
                Value::Null
            };
            body.insert(key, empty);
        }
    }
    Some(WriteRequest {
        method: "PATCH",
        path: format!(
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{field}"
        ),
        body: Some(Value::Object(body)),
    })
}

/// The request that deletes resource `id`.
pub fn delete(kind: Kind, id: &str) -> Option<WriteRequest> {
    let path = kind.graph_path()?;
    (kind.arity() == Arity::Named).then(|| WriteRequest {
        method: "DELETE",
        path: format!("{path}/{id}"),
        body: None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::{load_str, to_map};

    struct Table(HashMap<(RefKind, String), String>);

    impl Ids for Table {
        fn id_of(&self, kind: RefKind, name: &str) -> Option<String> {
            self.0.get(&(kind, name.to_string())).cloned()
        }
    }

    fn table() -> Table {
        Table(HashMap::from([
            (
                (RefKind::Group, "Exchange users".to_string()),
                "ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba".to_string(),
            ),
            (
                (RefKind::NamedLocation, "Untrusted regions".to_string()),
                "198ad66e-87b3-4157-85a3-8a7b51794ee9".to_string(),
            ),
            (
                (
                    RefKind::Application,
                    "Office 365 Exchange Online".to_string(),
                ),
                "00000002-0000-0ff1-ce00-000000000000".to_string(),
            ),
        ]))
    }

    fn example_request(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/graph-examples/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap_or_default();
        serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)["request_body"].clone()
    }

    #[test]
    fn a_policy_written_by_name_becomes_microsofts_documented_create_body() {
        let loaded = load_str(
            "p.kdl",
            r#"conditional-access-policy "Block access to EXO non-trusted regions." {
    state enabled
    conditions {
        client-app-types all
        applications { include-applications "Office 365 Exchange Online" }
        users { include-groups "Exchange users" }
        locations { include-locations "Untrusted regions" }
    }
    grant-controls operator=OR { built-in-controls block }
}
"#,
        );
        let json = to_map(&loaded.desired.conditional_access_policies[0]);
        let requests =
            create(Kind::ConditionalAccessPolicy, &json, &table()).expect("all names known");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].path, "identity/conditionalAccess/policies");
        assert_eq!(
            requests[0].body.as_ref(),
            Some(&example_request("ca-policy-create-block-untrusted-regions"))
        );
    }

    #[test]
    fn a_policy_with_only_session_controls_sends_an_explicit_null_grant() {
        let loaded = load_str(
            "p.kdl",
            "conditional-access-policy \"Sessions\" {\n    state disabled\n    conditions {\n        users { include-users All }\n        applications { include-applications All }\n    }\n    session-controls {\n        sign-in-frequency is-enabled=#true value=8 type=hours\n    }\n}\n",
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let json = to_map(&loaded.desired.conditional_access_policies[0]);
        let body = create(Kind::ConditionalAccessPolicy, &json, &table()).expect("no names")[0]
            .body
            .clone();
        assert_eq!(
            body.as_ref().and_then(|b| b.get("grantControls")),
            Some(&Value::Null)
        );
    }

    #[test]
    fn a_named_location_carries_its_derived_types() {
        let loaded = load_str(
            "l.kdl",
            "named-location \"Untrusted IP named location\" {\n    is-trusted #false\n    ip-ranges \"12.34.221.11/22\" \"2001:0:9d38:90d6:0:0:0:0/63\"\n}\n",
        );
        let json = to_map(&loaded.desired.named_locations[0]);
        let body = create(Kind::NamedLocation, &json, &table()).expect("no references")[0]
            .body
            .clone();
        assert_eq!(body, Some(example_request("named-location-create-ip")));
    }

    #[test]
    fn an_unknown_name_is_never_sent() {
        let loaded = load_str(
            "p.kdl",
            "conditional-access-policy \"P\" {\n    state enabled\n    conditions {\n        users { include-groups \"Nobody\" }\n        applications { include-applications All }\n    }\n    grant-controls { built-in-controls block }\n}\n",
        );
        let json = to_map(&loaded.desired.conditional_access_policies[0]);
        let err = create(Kind::ConditionalAccessPolicy, &json, &table()).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "group \"Nobody\" has no id: it does not exist in the tenant and was not created"
                    .to_string()
            )
        );
    }

    #[test]
    fn an_update_sends_only_changed_properties_merged_over_the_tenant() {
        let live = json!({"id": "p1", "displayName": "P", "state": "enabled", "conditions": {
            "users": {"includeUsers": ["All"], "excludeUsers": ["u1"]}, "signInRiskLevels": []}});
        let loaded = load_str(
            "p.kdl",
            "conditional-access-policy \"P\" {\n    state enabled\n    conditions {\n        users { include-users All; exclude-users \"11111111-1111-4111-8111-111111111111\" }\n        applications { include-applications All }\n    }\n    grant-controls { built-in-controls block }\n}\n",
        );
        let json = to_map(&loaded.desired.conditional_access_policies[0]);
        let changes = [FieldChange {
            path: "conditions.users.exclude-users".into(),
            pointer: "/conditions/users/excludeUsers".into(),
            before: json!(["u1"]),
            after: json!(["11111111-1111-4111-8111-111111111111"]),
            added: vec![],
            removed: vec![],
        }];
        let requests = update(
            Kind::ConditionalAccessPolicy,
            "p1",
            &json,
            &live,
            Some(&changes),
            &table(),
        )
        .expect("ok");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].path, "identity/conditionalAccess/policies/p1");
        assert_eq!(
            requests[0].body,
            Some(json!({"conditions": {
                "users": {"includeUsers": ["All"], "excludeUsers": ["11111111-1111-4111-8111-111111111111"]},
                "signInRiskLevels": [],
                "applications": {"includeApplications": ["All"]}}}))
        );
    }

    #[test]
    fn an_access_review_is_updated_by_a_put_of_the_whole_definition() {
        let loaded = load_str(
            "r.kdl",
            "access-review \"R\" {\n    description-for-reviewers \"new\"\n    scope guests-in=allTeams\n    reviewers group-owners=#true\n    settings { auto-apply-decisions-enabled #true; }\n}\n",
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let json = to_map(&loaded.desired.access_reviews[0]);
        let changes = [FieldChange {
            path: "description-for-reviewers".into(),
            pointer: "/descriptionForReviewers".into(),
            before: json!("old"),
            after: json!("new"),
            added: vec![],
            removed: vec![],
        }];
        let requests = update(
            Kind::AccessReview,
            "r1",
            &json,
            &Value::Null,
            Some(&changes),
            &table(),
        )
        .expect("ok");
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (requests[0].method, requests[0].path.as_str()),
            ("PUT", "identityGovernance/accessReviews/definitions/r1")
        );
        let body = requests[0].body.clone().unwrap_or_default();
        assert_eq!(body["descriptionForReviewers"], "new");
        assert_eq!(
            body["reviewers"],
            json!([{"query": "./owners", "queryType": "MicrosoftGraph"}])
        );
        assert!(
            body["instanceEnumerationScope"]["query"].is_string(),
            "{body}"
        );
        assert_eq!(body["settings"], json!({"autoApplyDecisionsEnabled": true}));
    }

    #[test]
    fn strength_combinations_change_through_their_action() {
        let loaded = load_str(
            "s.kdl",
            "authentication-strength \"S\" {\n    allowed-combinations \"password, voice\"\n}\n",
        );
        let json = to_map(&loaded.desired.authentication_strengths[0]);
        let changes = [FieldChange {
            path: "allowed-combinations".into(),
            pointer: "/allowedCombinations".into(),
            before: json!([]),
            after: json!(["password,voice"]),
            added: vec![],
            removed: vec![],
        }];
        let requests = update(
            Kind::AuthenticationStrength,
            "s1",
            &json,
            &Value::Null,
            Some(&changes),
            &table(),
        )
        .expect("ok");
        assert_eq!(requests.len(), 1);
        assert_eq!(
            (requests[0].method, requests[0].path.as_str()),
            (
                "POST",
                "policies/authenticationStrengthPolicies/s1/updateAllowedCombinations"
            )
        );
        assert_eq!(
            requests[0].body,
            Some(json!({"allowedCombinations": ["password,voice"]}))
        );
    }

    #[test]
    fn a_method_update_names_its_configuration_type() {
        let loaded = load_str(
            "m.kdl",
            "authentication-methods-policy {\n    fido2 state=enabled is-attestation-enforced=#true\n}\n",
        );
        let json = to_map(
            loaded
                .desired
                .authentication_methods_policy
                .as_ref()
                .expect("policy"),
        );
        let changes = [FieldChange {
            path: "fido2.state".into(),
            pointer: "/fido2/state".into(),
            before: json!("disabled"),
            after: json!("enabled"),
            added: vec![],
            removed: vec![],
        }];
        let requests = update(
            Kind::AuthenticationMethodsPolicy,
            "",
            &json,
            &Value::Null,
            Some(&changes),
            &table(),
        )
        .expect("ok");
        assert_eq!(requests.len(), 1);
        assert_eq!(
            requests[0].path,
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
        );
        assert_eq!(
            requests[0].body,
            Some(
                json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "enabled"})
            )
        );
    }
}
