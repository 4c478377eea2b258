//! `steward permissions`: least privilege for the kinds the files declare.

use crate::common;

use common::Scratch;

const CA_AND_LABEL: &str = r#"
named-location "HQ" {
    ip-ranges "203.0.113.0/24"
}
retention-label "Tax records - 10 years" {
    behavior-during-retention-period retain
    retention-duration days=3650
}
"#;

#[test]
fn permissions_cover_only_declared_kinds_and_flag_delegated_only_ones() {
    let scratch = Scratch::new();
    scratch.write("p.kdl", CA_AND_LABEL);
    let run = scratch.run(&["permissions", "--format", "json", "p.kdl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        report["application_read"],
        serde_json::json!(["Policy.Read.All"])
    );
    assert_eq!(
        report["application_write"],
        serde_json::json!(["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"])
    );
    assert_eq!(
        report["delegated_write"],
        serde_json::json!([
            "Policy.Read.All",
            "Policy.ReadWrite.ConditionalAccess",
            "RecordsManagement.Read.All",
            "RecordsManagement.ReadWrite.All"
        ])
    );
    assert_eq!(
        report["needs_signed_in_admin"],
        serde_json::json!(["retention-label"])
    );
}

#[test]
fn human_output_says_which_kinds_need_a_signed_in_admin() {
    let scratch = Scratch::new();
    scratch.write("p.kdl", CA_AND_LABEL);
    let run = scratch.run(&["permissions", "p.kdl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("permissions_human", run.stdout);
}

#[test]
fn invalid_files_are_refused_with_their_diagnostics() {
    let scratch = Scratch::new();
    scratch.write("p.kdl", "named-locaton \"HQ\"\n");
    let run = scratch.run(&["permissions", "p.kdl"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("did you mean `named-location`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_guest_review_names_its_permissions_and_the_licence_it_needs() {
    let scratch = Scratch::new();
    scratch.write(
        "r.kdl",
        "access-review \"R\" {\n    scope guests-in=allTeams\n    reviewers group-owners=#true\n    settings { auto-apply-decisions-enabled #true; }\n}\ncross-tenant-access {\n    inbound-trust is-mfa-accepted=#false\n}\n",
    );
    let run = scratch.run(&["permissions", "r.kdl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "  apply:                AccessReview.Read.All, AccessReview.ReadWrite.All, Directory.Read.All, Policy.Read.All, Policy.ReadWrite.CrossTenantAccess, RoleManagement.Read.Directory\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "Licences the tenant needs:\n  access-review        Microsoft Entra ID Governance (or Microsoft Entra ID P2), for every reviewer and reviewed guest\n"
        ),
        "{}",
        run.stdout
    );
    let json = scratch.run(&["permissions", "--format", "json", "r.kdl"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let kinds = report["kinds"].as_array().cloned().unwrap_or_default();
    let review = kinds
        .iter()
        .find(|k| k["kind"] == "access-review")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        review["licence"],
        "Microsoft Entra ID Governance (or Microsoft Entra ID P2), for every reviewer and reviewed guest"
    );
    let cross = kinds
        .iter()
        .find(|k| k["kind"] == "cross-tenant-access")
        .cloned()
        .unwrap_or_default();
    assert!(cross.get("licence").is_none(), "{cross}");
}
