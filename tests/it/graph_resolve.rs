//! Name ⇄ id resolution against a scripted directory: getByIds chunking, `in` chunking inside
//! `$batch`, ambiguity, unknown references, caching, and the request budget of a full read.

use crate::graph_support;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use graph_support::{Recorded, Reply, client, serve};
use serde_json::{Value, json};
use steward::graph::{GraphError, ObjectKind, ResolveError, Resolver};

const USERS: usize = 5000;
const GROUPS: usize = 2000;

fn user_id(i: usize) -> String {
    format!("00000000-0000-0000-0001-{i:012}")
}
fn group_id(i: usize) -> String {
    format!("00000000-0000-0000-0002-{i:012}")
}
const SALES_A: &str = "00000000-0000-0000-0002-999999999991";
const SALES_B: &str = "00000000-0000-0000-0002-999999999992";
const GA_TEMPLATE: &str = "62e90394-69f5-4237-9190-012177145e10";
const SP_ID: &str = "00000000-0000-0000-0003-000000000001";
const SP_APP: &str = "00000002-0000-0ff1-ce00-000000000000";

fn user(i: usize) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": user_id(i), "userPrincipalName": format!("user{i}@contoso.com")})
}
fn group(i: usize) -> Value {
    json!({"@odata.type": "#microsoft.graph.group", "id": group_id(i), "displayName": format!("Group {i}")})
}

/// Every object of the scripted tenant.
fn objects() -> &'static Vec<Value> {
    static ALL: OnceLock<Vec<Value>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Value> = (0..USERS).map(user).chain((0..GROUPS).map(group)).collect();
        v.push(json!({"@odata.type": "#microsoft.graph.user", "id": "00000000-0000-0000-0001-900000000000", "userPrincipalName": "o'brien#ext@contoso.com"}));
        v.push(json!({"@odata.type": "#microsoft.graph.group", "id": SALES_A, "displayName": "Sales"}));
        v.push(json!({"@odata.type": "#microsoft.graph.group", "id": SALES_B, "displayName": "Sales"}));
        v.push(json!({"@odata.type": "#microsoft.graph.servicePrincipal", "id": SP_ID, "appId": SP_APP,
                      "displayName": "Office 365 Exchange Online", "appDisplayName": "Office 365 Exchange Online"}));
        v
    })
}

fn by_type(ty: &str) -> impl Iterator<Item = &'static Value> + '_ {
    objects()
        .iter()
        .filter(move |o| o["@odata.type"] == format!("#microsoft.graph.{ty}"))
}

/// Evaluates `prop in ('a','b')` as Graph would (case-insensitive), asserting Graph's 15-value cap.
fn filter_in(collection: &str, filter: &str) -> Value {
    let (prop, rest) = filter.split_once(" in (").expect("an `in` filter");
    let list = rest.strip_suffix(')').unwrap();
    let values: Vec<String> = list
        .split("','")
        .map(|v| v.trim_matches('\'').replace("''", "'").to_lowercase())
        .collect();
    assert!(
        values.len() <= 15,
        "Graph caps `in` at 15 values, got {}",
        values.len()
    );
    let ty = match collection {
        "users" => "user",
        "groups" => "group",
        _ => "servicePrincipal",
    };
    let hits: Vec<Value> = by_type(ty)
        .filter(|o| {
            o[prop]
                .as_str()
                .is_some_and(|v| values.contains(&v.to_lowercase()))
        })
        .cloned()
        .collect();
    json!({ "value": hits })
}

fn inner(url: &str) -> (u16, Value) {
    let (path, query) = url
        .trim_start_matches('/')
        .split_once('?')
        .unwrap_or((url, ""));
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    match params.get("$filter") {
        Some(f) => (200, filter_in(path, f)),
        None => (404, json!({"error": {"code": "NotFound", "message": path}})),
    }
}

