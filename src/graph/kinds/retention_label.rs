//! Retention labels: the polymorphic duration becomes `days` or `forever`.

use serde_json::{Value, json};

use super::Unexpressed;

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
    value
}
