//! The Graph client stays bounded whatever Graph (or something posing as it) answers:
//! `Retry-After` of any size, paging loops, endless collections, huge bodies, bodies that are
//! not the object asked for, throttled writes, and tokens that cannot be a header.

use crate::graph_support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use graph_support::{Reply, TOKEN, client, config, graph_error, serve};
use proptest::prelude::*;
use serde_json::json;
use steward::graph::auth::Authority;
use steward::graph::client::parse_retry_after;
use steward::graph::expect::expected;
use steward::graph::{Credential, GraphClient, GraphError, GraphRequest, Secret};
use steward::model::Kind;

fn client_with(url: &str, tweak: impl FnOnce(&mut steward::graph::ClientConfig)) -> GraphClient {
    let mut cfg = config(url);
    tweak(&mut cfg);
    GraphClient::new(cfg, Credential::static_token(Secret::new(TOKEN)).unwrap()).unwrap()
}

// --- Retry-After ------------------------------------------------------------------------------

#[test]
fn retry_after_of_any_size_parses_without_panicking() {
    assert_eq!(
        parse_retry_after("2.128"),
        Some(Duration::from_millis(2128))
    );
    assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("-0"), Some(Duration::ZERO));
    for huge in ["1e20", "1E300", "inf", "18446744073709551616000"] {
        assert_eq!(parse_retry_after(huge), Some(Duration::MAX), "{huge}");
    }
    for bad in ["NaN", "-1", "soon", "", "1e20s"] {
        assert_eq!(parse_retry_after(bad), None, "{bad}");
    }
    // The three HTTP-date forms; a date in the past is no wait at all.
    for past in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        assert_eq!(parse_retry_after(past), Some(Duration::ZERO), "{past}");
    }
    let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
    assert!(far > Duration::from_secs(100 * 365 * 86_400), "{far:?}");
}

proptest! {
    #[test]
    fn retry_after_never_panics(value in ".{0,40}", secs in any::<f64>()) {
        let _ = parse_retry_after(&value);
        let _ = parse_retry_after(&secs.to_string());
        let _ = parse_retry_after(&format!("{secs:e}"));
    }
}

#[tokio::test]
async fn a_retry_after_past_the_longest_wait_is_a_clear_error_not_a_panic() {
    for value in ["1e20", "86400", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let server = serve(move |_| {
            Reply::json(429, graph_error("TooManyRequests", "slow down"))
                .header("Retry-After", value)
                .header("request-id", "rid-429")
        })
        .await;
        let started = Instant::now();
        let err = client(&server.url).get("organization").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{value}: no wait"
        );
        let msg = err.to_string();
        assert!(matches!(err, GraphError::RetryExhausted { .. }), "{err:?}");
        assert!(
            msg.contains("before retrying (Retry-After), longer than the 2.0s steward waits"),
            "{value}: {msg}"
        );
        assert!(msg.contains("rid-429"), "{msg}");
        assert_eq!(server.requests().len(), 1, "{value}: not retried early");
    }
}

// --- paging -----------------------------------------------------------------------------------

/// A server whose pages link as `next` says: page "" is the first.
async fn linked_pages(next: fn(&str) -> Option<String>) -> graph_support::Server {
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let server = serve(move |r| {
        let page = r.param("$skiptoken").unwrap_or_default();
        let mut body = json!({"value": [{"id": format!("item-{page}")}]});
        if let Some(link) = next(&page) {
            body["@odata.nextLink"] = json!(format!("{}/v1.0/users?{link}", b.get().unwrap()));
        }
        Reply::json(200, body).header("request-id", &format!("rid-page-{page}"))
    })
    .await;
    base.set(server.url.clone()).unwrap();
    server
}

