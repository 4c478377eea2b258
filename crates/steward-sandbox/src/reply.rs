//! A Graph answer independent of the HTTP stack, so `$batch` can reuse every handler.

use serde_json::{Value, json};

/// The body of an answer.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Text(String),
}

/// Status, extra headers and body of one Graph answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Json(value),
        }
    }

    /// 204 No Content.
    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            headers: Vec::new(),
            body: Body::None,
        }
    }

    /// A `text/plain` answer (`$count`).
    pub fn text(status: u16, text: String) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Text(text),
        }
    }

    /// Graph's error body; `innerError` is filled in when the answer is sent.
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": code, "message": message.into()}}),
        )
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// 400 with code `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(400, "BadRequest", message)
    }

    /// Stamps `innerError` (date, request-id, client-request-id) into an error body.
    pub fn stamp(&mut self, request_id: &str, client_request_id: &str) {
        if let Body::Json(Value::Object(root)) = &mut self.body
            && let Some(Value::Object(err)) = root.get_mut("error")
        {
            let date = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
            let inner = err
                .entry("innerError")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(inner) = inner {
                inner.insert("date".into(), Value::String(date));
                inner.insert("request-id".into(), Value::String(request_id.into()));
                inner.insert(
                    "client-request-id".into(),
                    Value::String(client_request_id.into()),
                );
            }
        }
    }
}

/// Graph's throttling answer; `retry_after` is omitted where Graph omits it.
pub fn throttled(retry_after: Option<&str>) -> Reply {
    let reply = Reply::json(
        429,
        json!({"error": {
            "code": "TooManyRequests",
            "message": "Please retry again later.",
            "innerError": {"code": "429", "message": "Please retry after", "status": "429"}
        }}),
    );
    match retry_after {
        Some(v) => reply.with_header("Retry-After", v),
        None => reply,
    }
}
