//! Limits and sign-in edges through the real binary: the bearer token never goes through a
//! proxy to a loopback Graph, a token that cannot be a header or is not UTF-8 is refused as
//! such, the policy files' total size is capped, and the sandbox's `$filter` parser answers
//! 400 to expressions deep enough to overflow a stack.

use crate::common;

use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{SIGN_IN_VARIABLES, Scratch, steward_async};
use steward::sandbox::SandboxConfig;

const AUTHORIZATION: &str =
    "authorization-policy {\n    allow-invites-from adminsAndGuestInviters\n}\n";

/// A stand-in HTTP proxy that records what reaches it and answers 502.
async fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = log.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(uri.to_string());
            axum::http::StatusCode::BAD_GATEWAY
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_for_a_loopback_graph_never_goes_through_a_proxy() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let (proxy, log) = recording_proxy().await;
    let scratch = Scratch::new();
    let file = scratch.write("authorization.kdl", AUTHORIZATION);
    let drift = steward_async(
        scratch.path(),
        &["drift", &file.display().to_string()],
        &[
            ("STEWARD_GRAPH_URL", &sandbox.url()),
            ("STEWARD_GRAPH_TOKEN", common::TOKEN),
            ("HTTP_PROXY", &proxy),
            ("http_proxy", &proxy),
            ("ALL_PROXY", &proxy),
            ("NO_PROXY", ""),
        ],
    )
    .await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(
        log.lock().unwrap().is_empty(),
        "requests went through the proxy: {:?}",
        log.lock().unwrap()
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_a_line_break_is_an_invalid_token_not_a_broken_connection() {
    let scratch = Scratch::new();
    let file = scratch.write("authorization.kdl", AUTHORIZATION);
    let run = steward_async(
        scratch.path(),
        &["plan", &file.display().to_string()],
        &[
            ("STEWARD_GRAPH_URL", "http://127.0.0.1:9"),
            ("STEWARD_GRAPH_TOKEN", "hunter2\nhunter3"),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "sign-in (token) failed: STEWARD_GRAPH_TOKEN is not a valid bearer token: it holds a \
             line break at character 8 of 15"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("connection"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter"), "the token is never shown");
}

#[test]
fn a_token_that_is_not_utf8_is_an_error_not_ignored() {
    let scratch = Scratch::new();
    let file = scratch.write("authorization.kdl", AUTHORIZATION);
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .args(["plan", &file.display().to_string()])
        .current_dir(scratch.path())
        .env("NO_COLOR", "1");
    for name in SIGN_IN_VARIABLES {
        command.env_remove(name);
    }
    let output = command
        .env("STEWARD_GRAPH_URL", "http://127.0.0.1:9")
        .env(
            "STEWARD_GRAPH_TOKEN",
            std::ffi::OsStr::from_bytes(b"token-\xff\xfe"),
        )
        .output()
        .unwrap();
    let run: common::Run = output.into();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("STEWARD_GRAPH_TOKEN is set but is not UTF-8 text; set it again"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("azure-cli"),
        "no other sign-in is tried: {}",
        run.stderr
    );
}

#[test]
fn the_policy_files_together_are_capped() {
    let scratch = Scratch::new();
    let line = "// padding padding padding padding padding padding padding padding\n";
    let three_mib = line.repeat(3 * 1024 * 1024 / line.len());
    for name in ["a.kdl", "b.kdl", "c.kdl"] {
        scratch.write(&format!("policies/{name}"), &three_mib);
    }
    let run = scratch.run(&["validate", "policies"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("with policies/c.kdl the policy files add up to more than 8 MiB"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(9.0 MiB so far, 3 file(s))"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_policy_file_past_the_limit_is_refused_with_its_size() {
    let scratch = Scratch::new();
    let line = "// padding padding padding padding padding padding padding padding\n";
    scratch.write("big.kdl", line.repeat(9 * 1024 * 1024 / (2 * line.len())));
    let run = scratch.run(&["validate", "big.kdl"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("big.kdl is 4.5 MiB; a policy file may hold at most 4 MiB"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_answers_400_to_filters_deep_enough_to_overflow_a_stack() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let http = reqwest::Client::new();
    // Short terms keep the URL within what an HTTP request line may hold.
    for filter in [
        format!("{}a eq 1", "not ".repeat(4_000)),
        vec!["a eq 1"; 4_000].join(" and "),
        vec!["a eq 1"; 4_000].join(" or "),
        format!("{}a{} eq 1", "tolower(".repeat(4_000), ")".repeat(4_000)),
    ] {
        let answer = http
            .get(format!("{}/v1.0/groups", sandbox.url()))
            .query(&[("$filter", &filter)])
            .bearer_auth(common::TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 400, "{}", &filter[..30]);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "Invalid $filter: the expression is nested too deeply."
        );
    }
    // The sandbox is still serving.
    let ok = http
        .get(format!("{}/v1.0/groups?$top=1", sandbox.url()))
        .bearer_auth(common::TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    sandbox.shutdown().await;
}
