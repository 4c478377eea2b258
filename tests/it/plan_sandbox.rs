//! `steward plan` and `steward drift` end to end against the sandbox tenant.

use crate::common;

use std::path::Path;

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;

use common::{Scratch, repo, steward_async as steward};

fn env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STEWARD_GRAPH_URL", url.to_string()),
        ("STEWARD_GRAPH_TOKEN", common::TOKEN.to_string()),
    ]
}

async fn run(dir: &Path, args: &[&str], env: &[(&'static str, String)]) -> common::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    steward(dir, args, &env).await
}

fn policies() -> String {
    repo().join("policies").display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pack_against_the_demo_tenant_in_all_three_formats() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let env = env(&sandbox.url());
    let human = run(scratch.path(), &["plan", &policies()], &env).await;
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .ends_with("Plan: 8 to add, 5 to change, 0 to destroy.\n"),
        "{}",
        human.stdout
    );
    insta::assert_snapshot!("demo_plan_human", human.stdout);

    let markdown = run(
        scratch.path(),
        &["plan", &policies(), "--format", "markdown"],
        &env,
    )
    .await;
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(markdown.stdout.starts_with("<!-- steward-plan -->\n"));
    insta::assert_snapshot!("demo_plan_markdown", markdown.stdout);

    let json = run(
        scratch.path(),
        &[
            "plan",
            &policies(),
            "--format",
            "json",
            "--detailed-exitcode",
        ],
        &env,
    )
    .await;
    assert_eq!(
        json.code, 2,
        "changes, with --detailed-exitcode: {}",
        json.stderr
    );
    let document: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/plan.schema.json")).unwrap_or_default(),
    )
    .expect("the committed schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(
        document["summary"],
        json!({"add": 8, "change": 5, "destroy": 0})
    );
    insta::assert_snapshot!("demo_plan_json", json.stdout);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_plans_no_changes_and_drift_is_silent_until_someone_edits_the_tenant() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let env = env(&sandbox.url());
    let export = run(scratch.path(), &["export", "--out", "exported"], &env).await;
    assert_eq!(export.code, 0, "{}", export.stderr);

    let plan = run(
        scratch.path(),
        &["plan", "exported", "--detailed-exitcode"],
        &env,
    )
    .await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .ends_with("No changes. The tenant matches the configuration.\n"),
        "{}",
        plan.stdout
    );

    let quiet = run(scratch.path(), &["drift", "exported"], &env).await;
    assert_eq!(quiet.code, 0, "{}{}", quiet.stdout, quiet.stderr);

    // Someone loosens sharing in the portal.
    let http = reqwest::Client::new();
    let patched = http
        .patch(format!("{}/v1.0/admin/sharepoint/settings", sandbox.url()))
        .bearer_auth(common::TOKEN)
        .json(&json!({"sharingCapability": "externalUserAndGuestSharing", "isLoopEnabled": false}))
        .send()
        .await
        .expect("PATCH");
    assert!(patched.status().is_success());
    let drifted = run(scratch.path(), &["drift", "exported"], &env).await;
    assert_eq!(drifted.code, 2, "{}{}", drifted.stdout, drifted.stderr);
    assert!(
        drifted.stdout.contains("sharepoint-settings"),
        "{}",
        drifted.stdout
    );
    assert!(
        drifted.stdout.contains("is-loop-enabled"),
        "{}",
        drifted.stdout
    );
    let markdown = run(
        scratch.path(),
        &["drift", "exported", "--format", "markdown"],
        &env,
    )
    .await;
    assert_eq!(markdown.code, 2);
    assert!(markdown.stdout.starts_with("<!-- steward-drift -->\n"));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_stops_the_plan_pointing_at_the_file() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    scratch.write(
        "p/ca.kdl",
        r#"conditional-access-policy "Pilot MFA" {
    state enabledForReportingButNotEnforced
    conditions {
        users {
            include-groups "Pilot - Passwordles"
        }
        applications { include-applications All }
    }
    grant-controls { built-in-controls mfa }
}
"#,
    );
    let out = run(scratch.path(), &["plan", "p"], &env(&sandbox.url())).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "", "no plan is printed");
    assert!(out.stderr.contains("p/ca.kdl:5:28"), "{}", out.stderr);
    let flat = out
        .stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("group \"Pilot - Passwordles\" does not exist in the tenant"),
        "{}",
        out.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tenant_or_a_403_produces_no_plan() {
    let failing = common::demo(SandboxConfig {
        fail_every: 1,
        ..SandboxConfig::default()
    })
    .await;
    let scratch = Scratch::new();
    let out = run(scratch.path(), &["plan", &policies()], &env(&failing.url())).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("cannot read the tenant"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("503"), "{}", out.stderr);
    failing.shutdown().await;

    // An app that may read policies but not SharePoint settings.
    let path = common::demo_state_with_clients(
        scratch.path(),
        vec![
            json!({"clientId": "0f0f0f0f-0000-4000-8000-000000000403", "displayName": "no sharepoint",
            "secret": "s", "roles": ["Policy.Read.All", "Policy.Read.AuthenticationMethod", "Directory.Read.All", "RoleManagement.Read.Directory"]}),
        ],
    );
    let sandbox = common::demo(SandboxConfig {
        state: Some(path),
        ..SandboxConfig::default()
    })
    .await;
    let url = sandbox.url();
    let env = vec![
        ("STEWARD_GRAPH_URL", url.clone()),
        ("STEWARD_LOGIN_URL", url.clone()),
        (
            "AZURE_TENANT_ID",
            steward::sandbox::seed::DEMO_TENANT_ID.to_string(),
        ),
        (
            "AZURE_CLIENT_ID",
            "0f0f0f0f-0000-4000-8000-000000000403".to_string(),
        ),
        ("AZURE_CLIENT_SECRET", "s".to_string()),
    ];
    scratch.write(
        "sp/sharepoint.kdl",
        "sharepoint-settings {\n    sharing-capability disabled\n}\n",
    );
    let out = run(scratch.path(), &["plan", "sp"], &env).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("403"), "{}", out.stderr);
    assert!(
        out.stderr.contains("SharePointTenantSettings.Read.All"),
        "{}",
        out.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_records_the_tenant_the_files_and_every_object_read_and_no_token() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let out = run(
        scratch.path(),
        &["plan", &policies(), "--out", "plan.json"],
        &env(&sandbox.url()),
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(scratch.path().join("plan.json")).unwrap_or_default();
    assert!(
        !text.contains(common::TOKEN),
        "the token never reaches a plan file"
    );
    let saved: Value = serde_json::from_str(&text).expect("JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/saved-plan.schema.json")).unwrap_or_default(),
    )
    .expect("the committed schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&saved)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(saved["format_version"], 2);
    // Where it was made: a plan only applies there.
    assert_eq!(saved["tenant_id"], steward::sandbox::seed::DEMO_TENANT_ID);
    assert_eq!(saved["graph_host"], "127.0.0.1");
    assert_eq!(saved["files_hash"].as_str().map(str::len), Some(64));
    let fingerprints = saved["fingerprints"].as_object().expect("fingerprints");
    assert!(
        fingerprints
            .contains_key("conditional-access-policy \"CA002 Require MFA for administrators\"")
    );
    assert!(fingerprints.contains_key("sharepoint-settings"));
    assert_eq!(
        saved["plan"]["summary"],
        json!({"add": 8, "change": 5, "destroy": 0})
    );
    sandbox.shutdown().await;
}

