//! Sign-in modes against a scripted token endpoint: form fields, the signed certificate
//! assertion, federated and GitHub OIDC exchanges, device code, caching, refresh, redaction.

use crate::graph_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use graph_support::{Recorded, Reply, config, serve};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use steward::graph::auth::{Authority, DEFAULT_PUBLIC_CLIENT_ID};
use steward::graph::{AuthMode, Cloud, Credential, GraphClient, GraphError, Secret};
use steward::workflow::GraphArgs;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const SECRET: &str = "client-secret-NEVER-SHOWN";

fn jwt(claims: Value) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn token_path() -> String {
    format!("/{TENANT}/oauth2/v2.0/token")
}

/// Graph that accepts only `Bearer {expected}`; token endpoint answers via `token`.
async fn sign_in_server(
    token: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    expected: &'static str,
) -> graph_support::Server {
    serve(move |r| {
        if r.path.starts_with("/v1.0/") {
            if r.header("authorization").as_deref() == Some(&*format!("Bearer {expected}")) {
                Reply::json(200, json!({"id": "org"}))
            } else {
                Reply::json(401, json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}))
            }
        } else {
            token(r)
        }
    })
    .await
}

fn args(server: &str, auth: Option<AuthMode>) -> GraphArgs {
    GraphArgs {
        graph_url: Some(server.to_string()),
        login_url: Some(server.to_string()),
        tenant: Some(TENANT.to_string()),
        client_id: Some(CLIENT.to_string()),
        auth,
        ..Default::default()
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn ok_token(token: &str, expires_in: u64) -> Reply {
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": expires_in, "access_token": token}),
    )
}

#[tokio::test]
async fn client_secret_posts_the_documented_form_and_caches_the_token() {
    let server = sign_in_server(|_| ok_token("at-secret", 3599), "at-secret").await;
    let env = env_of(&[("AZURE_CLIENT_SECRET", SECRET)]);
    let c = args(&server.url, None)
        .build_with(&env, false, config(&server.url))
        .unwrap();
    assert_eq!(c.credential().mode(), AuthMode::Secret);
    assert!(!c.credential().is_delegated());
    c.get("organization").await.unwrap();
    c.get("organization").await.unwrap();
    let tokens = server.requests_to("/oauth2/v2.0/token");
    assert_eq!(tokens.len(), 1, "the token is cached for the run");
    assert_eq!(tokens[0].path, token_path());
    let form = tokens[0].form();
    assert_eq!(form["client_id"], CLIENT);
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(form["client_secret"], SECRET);
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(c.stats().requests_by_kind.get("POST sign-in"), Some(&1));
}

#[tokio::test]
async fn token_endpoint_refusal_shows_the_oauth_error_but_never_the_secret() {
    let server = sign_in_server(
        |_| {
            Reply::json(401, json!({"error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x",
                "error_codes": [7000215], "trace_id": "trace-1", "correlation_id": "corr-1"}))
        },
        "never",
    )
    .await;
    let env = env_of(&[("AZURE_CLIENT_SECRET", SECRET)]);
    let c = args(&server.url, Some(AuthMode::Secret))
        .build_with(&env, false, config(&server.url))
        .unwrap();
    let err = c.get("organization").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "sign-in (secret) failed: HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided. (trace-id trace-1, correlation-id corr-1)"
    );
    assert!(!format!("{err:?}").contains(SECRET));
    assert!(server.requests_to("/v1.0/organization").is_empty());
}

