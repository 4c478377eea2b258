//! The Graph HTTP client against scripted servers: paging, retries, throttling, errors, stats.

use crate::graph_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use graph_support::{Reply, TOKEN, client, config, graph_error, serve};
use serde_json::json;
use steward::graph::client::parse_retry_after;
use steward::graph::{
    ClientConfig, Credential, GraphClient, GraphError, GraphRequest, Secret, TransportKind,
    validate_endpoint,
};

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

#[tokio::test]
async fn list_follows_every_next_link_to_the_last_page() {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let server = serve(move |r| {
        let url = b.get().unwrap();
        match r.param("$skiptoken").as_deref() {
            None => Reply::json(
                200,
                json!({"value": [{"id": "1"}, {"id": "2"}],
                "@odata.nextLink": format!("{url}/v1.0/users?$top=2&$skiptoken=p2")}),
            ),
            Some("p2") => Reply::json(
                200,
                json!({"value": [],
                "@odata.nextLink": format!("{url}/v1.0/users?$top=2&$skiptoken=p3")}),
            ),
            Some(_) => Reply::json(200, json!({"value": [{"id": "3"}]})),
        }
    })
    .await;
    base.set(server.url.clone()).unwrap();
    let c = client(&server.url);
    let items = c.list("users?$top=2").await.unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.path == "/v1.0/users"));
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization").as_deref() == Some(&*format!("Bearer {TOKEN}")))
    );
}

