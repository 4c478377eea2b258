//! JSON batching: up to 20 requests per `POST /$batch`, answers matched by id, inner 429/503/504
//! (and 424 from a failed batch) retried together after the longest `Retry-After`.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::client::{GraphClient, GraphRequest, parse_retry_after};
use super::error::{GraphError, HttpError, client_request_id_in_body, parse_error_body};

/// Graph's limit of requests in one `$batch`.
pub const MAX_BATCH: usize = 20;

/// One request inside a `$batch`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// URL relative to `/v1.0`, e.g. `users?$filter=…`.
    pub url: String,
    /// JSON body.
    pub body: Option<Value>,
    /// Extra headers (`Content-Type` is added for a body).
    pub headers: Vec<(String, String)>,
}

impl BatchItem {
    /// A `GET url` item.
    pub fn get(url: impl Into<String>) -> Self {
        BatchItem {
            method: "GET".to_string(),
            url: url.into(),
            body: None,
            headers: Vec::new(),
        }
    }
    /// An item with any method and an optional JSON body.
    pub fn new(method: &str, url: impl Into<String>, body: Option<Value>) -> Self {
        BatchItem {
            method: method.to_ascii_uppercase(),
            url: url.into(),
            body,
            headers: Vec::new(),
        }
    }
    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn to_json(&self, id: usize) -> Value {
        let mut headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut item = json!({
            "id": id.to_string(),
            "method": self.method,
            "url": format!("/{}", self.url.trim_start_matches('/')),
        });
        if let Some(b) = &self.body {
            if !headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-type"))
            {
                headers.insert(
                    "Content-Type".into(),
                    Value::String("application/json".into()),
                );
            }
            item["body"] = b.clone();
        }
        if !headers.is_empty() {
            item["headers"] = Value::Object(headers);
        }
        item
    }
}

/// The answer to one [`BatchItem`], in the order the items were given.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult {
    /// Method of the item.
    pub method: String,
    /// URL of the item.
    pub url: String,
    /// Inner HTTP status.
    pub status: u16,
    /// Inner response headers.
    pub headers: Map<String, Value>,
    /// Inner body.
    pub body: Option<Value>,
}

impl BatchResult {
    /// True for a 2xx inner status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// The body of a successful item, or the item's error (status, code, message, request-id).
    pub fn into_result(self) -> Result<Value, GraphError> {
        if self.is_success() {
            return Ok(self.body.unwrap_or(Value::Null));
        }
        Err(self.to_error().into())
    }

    fn to_error(&self) -> HttpError {
        let (code, message, rid) = parse_error_body(self.body.as_ref());
        HttpError {
            method: self.method.clone(),
            path: format!("/v1.0/{} (in $batch)", self.url.trim_start_matches('/')),
            status: self.status,
            code,
            message,
            request_id: self.header("request-id").or(rid),
            client_request_id: self
                .header("client-request-id")
                .or_else(|| client_request_id_in_body(self.body.as_ref())),
        }
    }
}

