//! The HTTP client: bounded concurrency, paging, retries with `Retry-After` or backoff, a
//! per-run retry budget, per-request timeouts, statistics and a terminal progress spinner.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use super::auth::Credential;
use super::cloud::{Cloud, is_loopback, validate_endpoint};
use super::error::{
    GraphError, HttpError, TransportKind, client_request_id_in_body, parse_error_body,
};
use super::expect::{Expected, describe};
use super::stats::{Stats, StatsSnapshot, kind_of};

/// Attempts per read when Graph does not answer at all (connection refused, reset, timeout).
const TRANSPORT_ATTEMPTS: u32 = 4;

/// Answers 503/504 a request may get before it fails (429s have their own, larger allowance).
const SERVER_ERROR_ATTEMPTS: u32 = 6;

/// When and how often to retry throttled (429) and unavailable (503/504) answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff step when Graph sends no `Retry-After`; doubles per attempt, with jitter.
    pub base_delay: Duration,
    /// Longest backoff step.
    pub max_delay: Duration,
    /// Longest `Retry-After` steward waits. A longer one fails the request with a clear error
    /// instead: retrying sooner than Graph asked would only be throttled again.
    pub max_retry_after: Duration,
    /// Retries allowed for the whole run, over all requests.
    pub run_budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 12,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            run_budget: 300,
        }
    }
}

/// Settings of a [`GraphClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Graph base URL without version, e.g. `https://graph.microsoft.com` (steward appends `/v1.0/`).
    pub base_url: String,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Show a spinner during long reads (only sensible on a terminal).
    pub progress: bool,
    /// Least time between two Conditional Access / named-location writes (Graph: one per
    /// second per tenant), counted from the previous write's answer; retries keep it too.
    pub ca_write_interval: Duration,
    /// Largest response body read; a larger one is an error rather than held in memory.
    pub max_body_bytes: u64,
    /// Most pages read of one collection.
    pub max_pages: usize,
}

/// Default [`ClientConfig::max_body_bytes`]: far above any Graph page steward reads (999
/// policies of a few KB each), far below what would strain memory.
pub const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Default [`ClientConfig::max_pages`]: 1000 pages of up to 999 objects each.
pub const MAX_PAGES: usize = 1000;

/// What to do about a 2xx answer steward cannot use.
const UNUSABLE_ADVICE: &str = "Nothing was read from it and nothing was planned or written; run     again, and if it persists check any proxy between steward and Graph, or give the request-id     to Microsoft support";

impl ClientConfig {
    /// Defaults for a Graph base URL: 60 s timeout, 16 in flight, default retries, progress
    /// only when stderr is a terminal and `CI` is unset.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            timeout: Duration::from_secs(60),
            max_concurrency: 16,
            retry: RetryPolicy::default(),
            progress: progress_wanted(),
            ca_write_interval: Duration::from_secs(1),
            max_body_bytes: MAX_BODY_BYTES,
            max_pages: MAX_PAGES,
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new(Cloud::Global.graph_url())
    }
}

/// True when a progress indicator should be drawn: stderr is a terminal and not in CI.
pub fn progress_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// One request to Graph. `path` is relative to `/v1.0/` (e.g. `policies/authorizationPolicy`)
/// or an absolute URL on the same host (an `@odata.nextLink`).
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// HTTP method.
    pub method: Method,
    /// Path relative to `/v1.0/`, query included.
    pub path: String,
    /// JSON body.
    pub body: Option<Value>,
    /// A body that is not JSON (content type, text): CSOM's XML.
    pub text_body: Option<(String, String)>,
    /// Extra headers (e.g. `ConsistencyLevel: eventual`).
    pub headers: Vec<(String, String)>,
    /// Never sent twice on an unknown outcome (a create): a 5xx answer is returned at once, not
    /// retried, so the caller can look for what it may have made first. 429 is still retried:
    /// Graph refuses a throttled request before acting on it.
    pub not_repeatable: bool,
}

