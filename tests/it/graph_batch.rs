//! `$batch`: chunks of 20, answers matched by id, inner throttling retried, 424 handled.

use crate::graph_support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use graph_support::{Reply, client, graph_error, serve};
use serde_json::{Value, json};
use steward::graph::{BatchItem, GraphError};

/// Answers each inner request with its own url, in reverse order; ids in `throttle_once`
/// (by url) get one inner 429 with the given retry-after first.
fn echo_reversed(
    r: &graph_support::Recorded,
    throttle_once: &Mutex<HashSet<String>>,
    retry_after: &str,
) -> Reply {
    let body = r.json();
    let mut responses: Vec<Value> = body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let url = q["url"].as_str().unwrap().to_string();
            if throttle_once.lock().unwrap().remove(&url) {
                json!({"id": q["id"], "status": 429,
                       "headers": {"Retry-After": retry_after},
                       "body": graph_error("TooManyRequests", "slow down")})
            } else {
                json!({"id": q["id"], "status": 200, "body": {"url": url}})
            }
        })
        .collect();
    responses.reverse();
    Reply::json(200, json!({ "responses": responses }))
}

#[tokio::test]
async fn batch_sends_chunks_of_20_and_returns_answers_in_input_order() {
    let throttle = Arc::new(Mutex::new(HashSet::new()));
    let t = throttle.clone();
    let server = serve(move |r| echo_reversed(r, &t, "0")).await;
    let c = client(&server.url);
    let items: Vec<BatchItem> = (0..45)
        .map(|i| BatchItem::get(format!("groups/g{i}")))
        .collect();
    let results = c.batch(items).await.unwrap();
    assert_eq!(results.len(), 45);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.status, 200);
        assert_eq!(r.body.as_ref().unwrap()["url"], format!("/groups/g{i}"));
    }
    let calls = server.requests_to("/$batch");
    let sizes: Vec<usize> = calls
        .iter()
        .map(|r| r.json()["requests"].as_array().unwrap().len())
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(sorted, [5, 20, 20]);
    assert_eq!(c.stats().batch_items, 45);
}

#[tokio::test]
async fn inner_429s_are_retried_together_after_the_longest_retry_after() {
    let throttle = Arc::new(Mutex::new(
        ["/users/u3", "/users/u7"]
            .iter()
            .map(|s| s.to_string())
            .collect::<HashSet<_>>(),
    ));
    let t = throttle.clone();
    let server = serve(move |r| echo_reversed(r, &t, "0.02")).await;
    let c = client(&server.url);
    let items: Vec<BatchItem> = (0..10)
        .map(|i| BatchItem::get(format!("users/u{i}")))
        .collect();
    let started = std::time::Instant::now();
    let results = c.batch(items).await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(20));
    assert!(results.iter().all(|r| r.status == 200));
    assert_eq!(results[3].body.as_ref().unwrap()["url"], "/users/u3");
    let calls = server.requests_to("/$batch");
    assert_eq!(calls.len(), 2);
    let retried: Vec<String> = calls[1].json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(retried, ["/users/u3", "/users/u7"]);
    let s = c.stats();
    assert_eq!((s.throttled, s.retries), (2, 1));
}

#[tokio::test]
async fn a_whole_batch_failing_with_424_is_retried() {
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    let server = serve(move |r| {
        let mut k = n2.lock().unwrap();
        *k += 1;
        if *k == 1 {
            Reply::json(
                424,
                graph_error("FailedDependency", "a request was throttled"),
            )
        } else {
            echo_reversed(r, &Mutex::new(HashSet::new()), "0")
        }
    })
    .await;
    let results = client(&server.url)
        .batch(vec![
            BatchItem::get("organization"),
            BatchItem::get("users/a"),
        ])
        .await
        .unwrap();
    assert_eq!(
        results.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200]
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn inner_errors_other_than_throttling_come_back_as_results_with_full_detail() {
    let server = serve(|r| {
        let reqs = r.json()["requests"].clone();
        Reply::json(
            200,
            json!({"responses": [
                {"id": reqs[0]["id"], "status": 403,
                 "headers": {"request-id": "inner-rid-1"},
                 "body": graph_error("Authorization_RequestDenied", "Insufficient privileges")},
                {"id": reqs[1]["id"], "status": 204, "body": null}
            ]}),
        )
    })
    .await;
    let results = client(&server.url)
        .batch(vec![
            BatchItem::get("users?$filter=x"),
            BatchItem::new(
                "patch",
                "policies/authorizationPolicy",
                Some(json!({"a": 1})),
            ),
        ])
        .await
        .unwrap();
    let sent = server.requests()[0].json();
    assert_eq!(sent["requests"][1]["method"], "PATCH");
    assert_eq!(
        sent["requests"][1]["headers"]["Content-Type"],
        "application/json"
    );
    assert_eq!(results[1].status, 204);
    let err = results[0].clone().into_result().unwrap_err();
    let msg = err.to_string();
    for part in [
        "HTTP 403",
        "Authorization_RequestDenied",
        "Insufficient privileges",
        "request-id inner-rid-1",
        "User.Read.All",
    ] {
        assert!(msg.contains(part), "missing `{part}` in {msg}");
    }
}

#[tokio::test]
async fn inner_throttling_that_never_ends_exhausts_the_budget() {
    let server = serve(|r| {
        let responses: Vec<Value> = r.json()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| json!({"id": q["id"], "status": 429, "body": graph_error("TooManyRequests", "no")}))
            .collect();
        Reply::json(200, json!({ "responses": responses }))
    })
    .await;
    let err = client(&server.url)
        .batch(vec![BatchItem::get("users/a")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::RetryExhausted {
                attempts: 4,
                throttled: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("$batch"), "{err}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_batch_answer_missing_an_item_is_an_error_not_a_gap() {
    let server = serve(|_| Reply::json(200, json!({"responses": []}))).await;
    let err = client(&server.url)
        .batch(vec![BatchItem::get("users/a")])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidResponse { .. }), "{err:?}");
}
