//! A read that answers 200 with something that is not the object asked for (HTML from a proxy,
//! an empty body, `{}`, `null`, a string, an array, another type, no id) stops `drift`, `plan`
//! and `apply` with the answer's request id: it never counts as an empty object, and apply
//! never writes after it. Faults come from a proxy in front of a sandbox.

use crate::common;

use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use steward::sandbox::SandboxConfig;

use common::{Scratch, steward_async};

/// The request id the proxy stamps on the answers it forges.
const FORGED_ID: &str = "rid-forged-read";

/// What the proxy answers, with 200, instead of the sandbox for GETs of `path`.
#[derive(Clone)]
struct Fault {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

struct Shared {
    upstream: String,
    own_url: OnceLock<String>,
    fault: Option<Fault>,
    http: reqwest::Client,
    log: Mutex<Vec<(String, String)>>,
}

/// A proxy in front of the sandbox at `upstream`, answering `fault` for its path.
async fn proxy(upstream: &str, fault: Option<Fault>) -> (String, Arc<Shared>) {
    let shared = Arc::new(Shared {
        upstream: upstream.to_string(),
        own_url: OnceLock::new(),
        fault,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        log: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    shared.own_url.set(url.clone()).unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, shared)
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    shared
        .log
        .lock()
        .unwrap()
        .push((method.to_string(), path_and_query.clone()));
    if let Some(fault) = &shared.fault
        && method == Method::GET
        && uri
            .path()
            .to_ascii_lowercase()
            .ends_with(&fault.path.to_ascii_lowercase())
    {
        return Response::builder()
            .status(200)
            .header("content-type", fault.content_type)
            .header("request-id", FORGED_ID)
            .body(axum::body::Body::from(fault.body))
            .unwrap();
    }
    let mut request = shared
        .http
        .request(method, format!("{}{path_and_query}", shared.upstream))
        .body(body);
    for name in ["authorization", "content-type", "consistencylevel"] {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v);
        }
    }
    let answer = request.send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for name in ["content-type", "request-id", "retry-after"] {
        if let Some(v) = answer.headers().get(name) {
            response = response.header(name, v);
        }
    }
    // Links must lead back through the proxy.
    let text = answer
        .text()
        .await
        .unwrap()
        .replace(&shared.upstream, shared.own_url.get().unwrap());
    response.body(axum::body::Body::from(text)).unwrap()
}

async fn run(dir: &std::path::Path, args: &[&str], url: &str) -> common::Run {
    steward_async(
        dir,
        args,
        &[
            ("STEWARD_GRAPH_URL", url),
            ("STEWARD_GRAPH_TOKEN", common::TOKEN),
        ],
    )
    .await
}

/// 200 answers that are not the object asked for, and what the error says of each.
const BAD_BODIES: &[(&str, &str, &str)] = &[
    (
        "text/html",
        "<html><body>Sign in to the proxy</body></html>",
        "HTML or XML, not JSON",
    ),
    ("application/json", "", "got an empty body"),
    ("application/json", "{}", "an empty JSON object"),
    ("application/json", "null", "got `null`"),
    ("application/json", "\"ok\"", "text, not a JSON object"),
    ("application/json", "[]", "a JSON array of 0 item(s)"),
    (
        "application/json",
        r##"{"@odata.type": "#microsoft.graph.user", "id": "x", "sharingCapability": "disabled"}"##,
        "got @odata.type \"#microsoft.graph.user\"",
    ),
    (
        "application/json",
        r#"{"displayName": "no id", "description": "no settings"}"#,
        "which Graph always sends",
    ),
];

