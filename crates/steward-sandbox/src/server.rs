//! The HTTP side: one dispatcher for Graph, the token endpoint and the request log, plus faults.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body as AxumBody;
use axum::extract::State;
use axum::http::{HeaderValue, Response, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};

use super::SandboxConfig;
use super::auth::{self, Principal};
use super::batch;
use super::graph::{self, Request};
use super::reply::{Body, Reply, throttled};
use super::store::Store;

/// Largest request body accepted.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
const JSON_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Shared server state.
pub struct App {
    store: Mutex<Store>,
    pub base_url: String,
    pub page_size: usize,
    pub consistency_delay_ms: u64,
    latency_ms: u64,
    throttle_every: u64,
    retry_after: String,
    fail_every: u64,
    write_timeout_every: u64,
    write_limits: bool,
    accept_tokens: Vec<String>,
    counter: AtomicU64,
    writes: AtomicU64,
    log: Mutex<Vec<Value>>,
    last_limited_write: Mutex<Option<Instant>>,
}

impl App {
    /// Builds the state shared by every request.
    pub fn new(config: SandboxConfig, store: Store, base_url: String) -> App {
        App {
            store: Mutex::new(store),
            base_url,
            page_size: config.page_size,
            consistency_delay_ms: config.consistency_delay_ms,
            latency_ms: config.latency_ms,
            throttle_every: config.throttle_every,
            retry_after: retry_after_header(config.retry_after_ms),
            fail_every: config.fail_every,
            write_timeout_every: config.write_timeout_every,
            write_limits: config.write_limits,
            accept_tokens: config.accept_tokens,
            counter: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            last_limited_write: Mutex::new(None),
        }
    }

    /// Locks the store (never held across an await).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The injected fault for the next Graph operation, if any.
    pub fn fault(&self, method: &str, path: &str) -> Option<Reply> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_every > 0 && n.is_multiple_of(self.fail_every) {
            return Some(Reply::error(
                503,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            ));
        }
        if self.throttle_every > 0 && n.is_multiple_of(self.throttle_every) {
            return Some(throttled(Some(&self.retry_after)));
        }
        if self.write_limits && graph::is_limited_write(method, path) {
            let mut last = self
                .last_limited_write
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            // Graph: one request per second per tenant, answered 429 without Retry-After.
            if let Some(prev) = *last
                && now.duration_since(prev) < Duration::from_secs(1)
            {
                return Some(throttled(None));
            }
            *last = Some(now);
        }
        None
    }

    /// The answer to a Graph operation once it was carried out: every Nth successful write is
    /// answered 504 instead, though it took effect (`--write-timeout-every`).
    pub fn after_write(&self, method: &str, path: &str, reply: Reply) -> Reply {
        // getByIds is a read sent as POST.
        let write = matches!(method, "POST" | "PATCH" | "PUT" | "DELETE")
            && !path.to_ascii_lowercase().ends_with("getbyids");
        if !write || self.write_timeout_every == 0 || !(200..300).contains(&reply.status) {
            return reply;
        }
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if n.is_multiple_of(self.write_timeout_every) {
            return Reply::error(
                504,
                "GatewayTimeout",
                "The gateway did not receive a timely response from the service.",
            );
        }
        reply
    }

    /// Who calls SharePoint's admin API (whose tokens have the admin host as audience).
    pub fn sharepoint_principal(
        &self,
        header: Option<&str>,
        audience: &str,
    ) -> Result<Principal, String> {
        let key = self.lock().signing_key();
        super::sharepoint::principal(header, &self.accept_tokens, &key, audience)
    }

    /// True when `token` is one of the static tokens this tenant accepts.
    fn accepts_static(&self, token: &str) -> bool {
        self.accept_tokens.iter().any(|t| t == token)
    }

    fn principal(&self, header: Option<&str>) -> Result<Principal, Reply> {
        let key = self.lock().signing_key();
        auth::authenticate(header, &self.accept_tokens, &key)
    }
}

