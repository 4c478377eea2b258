//! `steward report merge`: per-tenant reports from the real binary, merged into one fleet
//! summary that lists every tenant, the unreadable ones included.

use serde_json::Value;

use crate::common::{Scratch, repo};

#[test]
fn reports_of_several_tenants_merge_into_one_summary() {
    let scratch = Scratch::new();
    // contoso: the demo tenant, drifted from the repository's pack, with its grade.
    let policies = repo().join("policies");
    let policies = policies.to_str().unwrap_or_default();
    let drift = scratch.run(&["drift", policies, "--sandbox", "--format", "json"]);
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    scratch.write("reports/contoso.drift.json", &drift.stdout);
    let grade = scratch.run(&[
        "check",
        "--sandbox",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(grade.code, 0, "{}", grade.stderr);
    scratch.write("reports/contoso.check.json", &grade.stdout);
    // fabrikam: clean. tailspin: its job failed and left no JSON.
    scratch.write(
        "reports/fabrikam.json",
        r#"{"format_version":1,"mode":"drift","resource_changes":[],"unmanaged":[],"risks":[],"orphans":[],"summary":{"add":0,"change":0,"destroy":0}}"#,
    );
    scratch.write("reports/tailspin.json", "error: sign-in failed\n");

    let files = [
        "reports/contoso.drift.json",
        "reports/contoso.check.json",
        "reports/fabrikam.json",
        "reports/tailspin.json",
    ];
    let mut args = vec!["report", "merge"];
    args.extend(files);
    let markdown = scratch.run(&args);
    assert_eq!(
        markdown.code, 2,
        "two tenants need attention: {}",
        markdown.stderr
    );
    let lines: Vec<&str> = markdown.stdout.lines().collect();
    assert_eq!(lines[0], "<!-- steward-fleet -->");
    assert_eq!(lines[1], "### steward: 3 tenants, 2 need attention");
    assert!(lines[5].starts_with("| ⚠️ contoso | **drifted**: 8 to add, 5 to change, 0 to destroy | ca-deleted: conditional-access-policy \"CA003"), "{}", lines[5]);
    assert!(
        lines[5].contains("<br>and "),
        "risks are cut short: {}",
        lines[5]
    );
    assert!(
        lines[5].contains("**SHALL failed**: MS.AAD.1.1v1, MS.AAD.2.1v1"),
        "{}",
        lines[5]
    );
    assert_eq!(
        lines[6],
        "| ⚠️ tailspin | — | — | — | — | reports/tailspin.json: not JSON (expected value at line 1 column 1) |"
    );
    assert_eq!(lines[7], "| fabrikam | clean | none | none | — |  |");

    args.extend(["--format", "json"]);
    let json = scratch.run(&args);
    let document: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/fleet-report.schema.json"))
            .unwrap_or_default(),
    )
    .expect("the committed schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    assert_eq!(
        validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect::<Vec<_>>(),
        Vec::<String>::new()
    );
    assert_eq!(document["attention"], 2);
    let names: Vec<&str> = document["tenants"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["tenant"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["contoso", "fabrikam", "tailspin"]);
    assert_eq!(document["tenants"][0]["changes"]["mode"], "drift");
    assert_eq!(document["tenants"][0]["baseline"]["total"], 42);

    // Every tenant clean: exit 0.
    assert_eq!(
        scratch
            .run(&["report", "merge", "reports/fabrikam.json"])
            .code,
        0
    );
    // No file at all is a usage error.
    assert_eq!(scratch.run(&["report", "merge"]).code, 64);
}
