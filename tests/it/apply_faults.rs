//! `steward apply` under faults: answers lost after a write took effect, replication delays,
//! crashed runs, failed reads. No object is ever created twice, and every report says what
//! really happened.

use crate::common;

use crate::fault_proxy;
use common::run;

use std::path::Path;

use serde_json::{Value, json};
use steward::sandbox::{RunningSandbox, SandboxConfig};

use common::Scratch;
use fault_proxy::Fault;

/// One named location and one policy using it.
fn small(scratch: &Scratch) -> String {
    scratch.write(
        "small/policy.kdl",
        r#"emergency-access {
    user "breakglass1@contoso.onmicrosoft.com"
    user "breakglass2@contoso.onmicrosoft.com"
}
named-location "Lab network" {
    ip-ranges "198.51.100.0/24"
    is-trusted #false
}
conditional-access-policy "Block the lab network" {
    state enabled
    conditions {
        users {
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "breakglass2@contoso.onmicrosoft.com"
        }
        applications { include-applications All }
        locations { include-locations "Lab network" }
    }
    grant-controls { built-in-controls block }
}
"#,
    );
    "small".to_string()
}

/// The display names of a collection as the sandbox's state file holds them, objects still
/// invisible to reads included.
fn stored_names(state: &Path, collection: &str) -> Vec<String> {
    let text = std::fs::read_to_string(state).unwrap_or_default();
    let state: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut names: Vec<String> = state[collection]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["displayName"].as_str().map(String::from))
        .collect();
    names.sort();
    names
}

const LOCATIONS: &str = "identity/conditionalAccess/namedLocations";
const POLICIES: &str = "identity/conditionalAccess/policies";

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

/// A demo sandbox keeping its state in `dir/tenant.json`.
async fn sandbox(dir: &Path, tweak: impl FnOnce(&mut SandboxConfig)) -> RunningSandbox {
    let mut config = SandboxConfig {
        state: Some(dir.join("tenant.json")),
        ..SandboxConfig::default()
    };
    tweak(&mut config);
    common::demo(config).await
}

