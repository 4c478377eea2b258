//! SharePoint settings.

use serde_json::Value;

use super::{KindAdapter, Unexpressed};

/// How SharePoint settings are read.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph: |raw: &Value, _: &mut Vec<Unexpressed>| from_graph(raw),
    ..KindAdapter::DEFAULT
};

/// Graph → the model's JSON form. Some documented responses wrap the entity in `value`.
pub fn from_graph(raw: &Value) -> Value {
    match raw.get("value") {
        Some(inner @ Value::Object(_)) if raw.get("sharingCapability").is_none() => inner.clone(),
        _ => raw.clone(),
    }
}
