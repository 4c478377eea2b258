//! Graph behaviours the sandbox reproduces: paging, faults, validation, endpoint rules,
//! batching, permissions, the token endpoint, the request log and persistence.

use crate::sandbox_support;

use std::collections::HashSet;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use sandbox_support::{ADMIN, assert_graph_error, small_tenant, start_with, token};

const CA: &str = "identity/conditionalAccess/policies";
const NL: &str = "identity/conditionalAccess/namedLocations";
const STRENGTHS: &str = "policies/authenticationStrengthPolicies";
const CUSTOM_STRENGTH: &str = "5f4e2e8a-0000-4000-8000-00000000cafe";

fn ca_policy(name: &str) -> Value {
    json!({
        "displayName": name,
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]}
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    })
}

fn ip_location(name: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "displayName": name,
        "isTrusted": true,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"}]
    })
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.expect("json body")
}

// --- paging and query options ----------------------------------------------------------------

#[tokio::test]
async fn page_size_one_returns_every_object_exactly_once() {
    let sb = start_with(small_tenant(), |c| c.page_size = 1).await;
    let mut url = sb.graph("users?$select=id,displayName");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = json_of(sb.client.get(&url).bearer_auth(ADMIN).send().await.unwrap()).await;
        pages += 1;
        let items = page["value"].as_array().unwrap();
        assert!(items.len() <= 1, "page size 1");
        for u in items {
            assert!(u.get("mail").is_none(), "$select is carried to every page");
            seen.push(u["id"].as_str().unwrap().to_string());
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&sb.running.url()),
                    "absolute link to the same server"
                );
                assert!(next.contains("$skiptoken="), "{next}");
                assert!(next.contains("$select=id,displayName"), "{next}");
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 5);
    assert_eq!(unique.len(), 5);
    sb.stop().await;
}

#[tokio::test]
async fn top_sets_the_page_size_and_is_bounded_by_999() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let page = json_of(sb.get("users?$top=2").await).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    assert!(page["@odata.nextLink"].as_str().unwrap().contains("$top=2"));
    assert_graph_error(sb.get("users?$top=1000").await, 400, "BadRequest").await;
    sb.stop().await;
}

#[tokio::test]
async fn filter_select_and_count_follow_graph() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let page = json_of(
        sb.get("users?$filter=startswith(displayName,'a')&$select=displayName")
            .await,
    )
    .await;
    let names: Vec<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Adele Vance", "Alex Wilber"]);
    assert_eq!(
        page["value"][0].as_object().unwrap().len(),
        1,
        "only the selected property"
    );
    assert!(
        page["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#users(displayName)")
    );

    let both = json_of(
        sb.get("users?$filter=displayName eq 'Adele Vance' and mail eq 'adelev@contoso.com'")
            .await,
    )
    .await;
    assert_eq!(
        both["value"].as_array().unwrap().len(),
        1,
        "eq is case-insensitive"
    );
    let within = json_of(
        sb.get("users?$filter=id in ('0a000000-0000-4000-8000-000000000001','0a000000-0000-4000-8000-000000000003')")
            .await,
    )
    .await;
    assert_eq!(within["value"].as_array().unwrap().len(), 2);

    // $count on directory objects needs ConsistencyLevel: eventual.
    assert_graph_error(
        sb.get("users?$count=true").await,
        400,
        "Request_UnsupportedQuery",
    )
    .await;
    let counted = sb
        .client
        .get(sb.graph("users?$count=true&$top=1"))
        .bearer_auth(ADMIN)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(counted).await["@odata.count"], 5);
    let plain = sb
        .client
        .get(sb.graph("users/$count"))
        .bearer_auth(ADMIN)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.headers()["content-type"], "text/plain");
    assert_eq!(plain.text().await.unwrap(), "5");

    // endswith is an advanced query.
    assert_graph_error(
        sb.get("users?$filter=endswith(mail,'@contoso.com')").await,
        400,
        "Request_UnsupportedQuery",
    )
    .await;
    // A property Graph cannot filter on.
    assert_graph_error(
        sb.get("users?$filter=favouriteColour eq 'red'").await,
        400,
        "Request_UnsupportedQuery",
    )
    .await;
    // Malformed filter.
    assert_graph_error(
        sb.get("users?$filter=displayName eq").await,
        400,
        "BadRequest",
    )
    .await;
    sb.stop().await;
}

#[tokio::test]
async fn users_are_addressable_by_upn_and_service_principals_by_app_id() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let u = json_of(sb.get("users/adelev@contoso.onmicrosoft.com").await).await;
    assert_eq!(u["id"], "0a000000-0000-4000-8000-000000000001");
    let sp = json_of(
        sb.get("servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
            .await,
    )
    .await;
    assert_eq!(sp["displayName"], "Microsoft Graph");
    assert_graph_error(
        sb.get("users/nobody@contoso.com").await,
        404,
        "Request_ResourceNotFound",
    )
    .await;
    let found = json_of(
        sb.send("POST", "directoryObjects/getByIds", json!({"ids": [
            "0a000000-0000-4000-8000-000000000002", "0b000000-0000-4000-8000-000000000001", "missing"]}))
            .await,
    )
    .await;
    let types: Vec<&str> = found["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["#microsoft.graph.user", "#microsoft.graph.group"]
    );
    sb.stop().await;
}

