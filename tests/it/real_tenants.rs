//! Tenants as they are: orphaned ids, duplicate and case-variant names, types steward does not
//! model, empty values. Every command reads them without failing on what the files do not
//! declare, and fails, once and at the right place, on what they do.

use crate::common;

use common::{flat, run};

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use steward::sandbox::seed::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, MESSY_DELETED_GROUP, MESSY_DELETED_USER,
};
use steward::sandbox::{RunningSandbox, SandboxConfig, Seed};

const DUPLICATE: &str = "Imported template - Require MFA for Finance";

async fn messy() -> RunningSandbox {
    steward::sandbox::start(SandboxConfig {
        seed: Seed::Messy,
        accept_tokens: vec![common::TOKEN.to_string()],
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts")
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        out.insert(
            name,
            std::fs::read_to_string(entry.path()).unwrap_or_default(),
        );
    }
    out
}

/// Ids of the tenant's objects of one collection with one display name.
async fn ids_named(url: &str, collection: &str, name: &str) -> Vec<String> {
    let body: Value = reqwest::Client::new()
        .get(format!("{url}/v1.0/{collection}"))
        .bearer_auth(common::TOKEN)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    let mut ids: Vec<String> = body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["displayName"] == name)
        .filter_map(|o| o["id"].as_str().map(String::from))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messy_tenant_exports_files_that_validate_and_plan_and_drift_clean() {
    let sandbox = messy().await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();

    let exported = run(scratch.path(), &["export", "--out", "out"], &url).await;
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    let out = files(&scratch.path().join("out"));
    let policies = &out["conditional-access-policies.kdl"];

    // Orphans stay ids, with a comment saying what they were.
    assert!(
        policies.contains(&format!(
            "exclude-users \"{MESSY_DELETED_USER}\" // {MESSY_DELETED_USER}: deleted user"
        )),
        "{policies}"
    );
    assert!(
        policies.contains(&format!("{MESSY_DELETED_GROUP}: deleted group")),
        "{policies}"
    );
    // Two policies with one name are both pinned by id.
    for id in ids_named(&url, "identity/conditionalAccess/policies", DUPLICATE).await {
        assert!(
            policies.contains(&format!(
                "conditional-access-policy \"{DUPLICATE}\" id=\"{id}\" {{"
            )),
            "{policies}"
        );
    }
    // A group whose name another group shares is written by id, named in a comment.
    let finance = ids_named(&url, "groups", "Finance").await;
    assert_eq!(finance.len(), 2);
    assert!(
        policies.contains(&format!(
            "include-groups \"{}\" // {}: \"Finance\", a name other objects share",
            finance[0], finance[0]
        )),
        "{policies}"
    );
    assert!(
        !policies.contains("include-groups \"Finance\""),
        "{policies}"
    );
    // A location type steward does not model is listed, never written as a node, and the
    // policy using it refers to it by id.
    let locations = &out["named-locations.kdl"];
    assert!(
        !locations.contains("\nnamed-location \"All Compliant Network locations\""),
        "{locations}"
    );
    assert!(
        locations.contains("// not exported: named-location \"All Compliant Network locations\" (id 3b7e8f10-2c4d-4e6f-8a9b-0c1d2e3f4aff): steward does not model named locations of type #microsoft.graph.compliantNetworkNamedLocation"),
        "{locations}"
    );
    assert!(
        policies.contains("exclude-locations \"3b7e8f10-2c4d-4e6f-8a9b-0c1d2e3f4aff\" // 3b7e8f10-2c4d-4e6f-8a9b-0c1d2e3f4aff: named-location \"All Compliant Network locations\", which steward does not model"),
        "{policies}"
    );
    assert!(
        exported.stderr.contains("warning: named-location \"All Compliant Network locations\" (id 3b7e8f10-2c4d-4e6f-8a9b-0c1d2e3f4aff) was not exported"),
        "{}",
        exported.stderr
    );
    assert!(
        exported
            .stderr
            .contains("2 references to deleted objects kept as ids"),
        "{}",
        exported.stderr
    );

    let validated = run(scratch.path(), &["validate", "out"], &url).await;
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    let planned = run(
        scratch.path(),
        &["plan", "out", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    assert!(planned.stdout.contains("No changes."), "{}", planned.stdout);
    assert!(
        planned.stdout.contains(
            "Warning: 2 references to deleted objects in the tenant (kept as ids; remove them in the portal to tidy up):"
        ),
        "{}",
        planned.stdout
    );
    assert!(
        planned.stdout.contains(&format!(
            "conditional-access-policy \"Orphan test\" /conditions/users/excludeUsers/0: deleted user {MESSY_DELETED_USER}"
        )),
        "{}",
        planned.stdout
    );

    let drift = run(scratch.path(), &["drift", "out", "--format", "json"], &url).await;
    assert_eq!(drift.code, 0, "{}\n{}", drift.stdout, drift.stderr);
    let report: Value = serde_json::from_str(&drift.stdout).expect("JSON");
    assert_eq!(
        report["orphans"],
        json!([
            {"resource": "conditional-access-policy \"Orphan test\"", "refers_to": "group",
             "id": MESSY_DELETED_GROUP, "pointer": "/conditions/users/excludeGroups/0"},
            {"resource": "conditional-access-policy \"Orphan test\"", "refers_to": "user",
             "id": MESSY_DELETED_USER, "pointer": "/conditions/users/excludeUsers/0"},
        ])
    );
    let unsupported: Vec<&Value> = report["unmanaged"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u.get("unsupported").is_some())
        .collect();
    assert_eq!(unsupported.len(), 1, "{report}");
    assert_eq!(unsupported[0]["name"], "All Compliant Network locations");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_orphans_duplicates_and_unsupported_types_do_not_stop_a_plan() {
    let sandbox = messy().await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    scratch.write(
        "p/ca.kdl",
        r#"conditional-access-policy "CA001 Block legacy authentication" {
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
"#,
    );
    scratch.write(
        "p/hq.kdl",
        "named-location \"Contoso HQ\" {\n    ip-ranges \"203.0.113.0/24\" \"2001:db8:1::/48\"\n    is-trusted #true\n}\n",
    );
    let planned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(planned.stdout.contains("No changes."), "{}", planned.stdout);
    assert!(
        planned
            .stdout
            .contains(&format!("  conditional-access-policy \"{DUPLICATE}\" (")),
        "both duplicates are listed as unmanaged: {}",
        planned.stdout
    );
    assert!(
        planned.stdout.contains("named-location \"All Compliant Network locations\" (3b7e…4aff) unsupported: steward does not model named locations of type #microsoft.graph.compliantNetworkNamedLocation"),
        "{}",
        planned.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_the_tenant_holds_twice_is_an_error_at_the_name_listing_both_ids_once() {
    let sandbox = messy().await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    scratch.write(
        "p/ca.kdl",
        format!(
            r#"conditional-access-policy "{DUPLICATE}" {{
    state disabled
    conditions {{
        users {{ include-groups "Finance" }}
        applications {{ include-applications All }}
        client-app-types all
    }}
    grant-controls operator=OR {{ built-in-controls mfa }}
}}
"#
        ),
    );
    let planned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(planned.code, 1, "{}", planned.stdout);
    let policies = ids_named(&url, "identity/conditionalAccess/policies", DUPLICATE).await;
    let groups = ids_named(&url, "groups", "Finance").await;
    assert!(
        flat(&planned.stderr).contains(&format!(
            "name \"{DUPLICATE}\" is used by 2 objects in the tenant (ids: {}, {})",
            policies[0], policies[1]
        )),
        "{}",
        planned.stderr
    );
    assert!(
        flat(&planned.stderr).contains(&format!(
            "group name \"Finance\" matches 2 objects in the tenant (ids: {}, {})",
            groups[0], groups[1]
        )),
        "{}",
        planned.stderr
    );
    assert!(
        flat(&planned.stderr).contains("p/ca.kdl:1:"),
        "{}",
        planned.stderr
    );
    assert!(
        flat(&planned.stderr).contains("p/ca.kdl:4:"),
        "{}",
        planned.stderr
    );
    assert_eq!(
        planned.stderr.matches("matches 2 objects").count(),
        1,
        "one error per failing reference: {}",
        planned.stderr
    );
    assert!(
        flat(&planned.stderr).contains("2 declaration(s) in the files do not resolve"),
        "{}",
        planned.stderr
    );

    // Pinned by id, the same declaration plans.
    scratch.write(
        "p/ca.kdl",
        format!(
            r#"conditional-access-policy "{DUPLICATE}" id="{}" {{
    state disabled
    conditions {{
        users {{ include-groups "{}" }}
        applications {{ include-applications All }}
        client-app-types all
    }}
    grant-controls operator=OR {{ built-in-controls mfa }}
}}
"#,
            policies[0], groups[0]
        ),
    );
    let pinned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(pinned.code, 0, "{}", pinned.stderr);
    assert!(
        pinned
            .stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy.")
            || pinned.stdout.contains("No changes."),
        "{}",
        pinned.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unknown_user_is_one_error_and_known_names_are_not_blamed() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    scratch.write(
        "p/ca.kdl",
        r#"conditional-access-policy "New policy" {
    state disabled
    conditions {
        users {
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "nobody@contoso.onmicrosoft.com"
        }
        applications { include-applications All }
        client-app-types all
    }
    grant-controls operator=OR { built-in-controls mfa }
}
"#,
    );
    let planned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(planned.code, 1, "{}", planned.stdout);
    assert_eq!(
        planned.stderr.matches("steward::unresolved").count(),
        1,
        "{}",
        planned.stderr
    );
    assert!(
        flat(&planned.stderr)
            .contains("user \"nobody@contoso.onmicrosoft.com\" does not exist in the tenant"),
        "{}",
        planned.stderr
    );
    assert!(
        !flat(&planned.stderr).contains("user \"breakglass1"),
        "{}",
        planned.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_only_locations_resolve_by_name_and_id_without_declaring_any() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    let hq = ids_named(
        &url,
        "identity/conditionalAccess/namedLocations",
        "Contoso HQ",
    )
    .await;
    for location in ["\"Contoso HQ\"".to_string(), format!("\"{}\"", hq[0])] {
        scratch.write(
            "p/ca.kdl",
            format!(
                r#"conditional-access-policy "New policy" {{
    state disabled
    conditions {{
        users {{ include-users All }}
        applications {{ include-applications All }}
        client-app-types all
        locations {{ include-locations All; exclude-locations {location} }}
    }}
    grant-controls operator=OR {{ built-in-controls mfa }}
}}
"#
            ),
        );
        let planned = run(scratch.path(), &["plan", "p"], &url).await;
        assert_eq!(planned.code, 0, "{location}: {}", planned.stderr);
        assert!(
            planned
                .stdout
                .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
            "{}",
            planned.stdout
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_pinned_to_nothing_is_an_error_never_a_create() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    scratch.write(
        "p/ca.kdl",
        r#"conditional-access-policy "CA009 Pinned" id="00000000-1111-4222-8333-444444444444" {
    state disabled
    conditions {
        users { include-users All }
        applications { include-applications All }
        client-app-types all
    }
    grant-controls operator=OR { built-in-controls mfa }
}
"#,
    );
    for args in [&["plan", "p"][..], &["apply", "p", "--auto-approve"][..]] {
        let planned = run(scratch.path(), args, &url).await;
        assert_eq!(planned.code, 1, "{args:?}: {}", planned.stdout);
        assert!(
            flat(&planned.stderr).contains(
                "no conditional-access-policy has id 00000000-1111-4222-8333-444444444444 in the tenant"
            ),
            "{}",
            planned.stderr
        );
        assert!(
            flat(&planned.stderr).contains("p/ca.kdl:1:"),
            "{}",
            planned.stderr
        );
    }
    assert!(
        ids_named(&url, "identity/conditionalAccess/policies", "CA009 Pinned")
            .await
            .is_empty(),
        "nothing was created"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_display_name_in_another_case_updates_the_tenants_object() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    // plan refuses what the lockout guard would refuse at apply: declare the break-glass accounts.
    scratch.write(
        "p/emergency.kdl",
        "emergency-access {\n    user \"breakglass1@contoso.onmicrosoft.com\"\n    user \"breakglass2@contoso.onmicrosoft.com\"\n}\n",
    );
    scratch.write(
        "p/ca.kdl",
        r#"conditional-access-policy "ca001 block legacy AUTHENTICATION" {
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
"#,
    );
    let planned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(
        planned
            .stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        planned.stdout
    );
    assert!(
        planned.stdout.contains(
            "~ display-name = \"CA001 Block legacy authentication\" -> \"ca001 block legacy AUTHENTICATION\""
        ),
        "{}",
        planned.stdout
    );
    assert!(
        !planned
            .stdout
            .contains("CA001 Block legacy authentication\" ("),
        "not listed as unmanaged: {}",
        planned.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_with_warnings_only_is_loaded_read_and_planned() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    scratch.write(
        "p/spo.kdl",
        "sharepoint-settings {\n    sharing-domain-restriction-mode allowList\n}\n",
    );
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    assert!(
        validated.stdout.contains("1 resource in 1 file"),
        "{}",
        validated.stdout
    );
    let planned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(
        !planned.stdout.contains("will be created"),
        "a singleton is never created: {}",
        planned.stdout
    );
    assert!(
        planned
            .stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        planned.stdout
    );
    let permissions = run(scratch.path(), &["permissions", "p"], &url).await;
    assert_eq!(permissions.code, 0, "{}", permissions.stderr);
    assert!(
        permissions.stdout.contains("SharePointTenantSettings"),
        "{}",
        permissions.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_export_skips_what_it_cannot_read_unless_asked_for() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = common::Scratch::new();
    let env = [
        ("STEWARD_GRAPH_URL", url.as_str()),
        ("STEWARD_LOGIN_URL", url.as_str()),
        ("AZURE_TENANT_ID", DEMO_TENANT_ID),
        ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
        ("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET),
    ];
    let all = common::steward_async(scratch.path(), &["export", "--out", "all"], &env).await;
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stderr
            .contains("note: retention-label was not exported: the sign-in cannot read it"),
        "{}",
        all.stderr
    );
    assert!(
        all.stdout
            .contains("; skipped, the sign-in cannot read: retention-label."),
        "{}",
        all.stdout
    );
    let out = files(&scratch.path().join("all"));
    assert!(out.contains_key("conditional-access-policies.kdl"));
    assert!(!out.contains_key("retention-labels.kdl"));

    let asked = common::steward_async(
        scratch.path(),
        &["export", "--out", "asked", "--kinds", "retention-label"],
        &env,
    )
    .await;
    assert_eq!(asked.code, 1, "{}", asked.stdout);
    assert!(!scratch.path().join("asked").exists());

    // The shipped pack declares SharePoint settings only SharePoint's admin API holds, which
    // refuses a client secret: the run says so and names what to use instead (the README's
    // GitHub federated sign-in, or a certificate).
    let pack = common::repo().join("policies");
    let planned = common::steward_async(
        scratch.path(),
        &["plan", pack.to_str().unwrap_or("policies")],
        &env,
    )
    .await;
    assert_eq!(planned.code, 1, "{}", planned.stderr);
    assert!(
        common::flat(&planned.stderr).contains("Sign in with a certificate (--auth certificate"),
        "{}",
        planned.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_grades_a_messy_tenant_without_failing_on_what_it_holds() {
    let sandbox = messy().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let graded = run(
        dir.path(),
        &["check", "--live", "--format", "json", "--fail-on", "none"],
        &sandbox.url(),
    )
    .await;
    assert_eq!(graded.code, 0, "{}", graded.stderr);
    let document: Value = serde_json::from_str(&graded.stdout).expect("one JSON document");
    let results = document["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), steward::baseline::policy_ids().len());
    assert!(
        results
            .iter()
            .all(|r| r["detail"].as_str().is_some_and(|d| !d.is_empty())),
        "every result says why: {results:?}"
    );
    let legacy = |results: &[Value]| {
        results
            .iter()
            .find(|r| r["id"] == "MS.AAD.1.1v1")
            .cloned()
            .unwrap_or_default()
    };
    let before = legacy(&results);
    assert_eq!(before["status"], "fail");
    assert_eq!(
        before["detail"],
        "no enabled policy blocks legacy authentication for all users and apps: conditional-access-policy \"CA001 Block legacy authentication\" excludes \"breakglass1@contoso.onmicrosoft.com\", \"breakglass2@contoso.onmicrosoft.com\" (neither an emergency-access account nor an exclusion of a check-exception for MS.AAD.1.1v1)"
    );
    // Declared as the break-glass accounts, the exclusions are the ones SCuBA allows.
    std::fs::create_dir(dir.path().join("policies")).expect("a policies directory");
    std::fs::write(
        dir.path().join("policies/emergency-access.kdl"),
        "emergency-access {\n    user \"breakglass1@contoso.onmicrosoft.com\"\n    user \"breakglass2@contoso.onmicrosoft.com\"\n}\n",
    )
    .expect("write the file");
    let again = run(
        dir.path(),
        &["check", "--live", "--format", "json", "--fail-on", "none"],
        &sandbox.url(),
    )
    .await;
    let document: Value = serde_json::from_str(&again.stdout).expect("one JSON document");
    let after = legacy(
        document["results"]
            .as_array()
            .map_or(&[][..], Vec::as_slice),
    );
    assert_eq!(after["status"], "pass", "{after}");
    sandbox.shutdown().await;
}
