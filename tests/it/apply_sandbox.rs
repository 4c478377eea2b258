//! `steward apply` end to end against the sandbox tenant.

use crate::common;

use common::run;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;
use steward::sandbox::seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};

use common::{Scratch, repo, steward_async};

fn policies() -> String {
    repo().join("policies").display().to_string()
}

async fn ca_policies(url: &str) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(format!("{url}/v1.0/identity/conditionalAccess/policies"))
        .bearer_auth(common::TOKEN)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    body["value"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pack_applies_and_the_tenant_converges() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let applied = run(
        scratch.path(),
        &["apply", &policies(), "--auto-approve"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 8 added, 5 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    let plan = run(
        scratch.path(),
        &["plan", &policies(), "--detailed-exitcode"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    assert!(
        plan.stdout
            .ends_with("No changes. The tenant matches the configuration.\n")
    );

    // Two journal lines per write: `started` before it is sent, then its outcome with the
    // request-id.
    let journal =
        std::fs::read_to_string(scratch.path().join(".steward/journal.jsonl")).unwrap_or_default();
    let lines: Vec<Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(lines.len(), journal.lines().count(), "every line is JSON");
    assert!(lines.iter().all(|l| l["method"] != "GET"));
    let started: Vec<&Value> = lines.iter().filter(|l| l["event"] == "started").collect();
    let outcomes: Vec<&Value> = lines.iter().filter(|l| l["event"] != "started").collect();
    assert!(outcomes.iter().all(|l| l["event"] == "succeeded"
        && l["request_id"].is_string()
        && l["status"].as_u64().is_some_and(|s| s < 300)));
    for outcome in &outcomes {
        assert_eq!(
            started
                .iter()
                .filter(|s| s["attempt"] == outcome["attempt"])
                .count(),
            1,
            "each outcome follows its own start: {outcome}"
        );
    }
    // 8 creates (7 policies, the guest review), CA002's PATCH, the authorization, SharePoint and cross-tenant PATCHes, the
    // methods policy (its own PATCH plus one per changed method: fido2, authenticator, sms,
    // email, TAP), and one CSOM write per changed SharePoint setting outside Graph (OneDrive's
    // sharing, the default link and its permission, verification-code re-authentication).
    assert_eq!(started.len(), 22, "{journal}");
    assert_eq!(outcomes.len(), 22, "{journal}");
    assert_eq!(
        started
            .iter()
            .filter(|l| l["path"] == "_vti_bin/client.svc/ProcessQuery")
            .count(),
        4,
        "{journal}"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_errors_and_replication_delay_do_not_stop_convergence() {
    let sandbox = common::demo(SandboxConfig {
        throttle_every: 3,
        retry_after_ms: 0,
        fail_every: 7,
        consistency_delay_ms: 500,
        ..SandboxConfig::default()
    })
    .await;
    let scratch = Scratch::new();
    // A 503 on a create leaves its outcome unknown: the object is looked for until the
    // replication delay (500 ms here) is surely over before the create is sent again.
    let applied = run(
        scratch.path(),
        &[
            "apply",
            &policies(),
            "--auto-approve",
            "--replication-wait",
            "1.5",
        ],
        &sandbox.url(),
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let plan = run(
        scratch.path(),
        &["plan", &policies(), "--detailed-exitcode"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    sandbox.shutdown().await;
}

/// The real binary serving a sandbox from a state file, and its URL.
fn serve(state: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["sandbox", "serve", "--seed", "demo", "--state"])
        .arg(state)
        .args(["--accept-token", common::TOKEN])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sandbox starts");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line).ok();
    }
    let url = line.trim().trim_start_matches("listening on ").to_string();
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_apply_converges_on_the_next_apply_without_duplicates() {
    let scratch = Scratch::new();
    let state = scratch.path().join("tenant.json");
    let (mut server, url) = serve(&state, &["--latency-ms", "150"]);
    let dir = scratch.path().to_path_buf();
    let apply_url = url.clone();
    let first = tokio::spawn(async move {
        run(&dir, &["apply", &policies(), "--auto-approve"], &apply_url).await
    });
    // Let some writes land, then pull the plug.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    server.kill().ok();
    server.wait().ok();
    let interrupted = first.await.expect("the first apply ran");
    assert_eq!(
        interrupted.code, 1,
        "an interrupted apply fails: {}",
        interrupted.stdout
    );

    let (mut server, url) = serve(&state, &[]);
    let again = run(
        scratch.path(),
        &["apply", &policies(), "--auto-approve"],
        &url,
    )
    .await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let plan = run(
        scratch.path(),
        &["plan", &policies(), "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    let names: Vec<String> = ca_policies(&url)
        .await
        .iter()
        .filter_map(|p| p["displayName"].as_str().map(String::from))
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        names.len(),
        unique.len(),
        "no policy was created twice: {names:?}"
    );
    assert_eq!(names.len(), 11, "{names:?}");
    server.kill().ok();
    server.wait().ok();
}

/// A small configuration: one location and one policy using it.
fn small(scratch: &Scratch, state: &str) -> String {
    scratch.write(
        "small/policy.kdl",
        format!(
            r#"emergency-access {{
    user "breakglass1@contoso.onmicrosoft.com"
    user "breakglass2@contoso.onmicrosoft.com"
}}
named-location "Lab network" {{
    ip-ranges "198.51.100.0/24"
    is-trusted #false
}}
conditional-access-policy "Block the lab network" {{
    state {state}
    conditions {{
        users {{
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "breakglass2@contoso.onmicrosoft.com"
        }}
        applications {{ include-applications All }}
        locations {{ include-locations "Lab network" }}
    }}
    grant-controls {{ built-in-controls block }}
}}
"#
        ),
    );
    "small".to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_when_the_tenant_or_the_files_changed_and_applied_otherwise() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let dir = small(&scratch, "enabled");
    // The plan updates SharePoint settings too, so it touches an existing object.
    scratch.write(
        "small/sharepoint.kdl",
        "sharepoint-settings {\n    is-loop-enabled #false\n}\n",
    );

    let planned = run(scratch.path(), &["plan", &dir, "--out", "plan.json"], &url).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let patched = reqwest::Client::new()
        .patch(format!("{url}/v1.0/admin/sharepoint/settings"))
        .bearer_auth(common::TOKEN)
        .json(&json!({"sharingCapability": "disabled"}))
        .send()
        .await
        .expect("PATCH");
    assert!(patched.status().is_success());
    let refused = run(
        scratch.path(),
        &["apply", &dir, "--plan", "plan.json"],
        &url,
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("the saved plan is stale: sharepoint-settings changed in the tenant"),
        "{}",
        refused.stderr
    );

    let planned = run(scratch.path(), &["plan", &dir, "--out", "plan.json"], &url).await;
    assert_eq!(planned.code, 0);
    scratch.write(
        "small/sharepoint.kdl",
        "sharepoint-settings {\n    is-loop-enabled #true\n}\n",
    );
    let refused = run(
        scratch.path(),
        &["apply", &dir, "--plan", "plan.json"],
        &url,
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("the saved plan is stale: the policy files changed"),
        "{}",
        refused.stderr
    );

    scratch.write(
        "small/sharepoint.kdl",
        "sharepoint-settings {\n    is-loop-enabled #false\n}\n",
    );
    let planned = run(scratch.path(), &["plan", &dir, "--out", "plan.json"], &url).await;
    assert_eq!(planned.code, 0);
    let applied = run(
        scratch.path(),
        &["apply", &dir, "--plan", "plan.json"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 2 added, 1 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_could_lock_out_every_admin_is_refused_unless_waived() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let policy = |waiver: &str| {
        format!(
            r#"emergency-access {{
    user "breakglass1@contoso.onmicrosoft.com"
    user "breakglass2@contoso.onmicrosoft.com"
}}
conditional-access-policy "Block everything" {{
    state enabled
    {waiver}
    conditions {{
        users {{
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com"
        }}
        applications {{ include-applications All }}
    }}
    grant-controls {{ built-in-controls block }}
}}
"#
        )
    };
    scratch.write("lock/policy.kdl", policy(""));
    let refused = run(scratch.path(), &["apply", "lock", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1);
    // Diagnostics wrap; compare with the wrapping (and miette's margin) taken out.
    let flat = refused
        .stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("enabled policy \"Block everything\" could lock the emergency-access accounts out (it targets all users): it does not exclude breakglass2@contoso.onmicrosoft.com"),
        "{}",
        refused.stderr
    );
    assert!(
        !ca_policies(&url)
            .await
            .iter()
            .any(|p| p["displayName"] == "Block everything"),
        "nothing was written"
    );

    scratch.write(
        "lock/policy.kdl",
        policy("lockout-waiver \"breakglass2 is being replaced this week (CHG-1234)\""),
    );
    let applied = run(scratch.path(), &["apply", "lock", "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_creates_report_only_policies_and_the_journal_holds_no_secret() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let dir = small(&scratch, "enabled");
    let applied = steward_async(
        scratch.path(),
        &[
            "apply",
            &dir,
            "--auto-approve",
            "--stage",
            "--journal",
            "audit/journal.jsonl",
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
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let policy = ca_policies(&url)
        .await
        .into_iter()
        .find(|p| p["displayName"] == "Block the lab network")
        .expect("created");
    assert_eq!(policy["state"], "enabledForReportingButNotEnforced");

    let journal =
        std::fs::read_to_string(scratch.path().join("audit/journal.jsonl")).unwrap_or_default();
    assert_eq!(
        journal.lines().count(),
        4,
        "two lines per write, started and succeeded: {journal}"
    );
    assert!(
        !journal.contains(DEMO_CLIENT_SECRET),
        "no client secret in the journal"
    );
    assert!(!journal.contains("eyJ"), "no token in the journal");
    for output in [&applied.stdout, &applied.stderr] {
        assert!(!output.contains(DEMO_CLIENT_SECRET));
        assert!(!output.contains("eyJ"));
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_or_auto_approve_apply_refuses() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let dir = small(&scratch, "disabled");
    let refused = run(scratch.path(), &["apply", &dir], &sandbox.url()).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("no terminal to confirm on: pass --auto-approve"),
        "{}",
        refused.stderr
    );
    assert!(
        !ca_policies(&sandbox.url())
            .await
            .iter()
            .any(|p| p["displayName"] == "Block the lab network")
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_is_reported_with_graphs_error_its_dependents_skipped_and_the_rest_applied()
{
    let scratch = Scratch::new();
    let path = common::demo_state_with_clients(
        scratch.path(),
        vec![
            json!({"clientId": "0f0f0f0f-0000-4000-8000-0000000000ca", "displayName": "no CA writes", "secret": "s",
            "roles": ["Policy.Read.All", "SharePointTenantSettings.ReadWrite.All", "Directory.Read.All", "RoleManagement.Read.Directory"]}),
        ],
    );
    let sandbox = common::demo(SandboxConfig {
        state: Some(path),
        ..SandboxConfig::default()
    })
    .await;
    let url = sandbox.url();
    let dir = small(&scratch, "enabled");
    scratch.write(
        "small/sharepoint.kdl",
        "sharepoint-settings {\n    is-loop-enabled #false\n}\n",
    );
    let out = steward_async(
        scratch.path(),
        &["apply", &dir, "--auto-approve"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", "0f0f0f0f-0000-4000-8000-0000000000ca"),
            ("AZURE_CLIENT_SECRET", "s"),
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Apply incomplete: 1 applied, 1 failed, 1 skipped."),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  applied  sharepoint-settings"),
        "{}",
        out.stdout
    );
    let failed = out
        .stdout
        .lines()
        .find(|l| l.starts_with("  FAILED   named-location \"Lab network\""))
        .unwrap_or_default();
    assert!(
        failed.contains("403")
            && failed.contains("Authorization_RequestDenied")
            && failed.contains("request-id"),
        "{failed}"
    );
    // The journal keeps Graph's answer as fields, not only as the text printed.
    let journal =
        std::fs::read_to_string(scratch.path().join(".steward/journal.jsonl")).unwrap_or_default();
    let outcome: Value = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["event"] == "failed" && l["resource"] == "named-location \"Lab network\"")
        .unwrap_or_default();
    let graph = &outcome["graph"];
    assert_eq!(graph["status"], 403, "{outcome}");
    assert_eq!(graph["code"], "Authorization_RequestDenied", "{outcome}");
    assert!(
        graph["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{outcome}"
    );
    let request_id = graph["request_id"].as_str().unwrap_or_default();
    assert!(
        !request_id.is_empty() && failed.contains(request_id),
        "{outcome}\n{failed}"
    );
    assert_eq!(outcome["request_id"], request_id, "{outcome}");
    assert!(
        graph["client_request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{outcome}"
    );
    assert!(
        out.stdout.contains("  skipped  conditional-access-policy \"Block the lab network\" (waits for named-location \"Lab network\")"),
        "{}",
        out.stdout
    );
    sandbox.shutdown().await;
}

/// Runs `steward ARGS` on a pseudo-terminal (util-linux `script`), typing `answer`.
#[cfg(unix)]
fn on_terminal(dir: &Path, args: &str, url: &str, answer: &str) -> (i32, String) {
    use std::io::Write;
    let command = format!(
        "NO_COLOR=1 STEWARD_GRAPH_URL={url} STEWARD_GRAPH_TOKEN={} {} {args}",
        common::TOKEN,
        env!("CARGO_BIN_EXE_steward")
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the command on a pseudo-terminal");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(answer.as_bytes()).ok();
    }
    let out = child.wait_with_output().expect("the command ran");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_apply_asks_and_only_yes_applies() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let dir = small(&scratch, "disabled");
    let path = scratch.path().to_path_buf();
    let args = format!("apply {dir}");
    let (path2, url2, args2) = (path.clone(), url.clone(), args.clone());
    let (code, screen) =
        tokio::task::spawn_blocking(move || on_terminal(&path2, &args2, &url2, "no\n"))
            .await
            .expect("ran");
    assert!(
        screen.contains("Only 'yes' will be accepted to approve."),
        "{screen}"
    );
    assert!(screen.contains("Apply cancelled."), "{screen}");
    assert_eq!(code, 1);
    assert!(
        !ca_policies(&url)
            .await
            .iter()
            .any(|p| p["displayName"] == "Block the lab network")
    );

    let (code, screen) =
        tokio::task::spawn_blocking(move || on_terminal(&path, &args, &url, "yes\n"))
            .await
            .expect("ran");
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{screen}"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_shows_guards_and_saves_the_report_only_state_it_creates() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    // Blocks everyone, the break-glass accounts included: only staging makes it safe.
    scratch.write(
        "staged/policy.kdl",
        r#"emergency-access {
    user "breakglass1@contoso.onmicrosoft.com"
    user "breakglass2@contoso.onmicrosoft.com"
}
conditional-access-policy "Block everyone (pilot)" {
    state enabled
    conditions {
        users { include-users All }
        applications { include-applications All }
    }
    grant-controls { built-in-controls block }
}
"#,
    );
    let refused = run(scratch.path(), &["apply", "staged", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "enforced, it would lock everyone out");

    let planned = run(
        scratch.path(),
        &["plan", "staged", "--stage", "--out", "staged.json"],
        &url,
    )
    .await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(
        planned.stdout.lines().any(|l| {
            l.trim_start().starts_with("+ state")
            && l.ends_with(
                "= \"enabledForReportingButNotEnforced\"  # staged: created report-only by --stage"
            )
        }),
        "{}",
        planned.stdout
    );
    let saved = std::fs::read_to_string(scratch.path().join("staged.json")).unwrap_or_default();
    let saved: Value = serde_json::from_str(&saved).expect("JSON");
    let change = &saved["plan"]["resources"][0];
    assert_eq!(
        change["after"]["state"],
        "enabledForReportingButNotEnforced"
    );
    assert_eq!(change["staged"], true);

    let unstaged = run(
        scratch.path(),
        &["apply", "staged", "--plan", "staged.json"],
        &url,
    )
    .await;
    assert_eq!(
        unstaged.code, 1,
        "a staged plan is not what an unstaged apply writes: {}",
        unstaged.stdout
    );
    let applied = run(
        scratch.path(),
        &["apply", "staged", "--stage", "--plan", "staged.json"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let policy = ca_policies(&url)
        .await
        .into_iter()
        .find(|p| p["displayName"] == "Block everyone (pilot)")
        .expect("created");
    assert_eq!(policy["state"], "enabledForReportingButNotEnforced");
    sandbox.shutdown().await;
}
