//! The sandbox's SharePoint admin API: the verbose REST read, CSOM writes and their errors,
//! one state shared with Graph's SharePoint settings, token audiences, the refusal of
//! secret-based app-only tokens, and fault injection.

use crate::sandbox_support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use sandbox_support::{ADMIN, Sandbox, small_tenant, start_with, token};

const ADMIN_HOST: &str = "https://contoso-admin.sharepoint.com";
const TENANT_PATH: &str = "<ObjectPaths><Constructor Id=\"3\" TypeId=\"{268004ae-ef6b-4e9b-8425-127220d84719}\" /></ObjectPaths>";

fn request(actions: &str) -> String {
    format!(
        "<Request AddExpandoFieldTypeSuffix=\"true\" SchemaVersion=\"15.0.0.0\" LibraryVersion=\"16.0.0.0\" ApplicationName=\"test\" xmlns=\"http://schemas.microsoft.com/sharepoint/clientquery/2009\"><Actions>{actions}</Actions>{TENANT_PATH}</Request>"
    )
}

fn set(id: u32, name: &str, ty: &str, value: &str) -> String {
    format!(
        "<SetProperty Id=\"{id}\" ObjectPathId=\"3\" Name=\"{name}\"><Parameter Type=\"{ty}\">{value}</Parameter></SetProperty>"
    )
}

async fn tenant(sb: &Sandbox, bearer: &str) -> reqwest::Response {
    sb.client
        .get(format!("{}/_api/SPO.Tenant", sb.running.url()))
        .bearer_auth(bearer)
        .header("Accept", "application/json;odata=verbose")
        .send()
        .await
        .expect("SPO.Tenant")
}

async fn process(sb: &Sandbox, bearer: &str, body: String) -> reqwest::Response {
    sb.client
        .post(format!(
            "{}/_vti_bin/client.svc/ProcessQuery",
            sb.running.url()
        ))
        .bearer_auth(bearer)
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .expect("ProcessQuery")
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.expect("json body")
}

fn tenant_with_spo() -> Value {
    let mut state = small_tenant();
    state["spo/tenant"] = json!({
        "ODBSharingCapability": 2,
        "DefaultSharingLinkType": 3,
        "DefaultLinkPermission": 2,
        "RequireAnonymousLinksExpireInDays": -1,
        "OneDriveStorageQuota": 1048576
    });
    state
}

#[tokio::test]
async fn spo_tenant_reads_as_verbose_odata_with_integers_minus_one_and_int64_strings() {
    let sb = start_with(tenant_with_spo(), |_| {}).await;
    let resp = tenant(&sb, ADMIN).await;
    assert_eq!(resp.status(), 200);
    let body = json_of(resp).await;
    let d = &body["d"];
    assert_eq!(
        d["__metadata"]["type"],
        "Microsoft.Online.SharePoint.TenantAdministration.Tenant"
    );
    assert_eq!(
        d["__metadata"]["uri"],
        format!("{ADMIN_HOST}/_api/SPO.Tenant")
    );
    assert!(d["Sites"]["__deferred"]["uri"].is_string());
    assert_eq!(d["RequireAnonymousLinksExpireInDays"], -1);
    assert_eq!(d["DefaultSharingLinkType"], 3);
    assert_eq!(d["OneDriveStorageQuota"], "1048576");
    assert_eq!(
        d["AllowedDomainListForSyncClient"]["results"],
        json!([]),
        "collections wrapped"
    );
    // The settings Graph also holds come from Graph's object, as SharePoint's integers.
    assert_eq!(d["SharingCapability"], 2);
    assert_eq!(d["SharingDomainRestrictionMode"], 0);
    assert_eq!(d["OrphanedPersonalSitesRetentionPeriod"], 30);
    // Restricted search is a method, not a property.
    assert!(d.get("RestrictedSearchMode").is_none());
    sb.stop().await;
}