#[tokio::test]
async fn a_two_page_next_link_cycle_stops_with_an_error() {
    // p1 → p2 → p1 → …: each link differs from the page it is on.
    let server = linked_pages(|page| {
        Some(match page {
            "p1" => "$skiptoken=p2".to_string(),
            _ => "$skiptoken=p1".to_string(),
        })
    })
    .await;
    let err = client(&server.url).list("users").await.unwrap_err();
    assert!(matches!(err, GraphError::Unusable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("leads back to a page already read after 3 page(s) (paging loop)"),
        "{msg}"
    );
    assert!(msg.contains("request-id rid-page-p2"), "{msg}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_link_back_to_the_first_page_or_a_repeated_skip_token_is_a_loop() {
    let back_to_first = linked_pages(|page| match page {
        "" => Some("$skiptoken=p1".to_string()),
        _ => Some(String::new()),
    })
    .await;
    let err = client(&back_to_first.url).list("users?").await.unwrap_err();
    assert!(err.to_string().contains("paging loop"), "{err}");

    // The same skip token under other options is still the same page.
    let same_token = linked_pages(|page| match page {
        "" => Some("$skiptoken=p1&$top=5".to_string()),
        _ => Some("$top=6&$skiptoken=p1".to_string()),
    })
    .await;
    let err = client(&same_token.url).list("users").await.unwrap_err();
    assert!(err.to_string().contains("paging loop"), "{err}");
    assert_eq!(same_token.requests().len(), 2);
}

#[tokio::test]
async fn pages_per_collection_are_bounded() {
    let server = linked_pages(|page| {
        let n: u64 = page.trim_start_matches('p').parse().unwrap_or(0);
        Some(format!("$skiptoken=p{}", n + 1))
    })
    .await;
    let c = client_with(&server.url, |c| c.max_pages = 5);
    let err = c.list("users").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the collection has more than 5 pages, the most steward reads"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 5);
}

// --- body size --------------------------------------------------------------------------------

#[tokio::test]
async fn a_body_past_the_cap_is_an_error_naming_the_request_id() {
    let big = json!({"value": [{"id": "x".repeat(4096)}]});
    let server =
        serve(move |_| Reply::json(200, big.clone()).header("request-id", "rid-big")).await;
    let c = client_with(&server.url, |c| c.max_body_bytes = 1024);
    let err = c.list("users").await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GraphError::Unusable { .. }), "{err:?}");
    assert!(
        msg.contains("the HTTP 200 answer is larger than the 1024 bytes steward reads"),
        "{msg}"
    );
    assert!(msg.contains("request-id rid-big"), "{msg}");
}

#[tokio::test]
async fn an_endless_streamed_body_is_cut_at_the_cap() {
    // No Content-Length: the body streams 64 KiB chunks for as long as anyone reads.
    let app = axum::Router::new().fallback(|| async {
        let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
        let stream =
            futures::stream::repeat_with(move || Ok::<_, std::convert::Infallible>(chunk.clone()));
        axum::response::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("request-id", "rid-stream")
            .body(axum::body::Body::from_stream(stream))
            .unwrap()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let c = client_with(&url, |c| c.max_body_bytes = 2 * 1024 * 1024);
    let err = c.get("organization").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("larger than the 2 MiB steward reads") && msg.contains("rid-stream"),
        "{msg}"
    );
}

// --- bodies that are not the object asked for -------------------------------------------------

#[tokio::test]
async fn a_singleton_that_is_not_its_object_is_an_error_with_the_request_id() {
    let bodies: &[(&str, &str, &str)] = &[
        (
            "text/html",
            "<html><body>Proxy login</body></html>",
            "HTML or XML",
        ),
        ("application/json", "", "got an empty body"),
        ("application/json", "{}", "an empty JSON object"),
        ("application/json", "null", "got `null`"),
        ("application/json", "\"fine\"", "text, not a JSON object"),
        ("application/json", "[]", "a JSON array"),
        (
            "application/json",
            r##"{"@odata.type": "#microsoft.graph.user", "id": "authorizationPolicy"}"##,
            "got @odata.type",
        ),
        (
            "application/json",
            r#"{"allowInvitesFrom": "everyone"}"#,
            "has no `id`",
        ),
    ];
    let want = expected(Kind::AuthorizationPolicy).unwrap();
    for &(content_type, body, says) in bodies {
        let server = serve(move |_| Reply {
            status: 200,
            headers: vec![
                ("content-type".into(), content_type.to_string()),
                ("request-id".into(), "rid-bad".into()),
            ],
            body: body.to_string(),
            delay: None,
        })
        .await;
        let err = client(&server.url)
            .get_expected("policies/authorizationPolicy", &want)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, GraphError::Unusable { .. }),
            "{body}: {err:?}"
        );
        assert!(msg.contains(says), "{body}: {msg}");
        assert!(
            msg.starts_with("GET /v1.0/policies/authorizationPolicy: unusable answer from Graph:"),
            "{msg}"
        );
        assert!(msg.contains("(request-id rid-bad)"), "{msg}");
    }
}

