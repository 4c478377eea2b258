//! `steward fmt` and `steward schema`.

use crate::common;

use common::{Scratch, repo, steward};

const UNFORMATTED: &str = "// Why: the head office is trusted.\nnamed-location \"HQ\" {\n  ip-ranges \"203.0.113.0/24\"   \n\n\n\tis-trusted #true // keeps MFA prompts down\n}\n\n\n";
const FORMATTED: &str = "// Why: the head office is trusted.\nnamed-location \"HQ\" {\n    ip-ranges \"203.0.113.0/24\"\n\n    is-trusted #true // keeps MFA prompts down\n}\n";

#[test]
fn fmt_check_lists_unformatted_files_and_changes_nothing() {
    let scratch = Scratch::new();
    let path = scratch.write("policies/hq.kdl", UNFORMATTED);
    scratch.write("policies/ok.kdl", FORMATTED);
    let run = scratch.run(&["fmt", "--check", "policies"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "--- policies/hq.kdl\n\
         +++ policies/hq.kdl (formatted)\n\
         @@ -1,9 +1,6 @@\n \
         // Why: the head office is trusted.\n \
         named-location \"HQ\" {\n\
         -  ip-ranges \"203.0.113.0/24\"   \n\
         +    ip-ranges \"203.0.113.0/24\"\n \n\
         -\n\
         -\tis-trusted #true // keeps MFA prompts down\n\
         +    is-trusted #true // keeps MFA prompts down\n \
         }\n\
         -\n\
         -\n"
    );
    assert_eq!(
        run.stderr,
        "1 file not formatted; run `steward fmt` to fix.\n"
    );
    assert_eq!(
        std::fs::read_to_string(path).ok().as_deref(),
        Some(UNFORMATTED)
    );
    let listed = scratch.run(&["fmt", "--check", "--list", "policies"]);
    assert_eq!(listed.code, 1);
    assert_eq!(listed.stdout, "policies/hq.kdl\n");
}

#[test]
fn fmt_rewrites_in_the_canonical_layout_keeping_comments() {
    let scratch = Scratch::new();
    let path = scratch.write("hq.kdl", UNFORMATTED);
    let run = scratch.run(&["fmt", "hq.kdl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&path).ok().as_deref(),
        Some(FORMATTED)
    );
    // A second run finds nothing to do.
    let again = scratch.run(&["fmt", "--check", "hq.kdl"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn fmt_never_rewrites_a_file_with_syntax_errors() {
    let scratch = Scratch::new();
    let text = "named-location \"HQ {\n  is-trusted #true\n";
    let path = scratch.write("broken.kdl", text);
    let run = scratch.run(&["fmt", "broken.kdl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("broken.kdl:1:16"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(path).ok().as_deref(), Some(text));
}

#[test]
fn the_committed_schemas_are_up_to_date() {
    let run = steward(&repo(), &["schema", "--check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn schema_check_fails_on_a_stale_file_and_schema_rewrites_it() {
    let scratch = Scratch::new();
    let written = scratch.run(&["schema", "--out", "schemas"]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let index = scratch.path().join("schemas/index.json");
    let index_text = std::fs::read_to_string(&index).unwrap_or_default();
    assert!(index_text.contains("\"node\": \"conditional-access-policy\""));
    scratch.write("schemas/named-location.schema.json", "{}\n");
    let stale = scratch.run(&["schema", "--out", "schemas", "--check"]);
    assert_eq!(stale.code, 1);
    assert!(
        stale
            .stderr
            .contains("stale: schemas/named-location.schema.json"),
        "{}",
        stale.stderr
    );
}

#[test]
fn schema_check_reports_an_absent_file_as_missing_not_stale() {
    let scratch = Scratch::new();
    let written = scratch.run(&["schema", "--out", "schemas"]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let removed = std::fs::remove_file(scratch.path().join("schemas/named-location.schema.json"));
    assert!(removed.is_ok(), "{removed:?}");
    let check = scratch.run(&["schema", "--out", "schemas", "--check"]);
    assert_eq!(check.code, 1);
    assert!(
        check
            .stderr
            .contains("missing: schemas/named-location.schema.json\n"),
        "{}",
        check.stderr
    );
    assert!(!check.stderr.contains("stale: "), "{}", check.stderr);
}

#[test]
fn the_schemas_validate_a_policy_in_its_json_form() {
    // The schema of a kind describes exactly the JSON the language converts a node into.
    let schema_text = std::fs::read_to_string(repo().join("schemas/named-location.schema.json"))
        .unwrap_or_default();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let loaded = steward::config::load_str(
        "hq.kdl",
        "named-location \"HQ\" {\n    ip-ranges \"203.0.113.0/24\"\n    is-trusted #true\n}\n",
    );
    assert!(!loaded.has_errors());
    let json = serde_json::to_value(&loaded.desired.named_locations[0]).unwrap_or_default();
    assert!(validator.is_valid(&json), "{json}");
    assert!(!validator.is_valid(&serde_json::json!({"displayName": "x", "colour": "red"})));
}
