//! Conditional Access policies: Graph writes some flag sets comma-joined and nests the
//! authentication strength as an object; the model keeps lists and a reference.

use serde_json::Value;

use super::{at, split_flags};

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
