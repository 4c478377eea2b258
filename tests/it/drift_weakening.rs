//! Drift that catches weakening: the tenant is changed behind steward's back with plain Graph
//! calls, as an admin in the portal would, and `drift` must report it, risky changes first and
//! in the right direction.

use crate::common;

use common::{flat, run};

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;

use common::{Scratch, repo};

fn pack() -> String {
    repo().join("policies").display().to_string()
}

async fn graph(method: reqwest::Method, url: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, format!("{url}/v1.0/{path}"))
        .bearer_auth(common::TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("Graph call");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn id_of(url: &str, collection: &str, name: &str) -> String {
    let body = graph(reqwest::Method::GET, url, collection, None).await;
    body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["displayName"] == name)
        .and_then(|o| o["id"].as_str())
        .map(String::from)
        .unwrap_or_else(|| panic!("no {name} in {collection}"))
}

/// A demo tenant with the baseline pack applied: the files and the tenant agree.
async fn converged(scratch: &Scratch) -> steward::sandbox::RunningSandbox {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let applied = run(
        scratch.path(),
        &["apply", &pack(), "--auto-approve"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let clean = run(scratch.path(), &["drift", &pack()], &sandbox.url()).await;
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    sandbox
}

fn risks(report: &Value) -> Vec<(String, String, String)> {
    report["risks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_string(),
                r["address"].as_str().unwrap_or_default().to_string(),
                r["direction"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusion_added_in_the_portal_is_risky_drift_and_apply_removes_it() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let policy = id_of(
        &url,
        "identity/conditionalAccess/policies",
        "CA002 Require MFA for administrators",
    )
    .await;
    let all_staff = id_of(&url, "groups", "All Staff").await;
    graph(
        reqwest::Method::PATCH,
        &url,
        &format!("identity/conditionalAccess/policies/{policy}"),
        Some(json!({"conditions": {"users": {"excludeGroups": [all_staff]}}})),
    )
    .await;

    let drift = run(
        scratch.path(),
        &["drift", &pack(), "--format", "json"],
        &url,
    )
    .await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    let report: Value = serde_json::from_str(&drift.stdout).expect("JSON");
    let risk = report["risks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["code"] == "exclusion-added")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        risk["address"],
        "conditional-access-policy \"CA002 Require MFA for administrators\""
    );
    assert_eq!(risk["direction"], "drift");
    assert_eq!(risk["path"], "conditions.users.exclude-groups");

    let human = run(scratch.path(), &["drift", &pack()], &url).await;
    assert!(
        human
            .stdout
            .starts_with("Risky changes made in the tenant outside steward:\n  ! conditional-access-policy \"CA002 Require MFA for administrators\": exclusions added to users.exclude-groups: All Staff"),
        "{}",
        human.stdout
    );

    let applied = run(scratch.path(), &["apply", &pack(), "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let after = graph(
        reqwest::Method::GET,
        &url,
        &format!("identity/conditionalAccess/policies/{policy}"),
        None,
    )
    .await;
    assert_eq!(after["conditions"]["users"]["excludeGroups"], json!([]));
    let clean = run(scratch.path(), &["drift", &pack()], &url).await;
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_changes_leaves_a_setting_to_others_and_names_only_real_settings() {
    let scratch = Scratch::new();
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let file = r#"conditional-access-policy "CA001 Block legacy authentication" {
    ignore-changes "conditions.users.exclude-groups"
    state enabled
    conditions {
        users {
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "breakglass2@contoso.onmicrosoft.com"
        }
        applications { include-applications All }
        client-app-types exchangeActiveSync other
    }
    grant-controls operator=OR { built-in-controls block }
}
"#;
    scratch.write("p/ca.kdl", file);
    let policy = id_of(
        &url,
        "identity/conditionalAccess/policies",
        "CA001 Block legacy authentication",
    )
    .await;
    let finance = id_of(&url, "groups", "Finance").await;
    graph(
        reqwest::Method::PATCH,
        &url,
        &format!("identity/conditionalAccess/policies/{policy}"),
        Some(json!({"conditions": {"users": {"excludeGroups": [finance]}}})),
    )
    .await;
    let drift = run(scratch.path(), &["drift", "p"], &url).await;
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // Without the escape hatch the same exclusion is drift.
    scratch.write(
        "p/ca.kdl",
        file.replace(
            "    ignore-changes \"conditions.users.exclude-groups\"\n",
            "",
        ),
    );
    let drift = run(scratch.path(), &["drift", "p"], &url).await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);

    scratch.write(
        "p/ca.kdl",
        file.replace(
            "conditions.users.exclude-groups",
            "conditions.users.exclude-grups",
        ),
    );
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 1, "{}", validated.stdout);
    assert!(
        flat(&validated.stderr).contains(
            "`ignore-changes` names \"conditions.users.exclude-grups\", which is not a setting of `conditional-access-policy`"
        ),
        "{}",
        validated.stderr
    );
    assert!(
        validated.stderr.contains("p/ca.kdl:2:"),
        "{}",
        validated.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weakening_in_the_tenant_is_reported_as_drift_risks_first() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let ca004 = id_of(
        &url,
        "identity/conditionalAccess/policies",
        "CA004 Require MFA for all users",
    )
    .await;
    let ca008 = id_of(
        &url,
        "identity/conditionalAccess/policies",
        "CA008 Block high sign-in risk",
    )
    .await;
    graph(
        reqwest::Method::PATCH,
        &url,
        &format!("identity/conditionalAccess/policies/{ca004}"),
        Some(json!({"state": "disabled"})),
    )
    .await;
    graph(
        reqwest::Method::DELETE,
        &url,
        &format!("identity/conditionalAccess/policies/{ca008}"),
        None,
    )
    .await;
    graph(
        reqwest::Method::PATCH,
        &url,
        "admin/sharepoint/settings",
        Some(json!({"sharingCapability": "externalUserAndGuestSharing",
                    "sharingAllowedDomainList": ["fabrikam.com", "northwindtraders.com", "adatum.com", "evil.com"]})),
    )
    .await;
    graph(
        reqwest::Method::PATCH,
        &url,
        "policies/authorizationPolicy",
        Some(json!({"allowInvitesFrom": "everyone",
                    "defaultUserRolePermissions": {"allowedToCreateApps": true,
                        "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]}})),
    )
    .await;
    // A lockout made outside steward: enabled, everyone blocked, nobody excluded.
    graph(
        reqwest::Method::POST,
        &url,
        "identity/conditionalAccess/policies",
        Some(json!({"displayName": "Block everyone", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]},
                           "applications": {"includeApplications": ["All"]},
                           "clientAppTypes": ["all"]},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]}})),
    )
    .await;

    let drift = run(
        scratch.path(),
        &["drift", &pack(), "--format", "json"],
        &url,
    )
    .await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    let report: Value = serde_json::from_str(&drift.stdout).expect("JSON");
    let found = risks(&report);
    for (code, address) in [
        (
            "ca-disabled",
            "conditional-access-policy \"CA004 Require MFA for all users\"",
        ),
        (
            "ca-deleted",
            "conditional-access-policy \"CA008 Block high sign-in risk\"",
        ),
        ("sharing-widened", "sharepoint-settings"),
        ("invites-widened", "authorization-policy"),
        ("users-create-apps", "authorization-policy"),
        ("consent-loosened", "authorization-policy"),
        (
            "lockout-outside-steward",
            "conditional-access-policy \"Block everyone\"",
        ),
    ] {
        assert!(
            found
                .iter()
                .any(|(c, a, d)| c == code && a == address && d == "drift"),
            "{code} on {address}: {found:?}"
        );
    }
    let messages: Vec<&str> = report["risks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"sharing allowed with more domains: evil.com"),
        "the widening direction, not the restoring one: {messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("northwindtraders.com")),
        "{messages:?}"
    );

    // The plan reads the same changes the other way: restoring narrows, nothing is risky.
    let plan = run(scratch.path(), &["plan", &pack(), "--format", "json"], &url).await;
    let report: Value = serde_json::from_str(&plan.stdout).expect("JSON");
    assert!(
        risks(&report).iter().all(|(_, _, d)| d == "apply"),
        "{}",
        plan.stdout
    );
    assert!(
        !risks(&report)
            .iter()
            .any(|(c, _, _)| c == "sharing-widened"),
        "{}",
        plan.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_excused_from_a_declared_method_is_drift_and_apply_removes_it() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let finance = id_of(&url, "groups", "Finance").await;
    graph(
        reqwest::Method::PATCH,
        &url,
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
        Some(
            json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                    "excludeTargets": [{"targetType": "group", "id": finance}]}),
        ),
    )
    .await;
    let drift = run(
        scratch.path(),
        &["drift", &pack(), "--format", "json"],
        &url,
    )
    .await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    let report: Value = serde_json::from_str(&drift.stdout).expect("JSON");
    let methods = report["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["address"] == "authentication-methods-policy")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        methods["changed_paths"],
        json!(["fido2.exclude-targets"]),
        "{methods}"
    );

    let applied = run(scratch.path(), &["apply", &pack(), "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let fido2 = graph(
        reqwest::Method::GET,
        &url,
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
        None,
    )
    .await;
    assert_eq!(fido2["excludeTargets"], json!([]), "{fido2}");
    let clean = run(scratch.path(), &["drift", &pack()], &url).await;
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    sandbox.shutdown().await;
}
