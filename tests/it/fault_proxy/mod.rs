//! A proxy in front of a sandbox that injects the faults the sandbox itself does not: answers
//! lost on the way back, and reads that fail once something was written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Response, StatusCode};

/// What the proxy breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards a create (POST to a collection), then breaks the connection before the answer's
    /// body: the client cannot tell whether it took effect. Only the first `n` creates.
    DropCreateAnswers(usize),
    /// Once a write succeeded, every Graph read is answered 500 with this request id.
    FailReadsAfterWrite(&'static str),
}

struct Shared {
    upstream: String,
    url: String,
    client: reqwest::Client,
    fault: Fault,
    wrote: AtomicBool,
    dropped: AtomicUsize,
}

/// A running proxy.
pub struct Proxy {
    /// Its base URL.
    pub url: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Proxy {
    /// Stops it.
    pub fn stop(self) {
        let _ = self.shutdown.send(());
    }
}

/// Starts a proxy on loopback in front of `upstream`.
pub async fn start(upstream: &str, fault: Fault) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("the proxy listens");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let shared = Arc::new(Shared {
        upstream: upstream.trim_end_matches('/').to_string(),
        url: url.clone(),
        client: reqwest::Client::new(),
        fault,
        wrote: AtomicBool::new(false),
        dropped: AtomicUsize::new(0),
    });
    let router = axum::Router::new().fallback(forward).with_state(shared);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Proxy { url, shutdown: tx }
}

fn is_create(method: &str, path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    method == "POST"
        && p.starts_with("/v1.0/")
        && !p.contains("$batch")
        && !p.contains("getbyids")
        && !p.contains("updateallowedcombinations")
}

async fn forward(State(shared): State<Arc<Shared>>, req: axum::extract::Request) -> Response<Body> {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap_or_default();

    if let Fault::FailReadsAfterWrite(request_id) = shared.fault
        && method == "GET"
        && path.starts_with("/v1.0/")
        && shared.wrote.load(Ordering::SeqCst)
    {
        let error = serde_json::json!({"error": {
            "code": "InternalServerError",
            "message": "The read failed.",
            "innerError": {"request-id": request_id}
        }});
        let mut response = Response::new(Body::from(error.to_string()));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            response.headers_mut().insert("request-id", v);
        }
        return response;
    }

    let mut upstream = shared
        .client
        .request(method.clone(), format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        return response;
    };
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    if method != "GET" && status.is_success() {
        shared.wrote.store(true, Ordering::SeqCst);
    }

    let drop_it = match shared.fault {
        Fault::DropCreateAnswers(n) => {
            status.is_success()
                && is_create(method.as_str(), &path)
                && shared.dropped.fetch_add(1, Ordering::SeqCst) < n
        }
        Fault::FailReadsAfterWrite(_) => false,
    };
    let body = if drop_it {
        // The headers go out, then the connection breaks before the body.
        Body::from_stream(futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
        }))
    } else {
        // Links (`@odata.nextLink`) name the sandbox: point them at the proxy.
        let text = String::from_utf8_lossy(&bytes).replace(&shared.upstream, &shared.url);
        Body::from(text)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in &answer_headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