impl GraphRequest {
    /// A request with any method.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        GraphRequest {
            method,
            path: path.into(),
            body: None,
            text_body: None,
            headers: Vec::new(),
            not_repeatable: false,
        }
    }
    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// `POST path` with a JSON body.
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::POST, path).json(body)
    }
    /// `PATCH path` with a JSON body.
    pub fn patch(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::PATCH, path).json(body)
    }
    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    /// Sets the JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Sets a body that is not JSON, sent with `content_type`.
    pub fn text(mut self, content_type: impl Into<String>, body: impl Into<String>) -> Self {
        self.text_body = Some((content_type.into(), body.into()));
        self
    }
    /// Marks the request as one whose unknown outcome must not be retried (see the field of
    /// the same name).
    pub fn not_repeatable(mut self) -> Self {
        self.not_repeatable = true;
        self
    }
    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A successful (2xx) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    /// HTTP status.
    pub status: u16,
    /// Body: JSON, a JSON string for non-JSON text (e.g. `$count`), or None when empty.
    pub body: Option<Value>,
    /// Graph's `request-id` header.
    pub request_id: Option<String>,
}

pub(crate) struct ClientInner {
    pub(crate) base: Url,
    // What request paths are relative to: `v1.0/` for Graph, nothing for SharePoint.
    prefix: &'static str,
    http: reqwest::Client,
    credential: Credential,
    pub(crate) config: ClientConfig,
    // Shared with the SharePoint client: one limit on requests in flight per run.
    sem: Arc<Semaphore>,
    // Conditional Access objects allow one request per second per tenant: writes go one at a time.
    ca_writes: tokio::sync::Mutex<Option<Instant>>,
    pub(crate) stats: Arc<Stats>,
    // Shared with the SharePoint client: one retry budget per run.
    retries_used: Arc<AtomicU32>,
    // One draw target, so concurrent reads stack their spinners instead of fighting.
    progress: Option<indicatif::MultiProgress>,
    // How to reach SharePoint's admin API, and the client once it was needed.
    pub(crate) sharepoint: super::sharepoint::Slot,
}

/// A Microsoft Graph v1.0 client. Cheap to clone; clones share limits, budget, cache and stats.
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) inner: Arc<ClientInner>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.inner.base.as_str())
            .field("credential", &self.inner.credential)
            .finish()
    }
}

impl GraphClient {
    /// Builds a client; refuses a base URL that is neither https nor loopback http.
    pub fn new(config: ClientConfig, credential: Credential) -> Result<Self, GraphError> {
        let base = validate_endpoint(&config.base_url, "Graph URL")?;
        let http = http_client(&base, &config)?;
        let stats = Arc::new(Stats::default());
        credential.attach_stats(stats.clone());
        Ok(GraphClient {
            inner: Arc::new(ClientInner {
                base,
                prefix: "v1.0/",
                http,
                sem: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
                credential,
                progress: config.progress.then(indicatif::MultiProgress::new),
                config,
                ca_writes: tokio::sync::Mutex::new(None),
                stats,
                retries_used: Arc::new(AtomicU32::new(0)),
                sharepoint: Default::default(),
            }),
        })
    }

    /// A client for another API of the same run (SharePoint's admin API at `base`, paths
    /// relative to it): it shares this client's limit on requests in flight, retry budget,
    /// statistics and progress display, and signs in with `credential`.
    pub(crate) fn sibling(&self, base: Url, credential: Credential) -> Result<Self, GraphError> {
        let inner = &self.inner;
        let config = ClientConfig {
            base_url: base.to_string(),
            ..inner.config.clone()
        };
        let http = http_client(&base, &config)?;
        credential.attach_stats(inner.stats.clone());
        Ok(GraphClient {
            inner: Arc::new(ClientInner {
                base,
                prefix: "",
                http,
                sem: inner.sem.clone(),
                credential,
                progress: inner.progress.clone(),
                config,
                ca_writes: tokio::sync::Mutex::new(None),
                stats: inner.stats.clone(),
                retries_used: inner.retries_used.clone(),
                sharepoint: Default::default(),
            }),
        })
    }

    /// The credential in use.
    pub fn credential(&self) -> &Credential {
        &self.inner.credential
    }

