//! A sandbox holding several tenants: each signs its own tokens and keeps its own data, and a
//! fleet signs in to each at its own authority, with its own credential where it names one.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use steward::sandbox::seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use steward::sandbox::{RunningSandbox, SandboxConfig, SandboxTenant, Seed, start};

use crate::common::{Scratch, copy_dir, repo, steward_async};

const A: &str = "00000001-0000-4000-8000-000000000001";
const B: &str = "00000002-0000-4000-8000-000000000002";
const C: &str = "00000003-0000-4000-8000-000000000003";

fn tenant(id: &str, domain: &str) -> SandboxTenant {
    SandboxTenant {
        id: id.into(),
        domain: Some(domain.into()),
        seed: Seed::Demo,
        state: None,
        accept_tokens: Vec::new(),
    }
}

async fn serve(tenants: Vec<SandboxTenant>) -> RunningSandbox {
    start(SandboxConfig {
        tenants,
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts")
}

async fn token(url: &str, tenant: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/{tenant}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request")
}

async fn bearer(url: &str, tenant: &str) -> String {
    let answer: Value = token(url, tenant).await.json().await.expect("JSON");
    answer["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

async fn get(url: &str, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{url}/v1.0/{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn each_tenant_signs_its_own_tokens_and_keeps_its_own_data() {
    let sandbox = serve(vec![
        tenant(A, "contoso.onmicrosoft.com"),
        tenant(B, "fabrikam.onmicrosoft.com"),
    ])
    .await;
    let url = sandbox.url();
    assert_eq!(
        sandbox.tenants(),
        [
            (A.to_string(), "contoso.onmicrosoft.com".to_string()),
            (B.to_string(), "fabrikam.onmicrosoft.com".to_string())
        ]
    );
    // By id or by domain, any case.
    let a = bearer(&url, A).await;
    let b = bearer(&url, "FABRIKAM.onmicrosoft.com").await;

    let org_a = get(&url, &a, "organization").await;
    let org_b = get(&url, &b, "organization").await;
    assert_eq!(org_a["value"][0]["id"], A);
    assert_eq!(org_b["value"][0]["id"], B);
    let users_b = get(&url, &b, "users?$select=userPrincipalName").await;
    let upns: Vec<&str> = users_b["value"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str())
        .collect();
    assert!(
        upns.contains(&"breakglass1@fabrikam.onmicrosoft.com"),
        "{upns:?}"
    );
    assert!(
        !upns.iter().any(|u| u.ends_with("@contoso.onmicrosoft.com")),
        "{upns:?}"
    );

    // A write in one tenant is not in the other.
    let created = reqwest::Client::new()
        .post(format!("{url}/v1.0/identity/conditionalAccess/namedLocations"))
        .bearer_auth(&a)
        .json(&json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": "Only in A",
            "isTrusted": false,
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.0/24"}]
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status().as_u16(), 201);
    let names = |v: Value| -> Vec<String> {
        v["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter_map(|l| l["displayName"].as_str().map(String::from))
            .collect()
    };
    let in_a = names(get(&url, &a, "identity/conditionalAccess/namedLocations").await);
    let in_b = names(get(&url, &b, "identity/conditionalAccess/namedLocations").await);
    assert!(in_a.contains(&"Only in A".to_string()));
    assert!(!in_b.contains(&"Only in A".to_string()), "{in_b:?}");

    // A tenant the sandbox does not hold: Entra's answer.
    let unknown = token(&url, "northwind.onmicrosoft.com").await;
    assert_eq!(unknown.status().as_u16(), 400);
    let body: Value = unknown.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_codes"], json!([90002]));
    sandbox.shutdown().await;
}

/// The example fleet, in a scratch directory.
fn fleet(scratch: &Scratch) -> std::path::PathBuf {
    let dir = scratch.path().join("fleet");
    copy_dir(&repo().join("examples/fleet"), &dir);
    dir
}

#[tokio::test]
async fn a_fleet_signs_in_to_each_tenant_at_its_own_authority() {
    let sandbox = serve(vec![
        tenant(A, "contoso.onmicrosoft.com"),
        tenant(B, "fabrikam.onmicrosoft.com"),
        tenant(C, "tailspin.onmicrosoft.com"),
    ])
    .await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let dir = fleet(&scratch);
    let args = [
        "plan",
        "fleet",
        "--tenants",
        "all",
        "--graph-url",
        &url,
        "--login-url",
        &url,
    ];
    let env = [
        ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
        ("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET),
    ];
    let run = steward_async(scratch.path(), &args, &env).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.ends_with(
            "Fleet: 3 tenants: 0 unchanged, 3 with changes (contoso, fabrikam, tailspin), 0 failed.\n"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains(DEMO_CLIENT_SECRET));
    assert!(!run.stderr.contains(DEMO_CLIENT_SECRET));

    // Tailspin signs in with its own secret, which is wrong: it fails, the others do not.
    let tenant_kdl = dir.join("tenants/tailspin/tenant.kdl");
    let text = std::fs::read_to_string(&tenant_kdl).expect("tenant.kdl");
    std::fs::write(
        &tenant_kdl,
        format!("{text}sign-in secret-env=\"TAILSPIN_SECRET\"\n"),
    )
    .expect("write");
    let env = [
        ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
        ("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        ("TAILSPIN_SECRET", "not-the-secret"),
    ];
    let run = steward_async(scratch.path(), &args, &env).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.ends_with(
            "Fleet: 3 tenants: 0 unchanged, 2 with changes (contoso, fabrikam), 1 failed (tailspin).\n"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("AADSTS7000215"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-secret"));
    sandbox.shutdown().await;
}

#[test]
fn serve_holds_the_tenants_it_is_given_each_in_its_own_state_file() {
    let scratch = Scratch::new();
    let states = scratch.path().join("states");
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["sandbox", "serve", "--seed", "demo", "--state-dir"])
        .arg(&states)
        .args([
            "--tenant",
            &format!("{A}=contoso.onmicrosoft.com"),
            "--tenant",
            B,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("steward starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    let _ = child.kill();
    let output = child.wait_with_output().expect("stopped");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        format!("tenant {A} contoso.onmicrosoft.com\ntenant {B} t00000002.onmicrosoft.com\n")
    );
    for (id, domain) in [
        (A, "contoso.onmicrosoft.com"),
        (B, "t00000002.onmicrosoft.com"),
    ] {
        let state: Value = serde_json::from_str(
            &std::fs::read_to_string(states.join(format!("{id}.json"))).expect("state file"),
        )
        .expect("JSON");
        assert_eq!(state["organization"][0]["id"], id);
        assert!(state.to_string().contains(&format!("breakglass1@{domain}")));
    }

    let both = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["sandbox", "serve", "--state", "x.json", "--tenant", A])
        .output()
        .expect("steward runs");
    assert_eq!(both.status.code(), Some(64));
    let bad = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["sandbox", "serve", "--tenant", "contoso"])
        .output()
        .expect("steward runs");
    assert_eq!(bad.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`contoso` is not a tenant id (a GUID)"));
}
