//! Retention labels: the polymorphic duration becomes `days` or `forever`, the event type (a
//! navigation property, read with `$expand`) becomes its id, and disposition review stages
//! number from 1 (Graph's metadata types `stageNumber` as a string, its examples as a number).

use serde_json::{Map, Value, json};

use super::{KindAdapter, Unexpressed};

/// How retention labels are read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph,
    to_graph,
    // The event type is a navigation property: Graph returns it only when expanded.
    read_query: Some("$expand=retentionEventType"),
    ..KindAdapter::DEFAULT
};

/// Graph → the model's JSON form.
pub fn from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = raw.clone();
    if let Some(duration) = value.get_mut("retentionDuration") {
        let kind = duration
            .get("@odata.type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        *duration = if kind.ends_with("retentionDurationForever") {
            json!({"forever": true})
        } else if let Some(days) = duration.get("days").cloned() {
            json!({"days": days})
        } else if duration.is_null() {
            Value::Null
        } else {
            unexpressed.push(Unexpressed {
                path: "/retentionDuration".into(),
                value: duration.clone(),
            });
            Value::Null
        };
    }
    if let Some(event_type) = value.get_mut("retentionEventType") {
        *event_type = match event_type.get("id") {
            Some(Value::String(id)) => Value::String(id.to_ascii_lowercase()),
            _ => Value::Null,
        };
    }
    if let Some(Value::Array(stages)) = value.get_mut("dispositionReviewStages") {
        for stage in stages.iter_mut() {
            if let Value::Object(map) = stage {
                *map = stage_from_graph(map);
            }
        }
        // Graph keys stages by number; the model lists them in the order they run.
        stages.sort_by_key(|s| s.get("stageNumber").and_then(Value::as_i64));
    }
    value
}

fn stage_from_graph(map: &Map<String, Value>) -> Map<String, Value> {
    // The documented examples spell the reviewers' key with a trailing space.
    let mut out: Map<String, Value> = map
        .iter()
        .map(|(k, v)| (k.trim().to_string(), v.clone()))
        .collect();
    if let Some(number) = out.get_mut("stageNumber")
        && let Some(n) = number.as_str().and_then(|s| s.trim().parse::<i64>().ok())
    {
        *number = Value::from(n);
    }
    out
}

/// The model's JSON form → Graph's: the event type is bound by id, stage numbers are strings.
pub fn to_graph(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    if let Some(duration) = map.get_mut("retentionDuration") {
        if duration.get("forever") == Some(&Value::Bool(true)) {
            *duration =
                json!({"@odata.type": "#microsoft.graph.security.retentionDurationForever"});
        } else if let Some(days) = duration.get("days").cloned() {
            *duration = json!({"@odata.type": "#microsoft.graph.security.retentionDurationInDays", "days": days});
        }
    }
    if let Some(Value::String(id)) = map.remove("retentionEventType") {
        map.insert(
            "retentionEventType@odata.bind".into(),
            Value::String(event_type_url(&id)),
        );
    }
    if let Some(Value::Array(stages)) = map.get_mut("dispositionReviewStages") {
        for stage in stages {
            if let Some(number) = stage.get_mut("stageNumber")
                && let Some(n) = number.as_i64()
            {
                *number = Value::String(n.to_string());
            }
        }
    }
}

/// The address Graph binds a label's event type by, as its documentation writes it.
pub fn event_type_url(id: &str) -> String {
    format!("https://graph.microsoft.com/v1.0/security/triggerTypes/retentionEventTypes('{id}')")
}