    /// The Graph base URL (without `/v1.0`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Requests by kind, retries, throttles and wall time so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// Fails with [`GraphError::NeedsSignedInAdmin`] unless a signed-in admin (delegated token)
    /// is using steward; for kinds Graph offers no application permission for.
    pub async fn require_signed_in_admin(&self, kind: &str) -> Result<(), GraphError> {
        // azure-cli and token only know after seeing a token's claims.
        self.inner.credential.token().await?;
        if self.inner.credential.is_delegated() {
            Ok(())
        } else {
            Err(GraphError::NeedsSignedInAdmin {
                kind: kind.to_string(),
            })
        }
    }

    /// `GET path`, returning the body (`Null` when empty). A single entity wrapped as
    /// `{"value": {…}}`, as some documentation shows, is unwrapped.
    pub async fn get(&self, path: &str) -> Result<Value, GraphError> {
        let resp = self.send(GraphRequest::get(path)).await?;
        Ok(unwrap_entity(resp.body.unwrap_or(Value::Null)))
    }

    /// `GET path` of one object that must have `expected`'s shape: anything else (HTML, an
    /// empty body, `{}`, `null`, another type, a required property missing) is
    /// [`GraphError::Unusable`] with the answer's request id, never an empty object.
    pub async fn get_expected(&self, path: &str, expected: &Expected) -> Result<Value, GraphError> {
        let resp = self.send(GraphRequest::get(path)).await?;
        let Some(body) = resp.body else {
            return Err(self.unusable(
                path,
                resp.request_id,
                format!("expected {}, got an empty body", expected.object()),
            ));
        };
        let body = unwrap_entity(body);
        expected
            .check(&body)
            .map_err(|detail| self.unusable(path, resp.request_id, detail))?;
        Ok(body)
    }

    /// Reads a whole collection, following every `@odata.nextLink`; any failed page fails
    /// the whole read (no partial result).
    pub async fn list(&self, path: &str) -> Result<Vec<Value>, GraphError> {
        self.list_with_headers(path, &[]).await
    }

    /// [`GraphClient::list`] of a collection whose every item must have `expected`'s shape; a
    /// page or item that does not is [`GraphError::Unusable`] with the page's request id.
    pub async fn list_expected(
        &self,
        path: &str,
        expected: &Expected,
    ) -> Result<Vec<Value>, GraphError> {
        self.list_inner(path, &[], Some(expected)).await
    }