fn page(items: Vec<Value>, r: &Recorded, base: &str, size: usize) -> Reply {
    let skip: usize = r.param("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunk: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut body = json!({ "value": chunk });
    if skip + size < items.len() {
        body["@odata.nextLink"] = json!(format!("{base}{}?$skip={}", r.path, skip + size));
    }
    Reply::json(200, body)
}

/// The scripted tenant: 195 CA policies, 195 named locations, 5,000 users, 2,000 groups.
async fn tenant() -> graph_support::Server {
    let base = Arc::new(OnceLock::<String>::new());
    let b = base.clone();
    let server = serve(move |r| {
        let base = b.get().unwrap();
        match r.path.as_str() {
            "/v1.0/$batch" => {
                let responses: Vec<Value> = r.json()["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| {
                        let (status, body) = inner(q["url"].as_str().unwrap());
                        json!({"id": q["id"], "status": status, "body": body})
                    })
                    .collect();
                Reply::json(200, json!({ "responses": responses }))
            }
            "/v1.0/directoryObjects/getByIds" => {
                let body = r.json();
                let ids: Vec<&str> = body["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
                assert!(ids.len() <= 1000, "getByIds takes at most 1000 ids");
                let hits: Vec<Value> = objects().iter().filter(|o| ids.contains(&o["id"].as_str().unwrap())).cloned().collect();
                Reply::json(200, json!({ "value": hits }))
            }
            "/v1.0/roleManagement/directory/roleDefinitions" => Reply::json(200, json!({"value": [
                {"id": GA_TEMPLATE, "templateId": GA_TEMPLATE, "displayName": "Global Administrator"},
                {"id": "194ae4cb-b126-40b2-bd5b-6091b380977d", "templateId": "194ae4cb-b126-40b2-bd5b-6091b380977d", "displayName": "Security Administrator"}
            ]})),
            "/v1.0/identity/conditionalAccess/policies" => {
                page((0..195).map(|i| json!({"id": format!("p{i}"), "displayName": format!("CA{i:03}")})).collect(), r, base, 100)
            }
            "/v1.0/identity/conditionalAccess/namedLocations" => {
                page((0..195).map(|i| json!({"id": format!("l{i}"), "displayName": format!("Loc {i}")})).collect(), r, base, 100)
            }
            other => Reply::json(404, json!({"error": {"code": "NotFound", "message": other}})),
        }
    })
    .await;
    base.set(server.url.clone()).unwrap();
    server
}

#[tokio::test]
async fn names_for_ids_uses_get_by_ids_in_chunks_of_1000() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let ids: Vec<String> = (0..2500).map(user_id).collect();
    let names = resolver.names_for_ids(&ids).await.unwrap();
    assert_eq!(names.len(), 2500);
    assert_eq!(names[&user_id(1234)].name, "user1234@contoso.com");
    assert_eq!(names[&user_id(1234)].kind, ObjectKind::User);
    let calls = server.requests_to("/getByIds");
    let mut sizes: Vec<usize> = calls
        .iter()
        .map(|r| r.json()["ids"].as_array().unwrap().len())
        .collect();
    sizes.sort();
    assert_eq!(sizes, [500, 1000, 1000]);
    assert_eq!(
        calls[0].json()["types"],
        json!(["user", "group", "servicePrincipal"])
    );
}

#[tokio::test]
async fn names_for_ids_names_groups_apps_and_role_templates_and_reports_unknown_ids() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let ids = vec![group_id(7), SP_ID.to_string(), GA_TEMPLATE.to_string()];
    let names = resolver.names_for_ids(&ids).await.unwrap();
    assert_eq!(
        (names[&group_id(7)].kind, names[&group_id(7)].name.as_str()),
        (ObjectKind::Group, "Group 7")
    );
    assert_eq!(names[SP_ID].app_id.as_deref(), Some(SP_APP));
    assert_eq!(names[SP_ID].name, "Office 365 Exchange Online");
    assert_eq!(
        (names[GA_TEMPLATE].kind, names[GA_TEMPLATE].name.as_str()),
        (ObjectKind::Role, "Global Administrator")
    );

    let ghost = "00000000-0000-0000-0009-000000000000".to_string();
    let err = resolver
        .names_for_ids(&[group_id(7), ghost.clone()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Resolve(ResolveError::NotFound { references, .. }) if references == std::slice::from_ref(&ghost)),
        "{err:?}"
    );
    assert!(err.to_string().contains(&ghost));
    let asked = server.requests_to("/getByIds").len();
    let (found, missing) = resolver
        .try_names_for_ids(std::slice::from_ref(&ghost))
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(missing, [ghost]);
    assert_eq!(
        server.requests_to("/getByIds").len(),
        asked,
        "an id known to name nothing is not asked for again"
    );
}

#[tokio::test]
async fn users_by_upn_batches_in_filters_of_at_most_15_and_caches() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let upns: Vec<String> = (0..40).map(|i| format!("User{i}@Contoso.com")).collect();
    let ids = resolver.users_by_upn(&upns).await.unwrap();
    assert_eq!(ids.len(), 40);
    assert_eq!(ids["user39@contoso.com"], user_id(39));
    let batches = server.requests_to("/$batch");
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].json()["requests"].as_array().unwrap().len(), 3);
    // Cached: asking again costs nothing.
    resolver.users_by_upn(&upns[..5]).await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn ids_found_by_a_name_look_up_are_not_looked_up_again() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    resolver
        .users_by_upn(&["user7@contoso.com".to_string()])
        .await
        .unwrap();
    resolver
        .groups_by_name(&["Group 3".to_string()])
        .await
        .unwrap();
    resolver
        .service_principals_by_name_or_app_id(&[SP_APP.to_string()])
        .await
        .unwrap();
    let before = server.requests().len();
    // The tenant's policies carry the ids of the same objects, in another case.
    let ids = vec![user_id(7), group_id(3).to_uppercase(), SP_ID.to_string()];
    let named = resolver.names_for_ids(&ids).await.unwrap();
    assert_eq!(server.requests().len(), before, "no request for known ids");
    assert_eq!(named[&user_id(7)].name, "user7@contoso.com");
    assert_eq!(named[&user_id(7)].kind, ObjectKind::User);
    assert_eq!(named[&group_id(3).to_uppercase()].name, "Group 3");
    assert_eq!(named[SP_ID].kind, ObjectKind::ServicePrincipal);
    assert_eq!(named[SP_ID].app_id.as_deref(), Some(SP_APP));
}