#[tokio::test]
async fn a_collection_item_without_an_id_fails_the_page() {
    let server = serve(|_| {
        Reply::json(
            200,
            json!({"value": [{"id": "1", "displayName": "a"}, {"displayName": "b"}]}),
        )
        .header("request-id", "rid-page")
    })
    .await;
    let err = client(&server.url)
        .list_expected(
            "identity/conditionalAccess/policies",
            &expected(Kind::ConditionalAccessPolicy).unwrap(),
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(
            "item 2 of the collection page: the conditionalAccessPolicy object has no `id`"
        ),
        "{msg}"
    );
    assert!(msg.contains("rid-page"), "{msg}");
}

// --- throttled writes keep their spacing ------------------------------------------------------

#[tokio::test]
async fn a_throttled_conditional_access_write_is_retried_a_full_interval_later() {
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = arrivals.clone();
    let server = serve(move |r| {
        let mut log = seen.lock().unwrap();
        log.push(Instant::now());
        if r.method == "POST" && log.len() == 1 {
            // Graph's answer beyond one write a second: 429 without Retry-After.
            Reply::json(429, graph_error("TooManyRequests", "one a second"))
        } else {
            Reply::json(201, json!({"id": "nl-1", "displayName": "x"}))
        }
    })
    .await;
    let interval = Duration::from_millis(300);
    let c = client_with(&server.url, |c| c.ca_write_interval = interval);
    let path = "identity/conditionalAccess/namedLocations";
    c.send(GraphRequest::post(path, json!({"displayName": "x"})))
        .await
        .unwrap();
    c.send(GraphRequest::post(path, json!({"displayName": "y"})))
        .await
        .unwrap();
    let log = arrivals.lock().unwrap().clone();
    assert_eq!(log.len(), 3, "one 429, its retry, the next write");
    for pair in log.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= interval,
            "writes {gap:?} apart, less than {interval:?}"
        );
    }
}

// --- tokens that cannot be a header -----------------------------------------------------------

#[test]
fn a_token_holding_a_line_break_is_an_invalid_token_and_is_not_shown() {
    for (token, says) in [
        ("secret-part\nrest", "a line break at character 12 of 16"),
        ("secret-part\r", "a line break at character 12 of 12"),
        ("secret part", "a space or tab at character 7 of 11"),
        ("secret-pärt", "a non-ASCII character at character 9 of 11"),
        ("secret-\u{7f}", "a control character at character 8 of 8"),
    ] {
        let err = Credential::static_token(Secret::new(token)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("STEWARD_GRAPH_TOKEN is not a valid bearer token: it holds"),
            "{msg}"
        );
        assert!(msg.contains(says), "{msg}");
        assert!(!msg.contains("secret"), "the token is never shown: {msg}");
    }
}

#[tokio::test]
async fn a_token_endpoint_handing_out_a_broken_token_is_a_sign_in_error() {
    let server = serve(|r| {
        if r.path.ends_with("/oauth2/v2.0/token") {
            Reply::json(
                200,
                json!({"token_type": "Bearer", "expires_in": 3600, "access_token": "secret-at\nx"}),
            )
        } else {
            Reply::json(200, json!({"id": "org"}))
        }
    })
    .await;
    let authority = Authority::new(
        &server.url,
        "contoso.onmicrosoft.com",
        "https://graph.microsoft.com",
    )
    .unwrap();
    let credential = Credential::client_secret(
        authority,
        "11111111-2222-3333-4444-555555555555",
        Secret::new("client-secret"),
    )
    .unwrap();
    let c = GraphClient::new(config(&server.url), credential).unwrap();
    let err = c.get("organization").await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GraphError::SignIn { .. }), "{err:?}");
    assert!(
        msg.contains("the access token is not a valid bearer token: it holds a line break"),
        "{msg}"
    );
    assert!(!msg.contains("secret-at"), "{msg}");
    assert!(
        server.requests_to("/organization").is_empty(),
        "nothing was sent to Graph"
    );
}
