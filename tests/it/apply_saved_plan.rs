//! `steward apply --plan`: a saved plan confirms the plan steward makes again from the files
//! and the tenant; it never says what to write. Every edit of a saved plan, and a plan made
//! against another tenant, is refused with nothing written.

use crate::common;

use std::path::Path;

use serde_json::{Value, json};
use steward::sandbox::{RunningSandbox, SandboxConfig};

use common::{Scratch, repo, steward_async};

async fn run(dir: &Path, args: &[&str], url: &str) -> common::Run {
    steward_async(
        dir,
        args,
        &[
            ("STEWARD_GRAPH_URL", url),
            ("STEWARD_GRAPH_TOKEN", common::TOKEN),
        ],
    )
    .await
}

async fn graph(url: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new()
        .request(
            method.parse().expect("a method"),
            format!("{url}/v1.0/{path}"),
        )
        .bearer_auth(common::TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("Graph answers");
    assert!(response.status().is_success(), "{method} {path}");
    response.json().await.unwrap_or(Value::Null)
}

async fn policy_id(url: &str, name: &str) -> String {
    graph(url, "GET", "identity/conditionalAccess/policies", None).await["value"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["displayName"] == name)
        .and_then(|p| p["id"].as_str())
        .map(String::from)
        .unwrap_or_else(|| panic!("the demo tenant has {name}"))
}

/// The writes the sandbox served since the log was last cleared (`$batch` and `getByIds`
/// are reads sent as POST; steward never writes through them).
async fn writes(sandbox: &RunningSandbox) -> Vec<Value> {
    let log: Value = reqwest::get(format!("{}/_sandbox/requests", sandbox.url()))
        .await
        .expect("the request log")
        .json()
        .await
        .expect("JSON");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            let path = r["path"].as_str().unwrap_or("");
            r["method"] != "GET" && !path.contains("getByIds") && !path.contains("$batch")
        })
        .cloned()
        .collect()
}

async fn clear_log(sandbox: &RunningSandbox) {
    reqwest::Client::new()
        .delete(format!("{}/_sandbox/requests", sandbox.url()))
        .send()
        .await
        .expect("the log clears");
}

const BLOCK_ALL: &str = "Block everyone except break-glass";

/// The policy pack, plus a new policy that blocks everyone but the break-glass accounts.
fn files(scratch: &Scratch) -> String {
    let dir = scratch.path().join("policies");
    copy_dir(&repo().join("policies"), &dir);
    scratch.write(
        "policies/block-all.kdl",
        format!(
            r#"conditional-access-policy "{BLOCK_ALL}" {{
    state enabled
    conditions {{
        users {{
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "breakglass2@contoso.onmicrosoft.com"
        }}
        applications {{ include-applications All }}
    }}
    grant-controls {{ built-in-controls block }}
}}
"#
        ),
    );
    "policies".into()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the directory");
    for entry in std::fs::read_dir(from)
        .expect("read the directory")
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a policy file");
        }
    }
}

fn resource<'a>(plan: &'a mut Value, address: &str) -> &'a mut Value {
    plan["plan"]["resources"]
        .as_array_mut()
        .and_then(|list| list.iter_mut().find(|r| r["address"] == address))
        .unwrap_or_else(|| panic!("the saved plan has {address}"))
}

