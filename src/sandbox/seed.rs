//! Seed tenants for the sandbox.
//!
//! Temporary stand-ins until the real seeds land: each returns a whole state-file object.

use serde_json::{Map, Value, json};

/// The demo tenant (temporary: a minimal tenant).
pub fn demo() -> Map<String, Value> {
    empty()
}

/// A tenant with no policies (temporary: a minimal tenant).
pub fn empty() -> Map<String, Value> {
    let value = json!({
        "identity/conditionalAccess/policies": [],
        "identity/conditionalAccess/namedLocations": [],
        "policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.",
            "isEnabled": false
        }
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
