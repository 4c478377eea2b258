//! The plan renderers: golden output of the human, Markdown and JSON forms, and the rules each
//! form must keep (one closing line, no colour unless asked, the comment limit, the schema).

use std::collections::HashMap;

use serde_json::{Value, json};
use steward::config::load_str;
use steward::model::plan::{Action, FieldChange, Plan, ResourceChange, Summary};
use steward::model::{Address, Kind};
use steward::reconcile::{LiveIds, PlanOptions, plan};
use steward::render::{self, COMMENT_LIMIT, Mode, Names};

const FINANCE: &str = "3f0c2a1b-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const CA002: &str = "CA002 Require MFA for administrators";

/// What the files say: a new location, a changed policy and settings, and a prune scope.
const DESIRED: &str = r#"
named-location "Head office" {
    ip-ranges "203.0.113.0/24" "2001:db8::/48"
    is-trusted #true
}
conditional-access-policy "CA002 Require MFA for administrators" {
    state enabled
    conditions {
        users {
            include-roles "Exchange Administrator" "Security Administrator"
            exclude-groups "3f0c2a1b-5d6e-4f70-8a9b-0c1d2e3f4a5b"
        }
        applications { include-applications All }
        client-app-types all
    }
    grant-controls operator=OR { built-in-controls mfa }
}
prune kind=conditional-access-policy name-prefix="Legacy"
authentication-methods-policy {
    sms { state enabled }
}
sharepoint-settings {
    sharing-capability externalUserSharingOnly
    is-resharing-by-external-users-enabled #false
}
"#;

/// What the tenant has: the policy in report-only with other roles, a legacy policy inside the
/// prune scope, and one outside it.
const LIVE: &str = r#"
conditional-access-policy "CA002 Require MFA for administrators" {
    state enabledForReportingButNotEnforced
    conditions {
        users {
            include-roles "Helpdesk Administrator" "Security Administrator"
        }
        applications { include-applications All }
        client-app-types all
    }
    grant-controls operator=OR { built-in-controls mfa }
}
conditional-access-policy "Legacy - Block legacy auth" {
    state enabled
    conditions {
        users { include-users All }
        applications { include-applications All }
        client-app-types exchangeActiveSync other
    }
    grant-controls operator=OR { built-in-controls block }
}
conditional-access-policy "Legacy - Allow Finance from HQ without MFA" {
    state enabled
    conditions {
        users { include-groups "Finance" }
        applications { include-applications All }
        client-app-types all
    }
    grant-controls operator=OR { built-in-controls compliantDevice }
}
authentication-methods-policy {
    sms { state disabled }
}
sharepoint-settings {
    sharing-capability existingExternalUserSharingOnly
    is-resharing-by-external-users-enabled #false
}
"#;

fn load(name: &str, text: &str) -> steward::model::Desired {
    let loaded = load_str(name, text);
    assert!(!loaded.has_errors(), "{name}: {:?}", loaded.diagnostics);
    loaded.desired
}

fn ids(entries: &[(&str, &str)]) -> LiveIds {
    entries
        .iter()
        .map(|(name, id)| {
            (
                Address {
                    kind: Kind::ConditionalAccessPolicy,
                    name: Some(name.to_string()),
                    pin: None,
                },
                id.to_string(),
            )
        })
        .collect()
}

/// A create, two updates, a delete inside a prune scope, an unmanaged object and risks. The
/// prune scope is narrowed to one policy so the other stays unmanaged.
fn mixed_plan() -> Plan {
    let mut desired = load(
        "desired.kdl",
        &DESIRED.replace("name-prefix=\"Legacy\"", "name-prefix=\"Legacy - Block\""),
    );
    desired.prune.truncate(1);
    let live = load("live.kdl", LIVE);
    let ids = ids(&[
        (CA002, "7a1c3e5f-0b2d-4c6e-8f10-a2b4c6d8e0f1"),
        (
            "Legacy - Block legacy auth",
            "d41d8cd9-8f00-4b20-9e98-00998ecf8427",
        ),
        (
            "Legacy - Allow Finance from HQ without MFA",
            "9b2e4f60-1a3c-4e5d-8f70-b1c2d3e49cf1",
        ),
    ]);
    plan(&desired, &live, &ids, &PlanOptions { max_deletes: 1 }).expect("a plan")
}