fn address(name: &str) -> String {
    format!("conditional-access-policy {name:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edit_of_a_saved_plan_is_refused_and_nothing_is_written() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let dir = files(&scratch);
    const CA001: &str = "CA001 Block legacy authentication";
    const CA002: &str = "CA002 Require MFA for administrators";
    const CA004: &str = "CA004 Require MFA for all users";
    const LEGACY: &str = "Legacy - Allow Finance from HQ without MFA";
    let ca002 = policy_id(&url, CA002).await;
    let ca004 = policy_id(&url, CA004).await;
    let legacy = policy_id(&url, LEGACY).await;
    // Someone switched CA004 off: the plan turns it back on.
    graph(
        &url,
        "PATCH",
        &format!("identity/conditionalAccess/policies/{ca004}"),
        Some(json!({"state": "disabled"})),
    )
    .await;

    let planned = run(scratch.path(), &["plan", &dir, "--out", "plan.json"], &url).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let text = std::fs::read_to_string(scratch.path().join("plan.json")).expect("saved");
    let saved: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(saved["format_version"], 2);
    assert_eq!(
        saved["tenant_id"],
        steward::sandbox::seed::DEMO_TENANT_ID,
        "the plan records the tenant"
    );
    assert_eq!(saved["graph_host"], "127.0.0.1");

    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit, String)> = vec![
        (
            "strip the new block-all policy's exclusions",
            Box::new(|plan| {
                let users =
                    &mut resource(plan, &address(BLOCK_ALL))["after"]["conditions"]["users"];
                users
                    .as_object_mut()
                    .map(|u| u.remove("excludeUsers"))
                    .expect("the policy has exclusions");
            }),
            format!(
                "{}: the saved plan's declared settings are not the files'",
                address(BLOCK_ALL)
            ),
        ),
        (
            "delete a policy nothing declares",
            Box::new({
                let legacy = legacy.clone();
                move |plan| {
                    let delete = json!({
                        "address": address(LEGACY),
                        "kind": "conditional-access-policy",
                        "name": LEGACY,
                        "id": legacy,
                        "action": "delete",
                        "before": {},
                        "after": null,
                        "changes": [],
                        "unchanged": 0
                    });
                    if let Some(list) = plan["plan"]["resources"].as_array_mut() {
                        list.push(delete);
                    }
                    plan["plan"]["summary"]["destroy"] = json!(1);
                }
            }),
            format!(
                "{}: the saved plan would delete it, which the files do not call for",
                address(LEGACY)
            ),
        ),
        (
            "disable CA001",
            Box::new(|plan| {
                let ca001 = resource(plan, &address(CA001));
                ca001["action"] = json!("update");
                ca001["after"]["state"] = json!("disabled");
                ca001["changes"] = json!([{
                    "path": "state", "pointer": "/state",
                    "before": "enabled", "after": "disabled"
                }]);
            }),
            format!(
                "{}: the saved plan would update it; the files and the tenant call for no change",
                address(CA001)
            ),
        ),
        (
            "point CA004's change at CA002",
            Box::new({
                let ca002 = ca002.clone();
                move |plan| resource(plan, &address(CA004))["id"] = json!(ca002)
            }),
            format!(
                "{}: the saved plan targets the object with id {ca002}; the tenant's object of that name has id {ca004}",
                address(CA004)
            ),
        ),
    ];
    for (what, edit, expected) in edits {
        let mut plan = saved.clone();
        edit(&mut plan);
        assert_ne!(plan, saved, "{what}: the edit changes the plan");
        scratch.write(
            "edited.json",
            serde_json::to_string_pretty(&plan).expect("JSON"),
        );
        clear_log(&sandbox).await;
        let refused = run(
            scratch.path(),
            &["apply", &dir, "--plan", "edited.json"],
            &url,
        )
        .await;
        assert_eq!(
            refused.code, 1,
            "{what}: {}{}",
            refused.stdout, refused.stderr
        );
        assert!(
            refused.stderr.contains(
                "refusing the saved plan edited.json: it is not the plan the files and the tenant give now"
            ) && refused.stderr.contains(&expected)
                && refused.stderr.contains("run `steward plan --out` again"),
            "{what}: {}",
            refused.stderr
        );
        assert_eq!(
            writes(&sandbox).await,
            Vec::<Value>::new(),
            "{what}: nothing written"
        );
    }

    // The plan as saved is the plan made now: it applies.
    let applied = run(
        scratch.path(),
        &["apply", &dir, "--plan", "plan.json"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert_eq!(
        graph(
            &url,
            "GET",
            &format!("identity/conditionalAccess/policies/{legacy}"),
            None
        )
        .await["displayName"],
        LEGACY,
        "the undeclared policy is still there"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_against_another_tenant_is_refused_and_nothing_is_written() {
    let ours = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    // Another tenant with the very same content: only its id tells it apart.
    let mut state = steward::sandbox::seed::demo();
    const OTHER: &str = "0de1e7ed-0000-4000-8000-00000000a1b2";
    state.insert(
        "organization".into(),
        json!([{"id": OTHER, "displayName": "Fabrikam"}]),
    );
    let state_path = scratch.path().join("other.json");
    std::fs::write(&state_path, Value::Object(state).to_string()).expect("write the state");
    let theirs = common::demo(SandboxConfig {
        state: Some(state_path),
        ..SandboxConfig::default()
    })
    .await;
    let dir = files(&scratch);

    let planned = run(
        scratch.path(),
        &["plan", &dir, "--out", "plan.json"],
        &ours.url(),
    )
    .await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    clear_log(&theirs).await;
    let refused = run(
        scratch.path(),
        &["apply", &dir, "--plan", "plan.json"],
        &theirs.url(),
    )
    .await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "the saved plan plan.json was made for tenant {} on 127.0.0.1, but this apply works on tenant {OTHER} on 127.0.0.1",
            steward::sandbox::seed::DEMO_TENANT_ID
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(
        writes(&theirs).await,
        Vec::<Value>::new(),
        "nothing written"
    );

    // A plan saved by an older steward records no tenant: refused too.
    let text = std::fs::read_to_string(scratch.path().join("plan.json")).expect("saved");
    let mut old: Value = serde_json::from_str(&text).expect("JSON");
    old["format_version"] = json!(1);
    if let Some(o) = old.as_object_mut() {
        o.remove("tenant_id");
        o.remove("graph_host");
    }
    scratch.write("old.json", old.to_string());
    let refused = run(
        scratch.path(),
        &["apply", &dir, "--plan", "old.json"],
        &ours.url(),
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains(
            "the saved plan is stale: old.json has plan format 1, this steward reads format 2"
        ),
        "{}",
        refused.stderr
    );
    ours.shutdown().await;
    theirs.shutdown().await;
}