#[test]
fn plan_with_the_sandbox_flag_runs_the_quick_start() {
    let scratch = Scratch::new();
    let run = common::steward(scratch.path(), &["plan", &policies(), "--sandbox"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .ends_with("Plan: 8 to add, 5 to change, 0 to destroy.\n"),
        "{}",
        run.stdout
    );
    assert!(
        scratch.path().join(".steward/sandbox.json").exists(),
        "the sandbox tenant is kept"
    );
}

#[test]
fn the_sandbox_flag_wins_over_graph_settings_in_the_environment() {
    let scratch = Scratch::new();
    scratch.write("p/s.kdl", "security-defaults {\n    is-enabled #false\n}\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["plan", "p", "--sandbox"])
        .current_dir(scratch.path())
        .env("NO_COLOR", "1")
        .env("STEWARD_GRAPH_URL", "https://graph.microsoft.com")
        .env("STEWARD_AUTH", "secret")
        .output()
        .expect("run steward");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with("No changes. The tenant matches the configuration.\n"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_logs_each_graph_request_to_stderr_without_the_token() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let env = env(&sandbox.url());
    let quiet = run(scratch.path(), &["plan", &policies()], &env).await;
    assert!(!quiet.stderr.contains("graph request"), "{}", quiet.stderr);

    let verbose = run(scratch.path(), &["plan", "-v", &policies()], &env).await;
    assert_eq!(verbose.code, 0, "{}", verbose.stderr);
    assert_eq!(verbose.stdout, quiet.stdout, "the log goes to stderr only");
    let line = verbose
        .stderr
        .lines()
        .find(|l| l.contains("path=/v1.0/identity/conditionalAccess/policies "))
        .unwrap_or_else(|| panic!("no line for the policies read:\n{}", verbose.stderr));
    assert!(line.contains("DEBUG graph request method=GET"), "{line}");
    assert!(line.contains(" status=200 ms="), "{line}");
    assert!(line.contains(" request_id=\""), "{line}");
    assert!(line.contains(" attempt=1"), "{line}");
    assert!(
        !verbose.stderr.contains(common::TOKEN),
        "{}",
        verbose.stderr
    );

    // The environment variable does the same without the flag.
    let mut with_var = env.clone();
    with_var.push(("STEWARD_LOG", "debug".to_string()));
    let from_env = run(scratch.path(), &["plan", &policies()], &with_var).await;
    assert!(
        from_env.stderr.contains("graph request method=GET"),
        "{}",
        from_env.stderr
    );
}
