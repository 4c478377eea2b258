//! Authentication strengths: only custom strengths are managed; built-ins are Microsoft's.

use serde_json::{Value, json};

use super::write::{Property, WriteRequest};
use super::{KindAdapter, Unexpressed};

/// How authentication strengths are read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph: |raw: &Value, _: &mut Vec<Unexpressed>| from_graph(raw),
    own_requests,
    ..KindAdapter::DEFAULT
};

/// Graph only changes a strength's combinations through its `updateAllowedCombinations`
/// action.
fn own_requests(p: &Property) -> Option<Vec<WriteRequest>> {
    (p.key == "allowedCombinations").then(|| {
        vec![WriteRequest {
            method: "POST",
            path: format!("{}/updateAllowedCombinations", p.target),
            body: Some(
                json!({ "allowedCombinations": p.graph.get(p.key).cloned().unwrap_or(Value::Null) }),
            ),
        }]
    })
}

/// True for Microsoft's built-in strengths, which cannot be changed.
pub fn is_built_in(raw: &Value) -> bool {
    raw.get("policyType").and_then(Value::as_str) == Some("builtIn")
}

/// Graph → the model's JSON form (combinations are parsed by the model's own type).
pub fn from_graph(raw: &Value) -> Value {
    raw.clone()
}