#[tokio::test]
async fn csom_set_property_writes_and_query_reads_back_in_csom_form() {
    let sb = start_with(tenant_with_spo(), |_| {}).await;
    let body = request(&format!(
        "{}{}{}",
        set(10, "ODBSharingCapability", "Int32", "3"),
        set(11, "RequireAnonymousLinksExpireInDays", "Int32", "30"),
        set(12, "EmailAttestationRequired", "Boolean", "true"),
    ));
    let answer = json_of(process(&sb, ADMIN, body).await).await;
    assert_eq!(answer[0]["ErrorInfo"], Value::Null, "{answer}");
    let query = request(
        "<ObjectPath Id=\"4\" ObjectPathId=\"3\" /><Query Id=\"5\" ObjectPathId=\"3\"><Query SelectAllProperties=\"true\"><Properties /></Query></Query>",
    );
    let answer = json_of(process(&sb, ADMIN, query).await).await;
    assert_eq!(answer[1], 4);
    assert_eq!(answer[2], json!({"IsNull": false}));
    assert_eq!(answer[3], 5);
    let t = &answer[4];
    assert_eq!(
        t["_ObjectType_"],
        "Microsoft.Online.SharePoint.TenantAdministration.Tenant"
    );
    assert_eq!(t["ODBSharingCapability"], 3);
    assert_eq!(t["RequireAnonymousLinksExpireInDays"], 30);
    assert_eq!(t["EmailAttestationRequired"], true);
    // 0 means "no expiry", which SharePoint reads back as -1.
    let body = request(&set(13, "RequireAnonymousLinksExpireInDays", "Int32", "0"));
    process(&sb, ADMIN, body).await;
    assert_eq!(
        json_of(tenant(&sb, ADMIN).await).await["d"]["RequireAnonymousLinksExpireInDays"],
        -1
    );
    sb.stop().await;
}

#[tokio::test]
async fn sharepoint_and_graph_show_one_state_for_the_settings_they_share() {
    let sb = start_with(tenant_with_spo(), |_| {}).await;
    // CSOM → Graph.
    let body = request(&format!(
        "{}{}",
        set(10, "SharingCapability", "Int32", "3"),
        set(11, "PreventExternalUsersFromResharing", "Boolean", "true"),
    ));
    let answer = json_of(process(&sb, ADMIN, body).await).await;
    assert_eq!(answer[0]["ErrorInfo"], Value::Null, "{answer}");
    let graph = json_of(sb.get("admin/sharepoint/settings").await).await;
    assert_eq!(
        graph["sharingCapability"],
        "existingExternalUserSharingOnly"
    );
    assert_eq!(graph["isResharingByExternalUsersEnabled"], false);
    // OneDrive, wider than the narrowed SharePoint level, narrowed with it.
    let d = json_of(tenant(&sb, ADMIN).await).await["d"].clone();
    assert_eq!(d["ODBSharingCapability"], 3);
    // Graph → SharePoint.
    let resp = sb
        .send(
            "PATCH",
            "admin/sharepoint/settings",
            json!({"sharingCapability": "disabled"}),
        )
        .await;
    assert!(resp.status().is_success());
    let d = json_of(tenant(&sb, ADMIN).await).await["d"].clone();
    assert_eq!(d["SharingCapability"], 0);
    assert_eq!(d["ODBSharingCapability"], 0);
    sb.stop().await;
}