#[tokio::test]
async fn list_fails_whole_when_the_last_page_fails() {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let server = serve(move |r| {
        let url = b.get().unwrap();
        match r.param("$skiptoken").as_deref() {
            None => Reply::json(
                200,
                json!({"value": [{"id": "1"}],
                "@odata.nextLink": format!("{url}/v1.0/groups?$skiptoken=p2")}),
            ),
            Some("p2") => Reply::json(
                200,
                json!({"value": [{"id": "2"}],
                "@odata.nextLink": format!("{url}/v1.0/groups?$skiptoken=p3")}),
            ),
            Some(_) => Reply::json(500, graph_error("generalException", "page lost"))
                .header("request-id", "rid-page3"),
        }
    })
    .await;
    base.set(server.url.clone()).unwrap();
    let err = client(&server.url).list("groups").await.unwrap_err();
    match &err {
        GraphError::Http(e) => {
            assert_eq!(e.status, 500);
            assert_eq!(e.code.as_deref(), Some("generalException"));
            assert_eq!(e.request_id.as_deref(), Some("rid-page3"));
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn next_link_to_another_host_is_refused_so_the_token_stays_home() {
    let server = serve(|_| {
        Reply::json(200, json!({"value": [], "@odata.nextLink": "https://evil.example.com/v1.0/users?$skiptoken=x"}))
    })
    .await;
    let err = client(&server.url).list("users").await.unwrap_err();
    assert!(matches!(err, GraphError::InvalidResponse { .. }), "{err:?}");
    assert!(
        err.to_string().contains("refusing to send the token"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn throttled_request_waits_fractional_retry_after_then_succeeds() {
    let n = counter();
    let c2 = n.clone();
    let server = serve(move |_| {
        if c2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::json(
                429,
                graph_error("TooManyRequests", "Please retry again later."),
            )
            .header("Retry-After", "0.05")
        } else {
            Reply::json(200, json!({"id": "authorizationPolicy"}))
        }
    })
    .await;
    let c = client(&server.url);
    let started = Instant::now();
    let body = c.get("policies/authorizationPolicy").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(body["id"], "authorizationPolicy");
    let s = c.stats();
    assert_eq!((s.total_requests(), s.retries, s.throttled), (2, 1, 1));
}

#[tokio::test]
async fn throttled_without_retry_after_backs_off_and_succeeds() {
    // Conditional Access answers 429 without Retry-After.
    let n = counter();
    let c2 = n.clone();
    let server = serve(move |_| {
        if c2.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::json(429, graph_error("TooManyRequests", "slow down"))
        } else {
            Reply::json(200, json!({"value": [{"id": "p1"}]}))
        }
    })
    .await;
    let c = client(&server.url);
    let items = c.list("identity/conditionalAccess/policies").await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(n.load(Ordering::SeqCst), 3);
    assert_eq!(c.stats().throttled, 2);
}

#[tokio::test]
async fn persistent_503_gives_up_after_the_attempt_limit_with_a_summary() {
    let server = serve(|_| {
        Reply::json(503, graph_error("serviceNotAvailable", "try later"))
            .header("request-id", "rid-503")
    })
    .await;
    let err = client(&server.url).get("organization").await.unwrap_err();
    match &err {
        GraphError::RetryExhausted {
            attempts,
            server_errors,
            last,
            ..
        } => {
            assert_eq!(*attempts, 4);
            assert_eq!(*server_errors, 4);
            assert_eq!(last.status, 503);
        }
        other => panic!("expected RetryExhausted, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("gave up after 4 attempt(s)"), "{msg}");
    assert!(msg.contains("limit of 4 attempts per request"), "{msg}");
    assert!(
        msg.contains("HTTP 503") && msg.contains("serviceNotAvailable") && msg.contains("rid-503"),
        "{msg}"
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn run_retry_budget_bounds_all_retries_of_a_run() {
    let server = serve(|_| {
        Reply::json(429, graph_error("TooManyRequests", "no")).header("Retry-After", "0")
    })
    .await;
    let mut cfg = config(&server.url);
    cfg.retry.max_attempts = 100;
    cfg.retry.run_budget = 2;
    let c = GraphClient::new(cfg, Credential::static_token(Secret::new(TOKEN)).unwrap()).unwrap();
    let err = c.get("users").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("retry budget of 2 retries for this run used up"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 3);
    // The budget is spent: the next throttled request fails at once.
    let err2 = c.get("groups").await.unwrap_err();
    assert!(
        matches!(err2, GraphError::RetryExhausted { attempts: 1, .. }),
        "{err2:?}"
    );
}

#[tokio::test]
async fn http_error_display_has_status_code_message_request_id_and_hint_but_no_token() {
    let server = serve(|_| {
        Reply::json(
            403,
            graph_error(
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
        )
        .header("request-id", "0a1b2c3d-req")
    })
    .await;
    let err = client(&server.url)
        .list("identity/conditionalAccess/policies")
        .await
        .unwrap_err();
    let msg = err.to_string();
    for part in [
        "GET /v1.0/identity/conditionalAccess/policies",
        "HTTP 403 Forbidden",
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        "request-id 0a1b2c3d-req",
        "grant Policy.Read.All",
    ] {
        assert!(msg.contains(part), "missing `{part}` in: {msg}");
    }
    assert!(!msg.contains(TOKEN));
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn request_id_falls_back_to_inner_error_and_permission_named_by_graph_is_used() {
    let server = serve(|_| {
        Reply::json(403, json!({"error": {"code": "Forbidden",
            "message": "Missing role permissions on the request. API requires one of 'SharePointTenantSettings.Read.All'.",
            "innerError": {"request-id": "inner-rid-7", "date": "2024-01-01T00:00:00"}}}))
    })
    .await;
    let err = client(&server.url)
        .get("admin/sharepoint/settings")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("request-id inner-rid-7"), "{msg}");
    assert!(
        msg.contains("grant SharePointTenantSettings.Read.All"),
        "{msg}"
    );
}

#[tokio::test]
async fn not_found_error_says_what_to_check() {
    let server = serve(|_| Reply::json(404, graph_error("Request_ResourceNotFound", "gone"))).await;
    let err = client(&server.url)
        .get("users/nobody@contoso.com")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("not found"), "{err}");
}

#[tokio::test]
async fn unreachable_host_is_a_transport_error_naming_the_host() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(&format!("http://{addr}"))
        .list("users")
        .await
        .unwrap_err();
    match &err {
        GraphError::Transport {
            kind,
            attempts,
            host,
            ..
        } => {
            assert_eq!(*kind, TransportKind::Unreachable);
            assert_eq!(*attempts, 4, "GETs are retried on connect errors");
            assert_eq!(host, &addr.to_string());
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("Graph host {addr} is unreachable")),
        "{err}"
    );
}

#[tokio::test]
async fn slow_answer_times_out_per_request() {
    let server = serve(|_| Reply::json(200, json!({})).delayed(Duration::from_secs(3))).await;
    let mut cfg = config(&server.url);
    cfg.timeout = Duration::from_millis(200);
    cfg.retry.max_attempts = 2;
    let c = GraphClient::new(cfg, Credential::static_token(Secret::new(TOKEN)).unwrap()).unwrap();
    let err = c.get("organization").await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Transport {
                kind: TransportKind::Timeout,
                attempts: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("timeout"), "{err}");
}

#[tokio::test]
async fn writes_are_not_retried_after_a_dropped_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client(&format!("http://{addr}"))
        .send(GraphRequest::patch(
            "policies/authorizationPolicy",
            json!({"allowInvitesFrom": "none"}),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Transport { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn send_returns_status_body_and_request_id_for_any_verb() {
    let server = serve(|r| match r.method.as_str() {
        "PATCH" => Reply::text(204, "").header("request-id", "rid-patch"),
        "POST" => Reply::json(201, json!({"id": "new", "echo": r.json()})),
        _ => Reply::text(200, "42"),
    })
    .await;
    let c = client(&server.url);
    let patched = c
        .send(GraphRequest::patch(
            "policies/authorizationPolicy",
            json!({"a": 1}),
        ))
        .await
        .unwrap();
    assert_eq!(
        (patched.status, patched.body, patched.request_id.as_deref()),
        (204, None, Some("rid-patch"))
    );
    let created = c
        .send(GraphRequest::post(
            "identity/conditionalAccess/namedLocations",
            json!({"displayName": "x"}),
        ))
        .await
        .unwrap();
    assert_eq!(created.status, 201);
    assert_eq!(created.body.unwrap()["echo"]["displayName"], "x");
    let count = c.get("users/$count").await.unwrap();
    assert_eq!(count, json!(42));
}

#[tokio::test]
async fn get_unwraps_a_single_entity_wrapped_in_value() {
    let server = serve(|_| {
        Reply::json(
            200,
            json!({"@odata.context": "x", "value": {"id": "Sms", "state": "enabled"}}),
        )
    })
    .await;
    let v = client(&server.url)
        .get("policies/authenticationMethodsPolicy/authenticationMethodConfigurations/sms")
        .await
        .unwrap();
    assert_eq!(v, json!({"id": "Sms", "state": "enabled"}));
}

#[tokio::test]
async fn stats_count_requests_by_kind_and_display_them() {
    let server = serve(|r| {
        if r.path.ends_with("/policies") {
            Reply::json(200, json!({"value": []}))
        } else {
            Reply::json(200, json!({"id": "x"}))
        }
    })
    .await;
    let c = client(&server.url);
    c.list("identity/conditionalAccess/policies").await.unwrap();
    c.get("users/0b1c2d3e-0000-0000-0000-000000000001")
        .await
        .unwrap();
    c.get("users/0b1c2d3e-0000-0000-0000-000000000002")
        .await
        .unwrap();
    let s = c.stats();
    assert_eq!(
        s.requests_by_kind
            .get("GET identity/conditionalAccess/policies"),
        Some(&1)
    );
    assert_eq!(s.requests_by_kind.get("GET users/{id}"), Some(&2));
    let text = s.to_string();
    assert!(text.starts_with("Graph: 3 requests in "), "{text}");
    assert!(text.contains("0 retries, 0 throttled"), "{text}");
    assert!(text.contains("GET users/{id}"), "{text}");
}

#[tokio::test]
async fn concurrency_is_bounded_by_the_configured_limit() {
    let in_flight = counter();
    let peak = counter();
    let (f, p) = (in_flight.clone(), peak.clone());
    let server = serve(move |_| {
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        // The handler is sync: hold the slot briefly, then release.
        std::thread::sleep(Duration::from_millis(20));
        f.fetch_sub(1, Ordering::SeqCst);
        Reply::json(200, json!({}))
    })
    .await;
    let mut cfg = config(&server.url);
    cfg.max_concurrency = 2;
    let c = GraphClient::new(cfg, Credential::static_token(Secret::new(TOKEN)).unwrap()).unwrap();
    let calls = (0..8).map(|i| {
        let c = c.clone();
        async move { c.get(&format!("groups/g{i}")).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert!(
        peak.load(Ordering::SeqCst) <= 2,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
}

#[test]
fn base_url_must_be_https_or_loopback_http() {
    for ok in [
        "https://graph.microsoft.com",
        "https://graph.microsoft.com/v1.0/",
        "http://127.0.0.1:8080",
        "http://[::1]:9000/",
        "http://localhost:3000",
    ] {
        assert!(
            validate_endpoint(ok, "Graph URL").is_ok(),
            "{ok} should be accepted"
        );
    }
    for bad in [
        "http://graph.microsoft.com",
        "http://10.0.0.5:8080",
        "ftp://127.0.0.1",
        "http://127.0.0.1.example.com",
    ] {
        let err = validate_endpoint(bad, "Graph URL").unwrap_err();
        assert!(
            matches!(err, GraphError::InsecureUrl { .. }),
            "{bad}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains("use https, or http only for a loopback host"),
            "{err}"
        );
    }
    let token = Credential::static_token(Secret::new(TOKEN)).unwrap();
    let err = GraphClient::new(ClientConfig::new("http://graph.example.com"), token).unwrap_err();
    assert!(matches!(err, GraphError::InsecureUrl { .. }));
    assert_eq!(
        validate_endpoint("https://graph.microsoft.com/v1.0/", "x")
            .unwrap()
            .as_str(),
        "https://graph.microsoft.com/"
    );
}

#[test]
fn retry_after_parses_fractional_seconds_and_http_dates() {
    assert_eq!(
        parse_retry_after("2.128"),
        Some(Duration::from_millis(2128))
    );
    assert_eq!(parse_retry_after("10"), Some(Duration::from_secs(10)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
    let d = parse_retry_after(&later).unwrap();
    assert!(
        d > Duration::from_secs(25) && d <= Duration::from_secs(30),
        "{d:?}"
    );
    assert_eq!(parse_retry_after("soon"), None);
    assert_eq!(parse_retry_after("-1"), None);
}

#[tokio::test]
async fn list_resends_extra_headers_on_every_page() {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let server = serve(move |r| {
        let url = b.get().unwrap();
        if r.param("$skiptoken").is_none() {
            Reply::json(
                200,
                json!({"@odata.count": 2, "value": [{"id": "1"}],
                "@odata.nextLink": format!("{url}/v1.0/users?$count=true&$skiptoken=p2")}),
            )
        } else {
            Reply::json(200, json!({"value": [{"id": "2"}]}))
        }
    })
    .await;
    base.set(server.url.clone()).unwrap();
    let items = client(&server.url)
        .list_with_headers("users?$count=true", &[("ConsistencyLevel", "eventual")])
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    let levels: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("consistencylevel"))
        .collect();
    assert_eq!(
        levels,
        [Some("eventual".to_string()), Some("eventual".to_string())]
    );
}

#[test]
fn graph_flags_parse_for_admins() {
    use clap::Parser;
    use steward::graph::{AuthMode, Cloud};
    use steward::workflow::GraphArgs;
    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        graph: GraphArgs,
    }
    let cmd = Cmd::try_parse_from([
        "steward",
        "--graph-url",
        "http://127.0.0.1:8080",
        "--cloud",
        "usgov-dod",
        "--tenant",
        "contoso.com",
        "--client-id",
        "abc",
        "--auth",
        "azure-cli",
        "--stats",
    ])
    .unwrap();
    let g = cmd.graph;
    assert_eq!(g.graph_url.as_deref(), Some("http://127.0.0.1:8080"));
    assert_eq!(
        (g.cloud, g.auth, g.stats),
        (Cloud::UsGovDod, Some(AuthMode::AzureCli), true)
    );
    assert_eq!(g.tenant.as_deref(), Some("contoso.com"));
    for mode in [
        "secret",
        "certificate",
        "federated",
        "github",
        "azure-cli",
        "device-code",
        "token",
    ] {
        assert!(
            Cmd::try_parse_from(["steward", "--auth", mode]).is_ok(),
            "{mode}"
        );
    }
    assert!(
        Cmd::try_parse_from(["steward", "--client-secret", "x"]).is_err(),
        "secrets are never flags"
    );
}

#[test]
fn query_values_are_encoded_so_hash_and_ampersand_survive() {
    use steward::graph::client::encode_query_value;
    assert_eq!(
        encode_query_value("userPrincipalName in ('a#ext@x.com','b&c+d@x.com')"),
        "userPrincipalName%20in%20('a%23ext@x.com','b%26c%2Bd@x.com')"
    );
}
