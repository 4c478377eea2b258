//! JSON batching (`POST /$batch`): at most 20 requests, `dependsOn`, per-request answers.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::auth::Principal;
use super::graph::{self, Request};
use super::reply::{Body, Reply};
use super::server::App;

/// Graph's limit on requests in one batch.
const MAX_REQUESTS: usize = 20;

struct Item {
    id: String,
    method: String,
    url: String,
    depends_on: Vec<String>,
    headers: HashMap<String, String>,
    body: Option<Value>,
}

fn parse(body: &[u8]) -> Result<Vec<Item>, Reply> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Reply::bad_request(format!("Invalid batch payload: {e}")))?;
    let Some(requests) = value.get("requests").and_then(Value::as_array) else {
        return Err(Reply::bad_request(
            "Invalid batch payload: a 'requests' array is required.",
        ));
    };
    if requests.is_empty() {
        return Err(Reply::bad_request(
            "Invalid batch payload: 'requests' is empty.",
        ));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(Reply::bad_request(format!(
            "Number of batch requests exceeds the limit of {MAX_REQUESTS}."
        )));
    }
    let mut items: Vec<Item> = Vec::new();
    for r in requests {
        let field = |k: &str| r.get(k).and_then(Value::as_str).map(String::from);
        let (Some(id), Some(method), Some(url)) = (field("id"), field("method"), field("url"))
        else {
            return Err(Reply::bad_request(
                "Invalid batch payload: every request needs string 'id', 'method' and 'url'.",
            ));
        };
        if items.iter().any(|i| i.id.eq_ignore_ascii_case(&id)) {
            return Err(Reply::bad_request(format!(
                "Invalid batch payload: request id '{id}' is used more than once."
            )));
        }
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|d| d.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Reply::bad_request("'dependsOn' must list request ids."))?,
            Some(_) => return Err(Reply::bad_request("'dependsOn' must be an array.")),
        };
        let headers = match r.get("headers") {
            Some(Value::Object(h)) => h
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.to_ascii_lowercase(), v)
                })
                .collect(),
            _ => HashMap::new(),
        };
        items.push(Item {
            id,
            method: method.to_ascii_uppercase(),
            url,
            depends_on,
            headers,
            body: r.get("body").filter(|b| !b.is_null()).cloned(),
        });
    }
    for item in &items {
        for d in &item.depends_on {
            if !items.iter().any(|i| i.id.eq_ignore_ascii_case(d)) {
                return Err(Reply::bad_request(format!(
                    "Invalid batch payload: request '{}' depends on unknown request '{d}'.",
                    item.id
                )));
            }
        }
    }
    Ok(items)
}

/// Runs a batch: requests in dependency order, dependents of a failed request get 424.
pub fn handle(app: &App, principal: &Principal, body: &[u8]) -> Reply {
    let items = match parse(body) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut status: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    let mut remaining: Vec<&Item> = items.iter().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|i| {
            i.depends_on
                .iter()
                .all(|d| status.contains_key(&d.to_ascii_lowercase()))
        });
        let Some(pos) = ready else {
            return Reply::bad_request("Invalid batch payload: 'dependsOn' forms a cycle.");
        };
        let item = remaining.remove(pos);
        let failed_dep = item.depends_on.iter().find(|d| {
            status
                .get(&d.to_ascii_lowercase())
                .is_some_and(|s| *s >= 400)
        });
        let reply = match failed_dep {
            Some(d) => Reply::error(
                424,
                "FailedDependency",
                format!("The request depends on request '{d}', which failed."),
            ),
            None => run(app, principal, item),
        };
        status.insert(item.id.to_ascii_lowercase(), reply.status);
        responses.push(answer(&item.id, reply));
    }
    Reply::json(200, json!({"responses": responses}))
}

fn run(app: &App, principal: &Principal, item: &Item) -> Reply {
    let url = item.url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        return Reply::bad_request("Batch request urls must be relative to the version root.");
    }
    let url = url.trim_start_matches('/');
    let url = url.strip_prefix("v1.0/").unwrap_or(url);
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    if path.trim_matches('/').eq_ignore_ascii_case("$batch") {
        return Reply::bad_request("A batch cannot contain another batch.");
    }
    let body = match &item.body {
        Some(b) => {
            if !item.headers.contains_key("content-type") {
                return Reply::bad_request(
                    "A batch request with a body must carry a 'Content-Type' header.",
                );
            }
            serde_json::to_vec(b).unwrap_or_default()
        }
        None => Vec::new(),
    };
    if let Some(fault) = app.fault(&item.method, path) {
        return fault;
    }
    let reply = graph::handle(
        app,
        principal,
        &Request {
            method: &item.method,
            path,
            query,
            headers: &item.headers,
            body: &body,
        },
    );
    app.after_write(&item.method, path, reply)
}

fn answer(id: &str, mut reply: Reply) -> Value {
    let request_id = uuid::Uuid::new_v4().to_string();
    reply.stamp(&request_id, &request_id);
    let mut headers = Map::new();
    for (k, v) in &reply.headers {
        headers.insert(k.clone(), Value::String(v.clone()));
    }
    let body = match reply.body {
        Body::None => Value::Null,
        Body::Json(v) => {
            headers.insert(
                "Content-Type".into(),
                Value::String("application/json".into()),
            );
            v
        }
        Body::Text(t) => {
            headers.insert("Content-Type".into(), Value::String("text/plain".into()));
            Value::String(t)
        }
    };
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id.to_string()));
    out.insert("status".into(), Value::from(reply.status));
    out.insert("headers".into(), Value::Object(headers));
    if !body.is_null() {
        out.insert("body".into(), body);
    }
    Value::Object(out)
}
