//! The sandbox as Microsoft's SDKs see it over HTTP: whole-second `Retry-After`, objects holding
//! only Graph v1.0 properties (checked against the type metadata), and the `$filter`s Graph
//! accepts on groups.

use crate::sandbox_support;

use serde_json::{Value, json};
use steward::sandbox::{SandboxConfig, Seed, start};

use sandbox_support::{ADMIN, small_tenant, start_with};

#[tokio::test]
async fn throttled_answers_carry_retry_after_in_whole_seconds_rounded_up() {
    let sb = start_with(small_tenant(), |c| {
        c.throttle_every = 1;
        c.retry_after_ms = 1500;
    })
    .await;
    let resp = sb.get("users").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "2");
    sb.stop().await;
}

#[tokio::test]
async fn served_directory_objects_hold_only_v1_properties() {
    let metadata = steward_sandbox::csdl::schema();
    let running = start(SandboxConfig {
        seed: Seed::Demo,
        accept_tokens: vec![ADMIN.to_owned()],
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let client = reqwest::Client::new();
    let mut unknown = Vec::new();
    for (path, ty) in [
        ("users", "user"),
        ("groups", "group"),
        ("servicePrincipals", "servicePrincipal"),
        ("organization", "organization"),
        ("directoryRoleTemplates", "directoryRoleTemplate"),
        (
            "roleManagement/directory/roleDefinitions",
            "unifiedRoleDefinition",
        ),
    ] {
        let page: Value = client
            .get(format!("{}/v1.0/{path}", running.url()))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        let items = page["value"].as_array().expect("a collection");
        assert!(!items.is_empty(), "{path}");
        for item in items {
            for key in item.as_object().expect("an object").keys() {
                if !key.contains('@')
                    && metadata
                        .property(&format!("microsoft.graph.{ty}"), key)
                        .is_none()
                {
                    unknown.push(format!("{path}: {key}"));
                }
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    assert!(unknown.is_empty(), "not in Graph v1.0: {unknown:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn groups_filter_on_membership_rule_processing_state() {
    let mut state = small_tenant();
    state["groups"] = json!([
        {"id": "0b000000-0000-4000-8000-000000000001", "displayName": "All Staff",
         "securityEnabled": true, "groupTypes": []},
        {"id": "0b000000-0000-4000-8000-000000000002", "displayName": "Dynamic Sales",
         "securityEnabled": true, "groupTypes": ["DynamicMembership"],
         "membershipRule": "user.department -eq \"Sales\"",
         "membershipRuleProcessingState": "On"}
    ]);
    let sb = start_with(state, |_| {}).await;
    let resp = sb
        .get("groups?$filter=membershipRuleProcessingState eq 'On'&$select=id,displayName")
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        body["value"],
        json!([{"id": "0b000000-0000-4000-8000-000000000002", "displayName": "Dynamic Sales"}])
    );
    sb.stop().await;
}
