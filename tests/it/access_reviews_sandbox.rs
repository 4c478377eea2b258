//! Access reviews of guests as code: applied to the sandbox by name, read back into names,
//! updated with PUT, replaced (delete, then create) when their scope changes, each risk rule
//! reported as drift, and Graph's licence refusal explained.

use crate::common;
use crate::sandbox_support;

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;

use common::{Scratch, run};

const PATH: &str = "identityGovernance/accessReviews/definitions";
const NAME: &str = "Quarterly guest review";

fn review(scope: &str, description: &str) -> String {
    format!(
        r#"access-review "Quarterly guest review" {{
    description-for-reviewers "{description}"
    scope {scope}
    reviewers group-owners=#true
    fallback-reviewers {{
        users "megan.bowen@contoso.onmicrosoft.com"
    }}
    settings {{
        recurrence type=absoluteMonthly interval=3 day-of-month=5 start-date="2027-01-05"
        instance-duration-in-days 14
        auto-apply-decisions-enabled #true
        apply-actions removeAccessApplyAction
        default-decision-enabled #true
        default-decision Deny
    }}
}}
"#
    )
}

async fn graph(
    method: reqwest::Method,
    url: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method, format!("{url}/v1.0/{path}"))
        .bearer_auth(common::TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("Graph call")
}

async fn definitions(url: &str) -> Vec<Value> {
    let body: Value = graph(reqwest::Method::GET, url, PATH, None)
        .await
        .json()
        .await
        .expect("JSON");
    body["value"].as_array().cloned().unwrap_or_default()
}