fn no_change_plan() -> Plan {
    let live = load("live.kdl", LIVE);
    let ids = ids(&[(CA002, "7a1c3e5f-0b2d-4c6e-8f10-a2b4c6d8e0f1")]);
    let only_ca002 = steward::model::Desired {
        conditional_access_policies: live
            .conditional_access_policies
            .iter()
            .filter(|p| p.display_name == CA002)
            .cloned()
            .collect(),
        ..steward::model::Desired::default()
    };
    plan(&only_ca002, &only_ca002, &ids, &PlanOptions::default()).expect("a plan")
}

/// Nothing to change, but one undeclared policy in the tenant.
fn no_change_plan_with_unmanaged() -> Plan {
    let live = load("live.kdl", LIVE);
    let ids = ids(&[
        (CA002, "7a1c3e5f-0b2d-4c6e-8f10-a2b4c6d8e0f1"),
        (
            "Legacy - Allow Finance from HQ without MFA",
            "9b2e4f60-1a3c-4e5d-8f70-b1c2d3e49cf1",
        ),
    ]);
    let keep = |names: &[&str]| steward::model::Desired {
        conditional_access_policies: live
            .conditional_access_policies
            .iter()
            .filter(|p| names.contains(&p.display_name.as_str()))
            .cloned()
            .collect(),
        ..steward::model::Desired::default()
    };
    let tenant = keep(&[CA002, "Legacy - Allow Finance from HQ without MFA"]);
    plan(&keep(&[CA002]), &tenant, &ids, &PlanOptions::default()).expect("a plan")
}

fn names() -> Names {
    Names::new(HashMap::from([(
        FINANCE.to_string(),
        "Finance".to_string(),
    )]))
}

#[test]
fn the_fixture_has_every_action_an_unmanaged_object_and_risks() {
    let plan = mixed_plan();
    let actions: Vec<(&str, Action)> = plan
        .resources
        .iter()
        .map(|r| (r.address.as_str(), r.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("named-location \"Head office\"", Action::Create),
            (
                "conditional-access-policy \"CA002 Require MFA for administrators\"",
                Action::Update
            ),
            ("authentication-methods-policy", Action::Update),
            ("sharepoint-settings", Action::Update),
            (
                "conditional-access-policy \"Legacy - Block legacy auth\"",
                Action::Delete
            ),
        ]
    );
    assert_eq!(plan.unmanaged.len(), 1);
    let codes: Vec<&str> = plan.risks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "exclusion-added",
            "phishable-method",
            "sharing-widened",
            "ca-deleted"
        ]
    );
}

// ---- human ----

#[test]
fn human_plan_shows_terraform_blocks_then_risks_unmanaged_and_the_closing_line() {
    insta::assert_snapshot!(
        "human_plan",
        render::human(&mixed_plan(), Mode::Plan, &names(), false)
    );
}

/// The mixed plan as `steward drift` sees it: its risks read in the drift direction.
fn drift_plan() -> Plan {
    let mut plan = mixed_plan();
    plan.risks =
        steward::reconcile::risk::assess(&plan.resources, steward::model::plan::Direction::Drift);
    plan
}

#[test]
fn human_drift_words_each_change_as_tenant_versus_files() {
    insta::assert_snapshot!(
        "human_drift",
        render::human(&drift_plan(), Mode::Drift, &names(), false)
    );
}

#[test]
fn human_no_changes_with_unmanaged_lists_them_before_the_closing_line() {
    let plan = no_change_plan_with_unmanaged();
    assert!(plan.summary.is_empty());
    insta::assert_snapshot!(
        "human_no_changes_unmanaged",
        render::human(&plan, Mode::Plan, &names(), false)
    );
}

#[test]
fn human_no_changes_is_exactly_the_closing_line() {
    let plan = no_change_plan();
    assert!(plan.summary.is_empty());
    assert_eq!(
        render::human(&plan, Mode::Plan, &Names::empty(), false),
        "No changes. The tenant matches the configuration.\n"
    );
    assert_eq!(
        render::human(&plan, Mode::Drift, &Names::empty(), false),
        "No drift. The tenant matches the configuration.\n"
    );
}

