//! SharePoint's own settings through the whole workflow against the sandbox: plan shows the
//! demo tenant's Anyone-link story, apply converges (under faults too), export plans clean,
//! a client secret gets the documented refusal, a certificate signs in, and a repository that
//! declares only Graph's settings never contacts SharePoint.

use crate::common;

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;
use steward::sandbox::seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID};

use common::{Scratch, run, steward_async};

const SHARING: &str = r#"sharepoint-settings {
    sharing-capability externalUserAndGuestSharing
    one-drive-sharing-capability existingExternalUserSharingOnly
    default-sharing-link-type specific-people
    default-link-permission view
    require-anonymous-links-expire-in-days 30
    file-anonymous-link-type view
    folder-anonymous-link-type view
    email-attestation-required #true
    email-attestation-re-auth-days 30
    restricted-search-mode enabled
    restricted-search-allowed-sites "https://contoso.sharepoint.com/sites/HR"
}
"#;

const GRAPH_ONLY: &str = r#"sharepoint-settings {
    is-resharing-by-external-users-enabled #false
}
"#;

/// SharePoint's tenant object as the sandbox serves it (`d`), past any injected fault.
async fn spo_tenant(url: &str) -> Value {
    for _ in 0..20 {
        let resp = reqwest::Client::new()
            .get(format!("{url}/_api/SPO.Tenant"))
            .bearer_auth(common::TOKEN)
            .send()
            .await
            .expect("GET");
        if resp.status() == 200 {
            let body: Value = resp.json().await.expect("JSON");
            return body["d"].clone();
        }
    }
    Value::Null
}

