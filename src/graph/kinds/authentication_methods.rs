//! The authentication methods policy: Graph lists method configurations by id; the model has a
//! field per method.

use serde_json::{Map, Value};

use super::write::{Property, WriteRequest, method_update};
use super::{KindAdapter, Unexpressed};

/// How the authentication methods policy is read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph,
    own_requests,
    ..KindAdapter::DEFAULT
};

/// Each method configuration is its own object in Graph, patched at its own path.
fn own_requests(p: &Property) -> Option<Vec<WriteRequest>> {
    METHOD_IDS.iter().any(|(f, _)| *f == p.key).then(|| {
        method_update(p.key, p.graph, p.live_raw, p.changes)
            .into_iter()
            .collect()
    })
}
use crate::model::authentication_methods::METHOD_IDS;

/// Graph → the model's JSON form.
pub fn from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = raw.clone();
    let configurations = value
        .as_object_mut()
        .and_then(|m| m.remove("authenticationMethodConfigurations"));
    let Some(map) = value.as_object_mut() else {
        return value;
    };
    for (i, configuration) in configurations
        .iter()
        .flat_map(|c| c.as_array().into_iter().flatten())
        .enumerate()
    {
        let id = configuration
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match METHOD_IDS
            .iter()
            .find(|(_, graph)| graph.eq_ignore_ascii_case(id))
        {
            Some((field, _)) => {
                let mut method: Map<String, Value> =
                    configuration.as_object().cloned().unwrap_or_default();
                method.remove("id");
                map.insert((*field).to_string(), Value::Object(method));
            }
            None => unexpressed.push(Unexpressed {
                path: format!("/authenticationMethodConfigurations/{i}"),
                value: configuration.clone(),
            }),
        }
    }
    value
}

/// Graph's `@odata.type` for a method configuration, by the model's field name.
pub fn odata_type(field: &str) -> Option<String> {
    METHOD_IDS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(f, _)| format!("#microsoft.graph.{f}AuthenticationMethodConfiguration"))
}
