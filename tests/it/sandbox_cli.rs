//! `steward sandbox serve` as a real process: the first stdout line, seeding a state file,
//! and durability of acknowledged writes across `kill -9`.

use crate::sandbox_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use sandbox_support::{ADMIN, small_tenant, write_state};

/// Starts the binary and returns it with the base URL from its first stdout line.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["sandbox", "serve"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("steward starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn a_write_survives_kill_9_right_after_its_response() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant.json");
    write_state(&state, &small_tenant());
    let state_arg = state.to_str().unwrap();
    let (child, url) = serve(&["--state", state_arg, "--accept-token", ADMIN]);
    let client = reqwest::Client::new();
    let created = client
        .post(format!(
            "{url}/v1.0/identity/conditionalAccess/namedLocations"
        ))
        .bearer_auth(ADMIN)
        .json(
            &json!({"@odata.type": "#microsoft.graph.countryNamedLocation",
            "displayName": "Blocked countries", "countriesAndRegions": ["KP"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    // SIGKILL: no chance to flush anything after the response.
    stop(child);

    let (child, url) = serve(&["--state", state_arg, "--accept-token", ADMIN]);
    let got = client
        .get(format!(
            "{url}/v1.0/identity/conditionalAccess/namedLocations/{}",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.json::<Value>().await.unwrap()["countriesAndRegions"],
        json!(["KP"])
    );
    stop(child);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
}

fn demo() -> Value {
    Value::Object(steward::sandbox::seed::demo())
}

#[tokio::test]
async fn serve_seed_demo_creates_the_state_file_before_announcing_itself() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("demo.json");
    let (child, url) = serve(&[
        "--seed",
        "demo",
        "--state",
        state.to_str().unwrap(),
        "--accept-token",
        ADMIN,
    ]);
    // The file exists as soon as the first line is printed.
    assert!(Path::new(&state).exists());
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let seed = demo();
    for key in seed.as_object().unwrap().keys() {
        assert!(on_disk.get(key).is_some(), "state file holds {key}");
    }
    assert!(on_disk["_sandbox"]["signingKey"].is_string());

    let client = reqwest::Client::new();
    let expected = seed["identity/conditionalAccess/policies"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let listed: Value = client
        .get(format!("{url}/v1.0/identity/conditionalAccess/policies"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["value"].as_array().unwrap().len(), expected);

    // A client registered in the seed gets a token from the token endpoint and lists the
    // policies with it, as the README shows.
    let secret_client = seed["_sandbox"]["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["secret"].is_string()
                && c["roles"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!("Policy.Read.All")))
        })
        .cloned()
        .expect("the demo seed registers a client with a secret and Policy.Read.All");
    {
        let c = secret_client;
        let tok: Value = client
            .post(format!("{url}/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", c["clientId"].as_str().unwrap()),
                ("client_secret", c["secret"].as_str().unwrap()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let resp = client
            .get(format!("{url}/v1.0/identity/conditionalAccess/policies"))
            .bearer_auth(tok["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["value"].as_array().map(Vec::len), Some(expected));
    }
    stop(child);
}

#[test]
fn a_state_file_that_is_not_an_object_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("broken.json");
    std::fs::write(&state, "[1, 2, 3]").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["sandbox", "serve", "--state", state.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not valid"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing announced");
}