/// One tenant the server answers for.
pub struct Host {
    /// Its id and initial domain; `None` for the single tenant of a one-tenant sandbox, which
    /// answers whatever tenant a token request names.
    identity: Option<(String, String)>,
    app: Arc<App>,
}

impl Host {
    /// The one tenant of a single-tenant sandbox.
    pub fn single(app: App) -> Host {
        Host {
            identity: None,
            app: Arc::new(app),
        }
    }

    /// A tenant of a sandbox that holds several.
    pub fn tenant(id: &str, domain: &str, app: App) -> Host {
        Host {
            identity: Some((id.to_string(), domain.to_string())),
            app: Arc::new(app),
        }
    }

    /// Its `(id, domain)`, when it is one of several.
    pub fn identity(&self) -> Option<(String, String)> {
        self.identity.clone()
    }

    fn answers_to(&self, tenant: &str) -> bool {
        self.identity.as_ref().is_none_or(|(id, domain)| {
            id.eq_ignore_ascii_case(tenant) || domain.eq_ignore_ascii_case(tenant)
        })
    }
}

/// Which tenant a request is for: the one its token endpoint path names, else the one whose
/// token it carries (a static token it accepts, or the `tid` of a token it issued). Requests
/// without a recognisable token go to the first, which refuses them as Graph does.
fn pick<'a>(hosts: &'a [Host], path: &str, authorization: Option<&str>) -> Result<&'a Host, Reply> {
    let first = hosts
        .first()
        .ok_or_else(|| Reply::error(500, "InternalServerError", "The sandbox holds no tenant."))?;
    if hosts.len() == 1 {
        return Ok(first);
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segs.len() == 4 && segs[1].eq_ignore_ascii_case("oauth2") {
        return hosts
            .iter()
            .find(|h| h.answers_to(segs[0]))
            .ok_or_else(|| auth::unknown_tenant(segs[0]));
    }
    let Some(token) = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return Ok(first);
    };
    if let Some(host) = hosts.iter().find(|h| h.app.accepts_static(token)) {
        return Ok(host);
    }
    let tid = token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|claims| claims.get("tid").and_then(Value::as_str).map(String::from));
    Ok(tid
        .and_then(|tid| hosts.iter().find(|h| h.answers_to(&tid)))
        .unwrap_or(first))
}

/// Serves until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    hosts: Vec<Host>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let router = axum::Router::new()
        .fallback(dispatch)
        .with_state(Arc::new(hosts));
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = shutdown.await;
        })
        .await;
}

async fn dispatch(
    State(hosts): State<Arc<Vec<Host>>>,
    req: axum::extract::Request,
) -> Response<AxumBody> {
    let started = Instant::now();
    let method = req.method().as_str().to_ascii_uppercase();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(String::from);
    let path_and_query = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();

    let app = match pick(
        &hosts,
        &path,
        headers.get("authorization").map(String::as_str),
    ) {
        Ok(host) => host.app.clone(),
        Err(reply) => return to_response(reply, "", ""),
    };
    if path == "/_sandbox/requests" {
        return request_log(&app, &method);
    }

    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = headers
        .get("client-request-id")
        .cloned()
        .unwrap_or_else(|| request_id.clone());

    let mut reply = match axum::body::to_bytes(req.into_body(), BODY_LIMIT).await {
        Err(_) => Reply::error(
            413,
            "RequestEntityTooLarge",
            "The request body is too large.",
        ),
        Ok(body) => route(&app, &method, &path, query.as_deref(), &headers, &body),
    };
    if app.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(app.latency_ms)).await;
    }
    reply.stamp(&request_id, &client_request_id);
    let status = reply.status;
    let response = to_response(reply, &request_id, &client_request_id);
    let entry = json!({
        "method": method,
        "path": path_and_query,
        "status": status,
        "latencyMs": started.elapsed().as_millis() as u64,
    });
    app.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
    response
}

fn request_log(app: &App, method: &str) -> Response<AxumBody> {
    let mut log = app.log.lock().unwrap_or_else(|e| e.into_inner());
    let reply = match method {
        "GET" => Reply::json(200, Value::Array(log.clone())),
        "DELETE" => {
            log.clear();
            Reply::no_content()
        }
        _ => Reply::error(405, "MethodNotAllowed", "Use GET or DELETE."),
    };
    drop(log);
    to_response(reply, "", "")
}