/// The paths the sandbox was asked for so far.
async fn requested(url: &str) -> Vec<String> {
    let log: Value = reqwest::Client::new()
        .get(format!("{url}/_sandbox/requests"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    log.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tenants_anyone_links_show_in_the_plan_and_apply_converges() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("sharing/sharepoint.kdl", SHARING);

    let plan = run(scratch.path(), &["plan", "sharing"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let shown: Vec<String> = plan
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for line in [
        "~ default-sharing-link-type = \"anyone\" -> \"specific-people\"",
        "~ default-link-permission = \"edit\" -> \"view\"",
        "~ require-anonymous-links-expire-in-days = 0 -> 30",
        "~ file-anonymous-link-type = \"edit\" -> \"view\"",
        "~ one-drive-sharing-capability = \"externalUserAndGuestSharing\" -> \"existingExternalUserSharingOnly\"",
        "~ restricted-search-mode = \"disabled\" -> \"enabled\"",
    ] {
        assert!(shown.iter().any(|l| l == line), "{line}\n{}", plan.stdout);
    }
    // Each setting once: the ones Graph holds are not shown again under SharePoint's names.
    assert!(
        !plan.stdout.contains("SharingCapability"),
        "{}",
        plan.stdout
    );

    let applied = run(
        scratch.path(),
        &["apply", "sharing", "--auto-approve"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let d = spo_tenant(&url).await;
    assert_eq!(d["ODBSharingCapability"], 3);
    assert_eq!(d["DefaultSharingLinkType"], 1);
    assert_eq!(d["DefaultLinkPermission"], 1);
    assert_eq!(d["RequireAnonymousLinksExpireInDays"], 30);
    assert_eq!(d["FolderAnonymousLinkType"], 1);
    assert_eq!(d["EmailAttestationReAuthDays"], 30);

    let again = run(
        scratch.path(),
        &["plan", "sharing", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // Export writes them under the same names, and the export plans clean.
    let export = run(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "sharepoint-settings"],
        &url,
    )
    .await;
    assert_eq!(export.code, 0, "{}{}", export.stdout, export.stderr);
    let text = std::fs::read_to_string(scratch.path().join("out/sharepoint-settings.kdl"))
        .unwrap_or_default();
    for line in [
        "one-drive-sharing-capability existingExternalUserSharingOnly",
        "default-sharing-link-type specific-people",
        "require-anonymous-links-expire-in-days 30",
        "restricted-search-mode enabled",
        "restricted-search-allowed-sites \"https://contoso.sharepoint.com/sites/HR\"",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    let replan = run(
        scratch.path(),
        &["plan", "out", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(replan.code, 0, "{}{}", replan.stdout, replan.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_when_sharepoint_throttles_fails_and_times_out() {
    let sandbox = common::demo(SandboxConfig {
        throttle_every: 3,
        retry_after_ms: 0,
        fail_every: 7,
        write_timeout_every: 2,
        ..SandboxConfig::default()
    })
    .await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("sharing/sharepoint.kdl", SHARING);
    let applied = run(
        scratch.path(),
        &["apply", "sharing", "--auto-approve"],
        &url,
    )
    .await;
    // A write answered 504 after it took effect is reported as unknown; the next run sees it.
    if applied.code != 0 {
        let again = run(
            scratch.path(),
            &["apply", "sharing", "--auto-approve"],
            &url,
        )
        .await;
        assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    }
    let plan = run(
        scratch.path(),
        &["plan", "sharing", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let d = spo_tenant(&url).await;
    assert_eq!(d["RequireAnonymousLinksExpireInDays"], 30);
    sandbox.shutdown().await;
}

async fn secret_run(dir: &std::path::Path, args: &[&str], url: &str) -> common::Run {
    steward_async(
        dir,
        args,
        &[
            ("STEWARD_GRAPH_URL", url),
            ("STEWARD_LOGIN_URL", url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
            ("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_is_refused_for_sharepoint_settings_with_the_alternatives_named() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("sharing/sharepoint.kdl", SHARING);
    let plan = secret_run(scratch.path(), &["plan", "sharing"], &url).await;
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    let said = common::flat(&plan.stderr);
    for words in [
        "refuses app-only tokens obtained with a client secret",
        "--auth certificate",
        "--auth federated",
        "docs/sharepoint.md",
    ] {
        assert!(said.contains(words), "{words}: {said}");
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_only_sharepoint_settings_never_contact_sharepoint() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("sharing/sharepoint.kdl", GRAPH_ONLY);
    let plan = secret_run(scratch.path(), &["plan", "sharing"], &url).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("is-resharing-by-external-users-enabled"),
        "{}",
        plan.stdout
    );
    let paths = requested(&url).await;
    assert!(
        !paths.iter().any(|p| p.starts_with("/_api")
            || p.starts_with("/_vti_bin")
            || p.contains("sites/root")),
        "{paths:?}"
    );
    // Export with a secret takes Graph's half and says what it left out.
    let export = secret_run(
        scratch.path(),
        &["export", "--out", "out", "--kinds", "sharepoint-settings"],
        &url,
    )
    .await;
    assert_eq!(export.code, 0, "{}{}", export.stdout, export.stderr);
    assert!(
        export
            .stderr
            .contains("note: sharepoint-settings was exported in part"),
        "{}",
        export.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_signs_in_to_sharepoint_for_the_admin_hosts_audience() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha1::{Digest, Sha1};
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");
    let pem = std::fs::read_to_string(format!("{keys}/client-cert.pem")).unwrap_or_default();
    let public = std::fs::read_to_string(format!("{keys}/public.pem")).unwrap_or_default();
    let der = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
        .map(|b64| b64.split_whitespace().collect::<String>())
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_default();
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha1::digest(&der));
    let scratch = Scratch::new();
    let state = common::demo_state_with_clients(
        scratch.path(),
        vec![json!({
            "clientId": "ce57ce57-0000-4000-8000-00000000ce57", "displayName": "cert client",
            "certificate": {"publicKeyPem": public, "thumbprint": thumbprint.trim()},
            "roles": ["SharePointTenantSettings.ReadWrite.All", "Sites.Read.All"],
            "sharepointRoles": ["Sites.FullControl.All"]
        })],
    );
    let sandbox = steward::sandbox::start(SandboxConfig {
        state: Some(state),
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts");
    let url = sandbox.url();
    scratch.write("sharing/sharepoint.kdl", SHARING);
    let plan = steward_async(
        scratch.path(),
        &["plan", "sharing", "--detailed-exitcode"],
        &[
            ("STEWARD_GRAPH_URL", &url),
            ("STEWARD_LOGIN_URL", &url),
            ("AZURE_TENANT_ID", DEMO_TENANT_ID),
            ("AZURE_CLIENT_ID", "ce57ce57-0000-4000-8000-00000000ce57"),
            (
                "AZURE_CLIENT_CERTIFICATE_PATH",
                &format!("{keys}/client-cert.pem"),
            ),
        ],
    )
    .await;
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("default-sharing-link-type"),
        "{}",
        plan.stdout
    );
    sandbox.shutdown().await;
}

/// Sets SharePoint settings as an admin would in the admin centre (CSOM, wire values).
async fn set_in_portal(url: &str, properties: &[(&str, &str, &str)]) {
    let actions: String = properties
        .iter()
        .enumerate()
        .map(|(i, (name, ty, value))| {
            format!(
                "<SetProperty Id=\"{}\" ObjectPathId=\"1\" Name=\"{name}\"><Parameter Type=\"{ty}\">{value}</Parameter></SetProperty>",
                10 + i
            )
        })
        .collect();
    let body = format!(
        "<Request xmlns=\"http://schemas.microsoft.com/sharepoint/clientquery/2009\"><Actions>{actions}</Actions><ObjectPaths><Constructor Id=\"1\" TypeId=\"{{268004ae-ef6b-4e9b-8425-127220d84719}}\" /></ObjectPaths></Request>"
    );
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/_vti_bin/client.svc/ProcessQuery"))
        .bearer_auth(common::TOKEN)
        .body(body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer[0]["ErrorInfo"], Value::Null, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_loosened_in_the_admin_centre_is_risky_drift_and_makes_a_saved_plan_stale() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("sharing/sharepoint.kdl", SHARING);
    let applied = run(
        scratch.path(),
        &["apply", "sharing", "--auto-approve"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let saved = run(
        scratch.path(),
        &["plan", "sharing", "--out", "plan.json"],
        &url,
    )
    .await;
    assert_eq!(saved.code, 0, "{}{}", saved.stdout, saved.stderr);

    set_in_portal(
        &url,
        &[
            ("RequireAnonymousLinksExpireInDays", "Int32", "0"),
            ("FileAnonymousLinkType", "Int32", "2"),
            ("ConditionalAccessPolicy", "Int32", "0"),
        ],
    )
    .await;
    let drift = run(
        scratch.path(),
        &["drift", "sharing", "--format", "json"],
        &url,
    )
    .await;
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    let report: Value = serde_json::from_str(&drift.stdout).unwrap_or_default();
    let risks: Vec<(String, String)> = report["risks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or("").to_string(),
                r["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        risks,
        [
            (
                "anyone-links-longer-lived".to_string(),
                "require-anonymous-links-expire-in-days".to_string()
            ),
            (
                "anyone-links-editable".to_string(),
                "file-anonymous-link-type".to_string()
            ),
        ]
    );

    // The plan saved before the change no longer describes the tenant.
    let refused = run(
        scratch.path(),
        &["apply", "sharing", "--plan", "plan.json"],
        &url,
    )
    .await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("run `steward plan --out` again"),
        "{}",
        refused.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_admin_url_skips_discovery_and_must_be_https_or_loopback() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("sharing/sharepoint.kdl", SHARING);
    let with = |admin: &str| {
        let (dir, url, admin) = (scratch.path().to_path_buf(), url.clone(), admin.to_string());
        async move {
            steward_async(
                &dir,
                &["plan", "sharing", "--stats"],
                &[
                    ("STEWARD_GRAPH_URL", url.as_str()),
                    ("STEWARD_GRAPH_TOKEN", common::TOKEN),
                    ("STEWARD_SHAREPOINT_ADMIN_URL", admin.as_str()),
                ],
            )
            .await
        }
    };
    let refused = with("http://contoso-admin.sharepoint.com").await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(
            "SharePoint admin URL `http://contoso-admin.sharepoint.com` is refused: use https"
        ),
        "{}",
        refused.stderr
    );
    let planned = with(&url).await;
    assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
    // SharePoint's requests count in the run's statistics; no discovery was needed.
    assert!(
        planned.stderr.contains("GET _api/SPO.Tenant"),
        "{}",
        planned.stderr
    );
    assert!(!planned.stderr.contains("sites/root"), "{}", planned.stderr);
    sandbox.shutdown().await;
}