    /// Like [`GraphClient::list`], sending `headers` on every page (Graph does not carry
    /// e.g. `ConsistencyLevel` over to the next page).
    pub async fn list_with_headers(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Vec<Value>, GraphError> {
        self.list_inner(path, headers, None).await
    }

    async fn list_inner(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        expected: Option<&Expected>,
    ) -> Result<Vec<Value>, GraphError> {
        let progress = self.spinner(path);
        let mut items = Vec::new();
        let mut pager = Pager::default();
        pager.visit(self, path);
        let mut next = Some(path.to_string());
        while let Some(page_path) = next.take() {
            let mut req = GraphRequest::get(page_path.clone());
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let resp = self.send(req).await?;
            let body = resp.body.unwrap_or(Value::Null);
            next = self.take_page(
                &page_path,
                body,
                resp.request_id,
                &mut items,
                &mut pager,
                expected,
            )?;
            if let Some(p) = &progress {
                p.set_message(format!(
                    "{path}: {} items, {} pages",
                    items.len(),
                    pager.pages
                ));
            }
        }
        if let Some(p) = progress {
            p.finish_and_clear();
        }
        Ok(items)
    }

    /// Continues a collection whose first page was already read (e.g. inside `$batch`).
    pub(crate) async fn list_rest(
        &self,
        path: &str,
        first: Value,
    ) -> Result<Vec<Value>, GraphError> {
        let mut items = Vec::new();
        let mut pager = Pager::default();
        pager.visit(self, path);
        let mut next = self.take_page(path, first, None, &mut items, &mut pager, None)?;
        while let Some(page_path) = next.take() {
            let resp = self.send(GraphRequest::get(page_path.clone())).await?;
            let body = resp.body.unwrap_or(Value::Null);
            next = self.take_page(
                &page_path,
                body,
                resp.request_id,
                &mut items,
                &mut pager,
                None,
            )?;
        }
        Ok(items)
    }

    /// Appends a page's `value` items (each checked against `expected`, when given); returns
    /// its `@odata.nextLink`, refusing a link back to a page already read and a page past
    /// [`ClientConfig::max_pages`].
    fn take_page(
        &self,
        page_path: &str,
        mut body: Value,
        request_id: Option<String>,
        items: &mut Vec<Value>,
        pager: &mut Pager,
        expected: Option<&Expected>,
    ) -> Result<Option<String>, GraphError> {
        pager.pages += 1;
        let unusable = |detail: String| self.unusable(page_path, request_id.clone(), detail);
        match body.get_mut("value").map(Value::take) {
            Some(Value::Array(v)) => {
                if let Some(expected) = expected {
                    for (i, item) in v.iter().enumerate() {
                        expected.check(item).map_err(|detail| {
                            unusable(format!("item {} of the collection page: {detail}", i + 1))
                        })?;
                    }
                }
                items.extend(v);
            }
            Some(other) => {
                return Err(unusable(format!(
                    "a collection page whose `value` is {}, not an array",
                    describe(&other)
                )));
            }
            None => {
                let what = match &body {
                    Value::Object(_) => "a JSON object without a `value` array".to_string(),
                    other => describe(other),
                };
                return Err(unusable(format!("expected a collection page, got {what}")));
            }
        }
        let link = match body.get("@odata.nextLink") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(link)) => link.clone(),
            Some(_) => return Err(unusable("@odata.nextLink is not a string".to_string())),
        };
        if !pager.visit(self, &link) {
            return Err(unusable(format!(
                "@odata.nextLink leads back to a page already read after {} page(s) (paging loop)",
                pager.pages
            )));
        }
        if pager.pages >= self.inner.config.max_pages {
            return Err(unusable(format!(
                "the collection has more than {} pages, the most steward reads",
                self.inner.config.max_pages
            )));
        }
        Ok(Some(link))
    }

    /// [`GraphError::Unusable`] for a GET of `path`.
    fn unusable(&self, path: &str, request_id: Option<String>, detail: String) -> GraphError {
        GraphError::Unusable {
            method: "GET".to_string(),
            path: self
                .url_for(path)
                .map(|u| display_path(&u))
                .unwrap_or_else(|_| path.to_string()),
            request_id,
            detail,
            advice: UNUSABLE_ADVICE.to_string(),
        }
    }

    fn spinner(&self, path: &str) -> Option<indicatif::ProgressBar> {
        let multi = self.inner.progress.as_ref()?;
        let bar = multi.add(indicatif::ProgressBar::new_spinner());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} reading {msg}") {
            bar.set_style(style);
        }
        bar.set_message(path.split('?').next().unwrap_or(path).to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    }

    /// Turns a request path into a full URL; absolute URLs must stay on the Graph host so
    /// the token never goes anywhere else.
    pub(crate) fn url_for(&self, path: &str) -> Result<Url, GraphError> {
        let base = &self.inner.base;
        if path.starts_with("http://") || path.starts_with("https://") {
            let url = Url::parse(path).map_err(|e| GraphError::InvalidResponse {
                method: "GET".to_string(),
                path: path.to_string(),
                detail: format!("not a valid URL: {e}"),
            })?;
            if url.origin() != base.origin() {
                return Err(GraphError::InvalidResponse {
                    method: "GET".to_string(),
                    path: display_path(&url),
                    detail: format!(
                        "link points to {} instead of the Graph host {}; refusing to send the token there",
                        url.origin().ascii_serialization(),
                        base.origin().ascii_serialization()
                    ),
                });
            }
            return Ok(url);
        }
        let joined = format!(
            "{}/{}{}",
            base.as_str().trim_end_matches('/'),
            self.inner.prefix,
            path.trim_start_matches('/')
        );
        Url::parse(&joined).map_err(|e| GraphError::Config {
            message: format!("invalid Graph path `{path}`: {e}"),
        })
    }

    /// Sends any request with retries: 429/503/504 honour `Retry-After` (seconds, fractional,
    /// or an HTTP date) or back off exponentially with jitter; dropped connections and timeouts
    /// are retried for GET only. Non-2xx answers become errors.
    pub async fn send(&self, req: GraphRequest) -> Result<GraphResponse, GraphError> {
        let idempotent = req.method == Method::GET;
        self.send_with(req, idempotent).await
    }

    /// [`GraphClient::send`], saying whether a dropped connection may be retried (true for
    /// reads, and for a `$batch` that only reads).
    pub(crate) async fn send_with(
        &self,
        req: GraphRequest,
        idempotent: bool,
    ) -> Result<GraphResponse, GraphError> {
        let inner = &self.inner;
        let url = self.url_for(&req.path)?;
        let shown = display_path(&url);
        let method_name = req.method.as_str().to_string();
        let kind = kind_of(&method_name, url.path());
        let lower = url.path().to_ascii_lowercase();
        // Graph allows one Conditional Access or named-location write per second per tenant
        // (and answers 429 without Retry-After beyond it): such writes go one at a time, every
        // attempt (retries too) a second after the previous write's answer.
        let mut ca_pace =
            if req.method != Method::GET && lower.contains("/identity/conditionalaccess/") {
                Some(inner.ca_writes.lock().await)
            } else {
                None
            };
        let started = Instant::now();
        let (mut attempt, mut throttled, mut server_errors) = (0u32, 0u32, 0u32);
        let mut reauthed = false;
        loop {
            attempt += 1;
            let token = inner.credential.token().await?;
            let authorization = bearer_header(&token, inner.credential.mode())?;
            if let Some(last) = ca_pace.as_deref() {
                pace(*last, inner.config.ca_write_interval).await;
            }
            let permit = inner.sem.acquire().await.map_err(|_| GraphError::Config {
                message: "the Graph client was shut down".to_string(),
            })?;
            inner.stats.request(kind.clone());
            let attempt_started = Instant::now();
            let mut rb = inner
                .http
                .request(req.method.clone(), url.clone())
                .header(reqwest::header::AUTHORIZATION, authorization)
                .header("client-request-id", uuid::Uuid::new_v4().to_string());
            for (k, v) in &req.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            if let Some(b) = &req.body {
                rb = rb.json(b);
            }
            if let Some((content_type, text)) = &req.text_body {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(text.clone());
            }
            let outcome = match rb.send().await {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    read_capped(&mut resp, inner.config.max_body_bytes)
                        .await
                        .map(|body| (status, headers, body))
                }
                Err(e) => Err(e),
            };
            drop(permit);
            if let Some(last) = ca_pace.as_deref_mut() {
                *last = Some(Instant::now());
            }
            let (status, headers, bytes) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    let kind = if e.is_timeout() {
                        TransportKind::Timeout
                    } else if e.is_connect() {
                        TransportKind::Unreachable
                    } else {
                        TransportKind::Other
                    };
                    // An unreachable host rarely comes back within seconds: a few tries, not
                    // the full throttling allowance.
                    if idempotent
                        && attempt < TRANSPORT_ATTEMPTS
                        && let Ok(wait) = self.next_wait(attempt, None)
                    {
                        tracing::debug!(
                            target: "steward::graph",
                            method = %method_name, path = %shown, attempt,
                            "no answer from Graph ({kind:?}); retrying"
                        );
                        inner.stats.retry();
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(GraphError::Transport {
                        method: method_name,
                        path: shown,
                        host: host_of(&url),
                        kind,
                        attempts: attempt,
                        detail: error_chain(&e),
                    });
                }
            };
            let request_id = header_str(&headers, "request-id");
            // One line per HTTP exchange for `-v`: never a header value other than the ids,
            // never a body, so no token or secret can reach the log.
            tracing::debug!(
                target: "steward::graph",
                method = %method_name,
                path = %shown,
                status,
                ms = attempt_started.elapsed().as_millis() as u64,
                request_id = request_id.as_deref().unwrap_or("-"),
                attempt,
                "graph request"
            );
            let Some(bytes) = bytes else {
                return Err(GraphError::Unusable {
                    method: method_name,
                    path: shown,
                    request_id,
                    detail: format!(
                        "the HTTP {status} answer is larger than the {} steward reads",
                        size_text(inner.config.max_body_bytes)
                    ),
                    advice: "steward stopped reading it rather than hold it in memory; if Graph \
                             really sends pages this large, give the request-id to Microsoft \
                             support"
                        .to_string(),
                });
            };
            let body = parse_body(&bytes);
            drop(bytes);
            if (200..300).contains(&status) {
                return Ok(GraphResponse {
                    status,
                    body,
                    request_id,
                });
            }
            if status == 401 && !reauthed && inner.credential.invalidate().await {
                // An expired or revoked token: sign in again once.
                reauthed = true;
                continue;
            }
            let (code, message, inner_rid) = parse_error_body(body.as_ref());
            let err = HttpError {
                method: method_name.clone(),
                path: shown.clone(),
                status,
                code,
                message,
                request_id: request_id.or(inner_rid),
                client_request_id: header_str(&headers, "client-request-id")
                    .or_else(|| client_request_id_in_body(body.as_ref())),
            };
            if status >= 500 && req.not_repeatable {
                // The service may have acted: the caller must find out before any retry.
                return Err(err.into());
            }
            if matches!(status, 429 | 503 | 504) {
                if status == 429 {
                    throttled += 1;
                    inner.stats.throttle();
                } else {
                    server_errors += 1;
                }
                let retry_after =
                    header_str(&headers, "retry-after").and_then(|v| parse_retry_after(&v));
                // Throttling asks to wait and try again; an unavailable service that keeps
                // failing is not coming back soon: fewer tries for it.
                let wait = if status != 429 && server_errors >= SERVER_ERROR_ATTEMPTS {
                    Err(format!(
                        "limit of {SERVER_ERROR_ATTEMPTS} attempts for unavailable answers reached"
                    ))
                } else {
                    self.next_wait(attempt, retry_after)
                };
                match wait {
                    Ok(wait) => {
                        tracing::debug!(
                            target: "steward::graph",
                            method = %method_name, path = %shown, status, attempt,
                            wait_ms = wait.as_millis() as u64,
                            "Graph answered {status}; retrying"
                        );
                        inner.stats.retry();
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(reason) => {
                        return Err(GraphError::RetryExhausted {
                            method: method_name,
                            path: shown,
                            attempts: attempt,
                            throttled,
                            server_errors,
                            elapsed_secs: started.elapsed().as_secs_f64(),
                            reason,
                            last: Box::new(err),
                        });
                    }
                }
            }
            return Err(err.into());
        }
    }

    /// How long to wait before retry number `attempt`, or why no retry is allowed.
    pub(crate) fn next_wait(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
    ) -> Result<Duration, String> {
        let policy = &self.inner.config.retry;
        if attempt >= policy.max_attempts {
            return Err(format!(
                "limit of {} attempts per request reached",
                policy.max_attempts
            ));
        }
        if let Some(asked) = retry_after
            && asked > policy.max_retry_after
        {
            return Err(format!(
                "Graph asked to wait {} before retrying (Retry-After), longer than the {} steward \
                 waits; run again later",
                wait_text(asked),
                wait_text(policy.max_retry_after)
            ));
        }
        let used = self.inner.retries_used.fetch_add(1, Ordering::Relaxed);
        if used >= policy.run_budget {
            return Err(format!(
                "retry budget of {} retries for this run used up",
                policy.run_budget
            ));
        }
        Ok(match retry_after {
            Some(d) => d,
            None => backoff(policy, attempt),
        })
    }
}