fn route(
    app: &App,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HashMap<String, String>,
    body: &[u8],
) -> Reply {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segs.len() == 4
        && segs[1].eq_ignore_ascii_case("oauth2")
        && segs[2].eq_ignore_ascii_case("v2.0")
        && segs[3].eq_ignore_ascii_case("token")
    {
        if method != "POST" {
            return Reply::error(
                405,
                "MethodNotAllowed",
                "The token endpoint only accepts POST.",
            );
        }
        return token(app, segs[0], headers, body);
    }
    if super::sharepoint::is_sharepoint_path(path) {
        let authorization = headers.get("authorization").map(String::as_str);
        return super::sharepoint::handle(app, method, path, authorization, body);
    }
    let graph_path = if path == "/v1.0" {
        Some("")
    } else {
        path.strip_prefix("/v1.0/")
    };
    let Some(graph_path) = graph_path else {
        let first = segs.first().copied().unwrap_or("");
        return Reply::error(
            404,
            "ResourceNotFound",
            format!(
                "Resource not found for the segment '{first}'. The sandbox serves Graph under /v1.0/."
            ),
        );
    };
    let principal = match app.principal(headers.get("authorization").map(String::as_str)) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if graph_path.trim_matches('/').eq_ignore_ascii_case("$batch") {
        if method != "POST" {
            return Reply::error(405, "MethodNotAllowed", "$batch only accepts POST.");
        }
        return batch::handle(app, &principal, body);
    }
    if let Some(fault) = app.fault(method, graph_path) {
        return fault;
    }
    let reply = graph::handle(
        app,
        &principal,
        &Request {
            method,
            path: graph_path,
            query,
            headers,
            body,
        },
    );
    app.after_write(method, graph_path, reply)
}

fn token(app: &App, tenant: &str, headers: &HashMap<String, String>, body: &[u8]) -> Reply {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let basic = headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':').map(|(id, secret)| {
                let dec = |x: &str| {
                    url::form_urlencoded::parse(format!("v={x}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                (dec(id), dec(secret))
            })
        });
    let store = app.lock();
    let tenant_id = store
        .data
        .get("organization")
        .and_then(Value::as_array)
        .and_then(|o| o.first())
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .unwrap_or(tenant)
        .to_string();
    let clients = store.clients();
    let key = store.signing_key();
    let sharepoint = super::sharepoint::admin_url(&store);
    drop(store);
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", app.base_url);
    auth::token_endpoint(
        &form,
        basic,
        tenant,
        &token_url,
        &clients,
        &tenant_id,
        &key,
        &sharepoint,
    )
}

fn to_response(reply: Reply, request_id: &str, client_request_id: &str) -> Response<AxumBody> {
    let (body, content_type) = match reply.body {
        Body::None => (AxumBody::empty(), None),
        Body::Json(v) => (
            AxumBody::from(serde_json::to_vec(&v).unwrap_or_default()),
            Some(JSON_CONTENT_TYPE),
        ),
        Body::Text(t) => (AxumBody::from(t), Some("text/plain")),
    };
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    if let Some(ct) = content_type {
        h.insert("content-type", HeaderValue::from_static(ct));
    }
    if !request_id.is_empty() {
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(client_request_id) {
            h.insert("client-request-id", v);
        }
    }
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    }
    response
}

/// `Retry-After` for a wait of `ms` milliseconds: whole seconds, rounded up, because Graph
/// sends integers and Microsoft's SDKs ignore a fractional value (falling back to their own
/// backoff).
fn retry_after_header(ms: u64) -> String {
    ms.div_ceil(1000).to_string()
}

#[cfg(test)]
mod tests {
    use super::retry_after_header;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_after_header(0), "0");
        assert_eq!(retry_after_header(1), "1");
        assert_eq!(retry_after_header(1000), "1");
        assert_eq!(retry_after_header(1500), "2");
        assert_eq!(retry_after_header(2128), "3");
    }
}