async fn requests(sandbox: &RunningSandbox) -> Vec<Value> {
    reqwest::get(format!("{}/_sandbox/requests", sandbox.url()))
        .await
        .expect("the request log")
        .json::<Value>()
        .await
        .expect("JSON")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join(".steward/journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verification_read_is_reported_as_such_with_graphs_error() {
    let scratch = Scratch::new();
    let sandbox = sandbox(scratch.path(), |_| {}).await;
    let proxy = fault_proxy::start(
        &sandbox.url(),
        Fault::FailReadsAfterWrite("verify-read-request-id"),
    )
    .await;
    scratch.write(
        "settings/sharepoint.kdl",
        "sharepoint-settings {\n    is-loop-enabled #false\n}\n",
    );
    let out = run(
        scratch.path(),
        &["apply", "settings", "--auto-approve"],
        &proxy.url,
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("error: the verification read failed: ")
            && out.stderr.contains("HTTP 500")
            && out.stderr.contains("request-id verify-read-request-id"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "Not verified: the changes above were sent, but the tenant could not be read back"
        ),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("did not keep what was sent"),
        "nothing says the tenant did not keep the change: {}",
        out.stderr
    );
    proxy.stop();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_504_after_it_took_effect_is_adopted_not_sent_again() {
    let scratch = Scratch::new();
    // Every write is carried out, then answered 504 Gateway Timeout.
    let sandbox = sandbox(scratch.path(), |c| c.write_timeout_every = 1).await;
    let dir = small(&scratch);
    let out = run(
        scratch.path(),
        &["apply", &dir, "--auto-approve"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{}",
        out.stdout
    );
    let state = scratch.path().join("tenant.json");
    assert_eq!(count(&stored_names(&state, LOCATIONS), "Lab network"), 1);
    assert_eq!(
        count(&stored_names(&state, POLICIES), "Block the lab network"),
        1
    );
    let posts: Vec<Value> = requests(&sandbox)
        .await
        .into_iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/conditionalAccess/"))
        })
        .collect();
    assert_eq!(
        posts.len(),
        2,
        "one POST per object, none repeated: {posts:?}"
    );
    assert!(posts.iter().all(|p| p["status"] == 504));
    let events: Vec<(String, String)> = journal(scratch.path())
        .iter()
        .map(|l| {
            (
                l["resource"].as_str().unwrap_or_default().to_string(),
                l["event"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let location = "named-location \"Lab network\"".to_string();
    assert_eq!(
        events
            .iter()
            .filter(|(r, _)| *r == location)
            .map(|(_, e)| e.as_str())
            .collect::<Vec<_>>(),
        ["started", "unknown", "adopted"]
    );
    let plan = run(
        scratch.path(),
        &["plan", &dir, "--detailed-exitcode"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_never_arrives_is_adopted_not_sent_again() {
    let scratch = Scratch::new();
    let sandbox = sandbox(scratch.path(), |_| {}).await;
    // The first create is carried out, then the connection breaks before its answer.
    let proxy = fault_proxy::start(&sandbox.url(), Fault::DropCreateAnswers(1)).await;
    let dir = small(&scratch);
    let out = run(
        scratch.path(),
        &["apply", &dir, "--auto-approve"],
        &proxy.url,
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let state = scratch.path().join("tenant.json");
    assert_eq!(count(&stored_names(&state, LOCATIONS), "Lab network"), 1);
    assert_eq!(
        count(&stored_names(&state, POLICIES), "Block the lab network"),
        1
    );
    let outcome = journal(scratch.path())
        .into_iter()
        .find(|l| l["event"] == "unknown")
        .expect("the lost answer is journalled as an unknown outcome");
    assert_eq!(outcome["resource"], "named-location \"Lab network\"");
    assert!(
        outcome["error"]
            .as_str()
            .is_some_and(|e| e.contains("broke the connection")),
        "{outcome}"
    );
    proxy.stop();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_but_not_yet_readable_then_a_rerun_creates_no_second_copy() {
    let scratch = Scratch::new();
    // New objects stay invisible to reads for 4 s; the first run gives up waiting at 0.2 s.
    let sandbox = sandbox(scratch.path(), |c| c.consistency_delay_ms = 4000).await;
    let dir = small(&scratch);
    let first = run(
        scratch.path(),
        &["apply", &dir, "--auto-approve", "--replication-wait", "0.2"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(first.code, 1, "{}{}", first.stdout, first.stderr);
    assert!(
        first
            .stderr
            .contains("error: named-location \"Lab network\" was created but cannot be read back"),
        "{}",
        first.stderr
    );
    // At once, while both objects are still invisible: the journal says they were created,
    // so they are looked for until they show up, and adopted.
    let again = run(
        scratch.path(),
        &["apply", &dir, "--auto-approve", "--replication-wait", "8"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let state = scratch.path().join("tenant.json");
    assert_eq!(count(&stored_names(&state, LOCATIONS), "Lab network"), 1);
    assert_eq!(
        count(&stored_names(&state, POLICIES), "Block the lab network"),
        1
    );
    let plan = run(
        scratch.path(),
        &["plan", &dir, "--detailed-exitcode"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_a_killed_run_started_is_waited_for_and_adopted() {
    let scratch = Scratch::new();
    let sandbox = sandbox(scratch.path(), |c| c.consistency_delay_ms = 1500).await;
    // A run was killed after sending this create: the tenant has the object (not yet
    // readable), the journal only its start.
    let created = reqwest::Client::new()
        .post(format!("{}/v1.0/{LOCATIONS}", sandbox.url()))
        .bearer_auth(common::TOKEN)
        .json(&json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": "Lab network",
            "isTrusted": false,
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}]
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.expect("JSON")["id"].clone();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    scratch.write(
        ".steward/journal.jsonl",
        format!(
            "{}\n",
            json!({"time": now, "attempt": "killed", "event": "started",
                   "resource": "named-location \"Lab network\"", "action": "create",
                   "method": "POST", "path": LOCATIONS})
        ),
    );
    let dir = small(&scratch);
    let out = run(
        scratch.path(),
        &["apply", &dir, "--auto-approve", "--replication-wait", "6"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let state = scratch.path().join("tenant.json");
    assert_eq!(count(&stored_names(&state, LOCATIONS), "Lab network"), 1);
    let adopted = journal(scratch.path())
        .into_iter()
        .find(|l| l["event"] == "adopted")
        .expect("the object is adopted");
    assert_eq!(adopted["id"], id);
    sandbox.shutdown().await;
}