#[tokio::test]
async fn a_rejected_token_is_renewed_once() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = sign_in_server(
        move |_| {
            let k = n2.fetch_add(1, Ordering::SeqCst);
            ok_token(if k == 0 { "at-stale" } else { "at-fresh" }, 3599)
        },
        "at-fresh",
    )
    .await;
    let env = env_of(&[("AZURE_CLIENT_SECRET", SECRET)]);
    let c = args(&server.url, None)
        .build_with(&env, false, config(&server.url))
        .unwrap();
    c.get("organization").await.unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn certificate_sends_an_rs256_assertion_with_x5t_that_verifies_with_the_public_key() {
    let seen = Arc::new(Mutex::new(
        None::<std::collections::HashMap<String, String>>,
    ));
    let s2 = seen.clone();
    let server = sign_in_server(
        move |r| {
            *s2.lock().unwrap() = Some(r.form());
            ok_token("at-cert", 3599)
        },
        "at-cert",
    )
    .await;
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
    let pem_path = format!("{keys}/client-cert.pem");
    let env = env_of(&[("AZURE_CLIENT_CERTIFICATE_PATH", &pem_path)]);
    let c = args(&server.url, None)
        .build_with(&env, false, config(&server.url))
        .unwrap();
    assert_eq!(c.credential().mode(), AuthMode::Certificate);
    c.get("organization").await.unwrap();

    let form = seen.lock().unwrap().clone().unwrap();
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["grant_type"], "client_credentials");
    assert!(!form.contains_key("client_secret"));
    let assertion = &form["client_assertion"];

    // x5t: base64url SHA-1 of the certificate's DER.
    let pem = std::fs::read_to_string(&pem_path).unwrap();
    let b64: String = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .unwrap()
        .split("-----END CERTIFICATE-----")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let der = STANDARD.decode(b64).unwrap();
    let header = jsonwebtoken::decode_header(assertion).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(
        header.x5t.as_deref(),
        Some(&*URL_SAFE_NO_PAD.encode(Sha1::digest(&der)))
    );

    let public = std::fs::read(format!("{keys}/public.pem")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
    let token_url = format!("{}{}", server.url, token_path());
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[token_url.as_str()]);
    v.set_issuer(&[CLIENT]);
    v.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v).unwrap();
    let claims = data.claims;
    assert_eq!(claims["sub"], CLIENT);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
        600
    );
}

#[test]
fn certificate_without_a_key_or_with_an_encrypted_key_is_refused_clearly() {
    let authority = Authority::new(
        "https://login.microsoftonline.com",
        TENANT,
        Cloud::Global.graph_url(),
    )
    .unwrap();
    let err = Credential::client_certificate(
        authority.clone(),
        CLIENT,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no RSA PRIVATE KEY or PRIVATE KEY block"),
        "{err}"
    );
    let enc = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let err = Credential::client_certificate(authority, CLIENT, enc).unwrap_err();
    assert!(err.to_string().contains("encrypted"), "{err}");
}

#[tokio::test]
async fn federated_token_file_is_reread_for_every_new_token() {
    let server = sign_in_server(|_| ok_token("at-fed", 0), "at-fed").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "federated-A\n").unwrap();
    let file_s = file.to_string_lossy().into_owned();
    let env = env_of(&[("AZURE_FEDERATED_TOKEN_FILE", &file_s)]);
    let c = args(&server.url, None)
        .build_with(&env, false, config(&server.url))
        .unwrap();
    assert_eq!(c.credential().mode(), AuthMode::Federated);
    c.get("organization").await.unwrap();
    std::fs::write(&file, "federated-B").unwrap();
    c.get("organization").await.unwrap();
    let assertions: Vec<String> = server
        .requests_to("/oauth2/v2.0/token")
        .iter()
        .map(|r| r.form()["client_assertion"].clone())
        .collect();
    assert_eq!(assertions, ["federated-A", "federated-B"]);
    let form = server.requests_to("/oauth2/v2.0/token")[0].form();
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
}

#[tokio::test]
async fn github_oidc_fetches_an_id_token_for_the_exchange_audience_and_exchanges_it() {
    let server = sign_in_server(
        |r| {
            if r.path == "/_oidc" {
                assert_eq!(
                    r.param("audience").as_deref(),
                    Some("api://AzureADTokenExchange")
                );
                assert_eq!(r.param("api-version").as_deref(), Some("2.0"));
                assert_eq!(
                    r.header("authorization").as_deref(),
                    Some("Bearer runner-request-token")
                );
                Reply::json(200, json!({"count": 1, "value": "github-id-token"}))
            } else {
                ok_token("at-gh", 3599)
            }
        },
        "at-gh",
    )
    .await;
    let oidc = format!("{}/_oidc?api-version=2.0", server.url);
    let env = env_of(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", &oidc),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token"),
    ]);
    let c = args(&server.url, None)
        .build_with(&env, false, config(&server.url))
        .unwrap();
    assert_eq!(c.credential().mode(), AuthMode::Github);
    assert!(!c.credential().is_delegated());
    c.get("organization").await.unwrap();
    assert_eq!(server.requests_to("/_oidc").len(), 1);
    let form = server.requests_to("/oauth2/v2.0/token")[0].form();
    assert_eq!(form["client_assertion"], "github-id-token");
    assert_eq!(form["client_id"], CLIENT);
    let dbg = format!("{:?}", c.credential());
    assert!(!dbg.contains("runner-request-token"), "{dbg}");
}