// --- faults ----------------------------------------------------------------------------------

#[tokio::test]
async fn throttled_requests_get_429_with_retry_after_and_graphs_body() {
    let sb = start_with(small_tenant(), |c| c.throttle_every = 2).await;
    assert_eq!(sb.get("users").await.status(), 200);
    let resp = sb.get("users").await;
    assert_eq!(resp.status(), 429);
    let retry: f64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0.0);
    let body = assert_graph_error(resp, 429, "TooManyRequests").await;
    assert_eq!(body["error"]["innerError"]["status"], "429");
    assert_eq!(sb.get("users").await.status(), 200);
    sb.stop().await;
}

#[tokio::test]
async fn fail_every_answers_503() {
    let sb = start_with(small_tenant(), |c| c.fail_every = 1).await;
    assert_graph_error(sb.get("users").await, 503, "serviceNotAvailable").await;
    sb.stop().await;
}

#[tokio::test]
async fn write_timeout_every_answers_504_after_the_write_took_effect() {
    let sb = start_with(small_tenant(), |c| c.write_timeout_every = 2).await;
    // The first write is answered as usual; the second is carried out, then answered 504.
    assert_eq!(
        sb.send("POST", NL, ip_location("first")).await.status(),
        201
    );
    assert_graph_error(
        sb.send("POST", NL, ip_location("second")).await,
        504,
        "GatewayTimeout",
    )
    .await;
    // Reads are never counted nor faulted, and the 504'd create exists.
    let names: Vec<Value> = json_of(sb.get(NL).await).await["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["displayName"].clone())
        .collect();
    assert_eq!(names, [json!("first"), json!("second")]);
    sb.stop().await;
}

#[tokio::test]
async fn conditional_access_writes_beyond_one_per_second_get_429_without_retry_after() {
    let sb = start_with(small_tenant(), |c| c.write_limits = true).await;
    assert_eq!(sb.send("POST", CA, ca_policy("first")).await.status(), 201);
    let resp = sb.send("POST", NL, ip_location("second")).await;
    assert_eq!(resp.status(), 429);
    assert!(
        !resp.headers().contains_key("retry-after"),
        "Graph sends no Retry-After here"
    );
    assert_graph_error(resp, 429, "TooManyRequests").await;
    // Reads and other writes are not limited.
    assert_eq!(sb.get(CA).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(
        sb.send("POST", NL, ip_location("third")).await.status(),
        201
    );
    sb.stop().await;
}

#[tokio::test]
async fn created_objects_become_visible_after_the_consistency_delay() {
    let sb = start_with(small_tenant(), |c| c.consistency_delay_ms = 800).await;
    let created = json_of(sb.send("POST", NL, ip_location("Office")).await).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(sb.get(&format!("{NL}/{id}")).await.status(), 404);
    assert_eq!(
        json_of(sb.get(NL).await).await["value"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    tokio::time::sleep(Duration::from_millis(850)).await;
    assert_eq!(sb.get(&format!("{NL}/{id}")).await.status(), 200);
    sb.stop().await;
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let sb = start_with(small_tenant(), |c| c.latency_ms = 120).await;
    let started = std::time::Instant::now();
    assert_eq!(sb.get("users").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(120));
    sb.stop().await;
}

// --- writes and validation -------------------------------------------------------------------

#[tokio::test]
async fn bad_enum_value_gets_400_with_the_graph_error_body() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let mut body = ca_policy("bad");
    body["state"] = json!("on");
    let err = assert_graph_error(sb.send("POST", CA, body).await, 400, "BadRequest").await;
    assert!(err["error"]["message"].as_str().unwrap().contains("'on'"));
    sb.stop().await;
}

#[tokio::test]
async fn invalid_bodies_get_400() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let mut unknown = ca_policy("x");
    unknown["colour"] = json!("red");
    let mut wrong_type = ca_policy("x");
    wrong_type["displayName"] = json!(42);
    let mut missing = ca_policy("x");
    missing.as_object_mut().unwrap().remove("state");
    let mut both = ip_location("x");
    both["countriesAndRegions"] = json!(["NL"]);
    let mut untyped = ip_location("x");
    untyped.as_object_mut().unwrap().remove("@odata.type");
    let mut untyped_range = ip_location("x");
    untyped_range["ipRanges"][0]
        .as_object_mut()
        .unwrap()
        .remove("@odata.type");
    for (path, body) in [
        (CA, unknown),
        (CA, wrong_type),
        (CA, missing),
        (NL, both),
        (NL, untyped),
        (NL, untyped_range),
    ] {
        assert_graph_error(sb.send("POST", path, body).await, 400, "BadRequest").await;
    }
    let malformed = sb
        .client
        .post(sb.graph(CA))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body("{\"displayName\": ")
        .send()
        .await
        .unwrap();
    assert_graph_error(malformed, 400, "BadRequest").await;
    assert_eq!(
        json_of(sb.get(CA).await).await["value"],
        json!([]),
        "nothing was created"
    );
    sb.stop().await;
}

#[tokio::test]
async fn create_returns_201_with_server_set_fields_and_graphs_defaults() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let resp = sb.send("POST", CA, ca_policy("CA001")).await;
    assert_eq!(resp.status(), 201);
    let p = json_of(resp).await;
    assert!(p["@odata.context"].as_str().unwrap().contains("$metadata#"));
    assert!(uuid::Uuid::parse_str(p["id"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(p["createdDateTime"].as_str().unwrap()).is_ok());
    assert_eq!(p["modifiedDateTime"], Value::Null);
    assert_eq!(p["templateId"], Value::Null);
    assert_eq!(p["sessionControls"], Value::Null);
    assert_eq!(p["conditions"]["clientAppTypes"], json!(["all"]));
    assert_eq!(p["conditions"]["users"]["excludeUsers"], json!([]));
    assert_eq!(p["grantControls"]["termsOfUse"], json!([]));

    let nl = json_of(sb.send("POST", NL, json!({"@odata.type": "ipNamedLocation", "displayName": "bare",
        "ipRanges": [{"@odata.type": "microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}]})).await).await;
    assert_eq!(nl["@odata.type"], "#microsoft.graph.ipNamedLocation");
    assert_eq!(
        nl["ipRanges"][0]["@odata.type"],
        "#microsoft.graph.iPv4CidrRange"
    );
    assert_eq!(nl["createdDateTime"], nl["modifiedDateTime"]);
    assert_eq!(nl["isTrusted"], false);
    sb.stop().await;
}

#[tokio::test]
async fn patch_merges_objects_replaces_arrays_and_answers_204() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let p = json_of(sb.send("POST", CA, ca_policy("CA002")).await).await;
    let url = format!("{CA}/{}", p["id"].as_str().unwrap());
    let resp = sb
        .send("PATCH", &url, json!({"conditions": {"users": {"excludeUsers": ["0a000000-0000-4000-8000-000000000004"]}}}))
        .await;
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    let after = json_of(sb.get(&url).await).await;
    assert_eq!(
        after["conditions"]["users"]["includeUsers"],
        json!(["All"]),
        "merged"
    );
    assert_eq!(
        after["conditions"]["users"]["excludeUsers"],
        json!(["0a000000-0000-4000-8000-000000000004"])
    );
    assert_eq!(
        after["conditions"]["applications"]["includeApplications"],
        json!(["All"])
    );
    assert!(after["modifiedDateTime"].is_string());
    assert_eq!(
        sb.send(
            "PATCH",
            &url,
            json!({"grantControls": {"builtInControls": ["block"]}})
        )
        .await
        .status(),
        204
    );
    let replaced = json_of(sb.get(&url).await).await;
    assert_eq!(
        replaced["grantControls"]["builtInControls"],
        json!(["block"]),
        "arrays replaced"
    );
    assert_eq!(replaced["grantControls"]["operator"], "OR");

    assert_eq!(sb.send("DELETE", &url, json!(null)).await.status(), 204);
    assert_graph_error(sb.get(&url).await, 404, "ResourceNotFound").await;
    assert_graph_error(
        sb.send("PATCH", &url, json!({"state": "disabled"})).await,
        404,
        "ResourceNotFound",
    )
    .await;
    sb.stop().await;
}

#[tokio::test]
async fn singletons_answer_as_graph_documents() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let sd = "policies/identitySecurityDefaultsEnforcementPolicy";
    assert_eq!(
        json_of(sb.get(sd).await).await["id"],
        "00000000-0000-0000-0000-000000000005"
    );
    assert_eq!(
        sb.send("PATCH", sd, json!({"isEnabled": false}))
            .await
            .status(),
        204
    );
    assert_eq!(json_of(sb.get(sd).await).await["isEnabled"], false);
    assert_graph_error(
        sb.send("PATCH", sd, json!({"id": "something-else"})).await,
        400,
        "BadRequest",
    )
    .await;

    let sp = sb
        .send(
            "PATCH",
            "admin/sharepoint/settings",
            json!({"sharingCapability": "existingExternalUserSharingOnly",
        "sharingAllowedDomainList": ["fabrikam.com"]}),
        )
        .await;
    assert_eq!(
        sp.status(),
        200,
        "SharePoint settings PATCH returns the whole object"
    );
    let sp = json_of(sp).await;
    assert_eq!(sp["sharingCapability"], "existingExternalUserSharingOnly");
    assert_eq!(sp["deletedUserPersonalSiteRetentionPeriodInDays"], 30);

    let authz = "policies/authorizationPolicy";
    assert_eq!(
        sb.send(
            "PATCH",
            authz,
            json!({"defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": []}})
        )
        .await
        .status(),
        204
    );
    let a = json_of(sb.get(authz).await).await;
    assert_eq!(
        a["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"],
        json!([])
    );
    assert_eq!(a["defaultUserRolePermissions"]["allowedToCreateApps"], true);
    sb.stop().await;
}

#[tokio::test]
async fn method_configurations_match_ids_case_insensitively_and_need_their_type() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let base = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations";
    for seg in ["fido2", "Fido2", "FIDO2"] {
        assert_eq!(
            json_of(sb.get(&format!("{base}/{seg}")).await).await["id"],
            "Fido2"
        );
    }
    assert_graph_error(
        sb.send(
            "PATCH",
            &format!("{base}/fido2"),
            json!({"state": "enabled"}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    let wrong = json!({"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "state": "enabled"});
    assert_graph_error(
        sb.send("PATCH", &format!("{base}/fido2"), wrong).await,
        400,
        "BadRequest",
    )
    .await;
    let ok = json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "enabled"});
    assert_eq!(
        sb.send("PATCH", &format!("{base}/FIDO2"), ok)
            .await
            .status(),
        204
    );
    let policy = json_of(sb.get("policies/authenticationMethodsPolicy").await).await;
    assert_eq!(
        policy["authenticationMethodConfigurations"][0]["state"],
        "enabled"
    );
    let amp = sb
        .send(
            "PATCH",
            "policies/authenticationMethodsPolicy",
            json!({"reconfirmationInDays": 90}),
        )
        .await;
    assert_eq!(
        amp.status(),
        200,
        "the methods policy PATCH returns the whole policy"
    );
    assert_eq!(json_of(amp).await["reconfirmationInDays"], 90);
    sb.stop().await;
}

#[tokio::test]
async fn authentication_strength_rules() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let custom = format!("{STRENGTHS}/{CUSTOM_STRENGTH}");
    assert_graph_error(
        sb.send("PATCH", &custom, json!({"allowedCombinations": ["sms"]}))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert_eq!(
        sb.send("PATCH", &custom, json!({"description": "keys"}))
            .await
            .status(),
        204
    );
    let result = sb
        .send(
            "POST",
            &format!("{custom}/updateAllowedCombinations"),
            json!({"allowedCombinations": ["sms, password", "fido2"]}),
        )
        .await;
    assert_eq!(result.status(), 200);
    let result = json_of(result).await;
    assert_eq!(result["previousCombinations"], json!(["fido2"]));
    assert_eq!(
        result["currentCombinations"],
        json!(["password,sms", "fido2"])
    );
    let alias = json_of(
        sb.get(&format!(
            "identity/conditionalAccess/authenticationStrength/policies/{CUSTOM_STRENGTH}"
        ))
        .await,
    )
    .await;
    assert_eq!(
        alias["allowedCombinations"],
        json!(["password,sms", "fido2"]),
        "normalised, and served under both paths"
    );
    assert_graph_error(
        sb.send(
            "POST",
            &format!("{custom}/updateAllowedCombinations"),
            json!({"allowedCombinations": ["sms, carrierPigeon"]}),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;

    let builtin = format!("{STRENGTHS}/00000000-0000-0000-0000-000000000002");
    assert_graph_error(
        sb.send("PATCH", &builtin, json!({"description": "x"}))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert_graph_error(
        sb.send("DELETE", &builtin, json!(null)).await,
        400,
        "BadRequest",
    )
    .await;

    let created = sb
        .send(
            "POST",
            STRENGTHS,
            json!({"displayName": "Keys", "allowedCombinations": ["fido2", "password, voice"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created = json_of(created).await;
    assert_eq!(created["policyType"], "custom");
    assert_eq!(created["requirementsSatisfied"], "mfa");
    assert_eq!(
        created["allowedCombinations"],
        json!(["fido2", "password,voice"])
    );
    assert_eq!(created["combinationConfigurations"], json!([]));

    let filtered = json_of(
        sb.get(&format!("{STRENGTHS}?$filter=policyType eq 'custom'"))
            .await,
    )
    .await;
    assert_eq!(filtered["value"].as_array().unwrap().len(), 2);
    let modes = json_of(
        sb.get("identity/conditionalAccess/authenticationStrength/authenticationMethodModes")
            .await,
    )
    .await;
    assert!(
        modes["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "fido2")
    );
    let combos = json_of(
        sb.get("identity/conditionalAccess/authenticationStrength/combinations")
            .await,
    )
    .await;
    assert!(
        combos["value"]
            .as_array()
            .unwrap()
            .contains(&json!("password,sms"))
    );
    sb.stop().await;
}

// --- $batch ----------------------------------------------------------------------------------

#[tokio::test]
async fn batch_depends_on_runs_in_dependency_order() {
    let sb = start_with(small_tenant(), |_| {}).await;
    // Array order is not execution order: 1 -> 2 -> 4 -> 3, as the documentation's example.
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/identity/conditionalAccess/namedLocations",
         "headers": {"Content-Type": "application/json"}, "body": ip_location("Batch office")},
        {"id": "2", "dependsOn": ["1"], "method": "GET", "url": "/identity/conditionalAccess/namedLocations"},
        {"id": "3", "dependsOn": ["4"], "method": "GET", "url": "identity/conditionalAccess/namedLocations?$select=displayName"},
        {"id": "4", "dependsOn": ["2"], "method": "POST", "url": "/identity/conditionalAccess/namedLocations",
         "headers": {"Content-Type": "application/json"}, "body": ip_location("Second office")}
    ]});
    let resp = sb.send("POST", "$batch", batch).await;
    assert_eq!(resp.status(), 200);
    let body = json_of(resp).await;
    let responses = body["responses"].as_array().unwrap();
    let order: Vec<&str> = responses
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec!["1", "2", "4", "3"]);
    let by_id = |id: &str| responses.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("1")["status"], 201);
    assert_eq!(
        by_id("2")["body"]["value"].as_array().unwrap().len(),
        1,
        "2 saw 1's write"
    );
    assert_eq!(
        by_id("3")["body"]["value"].as_array().unwrap().len(),
        2,
        "3 saw 4's write"
    );
    sb.stop().await;
}

#[tokio::test]
async fn batch_dependents_of_a_failure_get_424_and_limits_hold() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let body = json_of(sb.send("POST", "$batch", json!({"requests": [
        {"id": "a", "method": "GET", "url": "/identity/conditionalAccess/policies/does-not-exist"},
        {"id": "b", "dependsOn": ["a"], "method": "GET", "url": "/users"},
        {"id": "c", "method": "PATCH", "url": "/policies/identitySecurityDefaultsEnforcementPolicy",
         "body": {"isEnabled": false}}
    ]})).await).await;
    let status = |id: &str| {
        body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("a"), 404);
    assert_eq!(status("b"), 424);
    assert_eq!(status("c"), 400, "a body needs a Content-Type header");

    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    assert_graph_error(
        sb.send("POST", "$batch", json!({"requests": too_many}))
            .await,
        400,
        "BadRequest",
    )
    .await;
    let dup = json!({"requests": [{"id": "x", "method": "GET", "url": "/users"}, {"id": "X", "method": "GET", "url": "/users"}]});
    assert_graph_error(sb.send("POST", "$batch", dup).await, 400, "BadRequest").await;
    sb.stop().await;
}

// --- authentication and permissions ----------------------------------------------------------

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let none = sb.client.get(sb.graph(CA)).send().await.unwrap();
    assert_graph_error(none, 401, "InvalidAuthenticationToken").await;
    let bad = sb
        .client
        .get(sb.graph(CA))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_graph_error(bad, 401, "InvalidAuthenticationToken").await;
    sb.stop().await;
}

#[tokio::test]
async fn tokens_carry_the_clients_roles_and_missing_ones_get_403() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let resp = token(&sb, "11111111-aaaa-4000-8000-000000000001", "reader-secret").await;
    assert_eq!(resp.status(), 200);
    let tok = json_of(resp).await;
    assert_eq!(tok["token_type"], "Bearer");
    assert!(tok["expires_in"].is_number());
    let reader = tok["access_token"].as_str().unwrap().to_string();

    let read = sb
        .client
        .get(sb.graph(CA))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let write = sb
        .client
        .post(sb.graph(CA))
        .bearer_auth(&reader)
        .json(&ca_policy("x"))
        .send()
        .await
        .unwrap();
    let err = assert_graph_error(write, 403, "Authorization_RequestDenied").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Policy.ReadWrite.ConditionalAccess")
    );
    let users = sb
        .client
        .get(sb.graph("users"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_graph_error(users, 403, "Authorization_RequestDenied").await;

    let writer =
        json_of(token(&sb, "11111111-aaaa-4000-8000-000000000002", "writer-secret").await).await;
    let writer = writer["access_token"].as_str().unwrap().to_string();
    let created = sb
        .client
        .post(sb.graph(CA))
        .bearer_auth(&writer)
        .json(&ca_policy("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Retention labels have no application permission: app-only tokens are refused whatever their roles.
    let labels = sb
        .client
        .get(sb.graph("security/labels/retentionLabels"))
        .bearer_auth(&writer)
        .send()
        .await
        .unwrap();
    assert_graph_error(labels, 403, "Authorization_RequestDenied").await;
    assert_eq!(
        sb.get("security/labels/retentionLabels").await.status(),
        200,
        "the admin token is delegated"
    );
    sb.stop().await;
}

#[tokio::test]
async fn token_endpoint_errors_have_microsofts_shape() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let bad_secret = token(&sb, "11111111-aaaa-4000-8000-000000000001", "wrong").await;
    assert_eq!(bad_secret.status(), 401);
    let body = json_of(bad_secret).await;
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215:")
    );
    assert_eq!(body["error_codes"], json!([7000215]));
    for k in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[k].is_string(), "{k}");
    }
    let unknown = token(&sb, "99999999-0000-4000-8000-000000000000", "x").await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(json_of(unknown).await["error"], "unauthorized_client");
    let wrong_scope = sb
        .client
        .post(format!("{}/contoso/oauth2/v2.0/token", sb.running.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-aaaa-4000-8000-000000000001"),
            ("client_secret", "reader-secret"),
            ("scope", "https://graph.microsoft.com/User.Read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_scope.status(), 400);
    assert_eq!(json_of(wrong_scope).await["error"], "invalid_scope");
    sb.stop().await;
}

fn key(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/keys/{name}")).unwrap()
}

fn assertion(private: &str, x5t: Option<String>, claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = x5t;
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(key(private).as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn assertion_token(
    sb: &sandbox_support::Sandbox,
    client_id: &str,
    jwt: &str,
) -> reqwest::Response {
    sb.client
        .post(format!("{}/contoso/oauth2/v2.0/token", sb.running.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", "https://graph.microsoft.com/.default"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn certificate_and_federated_client_assertions() {
    let mut state = small_tenant();
    let x5t = key("client-cert.x5t").trim().to_string();
    state["_sandbox"]["clients"].as_array_mut().unwrap().extend([
        json!({"clientId": "cert-app", "certificate": {"publicKeyPem": key("client-public.pem"), "thumbprint": x5t},
               "roles": ["Policy.Read.All"]}),
        json!({"clientId": "ci-app", "roles": ["Policy.Read.All"], "federatedCredentials": [
            {"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/policies:ref:refs/heads/main",
             "audiences": ["api://AzureADTokenExchange"], "publicKeyPem": key("federated-public.pem")}]}),
    ]);
    let sb = start_with(state, |_| {}).await;
    let aud = format!("{}/contoso/oauth2/v2.0/token", sb.running.url());
    let now = chrono::Utc::now().timestamp();
    let good = assertion(
        "client-private.pem",
        Some(x5t.clone()),
        json!({"aud": aud, "iss": "cert-app", "sub": "cert-app", "exp": now + 300, "nbf": now}),
    );
    let resp = assertion_token(&sb, "cert-app", &good).await;
    assert_eq!(resp.status(), 200);
    let tok = json_of(resp).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sb.client
            .get(sb.graph(CA))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let forged = assertion(
        "other-private.pem",
        Some(x5t.clone()),
        json!({"aud": aud, "iss": "cert-app", "sub": "cert-app", "exp": now + 300}),
    );
    let resp = assertion_token(&sb, "cert-app", &forged).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(json_of(resp).await["error"], "invalid_client");
    let expired = assertion(
        "client-private.pem",
        Some(x5t),
        json!({"aud": aud, "iss": "cert-app", "sub": "cert-app", "exp": now - 60}),
    );
    let resp = json_of(assertion_token(&sb, "cert-app", &expired).await).await;
    assert!(
        resp["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700024:")
    );

    let gh = |sub: &str| {
        assertion(
            "federated-private.pem",
            None,
            json!({
        "iss": "https://token.actions.githubusercontent.com", "sub": sub,
        "aud": "api://AzureADTokenExchange", "exp": now + 300}),
        )
    };
    let resp = assertion_token(
        &sb,
        "ci-app",
        &gh("repo:contoso/policies:ref:refs/heads/main"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let resp = assertion_token(&sb, "ci-app", &gh("repo:contoso/policies:pull_request")).await;
    assert_eq!(resp.status(), 401);
    assert!(
        json_of(resp).await["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS70021:")
    );
    sb.stop().await;
}

// --- request log and persistence -------------------------------------------------------------

#[tokio::test]
async fn request_log_lists_and_clears_requests() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let log_url = format!("{}/_sandbox/requests", sb.running.url());
    sb.client.delete(&log_url).send().await.unwrap();
    sb.get("users?$top=2").await;
    sb.get("nothing/here").await;
    let log: Value = sb
        .client
        .get(&log_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2, "the log does not log itself: {log}");
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/v1.0/users?$top=2");
    assert_eq!(entries[0]["status"], 200);
    assert!(entries[0]["latencyMs"].is_number());
    assert_eq!(entries[1]["status"], 404);
    assert_eq!(
        sb.client.delete(&log_url).send().await.unwrap().status(),
        204
    );
    let log: Value = sb
        .client
        .get(&log_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log, json!([]));
    sb.stop().await;
}

#[tokio::test]
async fn writes_are_in_the_state_file_when_acknowledged_and_tokens_survive_a_restart() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let tok =
        json_of(token(&sb, "11111111-aaaa-4000-8000-000000000002", "writer-secret").await).await;
    let tok = tok["access_token"].as_str().unwrap().to_string();
    let created = json_of(sb.send("POST", NL, ip_location("Persisted")).await).await;
    let on_disk: Value = serde_json::from_slice(&std::fs::read(sb.state_path()).unwrap()).unwrap();
    assert!(
        on_disk[NL]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == created["id"])
    );
    assert!(on_disk["_sandbox"]["signingKey"].is_string());
    let path = sb.state_path();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("state.json");
    std::fs::copy(&path, &copy).unwrap();
    sb.stop().await;

    let again = steward::sandbox::start(steward::sandbox::SandboxConfig {
        state: Some(copy),
        ..Default::default()
    })
    .await
    .unwrap();
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/v1.0/{NL}/{}",
            again.url(),
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    again.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_reserved_keys_are_not_served() {
    let sb = start_with(small_tenant(), |_| {}).await;
    assert_graph_error(sb.get("_sandbox").await, 404, "ResourceNotFound").await;
    assert_graph_error(sb.get("me/drive").await, 404, "ResourceNotFound").await;
    let outside = sb
        .client
        .get(format!("{}/beta/users", sb.running.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_graph_error(outside, 404, "ResourceNotFound").await;
    sb.stop().await;
}

#[tokio::test]
async fn policies_must_reference_existing_locations_and_strengths_and_keep_them_alive() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let mut dangling = ca_policy("uses a missing location");
    dangling["conditions"]["locations"] = json!({"includeLocations": ["All"], "excludeLocations": ["7d9cbd36-0000-4000-8000-000000000000"]});
    assert_graph_error(sb.send("POST", CA, dangling).await, 400, "BadRequest").await;

    let nl = json_of(sb.send("POST", NL, ip_location("Office")).await).await;
    let nl_id = nl["id"].as_str().unwrap();
    let mut ok = ca_policy("uses the office");
    ok["conditions"]["locations"] =
        json!({"includeLocations": ["All"], "excludeLocations": [nl_id, "AllTrusted"]});
    ok["grantControls"] = json!({"operator": "OR", "builtInControls": [], "authenticationStrength": {"id": CUSTOM_STRENGTH}});
    let policy = json_of(sb.send("POST", CA, ok).await).await;
    assert!(policy["id"].is_string(), "{policy}");

    // Deleting what a policy uses is refused: apply must delete the policy first.
    assert_graph_error(
        sb.send("DELETE", &format!("{NL}/{nl_id}"), json!(null))
            .await,
        400,
        "BadRequest",
    )
    .await;
    assert_graph_error(
        sb.send(
            "DELETE",
            &format!("{STRENGTHS}/{CUSTOM_STRENGTH}"),
            json!(null),
        )
        .await,
        400,
        "BadRequest",
    )
    .await;
    let usage = json_of(
        sb.get(&format!("{STRENGTHS}/{CUSTOM_STRENGTH}/usage"))
            .await,
    )
    .await;
    assert_eq!(usage["mfa"][0]["id"], policy["id"]);
    assert_eq!(
        sb.send(
            "DELETE",
            &format!("{CA}/{}", policy["id"].as_str().unwrap()),
            json!(null)
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        sb.send("DELETE", &format!("{NL}/{nl_id}"), json!(null))
            .await
            .status(),
        204
    );
    sb.stop().await;
}

#[tokio::test]
async fn hostile_input_never_crashes_the_server() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let deep = format!(
        "users?$filter={}a eq 1{}",
        "(".repeat(3000),
        ")".repeat(3000)
    );
    let paths = [
        deep.as_str(),
        "users('",
        "users(')",
        "servicePrincipals(appId=)",
        "%ff%fe",
        "users/%00",
        "identity/conditionalAccess/policies/x/y/z",
        "policies/authenticationStrengthPolicies/x/combinationConfigurations/y/z",
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2/x",
        "users?$top=-1",
        "users?$skiptoken=garbage",
        "users?$orderby=displayName sideways",
        "$batch",
    ];
    for p in paths {
        let status = sb.get(p).await.status().as_u16();
        assert!((400..500).contains(&status), "{p}: {status}");
    }
    let bodies = [
        json!([1, 2]),
        json!("text"),
        json!(null),
        json!({"displayName": {"nested": [1]}}),
        json!({"@odata.type": 5}),
        json!({"@odata.type": "#microsoft.graph.nonsense"}),
        json!({"conditions": "all"}),
        json!({"requests": "x"}),
        json!({"requests": [{"id": 1}]}),
        json!({"ids": "x"}),
    ];
    for path in [
        CA,
        NL,
        STRENGTHS,
        "$batch",
        "directoryObjects/getByIds",
        "admin/sharepoint/settings",
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
        &format!("{STRENGTHS}/{CUSTOM_STRENGTH}/updateAllowedCombinations"),
    ] {
        for method in ["POST", "PATCH", "PUT", "DELETE"] {
            for b in &bodies {
                let status = sb.send(method, path, b.clone()).await.status().as_u16();
                assert!(status < 500, "{method} {path} {b}: {status}");
            }
        }
    }
    let garbage_token = sb
        .client
        .post(format!("{}/x/oauth2/v2.0/token", sb.running.url()))
        .body(vec![0xff, 0xfe, b'&', b'='])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage_token.status(), 400);
    assert_eq!(sb.get("users").await.status(), 200, "still serving");
    sb.stop().await;
}

#[tokio::test]
async fn policies_support_count_without_eventual_consistency() {
    let sb = start_with(small_tenant(), |_| {}).await;
    sb.send("POST", CA, ca_policy("one")).await;
    sb.send("POST", CA, ca_policy("two")).await;
    let plain = sb.get(&format!("{CA}/$count")).await;
    assert_eq!(plain.headers()["content-type"], "text/plain");
    assert_eq!(plain.text().await.unwrap(), "2");
    let page = json_of(
        sb.get(&format!(
            "{CA}?$count=true&$top=1&$filter=displayName eq 'two'"
        ))
        .await,
    )
    .await;
    assert_eq!(page["@odata.count"], 1);
    assert_eq!(page["value"][0]["displayName"], "two");
    sb.stop().await;
}

#[tokio::test]
async fn select_of_an_unknown_property_is_refused_on_typed_resources() {
    let sb = start_with(small_tenant(), |_| {}).await;
    sb.send("POST", NL, ip_location("Office")).await;
    let page = json_of(sb.get(&format!("{NL}?$select=displayName,ipRanges")).await).await;
    assert_eq!(
        page["value"][0]["ipRanges"][0]["cidrAddress"],
        "203.0.113.0/24"
    );
    assert_eq!(
        page["value"][0]["@odata.type"], "#microsoft.graph.ipNamedLocation",
        "polymorphic items keep their type"
    );
    assert_graph_error(
        sb.get(&format!("{NL}?$select=displayNme")).await,
        400,
        "BadRequest",
    )
    .await;
    let sd = json_of(
        sb.get("policies/identitySecurityDefaultsEnforcementPolicy?$select=isEnabled")
            .await,
    )
    .await;
    assert_eq!(sd["isEnabled"], true);
    assert!(sd.get("displayName").is_none());
    sb.stop().await;
}

#[tokio::test]
async fn named_location_values_and_policy_conditions_are_checked() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let mut v6_as_v4 = ip_location("x");
    v6_as_v4["ipRanges"][0]["cidrAddress"] = json!("2001:db8::/48");
    assert_graph_error(sb.send("POST", NL, v6_as_v4).await, 400, "BadRequest").await;
    let country = json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "c",
        "countriesAndRegions": ["Netherlands"]});
    assert_graph_error(sb.send("POST", NL, country).await, 400, "BadRequest").await;
    let mut no_apps = ca_policy("x");
    no_apps["conditions"]
        .as_object_mut()
        .unwrap()
        .remove("applications");
    assert_graph_error(sb.send("POST", CA, no_apps).await, 400, "BadRequest").await;
    sb.stop().await;
}

#[tokio::test]
async fn combination_configurations_live_under_their_strength() {
    let sb = start_with(small_tenant(), |_| {}).await;
    let base = format!(
        "identity/conditionalAccess/authenticationStrength/policies/{CUSTOM_STRENGTH}/combinationConfigurations"
    );
    let config = json!({"@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
        "appliesToCombinations": ["fido2"], "allowedAAGUIDs": ["90a3ccdf-635c-4729-a248-9b709135078f"]});
    let mut untyped = config.clone();
    untyped.as_object_mut().unwrap().remove("@odata.type");
    assert_graph_error(sb.send("POST", &base, untyped).await, 400, "BadRequest").await;
    let mut not_allowed = config.clone();
    not_allowed["appliesToCombinations"] = json!(["password,sms"]);
    assert_graph_error(sb.send("POST", &base, not_allowed).await, 400, "BadRequest").await;
    let created = sb.send("POST", &base, config.clone()).await;
    assert_eq!(created.status(), 201);
    let id = json_of(created).await["id"].as_str().unwrap().to_string();
    assert_eq!(
        sb.send(
            "PATCH",
            &format!("{base}/{id}"),
            json!({"allowedAAGUIDs": []})
        )
        .await
        .status(),
        204
    );
    let got = json_of(sb.get(&format!("{base}/{id}")).await).await;
    assert_eq!(got["allowedAAGUIDs"], json!([]));
    assert_eq!(
        got["@odata.type"],
        "#microsoft.graph.fido2CombinationConfiguration"
    );
    let builtin = "identity/conditionalAccess/authenticationStrength/policies/00000000-0000-0000-0000-000000000002/combinationConfigurations";
    assert_graph_error(sb.send("POST", builtin, config).await, 400, "BadRequest").await;
    assert_eq!(
        sb.send("DELETE", &format!("{base}/{id}"), json!(null))
            .await
            .status(),
        204
    );
    assert_eq!(json_of(sb.get(&base).await).await["value"], json!([]));
    sb.stop().await;
}