/// The demo tenant with the review of every Microsoft 365 group's guests applied.
async fn converged(scratch: &Scratch) -> steward::sandbox::RunningSandbox {
    let sandbox = common::demo(SandboxConfig::default()).await;
    scratch.write(
        "p/reviews.kdl",
        review(
            "guests-in=allMicrosoft365Groups",
            "Keep only current guests.",
        ),
    );
    let applied = run(
        scratch.path(),
        &["apply", "p", "--auto-approve"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    sandbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_review_applies_as_graphs_queries_and_exports_and_plans_clean() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let live = definitions(&url).await;
    assert_eq!(live.len(), 1);
    // What the service stores, with its own rewrites of the queries steward sent.
    assert_eq!(
        live[0]["instanceEnumerationScope"]["query"],
        "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))&$count=true"
    );
    assert_eq!(
        live[0]["scope"]["query"],
        "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"
    );
    assert_eq!(live[0]["reviewers"][0]["query"], "./owners");
    assert_eq!(live[0]["settings"]["recurrence"]["pattern"]["interval"], 3);

    let plan = run(scratch.path(), &["plan", "p", "--detailed-exitcode"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    let export = run(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "access-review"],
        &url,
    )
    .await;
    assert_eq!(export.code, 0, "{}{}", export.stdout, export.stderr);
    let exported =
        std::fs::read_to_string(scratch.path().join("out/access-reviews.kdl")).unwrap_or_default();
    assert!(
        exported.contains("users \"megan.bowen@contoso.onmicrosoft.com\""),
        "{exported}"
    );
    assert!(
        exported.contains("scope guests-in=allMicrosoft365Groups"),
        "{exported}"
    );
    let replan = run(
        scratch.path(),
        &["plan", "out", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(replan.code, 0, "{}{}", replan.stdout, replan.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_description_is_a_put_and_a_changed_scope_a_replacement() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let first = definitions(&url).await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    scratch.write(
        "p/reviews.kdl",
        review("guests-in=allMicrosoft365Groups", "Remove guests who left."),
    );
    let updated = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(updated.code, 0, "{}{}", updated.stdout, updated.stderr);
    assert!(
        updated
            .stdout
            .contains("Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        updated.stdout
    );
    let live = definitions(&url).await;
    assert_eq!(live[0]["id"], first.as_str());
    assert_eq!(
        live[0]["descriptionForReviewers"],
        "Remove guests who left."
    );

    scratch.write(
        "p/reviews.kdl",
        review("guests-in=allTeams", "Remove guests who left."),
    );
    let plan = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "  # access-review \"{NAME}\" must be replaced (destroyed, then created)\n  -/+ access-review \"{NAME}\" {{\n"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "~ scope.guests-in = \"allMicrosoft365Groups\" -> \"allTeams\"  # forces replacement"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{}",
        plan.stdout
    );
    let json_plan = run(scratch.path(), &["plan", "p", "--format", "json"], &url).await;
    let report: Value = serde_json::from_str(&json_plan.stdout).expect("JSON");
    assert_eq!(
        report["resource_changes"][0]["actions"],
        json!(["delete", "create"])
    );
    assert_eq!(
        report["resource_changes"][0]["replace_paths"],
        json!(["scope.guests-in"])
    );
    assert!(
        report["risks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["code"] == "review-replaced"),
        "{report}"
    );
    let markdown = run(scratch.path(), &["plan", "p", "--format", "markdown"], &url).await;
    assert!(
        markdown.stdout.contains("| `-/+` | <code>access-review \"Quarterly guest review\"</code> | replace (destroy, then create): scope.guests-in forces replacement |"),
        "{}",
        markdown.stdout
    );

    let replaced = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(replaced.code, 0, "{}{}", replaced.stdout, replaced.stderr);
    assert!(
        replaced
            .stdout
            .contains("Resources: 1 added, 0 changed, 1 destroyed."),
        "{}",
        replaced.stdout
    );
    let live = definitions(&url).await;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_ne!(live[0]["id"], first.as_str());
    assert!(
        live[0]["instanceEnumerationScope"]["query"]
            .as_str()
            .is_some_and(|q| q.contains("'Team'")),
        "{live:?}"
    );
    let clean = run(scratch.path(), &["plan", "p", "--detailed-exitcode"], &url).await;
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_apply_off_and_default_approve_and_deletion_in_the_portal_are_risky_drift() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let mut live = definitions(&url).await[0].clone();
    let id = live["id"].as_str().unwrap_or_default().to_string();
    live["settings"]["autoApplyDecisionsEnabled"] = json!(false);
    live["settings"]["defaultDecision"] = json!("Approve");
    let put = graph(
        reqwest::Method::PUT,
        &url,
        &format!("{PATH}/{id}"),
        Some(live),
    )
    .await;
    assert_eq!(put.status(), 204);

    let codes = |stdout: &str| -> Vec<(String, String)> {
        let report: Value = serde_json::from_str(stdout).expect("JSON");
        let mut out: Vec<(String, String)> = report["risks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["code"].as_str().unwrap_or_default().to_string(),
                    r["direction"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let drift = run(scratch.path(), &["drift", "p", "--format", "json"], &url).await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert_eq!(
        codes(&drift.stdout),
        [
            ("review-auto-apply-off".to_string(), "drift".to_string()),
            ("review-default-approve".to_string(), "drift".to_string()),
        ]
    );

    let deleted = graph(reqwest::Method::DELETE, &url, &format!("{PATH}/{id}"), None).await;
    assert_eq!(deleted.status(), 204);
    let drift = run(scratch.path(), &["drift", "p", "--format", "json"], &url).await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert_eq!(
        codes(&drift.stdout),
        [("review-deleted".to_string(), "drift".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_refuses_a_new_scope_by_put_and_any_patch() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let mut live = definitions(&url).await[0].clone();
    let id = live["id"].as_str().unwrap_or_default().to_string();
    let patch = graph(
        reqwest::Method::PATCH,
        &url,
        &format!("{PATH}/{id}"),
        Some(json!({"displayName": "x"})),
    )
    .await;
    assert_eq!(patch.status(), 405);
    live["scope"]["query"] = json!("./members/microsoft.graph.user");
    let put = graph(
        reqwest::Method::PUT,
        &url,
        &format!("{PATH}/{id}"),
        Some(live),
    )
    .await;
    assert_eq!(put.status(), 400);
    let body: Value = put.json().await.expect("JSON");
    assert_eq!(
        body["error"]["message"],
        "The property 'scope' cannot be updated: create a new access review definition."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlicensed_tenant_is_told_which_licence_access_reviews_need() {
    let mut state = serde_json::to_value(steward::sandbox::seed::demo()).expect("state");
    state["_sandbox"]["governanceLicence"] = json!(false);
    let sandbox = sandbox_support::start_with(state, |_| {}).await;
    let scratch = Scratch::new();
    scratch.write(
        "p/reviews.kdl",
        review("guests-in=allMicrosoft365Groups", "x"),
    );
    let plan = common::steward_async(
        scratch.path(),
        &["plan", "p"],
        &[
            ("STEWARD_GRAPH_URL", sandbox.running.url().as_str()),
            ("STEWARD_GRAPH_TOKEN", sandbox_support::ADMIN),
        ],
    )
    .await;
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains(
            "access reviews need Microsoft Entra ID Governance (or Microsoft Entra ID P2) licences"
        ),
        "{}",
        plan.stderr
    );
    sandbox.stop().await;
}