/// The HTTP client for `base`: no proxy for loopback, no redirects, steward's user agent.
fn http_client(base: &Url, config: &ClientConfig) -> Result<reqwest::Client, GraphError> {
    let mut builder = reqwest::Client::builder();
    if is_loopback(base) {
        // A local Graph (the sandbox) is reached directly: an HTTP_PROXY would otherwise
        // see the bearer token in clear text over plain http.
        builder = builder.no_proxy();
    }
    builder
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(15)))
        // Never follow redirects with the bearer token to somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GraphError::Config {
            message: format!("cannot build the HTTP client: {e}"),
        })
}

/// Waits until `interval` has passed since `last`.
async fn pace(last: Option<Instant>, interval: Duration) {
    if let Some(previous) = last {
        let due = previous + interval;
        let now = Instant::now();
        if due > now {
            tokio::time::sleep(due - now).await;
        }
    }
}

/// The `Authorization` header for `token`, marked sensitive so it never shows in debug output.
/// A token that cannot be a header (a line break, a control or non-ASCII character) is a
/// sign-in error naming the problem, not a broken connection; the token is never shown.
fn bearer_header(
    token: &super::auth::Secret,
    mode: super::AuthMode,
) -> Result<reqwest::header::HeaderValue, GraphError> {
    if let Some(problem) = super::auth::token_problem(token.expose()) {
        return Err(GraphError::SignIn {
            mode: mode.name().to_string(),
            message: format!("the access token is not a valid bearer token: {problem}"),
        });
    }
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        .map_err(|_| GraphError::SignIn {
        mode: mode.name().to_string(),
        message: "the access token is not a valid bearer token".to_string(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Reads a body of at most `cap` bytes; None when it is larger (stops reading at the cap).
async fn read_capped(
    resp: &mut reqwest::Response,
    cap: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if (body.len() as u64).saturating_add(chunk.len() as u64) > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A size for people: whole MiB, or bytes below one.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A wait for people: seconds, or "more than a day".
fn wait_text(d: Duration) -> String {
    if d >= Duration::from_secs(86_400) {
        "more than a day".to_string()
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// The pages of one collection read so far, to stop a paging loop: a link, or a skip token,
/// met twice means the pages lead in a circle.
#[derive(Default)]
struct Pager {
    pages: usize,
    links: HashSet<String>,
    tokens: HashSet<String>,
}

impl Pager {
    /// Records a page's link; false when it, or its `$skiptoken`/`$skip`, was seen before.
    fn visit(&mut self, client: &GraphClient, link: &str) -> bool {
        let Ok(url) = client.url_for(link) else {
            // Sending it fails with the reason; only remember it.
            return self.links.insert(link.to_string());
        };
        let mut new = self.links.insert(url.as_str().to_string());
        for (k, v) in url.query_pairs() {
            if k.eq_ignore_ascii_case("$skiptoken") || k.eq_ignore_ascii_case("$skip") {
                new &= self
                    .tokens
                    .insert(format!("{}={v}", k.to_ascii_lowercase()));
            }
        }
        new
    }
}

/// Exponential backoff with jitter: a random wait in [step/2, step], step = base·2^(n-1) ≤ max.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    let step = policy.base_delay.saturating_mul(exp).min(policy.max_delay);
    let half = step / 2;
    let jitter = rand::rng().random_range(0.0..=1.0f64);
    half + half.mul_f64(jitter)
}

/// An entity wrapped as `{"value": {…}}`, as some documentation shows, unwrapped.
fn unwrap_entity(body: Value) -> Value {
    if let Some(obj) = body.as_object()
        && let Some(inner @ Value::Object(_)) = obj.get("value")
        && obj.keys().all(|k| k == "value" || k.starts_with("@odata"))
    {
        return inner.clone();
    }
    body
}

/// Percent-encodes an OData query value (e.g. a `$filter` expression) so spaces, `#`, `&` and
/// `+` survive the trip; quotes inside string literals must already be doubled (`''`).
pub fn encode_query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, super::resolve::QUERY_VALUE).to_string()
}

/// Parses `Retry-After`: seconds (integer or fractional, e.g. `2.128`) or an HTTP date (IMF,
/// RFC 850 or asctime form). Never panics: a value past what a `Duration` holds (`1e20`, `inf`)
/// is the longest `Duration`, which the caller's limit then refuses; a date in the past is zero.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        if secs == 0.0 {
            return Some(Duration::ZERO);
        }
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v)
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
                .map(|n| n.and_utc())
        })?;
    let delta = when - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// The body as JSON; non-JSON text (an HTML page, `$count`'s number) as a JSON string; None
/// when empty.
fn parse_body(bytes: &[u8]) -> Option<Value> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
        )
    }
}

fn header_str(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) fn display_path(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    }
}

fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "?".to_string(),
    }
}

/// The error and its causes, without the URL (it may carry a query) or any header.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        parts.push("request failed".to_string());
    }
    parts.join(": ")
}
