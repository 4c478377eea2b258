//! SharePoint settings: Graph's `/admin/sharepoint/settings`, plus SharePoint's own settings,
//! which are read from (and written to) SharePoint's admin API under the same node.

use serde_json::{Map, Value};

use super::write::{Property, WriteRequest};
use super::{KindAdapter, Unexpressed};
use crate::graph::sharepoint::{CSOM_PATH, to_wire};

/// How SharePoint settings are read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph: |raw: &Value, _: &mut Vec<Unexpressed>| from_graph(raw),
    own_requests,
    ..KindAdapter::DEFAULT
};

/// Graph → the model's JSON form. Some documented responses wrap the entity in `value`.
pub fn from_graph(raw: &Value) -> Value {
    match raw.get("value") {
        Some(inner @ Value::Object(_)) if raw.get("sharingCapability").is_none() => inner.clone(),
        _ => raw.clone(),
    }
}

/// A setting only SharePoint's admin API holds is written there, through CSOM, one
/// `SetProperty` per request (journalled like a Graph write); the others go in Graph's PATCH.
fn own_requests(property: &Property) -> Option<Vec<WriteRequest>> {
    let value = property.graph.get(property.key)?;
    let (wire, wire_value) = to_wire(property.key, value)?;
    let mut body = Map::new();
    body.insert(wire.to_string(), wire_value);
    Some(vec![WriteRequest {
        method: "POST",
        path: CSOM_PATH.to_string(),
        body: Some(Value::Object(body)),
    }])
}
