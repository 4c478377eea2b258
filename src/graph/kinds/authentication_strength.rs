//! Authentication strengths: only custom strengths are managed; built-ins are Microsoft's.

use serde_json::Value;

/// True for Microsoft's built-in strengths, which cannot be changed.
pub fn is_built_in(raw: &Value) -> bool {
    raw.get("policyType").and_then(Value::as_str) == Some("builtIn")
}

/// Graph → the model's JSON form (combinations are parsed by the model's own type).
pub fn from_graph(raw: &Value) -> Value {
    raw.clone()
}