#[tokio::test]
async fn upns_with_quotes_and_hash_are_escaped_and_encoded() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let ids = resolver
        .users_by_upn(&["o'brien#ext@contoso.com".to_string()])
        .await
        .unwrap();
    assert_eq!(
        ids["o'brien#ext@contoso.com"],
        "00000000-0000-0000-0001-900000000000"
    );
    let url = server.requests()[0].json()["requests"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.contains("'o''brien%23ext@contoso.com'"), "{url}");
}

#[tokio::test]
async fn unknown_upns_are_one_error_listing_them_all() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let err = resolver
        .users_by_upn(&[
            "user1@contoso.com".into(),
            "ghost@contoso.com".into(),
            "nobody@contoso.com".into(),
        ])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "user reference(s) not found in the tenant: ghost@contoso.com, nobody@contoso.com"
    );
    let GraphError::Resolve(e) = err else {
        panic!()
    };
    assert_eq!(
        e.referenced_by("CA001 Require MFA").to_string(),
        "user reference(s) (referenced by CA001 Require MFA) not found in the tenant: ghost@contoso.com, nobody@contoso.com"
    );
}

#[tokio::test]
async fn an_ambiguous_group_name_is_an_error_listing_both_ids() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let err = resolver
        .groups_by_name(&["Group 1".into(), "Sales".into()])
        .await
        .unwrap_err();
    match &err {
        GraphError::Resolve(ResolveError::Ambiguous {
            kind, name, ids, ..
        }) => {
            assert_eq!((kind.as_str(), name.as_str()), ("group", "Sales"));
            assert_eq!(ids, &[SALES_A.to_string(), SALES_B.to_string()]);
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(SALES_A) && msg.contains(SALES_B), "{msg}");
    let ok = resolver.groups_by_name(&["group 1".into()]).await.unwrap();
    assert_eq!(ok["group 1"], group_id(1));
}

#[tokio::test]
async fn service_principals_resolve_by_app_id_or_name() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let refs = vec![SP_APP.to_string(), "office 365 exchange online".to_string()];
    let sps = resolver
        .service_principals_by_name_or_app_id(&refs)
        .await
        .unwrap();
    assert_eq!(sps[SP_APP].id, SP_ID);
    assert_eq!(
        sps["office 365 exchange online"].app_id.as_deref(),
        Some(SP_APP)
    );
    let batch = &server.requests_to("/$batch");
    let urls: Vec<String> = batch
        .iter()
        .flat_map(|r| r.json()["requests"].as_array().unwrap().clone())
        .map(|q| q["url"].as_str().unwrap().to_string())
        .collect();
    assert!(
        urls.iter().any(|u| u.contains("appId%20in%20(")),
        "{urls:?}"
    );
}

#[tokio::test]
async fn roles_are_read_once_and_map_names_to_template_ids() {
    let server = tenant().await;
    let resolver = Resolver::new(client(&server.url));
    let roles = resolver.roles().await.unwrap();
    assert_eq!(roles.template_id("global administrator"), Some(GA_TEMPLATE));
    assert_eq!(roles.name(GA_TEMPLATE), Some("Global Administrator"));
    resolver.roles().await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn full_read_with_300_references_stays_within_25_requests() {
    let server = tenant().await;
    let c = client(&server.url);
    let resolver = Resolver::new(c.clone());
    let (policies, locations) = futures::future::join(
        c.list("identity/conditionalAccess/policies"),
        c.list("identity/conditionalAccess/namedLocations"),
    )
    .await;
    assert_eq!(
        (policies.unwrap().len(), locations.unwrap().len()),
        (195, 195)
    );
    // 300 distinct referenced ids (export) and 300 referenced names (plan).
    let ids: Vec<String> = (0..150)
        .map(|i| user_id(i * 33))
        .chain((0..150).map(|i| group_id(i * 13)))
        .collect();
    let upns: Vec<String> = (0..150)
        .map(|i| format!("user{}@contoso.com", i * 33))
        .collect();
    let names: Vec<String> = (0..150).map(|i| format!("Group {}", i * 13)).collect();
    let (by_id, users, groups, roles) = futures::future::join4(
        resolver.names_for_ids(&ids),
        resolver.users_by_upn(&upns),
        resolver.groups_by_name(&names),
        resolver.roles(),
    )
    .await;
    assert_eq!(by_id.unwrap().len(), 300);
    assert_eq!((users.unwrap().len(), groups.unwrap().len()), (150, 150));
    assert_eq!(roles.unwrap().len(), 2);
    let stats = c.stats();
    assert!(stats.total_requests() <= 25, "{stats}");
    assert_eq!(stats.total_requests(), 8, "{stats}");
}