#[test]
fn human_without_colour_has_no_escape_codes_and_with_colour_paints_the_symbols() {
    let plan = mixed_plan();
    for mode in [Mode::Plan, Mode::Drift] {
        let plain = render::human(&plan, mode, &names(), false);
        assert!(!plain.contains('\x1b'), "{plain}");
    }
    let painted = render::human(&plan, Mode::Plan, &names(), true);
    assert!(painted.contains("\x1b[32m+\x1b[0m named-location \"Head office\" {"));
    assert!(painted.contains("\x1b[33m~\x1b[0m sharepoint-settings {"));
    assert!(
        painted.contains(
            "\x1b[31m-\x1b[0m conditional-access-policy \"Legacy - Block legacy auth\" {"
        )
    );
    assert!(painted.contains("\x1b[1mRisky changes:\x1b[0m"));
}

#[test]
fn human_without_colour_escapes_control_characters_from_the_tenant() {
    let mut plan = mixed_plan();
    plan.unmanaged[0].name = "Evil \u{1b}[2J policy".into();
    plan.unmanaged[0].id = "\u{1b}[31m-0000-0000-0000-000000000000".into();
    plan.risks[0].message = "exclusions added: \u{1b}]0;title\u{7}".into();
    let hostile = Names::new(HashMap::from([(
        FINANCE.to_string(),
        "Fin\u{1b}[1mance".to_string(),
    )]));
    let text = render::human(&plan, Mode::Plan, &hostile, false);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(!text.contains('\u{7}'), "{text}");
}

#[test]
fn human_has_exactly_one_closing_line_and_it_is_last() {
    let closing = |line: &str| {
        line.starts_with("Plan: ")
            || line.starts_with("Drift: ")
            || line.starts_with("No changes.")
            || line.starts_with("No drift.")
    };
    for (plan, mode, last) in [
        (
            mixed_plan(),
            Mode::Plan,
            "Plan: 1 to add, 3 to change, 1 to destroy.",
        ),
        (
            mixed_plan(),
            Mode::Drift,
            "Drift: 1 missing from the tenant, 3 changed outside steward, 1 not in the files.",
        ),
        (
            no_change_plan(),
            Mode::Plan,
            "No changes. The tenant matches the configuration.",
        ),
    ] {
        let text = render::human(&plan, mode, &names(), false);
        let lines: Vec<&str> = text.lines().filter(|l| closing(l)).collect();
        assert_eq!(lines, [last]);
        assert_eq!(text.lines().last(), Some(last));
    }
}

#[test]
fn human_counts_hidden_unchanged_attributes_per_resource() {
    let plan = mixed_plan();
    let text = render::human(&plan, Mode::Plan, &names(), false);
    let ca = &plan.resources[1];
    assert_eq!(ca.unchanged, 4);
    assert!(text.contains("        # (4 unchanged attributes hidden)\n"));
    assert_eq!(plan.resources[3].unchanged, 1);
    assert!(text.contains("        # (1 unchanged attribute hidden)\n"));
    assert_eq!(text.matches("unchanged attribute").count(), 2);
}

#[test]
fn human_names_known_guid_references_and_leaves_unknown_ones() {
    let plan = mixed_plan();
    let named = render::human(&plan, Mode::Plan, &names(), false);
    assert!(named.contains("[\"Finance (3f0c2a1b…)\"]"), "{named}");
    assert!(named.contains("exclusions added to users.exclude-groups: Finance (3f0c2a1b…)"));
    let bare = render::human(&plan, Mode::Plan, &Names::empty(), false);
    assert!(bare.contains(&format!("[\"{FINANCE}\"]")));
}

#[test]
fn human_drift_says_what_the_tenant_has_and_what_the_files_say() {
    let text = render::human(&mixed_plan(), Mode::Drift, &names(), false);
    assert!(text.contains(
        "~ state: the tenant has \"enabledForReportingButNotEnforced\", the files say \"enabled\""
    ));
    assert!(text.contains("only in the tenant: \"Helpdesk Administrator\""));
    assert!(text.contains("only in the files:  \"Exchange Administrator\""));
    assert!(!text.contains("will be"));
}

