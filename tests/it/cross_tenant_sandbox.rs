//! Cross-tenant access as code: the default configuration and partner configurations applied
//! to the sandbox, exported, planned clean, pruned, and each risk rule reported as drift.

use crate::common;

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;

use common::{Scratch, run};

const PARTNER: &str = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a";
const OTHER: &str = "9a8b7c6d-0000-4000-8000-00000000f00d";

const FILES: &str = r#"cross-tenant-access {
    b2b-collaboration-inbound {
        users-and-groups access-type=allowed { users All; }
        applications access-type=allowed { applications Office365; }
    }
    inbound-trust is-mfa-accepted=#false is-compliant-device-accepted=#false
}
cross-tenant-partner "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a" {
    b2b-direct-connect-outbound {
        users-and-groups access-type=allowed { groups "Finance"; }
    }
    b2b-direct-connect-inbound {
        users-and-groups access-type=allowed { users All; }
        applications access-type=allowed { applications Office365; }
    }
}
prune kind=cross-tenant-partner
"#;

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

/// The demo tenant with `FILES` applied.
async fn converged(scratch: &Scratch) -> steward::sandbox::RunningSandbox {
    let sandbox = common::demo(SandboxConfig::default()).await;
    scratch.write("p/cross-tenant.kdl", FILES);
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
            .contains("Apply complete! Resources: 1 added, 1 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    sandbox
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_and_a_partner_apply_by_name_export_and_plan_clean() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();

    let partner: Value = graph(
        reqwest::Method::GET,
        &url,
        &format!("policies/crossTenantAccessPolicy/partners/{PARTNER}"),
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    // The group went to Graph by id, and `All` as Graph's own token.
    assert_eq!(
        partner["b2bDirectConnectOutbound"]["usersAndGroups"],
        json!({"accessType": "allowed", "targets": [
            {"target": "5eed0002-0000-4000-8000-000000000002", "targetType": "group"}]})
    );
    assert_eq!(
        partner["b2bDirectConnectInbound"]["usersAndGroups"]["targets"],
        json!([{"target": "AllUsers", "targetType": "user"}])
    );
    let default: Value = graph(
        reqwest::Method::GET,
        &url,
        "policies/crossTenantAccessPolicy/default",
        None,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(
        default["b2bCollaborationInbound"]["applications"]["targets"],
        json!([{"target": "Office365", "targetType": "application"}])
    );
    assert_eq!(default["isServiceDefault"], false);

    let plan = run(scratch.path(), &["plan", "p", "--detailed-exitcode"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    let export = run(
        scratch.path(),
        &[
            "export",
            "--out",
            "out",
            "--kinds",
            "cross-tenant-access,cross-tenant-partner",
        ],
        &url,
    )
    .await;
    assert_eq!(export.code, 0, "{}{}", export.stdout, export.stderr);
    let exported = std::fs::read_to_string(scratch.path().join("out/cross-tenant-partners.kdl"))
        .unwrap_or_default();
    assert!(
        exported.contains(&format!("cross-tenant-partner \"{PARTNER}\"")),
        "{exported}"
    );
    assert!(exported.contains("groups \"Finance\""), "{exported}");
    let replan = run(
        scratch.path(),
        &["plan", "out", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(replan.code, 0, "{}{}", replan.stdout, replan.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_partner_is_pruned_and_a_duplicate_is_a_conflict() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let path = "policies/crossTenantAccessPolicy/partners";
    let created = graph(
        reqwest::Method::POST,
        &url,
        path,
        Some(json!({"tenantId": OTHER})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let again = graph(
        reqwest::Method::POST,
        &url,
        path,
        Some(json!({"tenantId": OTHER})),
    )
    .await;
    assert_eq!(again.status(), 409);

    let plan = run(scratch.path(), &["plan", "p", "--max-deletes", "1"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(&format!("- cross-tenant-partner \"{OTHER}\"")),
        "{}",
        plan.stdout
    );
    let applied = run(
        scratch.path(),
        &["apply", "p", "--auto-approve", "--max-deletes", "1"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let gone = graph(reqwest::Method::GET, &url, &format!("{path}/{OTHER}"), None).await;
    assert_eq!(gone.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collaboration_opened_and_mfa_trusted_in_the_portal_are_risky_drift() {
    let scratch = Scratch::new();
    let sandbox = converged(&scratch).await;
    let url = sandbox.url();
    let everyone =
        json!({"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]});
    let opened = graph(
        reqwest::Method::PATCH,
        &url,
        "policies/crossTenantAccessPolicy/default",
        Some(json!({"b2bCollaborationOutbound": {"usersAndGroups": everyone.clone()}})),
    )
    .await;
    assert!(opened.status().is_success());
    let trusted = graph(
        reqwest::Method::PATCH,
        &url,
        &format!("policies/crossTenantAccessPolicy/partners/{PARTNER}"),
        Some(json!({"inboundTrust": {"isMfaAccepted": true},
            "b2bCollaborationInbound": {"usersAndGroups": everyone}})),
    )
    .await;
    assert!(trusted.status().is_success());
    // The file must declare what changed for the default (undeclared settings are left alone).
    let text = FILES.replace(
        "    inbound-trust is-mfa-accepted=#false is-compliant-device-accepted=#false\n}",
        "    inbound-trust is-mfa-accepted=#false is-compliant-device-accepted=#false\n    b2b-collaboration-outbound {\n        users-and-groups access-type=blocked { users All; }\n    }\n}",
    );
    scratch.write("p/cross-tenant.kdl", text);

    let drift = run(scratch.path(), &["drift", "p", "--format", "json"], &url).await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    let report: Value = serde_json::from_str(&drift.stdout).expect("JSON");
    let mut risks: Vec<(String, String, String, String)> = report["risks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_string(),
                r["address"].as_str().unwrap_or_default().to_string(),
                r["path"].as_str().unwrap_or_default().to_string(),
                r["direction"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    risks.sort();
    let partner = format!("cross-tenant-partner \"{PARTNER}\"");
    assert_eq!(
        risks,
        vec![
            (
                "collaboration-opened".to_string(),
                "cross-tenant-access".to_string(),
                "b2b-collaboration-outbound.users-and-groups".to_string(),
                "drift".to_string()
            ),
            (
                "collaboration-opened".to_string(),
                partner.clone(),
                "b2b-collaboration-inbound.users-and-groups".to_string(),
                "drift".to_string()
            ),
            (
                "mfa-trust-granted".to_string(),
                partner,
                "inbound-trust.is-mfa-accepted".to_string(),
                "drift".to_string()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_named_by_its_domain_is_configured_under_its_tenant_id() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write(
        "p/partner.kdl",
        "cross-tenant-partner \"fabrikam.com\" {\n    inbound-trust is-mfa-accepted=#true\n}\n",
    );
    let applied = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let partner = graph(
        reqwest::Method::GET,
        &url,
        &format!("policies/crossTenantAccessPolicy/partners/{PARTNER}"),
        None,
    )
    .await;
    assert_eq!(partner.status(), 200);
    let plan = run(scratch.path(), &["plan", "p", "--detailed-exitcode"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    scratch.write(
        "p/partner.kdl",
        "cross-tenant-partner \"nowhere.example\" {\n    inbound-trust is-mfa-accepted=#false\n}\n",
    );
    let unknown = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(unknown.code, 1, "{}{}", unknown.stdout, unknown.stderr);
    let stderr = common::flat(&unknown.stderr);
    assert!(
        stderr.contains("cross-tenant-partner \"nowhere.example\": no Microsoft Entra tenant has the domain \"nowhere.example\""),
        "{}",
        unknown.stderr
    );
    assert!(stderr.contains("partner.kdl"), "{}", unknown.stderr);
}
