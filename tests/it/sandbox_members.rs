//! The sandbox's group membership: `groups/{id}/members`, `transitiveMembers` and `$ref`
//! writes, as Graph serves them; and steward's batched reader on top of them.

use crate::sandbox_support;

use serde_json::{Value, json};
use steward::graph::membership::transitive_members;
use steward::graph::{ClientConfig, Credential, GraphClient, ObjectKind, Secret};
use steward::sandbox::seed;

use sandbox_support::{ADMIN, Sandbox, start_with};

async fn demo() -> Sandbox {
    start_with(Value::Object(seed::demo()), |_| {}).await
}

async fn group_id(sb: &Sandbox, name: &str) -> String {
    let body: Value = sb
        .get(&format!("groups?$filter=displayName eq '{name}'"))
        .await
        .json()
        .await
        .expect("json");
    body["value"][0]["id"].as_str().expect("group").to_string()
}

async fn user_id(sb: &Sandbox, upn: &str) -> String {
    let body: Value = sb
        .get(&format!("users/{upn}"))
        .await
        .json()
        .await
        .expect("json");
    body["id"].as_str().expect("user").to_string()
}

async fn names(sb: &Sandbox, path: &str) -> Vec<String> {
    let response = sb.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let body: Value = response.json().await.expect("json");
    let mut out: Vec<String> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m["@odata.type"].as_str().unwrap_or_default(),
                m["userPrincipalName"]
                    .as_str()
                    .or(m["displayName"].as_str())
                    .unwrap_or_default()
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn direct_and_transitive_members_are_served_typed() {
    let sb = demo().await;
    let pilot = group_id(&sb, "Pilot - Passwordless").await;
    assert_eq!(
        names(
            &sb,
            &format!("groups/{pilot}/members?$select=id,displayName,userPrincipalName")
        )
        .await,
        [
            "#microsoft.graph.group IT Admins",
            "#microsoft.graph.user adele.vance@contoso.onmicrosoft.com",
            "#microsoft.graph.user lee.gu@contoso.onmicrosoft.com",
        ]
    );
    // The nested group's members come through, and the group itself is listed too.
    assert_eq!(
        names(&sb, &format!("groups/{pilot}/transitiveMembers")).await,
        [
            "#microsoft.graph.group IT Admins",
            "#microsoft.graph.user adele.vance@contoso.onmicrosoft.com",
            "#microsoft.graph.user alex.wilber@contoso.onmicrosoft.com",
            "#microsoft.graph.user lee.gu@contoso.onmicrosoft.com",
            "#microsoft.graph.user megan.bowen@contoso.onmicrosoft.com",
            "#microsoft.graph.user nestor.wilke@contoso.onmicrosoft.com",
        ]
    );
    let unknown = sb
        .get("groups/00000000-0000-4000-8000-0000000000ff/transitiveMembers")
        .await;
    assert_eq!(unknown.status(), 404);
    sb.stop().await;
}

#[tokio::test]
async fn members_are_added_and_removed_by_reference_and_pages_follow() {
    let sb = demo().await;
    let admins = group_id(&sb, "IT Admins").await;
    let bg1 = user_id(&sb, "breakglass1@contoso.onmicrosoft.com").await;
    let add =
        json!({ "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bg1}") });
    let added = sb
        .send(
            "POST",
            &format!("groups/{admins}/members/$ref"),
            add.clone(),
        )
        .await;
    assert_eq!(added.status(), 204);
    let again = sb
        .send("POST", &format!("groups/{admins}/members/$ref"), add)
        .await;
    assert_eq!(again.status(), 400, "a member is added once");
    assert!(
        names(&sb, &format!("groups/{admins}/transitiveMembers"))
            .await
            .contains(&"#microsoft.graph.user breakglass1@contoso.onmicrosoft.com".to_string())
    );
    // Two per page: the nextLink carries on.
    let first: Value = sb
        .get(&format!("groups/{admins}/members?$top=2"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(first["value"].as_array().map(Vec::len), Some(2));
    let next = first["@odata.nextLink"].as_str().expect("a next page");
    let rest: Value = sb
        .client
        .get(next)
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("page")
        .json()
        .await
        .expect("json");
    assert_eq!(rest["value"].as_array().map(Vec::len), Some(2));

    let removed = sb
        .client
        .delete(sb.graph(&format!("groups/{admins}/members/{bg1}/$ref")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("delete");
    assert_eq!(removed.status(), 204);
    assert!(
        !names(&sb, &format!("groups/{admins}/members"))
            .await
            .iter()
            .any(|n| n.contains("breakglass1"))
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_batches_groups_and_counts_a_deleted_group_as_empty() {
    let sb = demo().await;
    let emergency = group_id(&sb, "Emergency Access Accounts").await;
    let pilot = group_id(&sb, "Pilot - Passwordless").await;
    let gone = "00000000-0000-4000-8000-0000000000ff".to_string();
    let client = GraphClient::new(
        ClientConfig::new(sb.running.url()),
        Credential::static_token(Secret::new(ADMIN.to_string())).expect("credential"),
    )
    .expect("client");
    let members = transitive_members(&client, &[emergency.clone(), pilot.clone(), gone.clone()])
        .await
        .expect("read");
    let upns: Vec<&str> = members[&emergency]
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        upns,
        [
            "breakglass1@contoso.onmicrosoft.com",
            "breakglass2@contoso.onmicrosoft.com"
        ]
    );
    assert!(
        members[&emergency]
            .iter()
            .all(|m| m.kind == ObjectKind::User)
    );
    assert_eq!(members[&pilot].len(), 6);
    assert_eq!(members[&gone], []);
    // One $batch for all three groups.
    assert_eq!(client.stats().total_requests(), 1);
    sb.stop().await;
}