impl GraphClient {
    /// Sends the items in `$batch` calls of 20 (in flight at once up to the client's limit),
    /// matches answers by id and returns them in input order. Inner 429/503/504 and 424 are
    /// retried after the longest `Retry-After` (else backoff) within the retry budget; other
    /// inner errors are returned as results (see [`BatchResult::into_result`]).
    pub async fn batch(&self, reqs: Vec<BatchItem>) -> Result<Vec<BatchResult>, GraphError> {
        let mut results: Vec<Option<BatchResult>> = vec![None; reqs.len()];
        let mut pending: Vec<usize> = (0..reqs.len()).collect();
        let started = Instant::now();
        let (mut attempt, mut throttled, mut server_errors) = (0u32, 0u32, 0u32);
        while !pending.is_empty() {
            attempt += 1;
            let chunks: Vec<Vec<usize>> =
                pending.chunks(MAX_BATCH).map(<[usize]>::to_vec).collect();
            let outcomes =
                futures::future::join_all(chunks.iter().map(|c| self.batch_chunk(&reqs, c))).await;
            let mut retry = Vec::new();
            let mut longest: Option<Duration> = None;
            let mut last_failure = None;
            for outcome in outcomes {
                for (i, r) in outcome? {
                    if matches!(r.status, 429 | 503 | 504 | 424) {
                        if r.status == 429 {
                            throttled += 1;
                            self.inner.stats.throttle();
                        } else {
                            server_errors += 1;
                        }
                        if let Some(d) = r.header("retry-after").and_then(|v| parse_retry_after(&v))
                        {
                            longest = Some(longest.map_or(d, |l| l.max(d)));
                        }
                        last_failure = Some(r.to_error());
                        retry.push(i);
                    } else {
                        results[i] = Some(r);
                    }
                }
            }
            if let Some(last) = last_failure {
                match self.next_wait(attempt, longest) {
                    Ok(wait) => {
                        self.inner.stats.retry();
                        tokio::time::sleep(wait).await;
                    }
                    Err(reason) => {
                        return Err(GraphError::RetryExhausted {
                            method: "POST".to_string(),
                            path: format!("/v1.0/$batch ({} requests still failing)", retry.len()),
                            attempts: attempt,
                            throttled,
                            server_errors,
                            elapsed_secs: started.elapsed().as_secs_f64(),
                            reason,
                            last: Box::new(last),
                        });
                    }
                }
            }
            retry.sort_unstable();
            pending = retry;
        }
        let mut out = Vec::with_capacity(results.len());
        for (i, r) in results.into_iter().enumerate() {
            out.push(r.ok_or_else(|| GraphError::InvalidResponse {
                method: "POST".to_string(),
                path: "/v1.0/$batch".to_string(),
                detail: format!("no answer for request {i}"),
            })?);
        }
        Ok(out)
    }

    /// Sends one `$batch` call for the given item indexes; returns (index, answer) pairs.
    async fn batch_chunk(
        &self,
        reqs: &[BatchItem],
        chunk: &[usize],
    ) -> Result<Vec<(usize, BatchResult)>, GraphError> {
        let requests: Vec<Value> = chunk.iter().map(|&i| reqs[i].to_json(i)).collect();
        self.inner.stats.batch_items(chunk.len());
        let read_only = chunk.iter().all(|&i| reqs[i].method == "GET");
        let answer = self
            .send_with(
                GraphRequest::post("$batch", json!({ "requests": requests })),
                read_only,
            )
            .await;
        let failed = |status: u16| -> Vec<(usize, BatchResult)> {
            chunk
                .iter()
                .map(|&i| {
                    (
                        i,
                        BatchResult {
                            method: reqs[i].method.clone(),
                            url: reqs[i].url.clone(),
                            status,
                            headers: Map::new(),
                            body: None,
                        },
                    )
                })
                .collect()
        };
        let body = match answer {
            Ok(r) => r.body.unwrap_or(Value::Null),
            // The older throttling page: a batch with a throttled item fails whole with 424.
            Err(GraphError::Http(e)) if e.status == 424 => return Ok(failed(424)),
            Err(e) => return Err(e),
        };
        let invalid = |detail: String| GraphError::InvalidResponse {
            method: "POST".to_string(),
            path: "/v1.0/$batch".to_string(),
            detail,
        };
        let responses = body
            .get("responses")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no `responses` array".to_string()))?;
        let mut out = Vec::with_capacity(chunk.len());
        for r in responses {
            let id = r
                .get("id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|i| chunk.contains(i))
                .ok_or_else(|| {
                    invalid(format!(
                        "an answer with an unknown id: {}",
                        r.get("id").unwrap_or(&Value::Null)
                    ))
                })?;
            let status = r
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| invalid(format!("answer {id} has no status")))?;
            tracing::debug!(
                target: "steward::graph",
                method = %reqs[id].method,
                path = %reqs[id].url,
                status,
                "graph $batch item"
            );
            out.push((
                id,
                BatchResult {
                    method: reqs[id].method.clone(),
                    url: reqs[id].url.clone(),
                    status,
                    headers: r
                        .get("headers")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    body: r.get("body").cloned().filter(|b| !b.is_null()),
                },
            ));
        }
        for &i in chunk {
            if !out.iter().any(|(j, _)| *j == i) {
                return Err(invalid(format!("no answer for request {i}")));
            }
        }
        Ok(out)
    }
}