#[tokio::test]
async fn csom_failures_are_error_info_on_http_200_and_change_nothing_after_them() {
    let sb = start_with(tenant_with_spo(), |_| {}).await;
    for (name, value, message) in [
        ("ExternalUserExpireInDays", "10", "between 30 and 730"),
        ("EmailAttestationReAuthDays", "366", "between 1 and 365"),
        (
            "RequireAnonymousLinksExpireInDays",
            "731",
            "0 (no expiration)",
        ),
        ("NoSuchSetting", "1", "does not exist"),
    ] {
        let resp = process(&sb, ADMIN, request(&set(10, name, "Int32", value))).await;
        assert_eq!(resp.status(), 200, "{name}");
        let answer = json_of(resp).await;
        let error = &answer[0]["ErrorInfo"];
        assert_eq!(
            error["ErrorTypeName"], "Microsoft.SharePoint.Client.ServerException",
            "{name}"
        );
        assert!(
            error["ErrorMessage"]
                .as_str()
                .unwrap_or("")
                .contains(message),
            "{name}: {error}"
        );
    }
    // OneDrive wider than SharePoint is refused, and the actions after it are not run.
    let graph = sb
        .send(
            "PATCH",
            "admin/sharepoint/settings",
            json!({"sharingCapability": "existingExternalUserSharingOnly"}),
        )
        .await;
    assert!(graph.status().is_success());
    let body = request(&format!(
        "{}{}",
        set(10, "ODBSharingCapability", "Int32", "2"),
        set(11, "EmailAttestationRequired", "Boolean", "true"),
    ));
    let answer = json_of(process(&sb, ADMIN, body).await).await;
    assert!(
        answer[0]["ErrorInfo"]["ErrorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("more permissive")
    );
    let d = json_of(tenant(&sb, ADMIN).await).await["d"].clone();
    assert_eq!(d["ODBSharingCapability"], 3);
    assert_eq!(d["EmailAttestationRequired"], false);
    // Not XML at all.
    let answer = json_of(process(&sb, ADMIN, "<Request>".to_string()).await).await;
    assert!(answer[0]["ErrorInfo"]["ErrorMessage"].is_string());
    sb.stop().await;
}

#[tokio::test]
async fn restricted_search_mode_is_read_and_set_through_its_methods() {
    let sb = start_with(tenant_with_spo(), |_| {}).await;
    let get = request("<Method Name=\"GetSPORestrictedSearchMode\" Id=\"7\" ObjectPathId=\"3\" />");
    let answer = json_of(process(&sb, ADMIN, get.clone()).await).await;
    assert_eq!(&answer.as_array().unwrap()[1..], &[json!(7), json!(0)]);
    let set_mode = request(
        "<Method Name=\"SetSPORestrictedSearchMode\" Id=\"8\" ObjectPathId=\"3\"><Parameters><Parameter Type=\"Enum\">1</Parameter></Parameters></Method>",
    );
    let answer = json_of(process(&sb, ADMIN, set_mode).await).await;
    assert_eq!(answer[0]["ErrorInfo"], Value::Null);
    let answer = json_of(process(&sb, ADMIN, get).await).await;
    assert_eq!(answer[2], 1);
    // The allowed sites change by additions and removals.
    let list = |method: &str, sites: &[&str]| {
        let objects: String = sites
            .iter()
            .map(|s| format!("<Object Type=\"String\">{s}</Object>"))
            .collect();
        request(&format!(
            "<Method Name=\"{method}\" Id=\"9\" ObjectPathId=\"3\"><Parameters><Parameter Type=\"Array\">{objects}</Parameter></Parameters></Method>"
        ))
    };
    let hr = "https://contoso.sharepoint.com/sites/HR";
    let it = "https://contoso.sharepoint.com/sites/IT";
    for body in [
        list("AddSPORestrictedSearchAllowedList", &[hr, it]),
        list("RemoveSPORestrictedSearchAllowedList", &[it]),
    ] {
        let answer = json_of(process(&sb, ADMIN, body).await).await;
        assert_eq!(answer[0]["ErrorInfo"], Value::Null, "{answer}");
    }
    let sites = request(
        "<Method Name=\"GetSPORestrictedSearchAllowedList\" Id=\"7\" ObjectPathId=\"3\" />",
    );
    let answer = json_of(process(&sb, ADMIN, sites).await).await;
    assert_eq!(answer[2], json!([hr]));
    let bad = json_of(
        process(
            &sb,
            ADMIN,
            list("AddSPORestrictedSearchAllowedList", &["HR"]),
        )
        .await,
    )
    .await;
    assert!(bad[0]["ErrorInfo"]["ErrorMessage"].is_string(), "{bad}");
    sb.stop().await;
}

fn key(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/keys/{name}")).expect("key file")
}

async fn sharepoint_token(sb: &Sandbox, form: &[(&str, &str)]) -> Value {
    let resp = sb
        .client
        .post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            sb.running.url()
        ))
        .form(form)
        .send()
        .await
        .expect("token request");
    json_of(resp).await
}

