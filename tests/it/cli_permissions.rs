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
