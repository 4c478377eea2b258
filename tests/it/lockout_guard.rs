//! The lockout guard end to end: `validate`, `plan` and `apply` against the sandbox's demo
//! tenant, judging the tenant apply would leave rather than the files alone.

use crate::common;

use common::{flat, run};

use serde_json::{Value, json};
use steward::sandbox::SandboxConfig;

use common::Scratch;

const BG1: &str = "breakglass1@contoso.onmicrosoft.com";
const BG2: &str = "breakglass2@contoso.onmicrosoft.com";

const EMERGENCY: &str = r#"emergency-access {
    user "breakglass1@contoso.onmicrosoft.com"
    user "breakglass2@contoso.onmicrosoft.com"
}
"#;

/// `text` with every space and miette margin removed, for messages that wrap inside an id.
fn squashed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '│' | '×' | '⚠'))
        .collect()
}

async fn graph(url: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut request = client
        .request(
            method.parse().expect("method"),
            format!("{url}/v1.0/{path}"),
        )
        .bearer_auth(common::TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    assert!(
        response.status().is_success(),
        "{method} {path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn id_of(url: &str, path: &str) -> String {
    graph(url, "GET", path, None).await["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

async fn group_id(url: &str, name: &str) -> String {
    graph(
        url,
        "GET",
        &format!("groups?$filter=displayName eq '{name}'"),
        None,
    )
    .await["value"][0]["id"]
        .as_str()
        .expect("group")
        .to_string()
}

async fn policy(url: &str, name: &str) -> Option<Value> {
    graph(url, "GET", "identity/conditionalAccess/policies", None).await["value"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["displayName"] == name).cloned())
}

/// A blocking policy for all users with `users` as its users block.
fn block(name: &str, state: &str, users: &str) -> String {
    format!(
        r#"conditional-access-policy "{name}" {{
    state {state}
    conditions {{
        users {{
            {users}
        }}
        applications {{ include-applications All }}
    }}
    grant-controls {{ built-in-controls block }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_replaces_the_break_glass_exclusions_is_refused_by_plan_and_apply() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    let name = "Block everyone except break-glass";
    scratch.write("p/emergency.kdl", EMERGENCY);
    scratch.write(
        "p/policy.kdl",
        block(
            name,
            "enabled",
            &format!("include-users All\n            exclude-users \"{BG1}\" \"{BG2}\""),
        ),
    );
    let applied = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);

    // The later file says only who to exclude, and leaves who is included to the tenant: its
    // include-users All stays.
    scratch.write(
        "p/policy.kdl",
        block(
            name,
            "enabled",
            "exclude-users \"megan.bowen@contoso.onmicrosoft.com\"",
        )
        .replace(
            "    state enabled\n",
            "    state enabled\n    ignore-changes \"conditions.users.include-users\"\n",
        ),
    );
    let refusal = format!(
        "enabled policy \"{name}\" could lock the emergency-access accounts out (it targets all users): it does not exclude {BG1}, {BG2}"
    );
    let planned = run(scratch.path(), &["plan", "p", "--out", "plan.json"], &url).await;
    assert_eq!(planned.code, 1, "{}{}", planned.stdout, planned.stderr);
    assert!(
        planned
            .stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "the plan is shown: {}",
        planned.stdout
    );
    assert!(
        flat(&planned.stderr).contains(&refusal),
        "{}",
        planned.stderr
    );
    assert!(
        planned
            .stderr
            .contains("error: apply would refuse this plan (not saved): 1 problem above"),
        "{}",
        planned.stderr
    );
    assert!(!scratch.path().join("plan.json").exists(), "nothing saved");
    assert!(
        planned.stderr.contains("╭─[p/policy.kdl:"),
        "located in the file: {}",
        planned.stderr
    );

    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        flat(&refused.stderr).contains(&refusal),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("error: refusing to apply, nothing was written"),
        "{}",
        refused.stderr
    );
    let bg1 = id_of(&url, &format!("users/{BG1}")).await;
    let bg2 = id_of(&url, &format!("users/{BG2}")).await;
    let live = policy(&url, name).await.expect("the policy");
    assert_eq!(
        live["conditions"]["users"]["excludeUsers"],
        json!([bg1, bg2]),
        "nothing was written"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabling_a_disabled_block_all_policy_with_an_unrelated_exclusion_is_refused() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let name = "Block everyone";
    graph(
        &url,
        "POST",
        "identity/conditionalAccess/policies",
        Some(json!({
            "displayName": name,
            "state": "disabled",
            "conditions": {
                "users": { "includeUsers": ["All"] },
                "applications": { "includeApplications": ["All"] },
                "clientAppTypes": ["all"]
            },
            "grantControls": { "operator": "OR", "builtInControls": ["block"] }
        })),
    )
    .await;
    let scratch = Scratch::new();
    scratch.write("p/emergency.kdl", EMERGENCY);
    // The file turns the policy on and adds an exclusion; who it includes is the tenant's.
    scratch.write(
        "p/policy.kdl",
        block(name, "enabled", "exclude-groups \"Finance\"").replace(
            "    state enabled\n",
            "    state enabled\n    ignore-changes \"conditions.users.include-users\"\n",
        ),
    );
    // The files alone say nothing about who is included: validate cannot see it.
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 0, "{}", validated.stderr);

    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        flat(&refused.stderr).contains(&format!(
            "enabled policy \"{name}\" could lock the emergency-access accounts out (it targets all users): it does not exclude {BG1}, {BG2}"
        )),
        "{}",
        refused.stderr
    );
    let live = policy(&url, name).await.expect("the policy");
    assert_eq!(live["state"], "disabled", "nothing was written");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_that_reach_the_break_glass_accounts_by_name_or_group_are_refused() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let admins = group_id(&url, "IT Admins").await;
    let bg1 = id_of(&url, &format!("users/{BG1}")).await;
    graph(
        &url,
        "POST",
        &format!("groups/{admins}/members/$ref"),
        Some(json!({ "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{bg1}") })),
    )
    .await;
    let scratch = Scratch::new();
    scratch.write("p/emergency.kdl", EMERGENCY);
    let cases = [
        (
            format!("include-users \"{BG1}\""),
            format!("could lock the emergency-access accounts out: it includes {BG1} by name"),
        ),
        (
            "include-groups \"IT Admins\"".to_string(),
            format!(
                "could lock the emergency-access accounts out (it includes group IT Admins, which holds {BG1}): it does not exclude {BG1}, {BG2}"
            ),
        ),
        (
            "include-groups \"Emergency Access Accounts\"".to_string(),
            format!(
                "could lock the emergency-access accounts out (it includes group Emergency Access Accounts, which holds {BG1}, {BG2}): it does not exclude {BG1}, {BG2}"
            ),
        ),
    ];
    for (users, message) in &cases {
        scratch.write("p/policy.kdl", block("Block admins", "enabled", users));
        let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
        assert_eq!(
            refused.code, 1,
            "{users}: {}{}",
            refused.stdout, refused.stderr
        );
        assert!(
            flat(&refused.stderr).contains(&format!("enabled policy \"Block admins\" {message}")),
            "{users}: {}",
            refused.stderr
        );
        assert!(
            policy(&url, "Block admins").await.is_none(),
            "nothing created"
        );
    }
    // Excluding a group that (transitively) holds both accounts is what makes it safe.
    scratch.write(
        "p/policy.kdl",
        block(
            "Block admins",
            "enabled",
            "include-groups \"IT Admins\"\n            exclude-groups \"Emergency Access Accounts\"",
        ),
    );
    let applied = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_access_must_name_users_and_groups_holding_only_them() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let finance = group_id(&url, "Finance").await;
    let scratch = Scratch::new();
    let safe = block(
        "Block legacy",
        "enabledForReportingButNotEnforced",
        "include-users All",
    );
    scratch.write("p/policy.kdl", &safe);

    // A group holding people besides the declared accounts: excluding it would exempt them.
    scratch.write(
        "p/emergency.kdl",
        EMERGENCY.replace("}\n", "    group \"IT Admins\"\n}\n"),
    );
    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        flat(&refused.stderr).contains(
            "emergency-access group IT Admins holds members besides the declared emergency-access users: megan.bowen@contoso.onmicrosoft.com, nestor.wilke@contoso.onmicrosoft.com, alex.wilber@contoso.onmicrosoft.com"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("╭─[p/emergency.kdl:4:"),
        "{}",
        refused.stderr
    );

    // An entry that is a group, not a user.
    scratch.write(
        "p/emergency.kdl",
        format!("emergency-access {{\n    user \"{BG1}\"\n    user \"{finance}\"\n}}\n"),
    );
    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        flat(&refused.stderr)
            .contains("emergency-access user Finance is a group, not a break-glass user account"),
        "{}",
        refused.stderr
    );
    assert!(
        policy(&url, "Block legacy").await.is_none(),
        "nothing created"
    );

    // A group alone cannot stand for the accounts (validate knows that much).
    scratch.write(
        "p/emergency.kdl",
        "emergency-access {\n    group \"Emergency Access Accounts\"\n}\n",
    );
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 1, "{}", validated.stderr);
    assert!(
        validated
            .stderr
            .contains("steward::emergency-access::group-without-users"),
        "{}",
        validated.stderr
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_lockout_waiver_waives_nothing() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("p/emergency.kdl", EMERGENCY);
    scratch.write(
        "p/policy.kdl",
        block("Block everything", "enabled", "include-users All").replace(
            "    state enabled\n",
            "    state enabled\n    lockout-waiver \"\"\n",
        ),
    );
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 1, "{}", validated.stderr);
    assert!(
        validated
            .stderr
            .contains("steward::ca::empty-lockout-waiver"),
        "{}",
        validated.stderr
    );
    assert!(
        validated.stderr.contains("╭─[p/policy.kdl:3:5]"),
        "{}",
        validated.stderr
    );
    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1);
    assert!(
        policy(&url, "Block everything").await.is_none(),
        "nothing created"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_every_authentication_method_is_refused() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("p/emergency.kdl", EMERGENCY);
    scratch.write(
        "p/methods.kdl",
        r#"authentication-methods-policy {
    fido2 state=disabled
    microsoft-authenticator state=disabled
    sms state=disabled
    voice state=disabled
    email state=disabled
    temporary-access-pass state=disabled
    software-oath state=disabled
    x509-certificate state=disabled
}
"#,
    );
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 0, "a warning only: {}", validated.stderr);
    assert!(
        validated.stderr.contains("steward::lockout::methods"),
        "{}",
        validated.stderr
    );
    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        flat(&refused.stderr).contains(&format!(
            "the authentication methods policy leaves {BG1}, {BG2} no method to complete multifactor authentication with"
        )),
        "{}",
        refused.stderr
    );
    let methods = graph(&url, "GET", "policies/authenticationMethodsPolicy", None).await;
    let authenticator = methods["authenticationMethodConfigurations"]
        .as_array()
        .and_then(|list| list.iter().find(|m| m["id"] == "MicrosoftAuthenticator"))
        .cloned()
        .expect("authenticator");
    assert_eq!(authenticator["state"], "enabled", "nothing was written");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_excluded_by_id_are_not_a_validate_warning_and_apply_accepts_them() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let bg1 = id_of(&url, &format!("users/{BG1}")).await;
    let bg2 = id_of(&url, &format!("users/{BG2}")).await;
    let scratch = Scratch::new();
    scratch.write("p/emergency.kdl", EMERGENCY);
    scratch.write(
        "p/policy.kdl",
        block(
            "Block by id",
            "enabled",
            &format!("include-users All\n            exclude-users \"{bg1}\" \"{bg2}\""),
        ),
    );
    let validated = run(scratch.path(), &["validate", "p"], &url).await;
    assert_eq!(validated.code, 0, "{}", validated.stderr);
    assert!(
        !validated.stderr.contains("steward::lockout"),
        "no warning: {}",
        validated.stderr
    );
    assert!(
        validated.stderr.contains(&format!(
            "note: policy \"Block by id\": whether it excludes {BG1}, {BG2} depends on the tenant"
        )),
        "{}",
        validated.stderr
    );
    assert!(
        validated
            .stderr
            .contains("note: the lockout guard saw the files only (the tenant is not known here)"),
        "{}",
        validated.stderr
    );
    let applied = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_policy_the_files_do_not_declare_is_judged_too() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let created = graph(
        &url,
        "POST",
        "identity/conditionalAccess/policies",
        Some(json!({
            "displayName": "Made in the portal",
            "state": "enabled",
            "conditions": {
                "users": { "includeUsers": ["All"] },
                "applications": { "includeApplications": ["All"] },
                "clientAppTypes": ["all"]
            },
            "grantControls": { "operator": "OR", "builtInControls": ["mfa"] }
        })),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_string();
    let scratch = Scratch::new();
    scratch.write("p/emergency.kdl", EMERGENCY);
    scratch.write(
        "p/policy.kdl",
        block(
            "Safe",
            "enabled",
            &format!("include-users All\n            exclude-users \"{BG1}\" \"{BG2}\""),
        ),
    );
    let planned = run(scratch.path(), &["plan", "p"], &url).await;
    assert_eq!(planned.code, 1, "{}{}", planned.stdout, planned.stderr);
    assert!(
        squashed(&planned.stderr).contains(&squashed(&format!(
            "enabled policy \"Made in the portal\" (in the tenant, not in the files; id {id}) could lock the emergency-access accounts out (it targets all users): it does not exclude {BG1}, {BG2}"
        ))),
        "{}",
        planned.stderr
    );
    assert!(
        flat(&planned.stderr).contains("exclude the emergency-access accounts from it in the portal, or declare it in the files"),
        "{}",
        planned.stderr
    );
    let refused = run(scratch.path(), &["apply", "p", "--auto-approve"], &url).await;
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(policy(&url, "Safe").await.is_none(), "nothing created");

    // A plan that changes nothing leaves the tenant as it is: a warning, not a refusal.
    let exported = run(scratch.path(), &["export", "--out", "e"], &url).await;
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    scratch.write("e/emergency.kdl", EMERGENCY);
    let clean = run(scratch.path(), &["plan", "e", "--detailed-exitcode"], &url).await;
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert!(
        clean
            .stdout
            .ends_with("No changes. The tenant matches the configuration.\n")
    );
    assert!(
        flat(&clean.stderr).contains(
            "warning: the tenant as it is could lock the emergency-access accounts out (1 problem above); there is nothing to apply"
        ),
        "{}",
        clean.stderr
    );
    sandbox.shutdown().await;
}
