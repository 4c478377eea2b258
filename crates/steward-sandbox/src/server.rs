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
use super::seed::{DEMO_DOMAIN, DEMO_TENANT_ID};
use super::store::Store;

/// Largest request body accepted.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
const JSON_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// One tenant: its data, tokens, fault counters and write limiter. Graph's handlers see only
/// the tenant a request was routed to.
pub struct App {
    store: Mutex<Store>,
    pub base_url: String,
    pub page_size: usize,
    pub consistency_delay_ms: u64,
    throttle_every: u64,
    retry_after: String,
    fail_every: u64,
    write_timeout_every: u64,
    write_limits: bool,
    accept_tokens: Vec<String>,
    /// (tenant id, domain) when configured; otherwise both come from the stored organization.
    identity: Option<(String, String)>,
    counter: AtomicU64,
    writes: AtomicU64,
    last_limited_write: Mutex<Option<Instant>>,
}

impl App {
    /// Builds one tenant's state, shared by every request routed to it.
    pub fn new(
        config: &SandboxConfig,
        store: Store,
        base_url: String,
        accept_tokens: Vec<String>,
        identity: Option<(String, String)>,
    ) -> App {
        App {
            store: Mutex::new(store),
            base_url,
            page_size: config.page_size,
            consistency_delay_ms: config.consistency_delay_ms,
            throttle_every: config.throttle_every,
            retry_after: retry_after_header(config.retry_after_ms),
            fail_every: config.fail_every,
            write_timeout_every: config.write_timeout_every,
            write_limits: config.write_limits,
            accept_tokens,
            identity,
            counter: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            last_limited_write: Mutex::new(None),
        }
    }

    /// The tenant id: the configured one, else the stored organization's.
    pub fn tenant_id(&self) -> String {
        match &self.identity {
            Some((id, _)) => id.clone(),
            None => self
                .lock()
                .tenant_id()
                .unwrap_or(DEMO_TENANT_ID.to_string()),
        }
    }

    /// The initial domain: the configured one, else the stored organization's.
    pub fn domain(&self) -> String {
        match &self.identity {
            Some((_, domain)) => domain.clone(),
            None => self
                .lock()
                .initial_domain()
                .unwrap_or(DEMO_DOMAIN.to_string()),
        }
    }

    /// Whether the token endpoint path segment `tenant` names this tenant.
    fn answers_to(&self, tenant: &str) -> bool {
        match &self.identity {
            Some((id, domain)) => {
                tenant.eq_ignore_ascii_case(id) || tenant.eq_ignore_ascii_case(domain)
            }
            None => true,
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

    fn principal(&self, header: Option<&str>) -> Result<Principal, Reply> {
        let key = self.lock().signing_key();
        auth::authenticate(header, &self.accept_tokens, &key)
    }
}

/// Every tenant plus what is shared: the request log and the added latency.
pub struct Server {
    tenants: Vec<Arc<App>>,
    /// Several configured tenants: requests are routed by tenant; otherwise all go to the one.
    multi: bool,
    latency_ms: u64,
    log: Mutex<Vec<Value>>,
}

impl Server {
    /// Serves `tenants` (at least one).
    pub fn new(tenants: Vec<App>, multi: bool, latency_ms: u64) -> Server {
        Server {
            tenants: tenants.into_iter().map(Arc::new).collect(),
            multi,
            latency_ms,
            log: Mutex::new(Vec::new()),
        }
    }

    /// The tenant whose token endpoint is `/{tenant}/…`, by id or domain.
    fn by_name(&self, tenant: &str) -> Option<&Arc<App>> {
        self.tenants.iter().find(|t| t.answers_to(tenant))
    }

    /// The tenant a bearer token belongs to: the one accepting it as a fixed token, else the
    /// one its `tid` claim names (whose key must still verify it).
    fn by_token(&self, header: Option<&str>) -> Option<&Arc<App>> {
        if !self.multi {
            return self.tenants.first();
        }
        let token = auth::bearer(header)?;
        if let Some(t) = self
            .tenants
            .iter()
            .find(|t| t.accept_tokens.iter().any(|a| a == token))
        {
            return Some(t);
        }
        let tid = auth::unverified_tenant(token)?;
        self.tenants
            .iter()
            .find(|t| t.tenant_id().eq_ignore_ascii_case(&tid))
    }
}

/// Serves until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: Server,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let router = axum::Router::new()
        .fallback(dispatch)
        .with_state(Arc::new(server));
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = shutdown.await;
        })
        .await;
}

async fn dispatch(
    State(app): State<Arc<Server>>,
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

fn request_log(app: &Server, method: &str) -> Response<AxumBody> {
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
    server: &Server,
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
        return match server.by_name(segs[0]) {
            Some(app) => token(app, segs[0], headers, body),
            None => auth::unknown_tenant(segs[0]),
        };
    }
    let authorization = headers.get("authorization").map(String::as_str);
    if super::sharepoint::is_sharepoint_path(path) {
        return match server.by_token(authorization) {
            Some(app) => super::sharepoint::handle(app, method, path, authorization, body),
            None => super::sharepoint::unauthorized(authorization),
        };
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
    let Some(app) = server.by_token(authorization) else {
        return auth::no_tenant(authorization);
    };
    let principal = match app.principal(authorization) {
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
    let tenant_id = match &app.identity {
        Some((id, _)) => id.clone(),
        None => store.tenant_id().unwrap_or(tenant.to_string()),
    };
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
