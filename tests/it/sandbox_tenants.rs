//! A sandbox holding several tenants: each signs its own tokens and keeps its own data, and a
//! fleet signs in to each at its own authority, with its own credential where it names one.

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

/// The fleet against messy tenants: orphaned ids, duplicate and case-variant names, a type
/// steward does not model. Each tenant's plan reports its own, and none fails.
#[tokio::test]
async fn a_fleet_of_messy_tenants_plans_each_with_its_own_warnings() {
    let messy = |id: &str, domain: &str| SandboxTenant {
        seed: Seed::Messy,
        ..tenant(id, domain)
    };
    let sandbox = serve(vec![
        messy(A, "contoso.onmicrosoft.com"),
        messy(B, "fabrikam.onmicrosoft.com"),
    ])
    .await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    fleet(&scratch);
    let args = [
        "plan",
        "fleet",
        "--tenants",
        "contoso,fabrikam",
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
    for tenant in ["contoso", "fabrikam"] {
        let start = run
            .stdout
            .find(&format!("── tenant {tenant} ("))
            .unwrap_or_else(|| panic!("{tenant} planned:\n{}", run.stdout));
        let section = &run.stdout[start..];
        let section = &section[..section[3..]
            .find("── tenant ")
            .map_or(section.len(), |e| e + 3)];
        assert!(
            section.contains(
                "Warning: 2 references to deleted objects in the tenant (kept as ids; remove them in the portal to tidy up):"
            ),
            "{section}"
        );
        assert!(
            section.contains("Plan: 1 to add, 2 to change, 0 to destroy."),
            "{section}"
        );
    }
    sandbox.shutdown().await;
}

/// The real `steward sandbox serve` process: tokens, data, state files and write limits of
/// each tenant, over HTTP.
mod served {
    use std::io::{BufRead, BufReader};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::Duration;

    use serde_json::{Value, json};
    use steward::sandbox::seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DOMAIN, DEMO_TENANT_ID};

    const A: &str = "00000001-0000-4000-8000-000000000001";
    const B: &str = "00000002-0000-4000-8000-000000000002";
    const NAMED_LOCATIONS: &str = "identity/conditionalAccess/namedLocations";

    /// A running `steward sandbox serve`, killed when dropped.
    struct Served {
        child: Child,
        url: String,
        /// The `tenant ID DOMAIN` lines it printed on stderr.
        tenants: Vec<String>,
    }

    impl Drop for Served {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Starts the binary and reads its URL (stdout) and its `expected` tenant lines (stderr).
    fn serve(args: &[&str], expected: usize) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
            .args(["sandbox", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("steward starts");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        // Drain stderr on a thread so the server never blocks on a full pipe.
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let url = match line.trim().strip_prefix("listening on ") {
            Some(url) => url.to_string(),
            None => {
                let err: Vec<String> = rx.try_iter().collect();
                panic!("unexpected first line {line:?}; stderr: {err:?}");
            }
        };
        let tenants = (0..expected)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(10))
                    .expect("a tenant line on stderr")
            })
            .collect();
        Served {
            child,
            url,
            tenants,
        }
    }

    /// Runs the binary to completion (for usage errors).
    fn run(args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_steward"))
            .args(["sandbox", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .output()
            .expect("steward runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A token from the token endpoint of `tenant` (an id or a domain), with the demo client.
    async fn token(client: &reqwest::Client, url: &str, tenant: &str) -> String {
        let resp = token_response(client, url, tenant).await;
        assert_eq!(resp.0, 200, "token from {tenant}: {}", resp.1);
        resp.1["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    async fn token_response(client: &reqwest::Client, url: &str, tenant: &str) -> (u16, Value) {
        let resp = client
            .post(format!("{url}/{tenant}/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("the token endpoint answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(client: &reqwest::Client, url: &str, path: &str, token: &str) -> (u16, Value) {
        let resp = client
            .get(format!("{url}/v1.0/{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("Graph answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Creates a country named location called `name`; returns the status and the body.
    async fn create_location(
        client: &reqwest::Client,
        url: &str,
        token: &str,
        name: &str,
    ) -> (u16, Value) {
        let resp = client
            .post(format!("{url}/v1.0/{NAMED_LOCATIONS}"))
            .bearer_auth(token)
            .json(&json!({
                "@odata.type": "#microsoft.graph.countryNamedLocation",
                "displayName": name,
                "countriesAndRegions": ["KP"],
            }))
            .send()
            .await
            .expect("Graph answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The display names of the tenant's named locations.
    async fn location_names(client: &reqwest::Client, url: &str, token: &str) -> Vec<String> {
        let (status, body) = get(client, url, NAMED_LOCATIONS, token).await;
        assert_eq!(status, 200, "{body}");
        body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["displayName"].as_str().map(String::from))
            .collect()
    }

    /// The organization's id and initial domain, as Graph shows them to `token`.
    async fn organization(client: &reqwest::Client, url: &str, token: &str) -> (String, String) {
        let (status, body) = get(client, url, "organization", token).await;
        assert_eq!(status, 200, "{body}");
        let org = &body["value"][0];
        let initial = org["verifiedDomains"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["isInitial"] == json!(true))
            .and_then(|d| d["name"].as_str())
            .unwrap_or_default()
            .to_string();
        (org["id"].as_str().unwrap_or_default().to_string(), initial)
    }

    #[tokio::test]
    async fn each_tenant_signs_in_and_sees_only_its_own_data() {
        let fabrikam = format!("{B}=fabrikam.onmicrosoft.com");
        let served = serve(&["--seed", "demo", "--tenant", A, "--tenant", &fabrikam], 2);
        assert_eq!(
            served.tenants,
            vec![
                format!("tenant {A} t00000001.onmicrosoft.com"),
                format!("tenant {B} fabrikam.onmicrosoft.com"),
            ]
        );
        let url = &served.url;
        let client = reqwest::Client::new();
        // By id for one, by domain (in another case) for the other.
        let token_a = token(&client, url, A).await;
        let token_b = token(&client, url, "Fabrikam.OnMicrosoft.com").await;

        assert_eq!(
            organization(&client, url, &token_a).await,
            (A.to_string(), "t00000001.onmicrosoft.com".to_string())
        );
        assert_eq!(
            organization(&client, url, &token_b).await,
            (B.to_string(), "fabrikam.onmicrosoft.com".to_string())
        );
        let (_, users) = get(
            &client,
            url,
            "users?$filter=startswith(userPrincipalName,'breakglass')",
            &token_b,
        )
        .await;
        let mut upns: Vec<&str> = users["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["userPrincipalName"].as_str())
            .collect();
        upns.sort();
        assert_eq!(
            upns,
            vec![
                "breakglass1@fabrikam.onmicrosoft.com",
                "breakglass2@fabrikam.onmicrosoft.com"
            ]
        );

        let before_b = location_names(&client, url, &token_b).await;
        let (status, created) = create_location(&client, url, &token_a, "Only in A").await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().expect("an id");
        assert!(
            location_names(&client, url, &token_a)
                .await
                .contains(&"Only in A".to_string())
        );
        assert_eq!(location_names(&client, url, &token_b).await, before_b);
        let (status, _) = get(&client, url, &format!("{NAMED_LOCATIONS}/{id}"), &token_b).await;
        assert_eq!(status, 404, "tenant B cannot read tenant A's object");
        let (status, _) = get(&client, url, &format!("{NAMED_LOCATIONS}/{id}"), &token_a).await;
        assert_eq!(status, 200);
    }

    /// A token signed with tenant A's key but claiming tenant B is refused: B checks it with its own
    /// key. The same token claiming A is accepted, so the refusal is the tenant's doing.
    #[tokio::test]
    async fn a_token_of_one_tenant_never_reads_another() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let state_dir = dir.path().to_str().expect("a UTF-8 path");
        let served = serve(
            &[
                "--seed",
                "demo",
                "--tenant",
                A,
                "--tenant",
                B,
                "--state-dir",
                state_dir,
            ],
            2,
        );
        let state: Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("{A}.json"))).expect("A"),
        )
        .expect("JSON");
        let key_a = state["_sandbox"]["signingKey"]
            .as_str()
            .expect("a signing key");
        let forge = |tid: &str| {
            let now = chrono::Utc::now().timestamp();
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &json!({"aud": "https://graph.microsoft.com", "exp": now + 600, "nbf": now,
                    "iat": now, "tid": tid, "roles": ["Directory.Read.All", "Policy.Read.All"]}),
                &jsonwebtoken::EncodingKey::from_secret(key_a.as_bytes()),
            )
            .expect("a token")
        };
        let client = reqwest::Client::new();
        let url = &served.url;
        let (status, body) = get(&client, url, "organization", &forge(A)).await;
        assert_eq!((status, body["value"][0]["id"].clone()), (200, json!(A)));
        let (status, body) = get(&client, url, "organization", &forge(B)).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
        // A token naming no tenant served here, and no token at all.
        let (status, body) = get(&client, url, "organization", &forge(DEMO_TENANT_ID)).await;
        assert_eq!(
            (status, body["error"]["message"].clone()),
            (401, json!("Access token validation failure."))
        );
        let resp = client
            .get(format!("{url}/v1.0/organization"))
            .send()
            .await
            .expect("Graph answers");
        assert_eq!(resp.status(), 401);
        // $batch is routed by the token too.
        let token_b = token(&client, url, B).await;
        let resp = client
            .post(format!("{url}/v1.0/$batch"))
            .bearer_auth(&token_b)
            .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "/organization"}]}))
            .send()
            .await
            .expect("Graph answers");
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["responses"][0]["body"]["value"][0]["id"], B);
    }

    #[tokio::test]
    async fn an_unknown_tenant_is_not_found_like_entra_says() {
        let served = serve(&["--seed", "demo", "--tenant", A, "--tenant", B], 2);
        let client = reqwest::Client::new();
        let (status, body) = token_response(&client, &served.url, "nobody.onmicrosoft.com").await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_codes"], json!([90002]));
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with(
                "AADSTS90002: Tenant 'nobody.onmicrosoft.com' not found. Check to make sure you have the correct tenant ID"
            ),
            "{description}"
        );
        // Contoso's id is not served here either.
        let (status, body) = token_response(&client, &served.url, DEMO_TENANT_ID).await;
        assert_eq!((status, body["error_codes"].clone()), (400, json!([90002])));
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(path).expect("the state file")).expect("JSON")
    }

    #[tokio::test]
    async fn a_state_dir_keeps_one_file_per_tenant_across_restarts() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let state_dir = dir.path().join("tenants");
        let state_arg = state_dir.to_str().expect("a UTF-8 path");
        let args = [
            "--seed",
            "demo",
            "--tenant",
            A,
            "--tenant",
            B,
            "--state-dir",
            state_arg,
        ];
        let client = reqwest::Client::new();
        {
            let served = serve(&args, 2);
            let mut files: Vec<String> = std::fs::read_dir(&state_dir)
                .expect("the state directory exists")
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            assert_eq!(files, vec![format!("{A}.json"), format!("{B}.json")]);
            let b = read_json(&state_dir.join(format!("{B}.json")));
            assert_eq!(b["organization"][0]["id"], B);
            assert_eq!(
                b["organization"][0]["verifiedDomains"][0]["name"],
                "t00000002.onmicrosoft.com"
            );
            let token_a = token(&client, &served.url, A).await;
            let (status, _) = create_location(&client, &served.url, &token_a, "Kept in A").await;
            assert_eq!(status, 201);
        }
        let b_before = std::fs::read(state_dir.join(format!("{B}.json"))).expect("B's file");
        let served = serve(&args, 2);
        let token_a = token(&client, &served.url, A).await;
        let token_b = token(&client, &served.url, B).await;
        assert!(
            location_names(&client, &served.url, &token_a)
                .await
                .contains(&"Kept in A".to_string())
        );
        assert!(
            !location_names(&client, &served.url, &token_b)
                .await
                .contains(&"Kept in A".to_string())
        );
        assert_eq!(
            std::fs::read(state_dir.join(format!("{B}.json"))).expect("B's file"),
            b_before,
            "tenant A's write left B's file alone"
        );
    }

    #[tokio::test]
    async fn one_tenant_s_write_limit_does_not_slow_another() {
        let served = serve(
            &[
                "--seed",
                "empty",
                "--write-limits",
                "--tenant",
                A,
                "--tenant",
                &format!("{B}=fabrikam.onmicrosoft.com"),
                "--accept-token",
                &format!("{A}=token-a"),
                "--accept-token",
                "fabrikam.onmicrosoft.com=token-b",
            ],
            2,
        );
        let client = reqwest::Client::new();
        let url = &served.url;
        let (status, _) = create_location(&client, url, "token-a", "A first").await;
        assert_eq!(status, 201);
        // Graph allows one Conditional Access write per second per tenant.
        let (status, body) = create_location(&client, url, "token-a", "A second").await;
        assert_eq!(status, 429, "{body}");
        let (status, body) = create_location(&client, url, "token-b", "B first").await;
        assert_eq!(status, 201, "tenant B is not throttled by A: {body}");
        assert_eq!(
            location_names(&client, url, "token-a").await,
            vec!["A first"]
        );
        assert_eq!(
            location_names(&client, url, "token-b").await,
            vec!["B first"]
        );
        assert_eq!(
            organization(&client, url, "token-b").await,
            (B.to_string(), "fabrikam.onmicrosoft.com".to_string())
        );
    }

    #[tokio::test]
    async fn a_bare_token_is_accepted_and_reaches_the_first_tenant() {
        let served = serve(
            &[
                "--tenant",
                B,
                "--tenant",
                A,
                "--accept-token",
                "shared",
                "--accept-token",
                &format!("{A}=token-a"),
            ],
            2,
        );
        let client = reqwest::Client::new();
        assert_eq!(
            organization(&client, &served.url, "shared").await.0,
            B.to_string()
        );
        assert_eq!(
            organization(&client, &served.url, "token-a").await.0,
            A.to_string()
        );
        let (status, _) = get(&client, &served.url, "organization", "unknown-token").await;
        assert_eq!(status, 401);
    }

    #[tokio::test]
    async fn a_single_tenant_is_served_as_before() {
        let served = serve(&["--seed", "demo", "--accept-token", "letmein"], 0);
        let client = reqwest::Client::new();
        // Any tenant name reaches the one tenant, as it always did.
        for name in [DEMO_DOMAIN, A, "organizations"] {
            let token = token(&client, &served.url, name).await;
            assert_eq!(
                organization(&client, &served.url, &token).await,
                (DEMO_TENANT_ID.to_string(), DEMO_DOMAIN.to_string())
            );
        }
        assert_eq!(
            organization(&client, &served.url, "letmein").await.0,
            DEMO_TENANT_ID
        );
    }

    #[test]
    fn tenant_flags_are_checked_before_serving() {
        let (code, stderr) = run(&["--tenant", A, "--state", "x.json"]);
        assert_eq!(code, 64, "{stderr}");
        assert!(
            stderr.contains(
                "--state keeps a single tenant; with --tenant, use --state-dir DIR to keep one file per tenant (DIR/ID.json)"
            ),
            "{stderr}"
        );
        let (code, stderr) = run(&["--tenant", "contoso"]);
        assert_eq!(code, 64, "{stderr}");
        assert!(
            stderr.contains("`contoso` is not a tenant id (a GUID)"),
            "{stderr}"
        );
        let (code, stderr) = run(&["--state-dir", "tenants"]);
        assert_eq!(code, 64, "{stderr}");
        assert!(stderr.contains("--tenant"), "{stderr}");
        let (code, stderr) = run(&["--tenant", A, "--accept-token", "x.example.com=secret"]);
        assert_eq!(code, 64, "{stderr}");
        assert!(
            stderr.contains("--accept-token names tenant 'x.example.com', which no --tenant gives"),
            "{stderr}"
        );
        let (code, stderr) = run(&["--tenant", A, "--tenant", &A.to_uppercase()]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains(&format!("tenant {A} is configured twice")),
            "{stderr}"
        );
    }
}