#[tokio::test]
async fn device_code_prints_the_prompt_polls_until_signed_in_and_is_delegated() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p2 = polls.clone();
    let delegated = jwt(json!({"scp": "Policy.Read.All", "idtyp": "user"}));
    let d2 = delegated.clone();
    let server = serve(move |r| {
        if r.path == "/organizations/oauth2/v2.0/devicecode" {
            Reply::json(200, json!({"device_code": "dc-1", "user_code": "ABCD-EFGH",
                "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 60, "interval": 0,
                "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."}))
        } else if r.path == "/organizations/oauth2/v2.0/token" {
            if p2.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::json(400, json!({"error": "authorization_pending", "error_description": "AADSTS70016: pending"}))
            } else {
                ok_token(&d2, 3599)
            }
        } else {
            Reply::json(200, json!({"id": "org"}))
        }
    })
    .await;
    let mut a = args(&server.url, Some(AuthMode::DeviceCode));
    a.tenant = None;
    a.client_id = None;
    let c = a
        .build_with(&env_of(&[]), true, config(&server.url))
        .unwrap();
    c.get("organization").await.unwrap();
    assert!(c.credential().is_delegated());
    c.require_signed_in_admin("retention label").await.unwrap();
    let start = &server.requests_to("/devicecode")[0].form();
    assert_eq!(start["client_id"], DEFAULT_PUBLIC_CLIENT_ID);
    assert_eq!(
        start["scope"],
        "https://graph.microsoft.com/.default offline_access"
    );
    let polls = server.requests_to("/organizations/oauth2/v2.0/token");
    assert_eq!(polls.len(), 2);
    assert_eq!(
        polls[1].form()["grant_type"],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
    assert_eq!(polls[1].form()["device_code"], "dc-1");
}

#[test]
fn device_code_without_a_terminal_names_the_non_interactive_modes() {
    let err = args("http://127.0.0.1:1", Some(AuthMode::DeviceCode))
        .credential(&env_of(&[]), false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "sign-in (device-code) failed: device-code sign-in needs a person at a terminal (stdin and stderr must be terminals); without one use a non-interactive mode: --auth secret, certificate, federated, github, azure-cli or token"
    );
}

#[tokio::test]
async fn app_only_sign_in_refuses_retention_labels_naming_the_modes_that_work() {
    let server = sign_in_server(|_| ok_token("at-app", 3599), "at-app").await;
    let env = env_of(&[("AZURE_CLIENT_SECRET", SECRET)]);
    let c = args(&server.url, None)
        .build_with(&env, false, config(&server.url))
        .unwrap();
    let err = c
        .require_signed_in_admin("retention label")
        .await
        .unwrap_err();
    assert!(matches!(&err, GraphError::NeedsSignedInAdmin { kind } if kind == "retention label"));
    let msg = err.to_string();
    assert!(
        msg.starts_with("retention label can only be read or written by a signed-in administrator"),
        "{msg}"
    );
    for mode in ["--auth azure-cli", "--auth device-code", "--auth token"] {
        assert!(msg.contains(mode), "missing {mode}: {msg}");
    }
}

#[tokio::test]
async fn a_static_token_is_delegated_unless_its_claims_say_app_only() {
    let delegated =
        Credential::static_token(Secret::new(jwt(json!({"scp": "User.Read"})))).unwrap();
    assert!(delegated.is_delegated());
    let app = Credential::static_token(Secret::new(jwt(
        json!({"roles": ["Policy.Read.All"], "idtyp": "app"}),
    )))
    .unwrap();
    assert!(!app.is_delegated());
    let opaque = Credential::static_token(Secret::new("sandbox-token")).unwrap();
    assert!(opaque.is_delegated());
    let c = GraphClient::new(config("http://127.0.0.1:9"), app).unwrap();
    assert!(matches!(
        c.require_signed_in_admin("retention label").await,
        Err(GraphError::NeedsSignedInAdmin { .. })
    ));
    let err = Credential::static_token(Secret::new("  ")).unwrap_err();
    assert!(err.to_string().contains("STEWARD_GRAPH_TOKEN is empty"));
}