/// Each singleton steward reads, a file that drifts from the demo tenant, and its path.
const SINGLETONS: &[(&str, &str)] = &[
    (
        "policies/authorizationPolicy",
        "authorization-policy {\n    allow-invites-from adminsAndGuestInviters\n}\n",
    ),
    (
        "admin/sharepoint/settings",
        "sharepoint-settings {\n    sharing-capability disabled\n}\n",
    ),
    (
        "policies/authenticationMethodsPolicy",
        "authentication-methods-policy {\n    sms state=disabled\n}\n",
    ),
    (
        "policies/identitySecurityDefaultsEnforcementPolicy",
        "security-defaults {\n    is-enabled #true\n}\n",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_fails_with_the_request_id_on_every_bad_singleton_answer() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    for (path, kdl) in SINGLETONS {
        let file = scratch.write("drifted.kdl", kdl);
        let file = file.display().to_string();
        // Through a proxy that forges nothing, the tenant shows its drift.
        let (clean, _) = proxy(&sandbox.url(), None).await;
        let drift = run(scratch.path(), &["drift", &file], &clean).await;
        assert_eq!(drift.code, 2, "{path}: {}{}", drift.stdout, drift.stderr);

        for &(content_type, body, says) in BAD_BODIES {
            let fault = Fault {
                path,
                content_type,
                body,
            };
            let (url, _) = proxy(&sandbox.url(), Some(fault)).await;
            let drift = run(scratch.path(), &["drift", &file], &url).await;
            assert_eq!(
                drift.code, 1,
                "{path} answering {body:?}: {}{}",
                drift.stdout, drift.stderr
            );
            assert!(
                drift.stderr.starts_with("error: cannot read the tenant: ")
                    && drift
                        .stderr
                        .contains(&format!("GET /v1.0/{path}: unusable answer from Graph:")),
                "{path} answering {body:?}: {}",
                drift.stderr
            );
            assert!(drift.stderr.contains(says), "{body:?}: {}", drift.stderr);
            assert!(
                drift.stderr.contains(&format!("(request-id {FORGED_ID})")),
                "{}",
                drift.stderr
            );
            assert!(!drift.stdout.contains("No drift"), "{}", drift.stdout);
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_fails_on_a_collection_page_that_is_not_a_page_of_the_kind() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let file = scratch.write(
        "locations.kdl",
        "named-location \"Contoso HQ\" {\n    ip-ranges \"203.0.113.0/24\"\n    is-trusted #true\n}\n",
    );
    let file = file.display().to_string();
    for (body, says) in [
        (
            "{}",
            "expected a collection page, got a JSON object without a `value` array",
        ),
        (
            "<html></html>",
            "expected a collection page, got HTML or XML",
        ),
        (
            r#"{"value": [{"displayName": "Contoso HQ", "isTrusted": true}]}"#,
            "item 1 of the collection page: the namedLocation object has no `id`",
        ),
        (
            r##"{"value": [{"@odata.type": "#microsoft.graph.group", "id": "1", "displayName": "Contoso HQ"}]}"##,
            "item 1 of the collection page: expected a namedLocation object, got @odata.type",
        ),
        (
            r#"{"value": {}}"#,
            "whose `value` is a JSON object, not an array",
        ),
    ] {
        let fault = Fault {
            path: "identity/conditionalAccess/namedLocations",
            content_type: "application/json",
            body,
        };
        let (url, _) = proxy(&sandbox.url(), Some(fault)).await;
        let plan = run(scratch.path(), &["plan", &file], &url).await;
        assert_eq!(plan.code, 1, "{body}: {}{}", plan.stdout, plan.stderr);
        assert!(plan.stderr.contains(says), "{body}: {}", plan.stderr);
        assert!(
            plan.stderr.contains(&format!("(request-id {FORGED_ID})")),
            "{}",
            plan.stderr
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_never_writes_after_a_bad_read() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    for (path, kdl) in SINGLETONS {
        let file = scratch.write("drifted.kdl", kdl);
        let file = file.display().to_string();
        let fault = Fault {
            path,
            content_type: "application/json",
            body: "{}",
        };
        let (url, shared) = proxy(&sandbox.url(), Some(fault)).await;
        let apply = run(scratch.path(), &["apply", &file, "--auto-approve"], &url).await;
        assert_eq!(apply.code, 1, "{path}: {}{}", apply.stdout, apply.stderr);
        assert!(apply.stderr.contains(FORGED_ID), "{path}: {}", apply.stderr);
        let log = shared.log.lock().unwrap().clone();
        assert!(
            log.iter().any(|(_, p)| p.ends_with(path)),
            "{path} was read: {log:?}"
        );
        // `$batch` and `getByIds` are POSTs that only read.
        let writes: Vec<_> = log
            .iter()
            .filter(|(m, p)| m != "GET" && !p.contains("$batch") && !p.contains("getByIds"))
            .collect();
        assert!(writes.is_empty(), "{path}: wrote {writes:?}");
    }
    sandbox.shutdown().await;
}
