//! Conditional Access policies: Graph writes some flag sets comma-joined and nests the
//! authentication strength as an object; the model keeps lists and a reference.

use serde_json::{Value, json};

use super::{KindAdapter, Unexpressed, at, join_flags, split_flags};

/// How Conditional Access policies are read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph: |raw: &Value, _: &mut Vec<Unexpressed>| from_graph(raw),
    to_graph,
    ..KindAdapter::DEFAULT
};

/// Graph → the model's JSON form.
pub fn from_graph(raw: &Value) -> Value {
    let mut value = raw.clone();
    for side in [
        "includeGuestsOrExternalUsers",
        "excludeGuestsOrExternalUsers",
    ] {
        if let Some(types) = at(
            &mut value,
            &["conditions", "users", side, "guestOrExternalUserTypes"],
        ) {
            split_flags(types);
        }
    }
    if let Some(levels) = at(&mut value, &["conditions", "insiderRiskLevels"]) {
        split_flags(levels);
    }
    if let Some(methods) = at(
        &mut value,
        &["conditions", "authenticationFlows", "transferMethods"],
    ) {
        split_flags(methods);
    }
    if let Some(strength) = at(&mut value, &["grantControls", "authenticationStrength"]) {
        let id = strength.get("id").cloned().unwrap_or(Value::Null);
        *strength = id;
    }
    value
}

/// The model's JSON form → Graph's (after names became ids).
pub fn to_graph(value: &mut Value) {
    // A policy with only session controls must say so: Graph wants an explicit null grant.
    if let Some(map) = value.as_object_mut()
        && map.contains_key("sessionControls")
        && !map.contains_key("grantControls")
    {
        map.insert("grantControls".into(), Value::Null);
    }
    let Some(conditions) = value.get_mut("conditions") else {
        return;
    };
    if let Some(users) = conditions.get_mut("users") {
        for side in [
            "includeGuestsOrExternalUsers",
            "excludeGuestsOrExternalUsers",
        ] {
            if let Some(guests) = users.get_mut(side) {
                if let Some(types) = guests.get_mut("guestOrExternalUserTypes") {
                    join_flags(types);
                }
                if let Some(tenants) = guests
                    .get_mut("externalTenants")
                    .and_then(Value::as_object_mut)
                {
                    let enumerated =
                        tenants.get("membershipKind").and_then(Value::as_str) == Some("enumerated");
                    let ty = if enumerated {
                        "#microsoft.graph.conditionalAccessEnumeratedExternalTenants"
                    } else {
                        "#microsoft.graph.conditionalAccessAllExternalTenants"
                    };
                    tenants.insert("@odata.type".into(), json!(ty));
                }
            }
        }
    }
    if let Some(levels) = conditions.get_mut("insiderRiskLevels") {
        join_flags(levels);
    }
    if let Some(methods) = conditions
        .get_mut("authenticationFlows")
        .and_then(|f| f.get_mut("transferMethods"))
    {
        join_flags(methods);
    }
    if let Some(strength) = value
        .get_mut("grantControls")
        .and_then(|g| g.get_mut("authenticationStrength"))
        && let Some(id) = strength.as_str().map(String::from)
    {
        *strength = json!({ "id": id });
    }
}