#[test]
fn auth_mode_is_detected_from_the_environment_in_azure_tooling_order() {
    let a = GraphArgs::default();
    let cases: &[(&[(&str, &str)], AuthMode)] = &[
        (
            &[("STEWARD_GRAPH_TOKEN", "t"), ("AZURE_CLIENT_SECRET", "s")],
            AuthMode::Token,
        ),
        (
            &[
                ("AZURE_CLIENT_SECRET", "s"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", "p"),
            ],
            AuthMode::Secret,
        ),
        (
            &[
                ("AZURE_CLIENT_CERTIFICATE_PATH", "p"),
                ("AZURE_FEDERATED_TOKEN_FILE", "f"),
            ],
            AuthMode::Certificate,
        ),
        (&[("AZURE_FEDERATED_TOKEN_FILE", "f")], AuthMode::Federated),
        (
            &[
                ("ACTIONS_ID_TOKEN_REQUEST_URL", "u"),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
            ],
            AuthMode::Github,
        ),
        (&[("ACTIONS_ID_TOKEN_REQUEST_URL", "u")], AuthMode::AzureCli),
        (&[], AuthMode::AzureCli),
    ];
    for (env, want) in cases {
        assert_eq!(a.mode(&env_of(env)), *want, "{env:?}");
    }
    let forced = GraphArgs {
        auth: Some(AuthMode::DeviceCode),
        ..Default::default()
    };
    assert_eq!(
        forced.mode(&env_of(&[("AZURE_CLIENT_SECRET", "s")])),
        AuthMode::DeviceCode
    );
}

#[test]
fn missing_tenant_or_client_id_is_named() {
    let mut a = args("http://127.0.0.1:1", Some(AuthMode::Secret));
    a.tenant = None;
    let err = a
        .credential(&env_of(&[("AZURE_CLIENT_SECRET", "s")]), false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "sign-in (secret) failed: the tenant (--tenant or AZURE_TENANT_ID) is not set"
    );
    let mut a = args("http://127.0.0.1:1", Some(AuthMode::Certificate));
    a.client_id = None;
    let err = a.credential(&env_of(&[]), false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sign-in (certificate) failed: AZURE_CLIENT_CERTIFICATE_PATH is not set"
    );
}

#[test]
fn national_clouds_set_graph_and_login_hosts() {
    let cases = [
        (
            Cloud::Global,
            "https://graph.microsoft.com",
            "https://login.microsoftonline.com",
        ),
        (
            Cloud::UsGov,
            "https://graph.microsoft.us",
            "https://login.microsoftonline.us",
        ),
        (
            Cloud::UsGovDod,
            "https://dod-graph.microsoft.us",
            "https://login.microsoftonline.us",
        ),
        (
            Cloud::China,
            "https://microsoftgraph.chinacloudapi.cn",
            "https://login.chinacloudapi.cn",
        ),
    ];
    for (cloud, graph, login) in cases {
        assert_eq!((cloud.graph_url(), cloud.login_url()), (graph, login));
    }
    let a = Authority::new(
        Cloud::China.login_url(),
        "contoso.partner.onmschina.cn",
        Cloud::China.graph_url(),
    )
    .unwrap();
    assert_eq!(
        a.token_url(),
        "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token"
    );
    assert_eq!(
        a.scope(),
        "https://microsoftgraph.chinacloudapi.cn/.default"
    );
    let args = GraphArgs {
        cloud: Cloud::UsGovDod,
        tenant: Some(TENANT.into()),
        ..Default::default()
    };
    let c = args
        .build_with(
            &env_of(&[("STEWARD_GRAPH_TOKEN", "t")]),
            false,
            Default::default(),
        )
        .unwrap();
    assert_eq!(c.base_url().as_str(), "https://dod-graph.microsoft.us/");
}

#[test]
fn login_url_and_tenant_are_validated() {
    let err = Authority::new(
        "http://login.example.com",
        TENANT,
        Cloud::Global.graph_url(),
    )
    .unwrap_err();
    assert!(matches!(err, GraphError::InsecureUrl { .. }), "{err:?}");
    let err = Authority::new(
        "https://login.microsoftonline.com",
        "../evil",
        Cloud::Global.graph_url(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("is not a tenant id"), "{err}");
    let args = GraphArgs {
        graph_url: Some("http://graph.example.com".into()),
        ..Default::default()
    };
    let err = args
        .build_with(
            &env_of(&[("STEWARD_GRAPH_TOKEN", "t")]),
            false,
            Default::default(),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`http://graph.example.com` is refused"),
        "{err}"
    );
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let s = Secret::new(SECRET);
    assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    let authority = Authority::new(
        "https://login.microsoftonline.com",
        TENANT,
        Cloud::Global.graph_url(),
    )
    .unwrap();
    let cred = Credential::client_secret(authority, CLIENT, Secret::new(SECRET)).unwrap();
    let dbg = format!("{cred:?}");
    assert!(!dbg.contains(SECRET) && dbg.contains("secret"), "{dbg}");
    let client = GraphClient::new(config("https://graph.microsoft.com"), cred).unwrap();
    assert!(!format!("{client:?}").contains(SECRET));
}
