//! `steward export` and sign-in against the sandbox tenant, over real HTTP on loopback.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use steward::sandbox::seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};
use steward::sandbox::{RunningSandbox, SandboxConfig};

async fn steward(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> common::Run {
    common::steward_async(dir, args, env).await
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        out.insert(
            name,
            std::fs::read_to_string(entry.path()).unwrap_or_default(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_validates_and_a_second_export_is_byte_identical() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = common::Scratch::new();
    let env = [
        ("STEWARD_GRAPH_URL", sandbox.url()),
        ("STEWARD_GRAPH_TOKEN", common::TOKEN.to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let first = steward(scratch.path(), &["export", "--out", "one"], &env).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.starts_with("Exported 15 objects to one"),
        "{}",
        first.stdout
    );
    let exported = files(&scratch.path().join("one"));
    assert_eq!(
        exported.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "authentication-methods-policy.kdl",
            "authentication-strengths.kdl",
            "authorization-policy.kdl",
            "conditional-access-policies.kdl",
            "cross-tenant-access.kdl",
            "named-locations.kdl",
            "retention-labels.kdl",
            "security-defaults.kdl",
            "sharepoint-settings.kdl",
        ]
    );
    let policies = &exported["conditional-access-policies.kdl"];
    assert!(
        policies.contains("conditional-access-policy \"CA002 Require MFA for administrators\" {")
    );
    assert!(
        policies.contains("include-roles \"Global Administrator\" \"Security Administrator\""),
        "{policies}"
    );
    assert!(policies.contains("exclude-users \"breakglass1@contoso.onmicrosoft.com\" \"breakglass2@contoso.onmicrosoft.com\""));
    assert!(
        policies.contains("include-locations \"Contoso HQ\""),
        "{policies}"
    );

    let validated = steward(scratch.path(), &["validate", "one"], &[]).await;
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    let formatted = steward(scratch.path(), &["fmt", "--check", "one"], &[]).await;
    assert_eq!(formatted.code, 0, "{}", formatted.stdout);

    let second = steward(scratch.path(), &["export", "--out", "two"], &env).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(files(&scratch.path().join("two")), exported);
    sandbox.shutdown().await;
}

/// Exports in-process with fast retries, so faults cost milliseconds rather than seconds.
async fn export_in_process(url: String) -> BTreeMap<String, String> {
    use steward::graph::{ClientConfig, Credential, GraphClient, Resolver, Secret};
    let mut config = ClientConfig::new(url);
    config.retry.base_delay = std::time::Duration::from_millis(5);
    // Nearly half the requests fail here; with many in flight one request can be unlucky
    // several times in a row, which is not what this test is about.
    config.retry.max_attempts = 20;
    config.progress = false;
    let credential = Credential::static_token(Secret::new(common::TOKEN)).expect("a credential");
    let client = GraphClient::new(config, credential).expect("a client");
    let kinds = steward::model::Kind::ALL
        .iter()
        .copied()
        .filter(|k| k.is_resource())
        .collect();
    let resolver = Resolver::new(client.clone());
    let live = steward::graph::read::read_tenant(&client, &resolver, &kinds)
        .await
        .expect("the tenant reads");
    steward::workflow::export::render(&live, &kinds)
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_throttling_and_server_errors_do_not_change_the_export() {
    let calm = common::demo(SandboxConfig::default()).await;
    let expected = export_in_process(calm.url()).await;
    calm.shutdown().await;

    let stormy = common::demo(SandboxConfig {
        page_size: 1,
        throttle_every: 3,
        retry_after_ms: 0,
        fail_every: 5,
        ..SandboxConfig::default()
    })
    .await;
    let got = export_in_process(stormy.url()).await;
    let log: Vec<Value> = reqwest::get(format!("{}/_sandbox/requests", stormy.url()))
        .await
        .expect("the log")
        .json()
        .await
        .expect("JSON");
    let statuses: Vec<u64> = log.iter().filter_map(|r| r["status"].as_u64()).collect();
    assert!(
        statuses.contains(&429) && statuses.contains(&503),
        "faults happened"
    );
    assert!(
        log.iter()
            .any(|r| r["path"].as_str().is_some_and(|p| p.contains("skiptoken"))),
        "pages were followed"
    );
    assert_eq!(got, expected);
    stormy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_tenant_fails_clearly_and_writes_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let scratch = common::Scratch::new();
    let run = steward(
        scratch.path(),
        &["export", "--out", "out"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_GRAPH_TOKEN", common::TOKEN),
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read the tenant"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(url.trim_start_matches("http://")),
        "names the host: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(common::TOKEN), "never the token");
    assert!(!scratch.path().join("out").exists());
}

/// A demo tenant whose state registers extra clients.
async fn tenant_with_clients(dir: &Path, clients: Vec<Value>) -> RunningSandbox {
    let path = common::demo_state_with_clients(dir, clients);
    common::demo(SandboxConfig {
        state: Some(path),
        ..SandboxConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_is_a_403_with_graphs_error_and_request_id() {
    let scratch = common::Scratch::new();
    let sandbox = tenant_with_clients(
        scratch.path(),
        vec![json!({"clientId": "0f0f0f0f-0000-4000-8000-000000000403", "displayName": "half-permitted",
            "secret": "half-secret", "roles": ["Policy.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory"]})],
    )
    .await;
    let url = sandbox.url();
    let run = steward(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "sharepoint-settings"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", "0f0f0f0f-0000-4000-8000-000000000403"),
            ("AZURE_CLIENT_SECRET", "half-secret"),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("403"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Authorization_RequestDenied"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("request-id"), "{}", run.stderr);
    assert!(
        run.stderr.contains("SharePointTenantSettings.Read.All"),
        "names the permission: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("half-secret"));
    assert!(
        !scratch.path().join("out").exists(),
        "never a partial export"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_signs_in_through_the_token_endpoint() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = common::Scratch::new();
    let url = sandbox.url();
    let run = steward(
        scratch.path(),
        &[
            "export",
            "--out",
            "out",
            "--kinds",
            "named-location",
            "--auth",
            "secret",
        ],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
            ("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        files(&scratch.path().join("out"))["named-locations.kdl"]
            .contains("named-location \"Contoso HQ\"")
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_signs_in_with_a_client_assertion() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
    let pem = std::fs::read_to_string(format!("{keys}/client-cert.pem")).expect("test certificate");
    let public = std::fs::read_to_string(format!("{keys}/public.pem")).expect("test public key");
    let der = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
        .map(|b64| b64.split_whitespace().collect::<String>())
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .expect("the certificate's DER");
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha1::digest(&der));
    let scratch = common::Scratch::new();
    let sandbox = tenant_with_clients(
        scratch.path(),
        vec![
            json!({"clientId": "ce57ce57-0000-4000-8000-00000000ce57", "displayName": "cert client",
            "certificate": {"publicKeyPem": public, "thumbprint": thumbprint},
            "roles": ["Policy.Read.All"]}),
        ],
    )
    .await;
    let url = sandbox.url();
    let run = steward(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "named-location"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", "ce57ce57-0000-4000-8000-00000000ce57"),
            (
                "AZURE_CLIENT_CERTIFICATE_PATH",
                &format!("{keys}/client-cert.pem"),
            ),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(scratch.path().join("out/named-locations.kdl").exists());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_token_file_signs_in_without_any_secret() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
    let private = std::fs::read(format!("{keys}/federated-private.pem")).expect("test key");
    let public = std::fs::read_to_string(format!("{keys}/federated-public.pem")).expect("test key");
    let issuer = "https://token.actions.githubusercontent.com";
    let subject = "repo:contoso/policies:ref:refs/heads/main";
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": issuer, "sub": subject, "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + 600});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&private).expect("an RSA key");
    let assertion = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .expect("signed");
    let scratch = common::Scratch::new();
    let token_file = scratch.write("federated-token", assertion);
    let sandbox = tenant_with_clients(
        scratch.path(),
        vec![json!({"clientId": "fede0000-0000-4000-8000-00000000fede", "displayName": "workload identity",
            "federatedCredentials": [{"issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"], "publicKeyPem": public}],
            "roles": ["Policy.Read.All"]})],
    )
    .await;
    let url = sandbox.url();
    let run = steward(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "named-location"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", "fede0000-0000-4000-8000-00000000fede"),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                token_file.to_str().unwrap_or_default(),
            ),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(scratch.path().join("out/named-locations.kdl").exists());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_sign_in_is_told_retention_labels_need_a_signed_in_admin() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = common::Scratch::new();
    let url = sandbox.url();
    let run = steward(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "retention-label"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
            ("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("retention-label"), "{}", run.stderr);
    assert!(
        run.stderr.contains("device-code"),
        "names the modes that work: {}",
        run.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_group_name_is_an_error_listing_both_ids() {
    let mut state = steward::sandbox::seed::demo();
    if let Some(groups) = state.get_mut("groups").and_then(Value::as_array_mut) {
        groups.push(
            json!({"id": "dddddddd-0000-4000-8000-000000000002", "displayName": "Finance",
            "mailEnabled": false, "securityEnabled": true, "groupTypes": []}),
        );
    }
    let scratch = common::Scratch::new();
    let path = scratch.path().join("state.json");
    std::fs::write(&path, serde_json::to_string(&state).unwrap_or_default()).expect("state");
    let sandbox = common::demo(SandboxConfig {
        state: Some(path),
        ..SandboxConfig::default()
    })
    .await;
    use steward::graph::{ClientConfig, Credential, GraphClient, Resolver, Secret};
    let client = GraphClient::new(
        ClientConfig::new(sandbox.url()),
        Credential::static_token(Secret::new(common::TOKEN)).expect("credential"),
    )
    .expect("client");
    let err = Resolver::new(client)
        .groups_by_name(&["Finance".to_string()])
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("Finance"), "{err}");
    assert!(
        err.contains("5eed0002-0000-4000-8000-000000000002"),
        "{err}"
    );
    assert!(
        err.contains("dddddddd-0000-4000-8000-000000000002"),
        "{err}"
    );
    sandbox.shutdown().await;
}