// ---- JSON ----

#[test]
fn json_plan_golden_has_every_resource_unmanaged_risks_and_summary() {
    insta::assert_json_snapshot!("json_plan", render::json(&mixed_plan(), Mode::Plan));
}

#[test]
fn json_no_changes_golden_lists_the_no_op_and_the_unmanaged_object() {
    insta::assert_json_snapshot!(
        "json_no_changes",
        render::json(&no_change_plan_with_unmanaged(), Mode::Plan)
    );
}

#[test]
fn json_drift_differs_from_plan_only_in_mode() {
    let mut drift = render::json(&mixed_plan(), Mode::Drift);
    assert_eq!(drift["mode"], json!("drift"));
    drift["mode"] = json!("plan");
    assert_eq!(drift, render::json(&mixed_plan(), Mode::Plan));
}

#[test]
fn json_has_the_version_actions_and_changed_paths() {
    let doc = render::json(&mixed_plan(), Mode::Plan);
    assert_eq!(doc["format_version"], json!(1));
    assert_eq!(doc["mode"], json!("plan"));
    let changes = doc["resource_changes"].as_array().expect("a list");
    let got: Vec<(Value, Value)> = changes
        .iter()
        .map(|c| (c["actions"].clone(), c["changed_paths"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (json!(["create"]), json!(["ip-ranges", "is-trusted"])),
            (
                json!(["update"]),
                json!([
                    "state",
                    "conditions.users.exclude-groups",
                    "conditions.users.include-roles"
                ])
            ),
            (json!(["update"]), json!(["sms.state"])),
            (json!(["update"]), json!(["sharing-capability"])),
            (json!(["delete"]), json!([])),
        ]
    );
    assert_eq!(doc["summary"], json!({"add": 1, "change": 3, "destroy": 1}));
    assert_eq!(
        doc["unmanaged"][0]["name"],
        json!("Legacy - Allow Finance from HQ without MFA")
    );
    assert_eq!(doc["risks"].as_array().map(Vec::len), Some(4));
}

#[test]
fn json_lists_no_op_resources_with_the_no_op_action() {
    let doc = render::json(&no_change_plan(), Mode::Drift);
    assert_eq!(doc["mode"], json!("drift"));
    assert_eq!(doc["resource_changes"][0]["actions"], json!(["no-op"]));
    assert_eq!(doc["resource_changes"][0]["changed_paths"], json!([]));
}

#[test]
fn json_documents_validate_against_the_plan_schema() {
    let schema = serde_json::to_value(render::plan_schema()).expect("a schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for doc in [
        render::json(&mixed_plan(), Mode::Plan),
        render::json(&mixed_plan(), Mode::Drift),
        render::json(&no_change_plan(), Mode::Plan),
    ] {
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let mut broken = render::json(&mixed_plan(), Mode::Plan);
    broken["resource_changes"][0]["actions"] = json!(["recreate"]);
    assert!(
        !validator.is_valid(&broken),
        "the schema constrains actions"
    );
}

// ---- Markdown ----

#[test]
fn markdown_plan_golden_has_marker_heading_risks_table_and_diffs() {
    insta::assert_snapshot!(
        "markdown_plan",
        render::markdown(&mixed_plan(), Mode::Plan, &names())
    );
}

#[test]
fn markdown_drift_golden_has_its_marker_and_the_tenant_versus_files_legend() {
    insta::assert_snapshot!(
        "markdown_drift",
        render::markdown(&drift_plan(), Mode::Drift, &names())
    );
}

#[test]
fn markdown_no_changes_golden_says_so_in_the_heading() {
    insta::assert_snapshot!(
        "markdown_no_changes",
        render::markdown(&no_change_plan(), Mode::Plan, &names())
    );
    insta::assert_snapshot!(
        "markdown_no_changes_unmanaged",
        render::markdown(&no_change_plan_with_unmanaged(), Mode::Plan, &names())
    );
}

#[test]
fn markdown_starts_with_the_marker_a_bot_finds() {
    for (plan, mode, marker) in [
        (mixed_plan(), Mode::Plan, "<!-- steward-plan -->"),
        (no_change_plan(), Mode::Plan, "<!-- steward-plan -->"),
        (mixed_plan(), Mode::Drift, "<!-- steward-drift -->"),
    ] {
        let text = render::markdown(&plan, mode, &names());
        assert_eq!(text.lines().next(), Some(marker));
    }
}

#[test]
fn markdown_puts_risks_before_the_table_and_the_diffs() {
    let text = render::markdown(&mixed_plan(), Mode::Plan, &names());
    let risks = text.find("**Risky changes**").expect("risks");
    let table = text.find("| | Resource |").expect("table");
    let details = text.find("<details>").expect("details");
    assert!(risks < table && table < details);
}

/// `count` policies, each changed in enough settings to make a long diff and a risk.
fn many_policies(count: usize, value_len: usize) -> Plan {
    let mut desired = String::new();
    let mut live = String::new();
    let mut live_ids = Vec::new();
    for i in 0..count {
        let pad = "x".repeat(value_len);
        desired.push_str(&format!(
            "conditional-access-policy \"CA{i:03} Policy\" {{\n state enabled\n conditions {{\n users {{\n include-users All\n exclude-users \"bg1@contoso.com\" \"bg2@contoso.com\" \"ops{i}-{pad}@contoso.com\"\n }}\n applications {{ include-applications All }}\n client-app-types all\n }}\n grant-controls operator=OR {{ built-in-controls mfa compliantDevice }}\n lockout-waiver \"test\"\n}}\n"
        ));
        live.push_str(&format!(
            "conditional-access-policy \"CA{i:03} Policy\" {{\n state enabledForReportingButNotEnforced\n conditions {{\n users {{\n include-users All\n exclude-users \"bg1@contoso.com\" \"old{i}-{pad}@contoso.com\"\n }}\n applications {{ include-applications All }}\n client-app-types all\n }}\n grant-controls operator=AND {{ built-in-controls mfa }}\n lockout-waiver \"test\"\n}}\n"
        ));
        live_ids.push((format!("CA{i:03} Policy"), format!("id-{i}")));
    }
    let pairs: Vec<(&str, &str)> = live_ids
        .iter()
        .map(|(n, id)| (n.as_str(), id.as_str()))
        .collect();
    plan(
        &load("desired.kdl", &desired),
        &load("live.kdl", &live),
        &ids(&pairs),
        &PlanOptions::default(),
    )
    .expect("a plan")
}

const NOTE_TAIL: &str = "not shown: the comment limit was reached. Run steward plan locally or download the plan artifact for the full plan.";

/// Every resource's table row and every risk survive truncation.
fn assert_summary_complete(text: &str, plan: &Plan) {
    for r in &plan.resources {
        let row = format!("| `~` | <code>{}</code> |", r.address);
        assert!(text.contains(&row), "missing row {row}");
    }
    let risk_lines = text.lines().filter(|l| l.starts_with("- <code>")).count();
    assert_eq!(risk_lines, plan.risks.len());
}

#[test]
fn markdown_with_150_resources_fits_the_comment_limit_with_a_note() {
    let plan = many_policies(150, 8);
    assert_eq!(plan.summary.change, 150);
    let text = render::markdown(&plan, Mode::Plan, &Names::empty());
    assert!(text.len() <= COMMENT_LIMIT, "{} bytes", text.len());
    assert!(text.contains(NOTE_TAIL));
    assert_summary_complete(&text, &plan);
    let shown = text.matches("<details><summary><code>~ ").count();
    assert!(shown > 0 && shown < 150, "{shown} diffs shown");
    assert!(text.contains(&format!("> … {} resources not shown", 150 - shown)));
}

#[test]
fn markdown_with_huge_values_fits_the_comment_limit_with_a_note() {
    let plan = many_policies(12, 20_000);
    let text = render::markdown(&plan, Mode::Plan, &Names::empty());
    assert!(text.len() <= COMMENT_LIMIT, "{} bytes", text.len());
    assert!(text.contains(NOTE_TAIL));
    assert_summary_complete(&text, &plan);
}

#[test]
fn markdown_stays_within_the_limit_even_when_the_summary_alone_is_too_long() {
    let resources: Vec<ResourceChange> = (0..2_000)
        .map(|i| ResourceChange {
            address: format!("retention-label \"Label {i} {}\"", "y".repeat(40)),
            kind: Kind::RetentionLabel,
            name: Some(format!("Label {i}")),
            id: None,
            action: Action::Create,
            before: None,
            after: Some(json!({"displayName": format!("Label {i}"), "descriptionForUsers": "z"})),
            changes: Vec::<FieldChange>::new(),
            unchanged: 0,
            ignored: Vec::new(),
            staged: false,
        })
        .collect();
    let plan = Plan {
        summary: Summary {
            add: resources.len(),
            change: 0,
            destroy: 0,
        },
        resources,
        ..Plan::default()
    };
    let text = render::markdown(&plan, Mode::Plan, &Names::empty());
    assert!(text.len() <= COMMENT_LIMIT, "{} bytes", text.len());
    assert!(text.starts_with("<!-- steward-plan -->\n### steward plan: 2000 to add"));
    assert!(text.contains("> … 2000 resources not shown"));
}

#[test]
fn markdown_drift_truncation_points_at_steward_drift() {
    let text = render::markdown(&many_policies(150, 8), Mode::Drift, &Names::empty());
    assert!(text.len() <= COMMENT_LIMIT);
    assert!(text.contains(
        "Run steward drift locally or download the drift report artifact for the full report."
    ));
}

#[test]
fn a_deleted_policy_shows_its_own_id_plainly_even_when_the_id_has_a_name() {
    let plan = mixed_plan();
    let id = "d41d8cd9-8f00-4b20-9e98-00998ecf8427";
    let names = Names::new(HashMap::from([(
        id.to_string(),
        "Legacy - Block legacy auth".to_string(),
    )]));
    let human = render::human(&plan, Mode::Plan, &names, false);
    assert!(
        human.contains(&format!("- id           = \"{id}\" -> null")),
        "{human}"
    );
    assert!(
        !human.contains("\"Legacy - Block legacy auth (d41d8cd9"),
        "{human}"
    );
    let markdown = render::markdown(&plan, Mode::Plan, &names);
    assert!(
        markdown.contains(&format!("- id = \"{id}\"\n")),
        "{markdown}"
    );
}

#[test]
fn human_shows_a_changed_multi_line_or_long_text_as_a_line_diff() {
    let label = |users: &str, admins: &str| {
        format!(
            "retention-label \"Financial records\" {{\n    behavior-during-retention-period retain\n    \
             action-after-retention-period delete\n    retention-trigger dateCreated\n    \
             retention-duration days=2555\n    description-for-admins {admins:?}\n    \
             description-for-users {users:?}\n}}\n"
        )
    };
    let desired = load(
        "desired.kdl",
        &label(
            "Kept for 7 years from creation.\nThen deleted.\nAsk records management.",
            "Statutory retention for accounting records under the commercial code, section 257",
        ),
    );
    let live = load(
        "live.kdl",
        &label(
            "Kept for 7 years from creation.\nThen reviewed.\nAsk records management.",
            "Statutory retention for accounting records",
        ),
    );
    let ids: LiveIds = [(
        Address {
            kind: Kind::RetentionLabel,
            name: Some("Financial records".to_string()),
            pin: None,
        },
        "0f1e2d3c-4b5a-4697-8877-665544332211".to_string(),
    )]
    .into_iter()
    .collect();
    let plan = plan(&desired, &live, &ids, &PlanOptions::default()).expect("a plan");
    let text = render::human(&plan, Mode::Plan, &Names::empty(), false);
    insta::assert_snapshot!(text, @r#"
    steward will perform the following actions:

      # retention-label "Financial records" will be updated in place
      ~ retention-label "Financial records" {
            id = "0f1e2d3c-4b5a-4697-8877-665544332211"
          ~ description-for-admins:
              - "Statutory retention for accounting records"
              + "Statutory retention for accounting records under the commercial code, section 257"
          ~ description-for-users:
                "Kept for 7 years from creation."
              - "Then reviewed."
              + "Then deleted."
                "Ask records management."
            # (4 unchanged attributes hidden)
        }

    Plan: 0 to add, 1 to change, 0 to destroy.
    "#);
}