#[tokio::test]
async fn sharepoint_checks_the_audience_and_refuses_app_only_tokens_from_a_client_secret() {
    let mut state = tenant_with_spo();
    let x5t = key("client-cert.x5t").trim().to_string();
    state["_sandbox"]["clients"] = json!([
        {"clientId": "secret-app", "secret": "s3cret", "roles": ["Policy.Read.All"],
         "sharepointRoles": ["Sites.FullControl.All"]},
        {"clientId": "cert-app", "certificate": {"publicKeyPem": key("client-public.pem"), "thumbprint": x5t},
         "roles": ["Policy.Read.All"], "sharepointRoles": ["Sites.FullControl.All"]},
        {"clientId": "cert-no-spo", "certificate": {"publicKeyPem": key("client-public.pem"), "thumbprint": x5t},
         "roles": ["Policy.Read.All"]}
    ]);
    let sb = start_with(state, |_| {}).await;
    let scope = format!("{ADMIN_HOST}/.default");
    // A Graph token is for Graph only.
    let graph = json_of(token(&sb, "secret-app", "s3cret").await).await;
    let graph_token = graph["access_token"].as_str().unwrap_or("").to_string();
    let resp = tenant(&sb, &graph_token).await;
    assert_eq!(resp.status(), 401);
    assert!(
        json_of(resp).await["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("Invalid audience")
    );
    // Entra issues a SharePoint token for a secret, and SharePoint refuses it.
    let answer = sharepoint_token(
        &sb,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "secret-app"),
            ("client_secret", "s3cret"),
            ("scope", &scope),
        ],
    )
    .await;
    let secret_token = answer["access_token"].as_str().unwrap_or("").to_string();
    assert!(!secret_token.is_empty(), "{answer}");
    let resp = tenant(&sb, &secret_token).await;
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()
            .get("x-ms-diagnostics")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("Unsupported app only token"))
    );
    // A certificate's token is accepted, with Sites.FullControl.All.
    let now = chrono::Utc::now().timestamp();
    let aud = format!(
        "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
        sb.running.url()
    );
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(key("client-cert.x5t").trim().to_string());
    let signed = |client: &str| {
        jsonwebtoken::encode(
            &header,
            &json!({"aud": aud, "iss": client, "sub": client, "exp": now + 300, "nbf": now}),
            &EncodingKey::from_rsa_pem(key("client-private.pem").as_bytes()).expect("key"),
        )
        .expect("assertion")
    };
    for (client, status) in [("cert-app", 200), ("cert-no-spo", 403)] {
        let assertion = signed(client);
        let answer = sharepoint_token(
            &sb,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("scope", &scope),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
            ],
        )
        .await;
        let bearer = answer["access_token"].as_str().unwrap_or("").to_string();
        assert_eq!(tenant(&sb, &bearer).await.status(), status, "{client}");
    }
    // Graph's sites/root names the SharePoint host the admin host is derived from.
    let root = json_of(sb.get("sites/root").await).await;
    assert_eq!(root["siteCollection"]["hostname"], "contoso.sharepoint.com");
    sb.stop().await;
}

#[tokio::test]
async fn sharepoint_requests_get_the_injected_faults_and_write_timeouts() {
    let sb = start_with(tenant_with_spo(), |c| {
        c.throttle_every = 2;
        c.retry_after_ms = 0;
    })
    .await;
    let statuses = [
        tenant(&sb, ADMIN).await.status().as_u16(),
        tenant(&sb, ADMIN).await.status().as_u16(),
    ];
    assert_eq!(statuses, [200, 429]);
    sb.stop().await;
    let sb = start_with(tenant_with_spo(), |c| c.write_timeout_every = 1).await;
    let resp = process(
        &sb,
        ADMIN,
        request(&set(10, "EmailAttestationRequired", "Boolean", "true")),
    )
    .await;
    assert_eq!(resp.status(), 504);
    // It took effect all the same.
    let d = json_of(tenant(&sb, ADMIN).await).await["d"].clone();
    assert_eq!(d["EmailAttestationRequired"], true);
    sb.stop().await;
}
