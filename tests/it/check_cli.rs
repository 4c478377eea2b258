//! `steward check`: the SCuBA grade of the files, the sandbox tenant and the tenant after a plan,
//! in every output format, and the evidence pack.

use std::path::Path;

use serde_json::Value;

use crate::common::{self, Scratch, repo};

/// A scratch directory holding a copy of the repository's policies.
fn with_policies() -> Scratch {
    let scratch = Scratch::new();
    copy_dir(&repo().join("policies"), &scratch.path().join("policies"));
    scratch
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from)
        .expect("read the policies")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy a policy file");
        }
    }
}

fn validate(document: &Value, schema_path: &Path) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap_or_default())
            .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn the_files_are_graded_with_each_failure_on_the_line_to_change() {
    let scratch = with_policies();
    let run = scratch.run(&["check", "--date", "2026-12-02"]);
    assert_eq!(run.code, 2, "a failed SHALL: {}", run.stderr);
    let out = &run.stdout;
    assert!(out.starts_with("CISA SCuBA Microsoft 365 baseline (Entra ID, SharePoint) — the policy files, 2026-12-02"), "{out}");
    assert!(out.contains("  MS.AAD.2.3v1 SHALL  Sign-ins detected as high risk SHALL be blocked.\n      why:  no enabled policy blocks sign-ins detected as high risk: conditional-access-policy \"CA008 Block high sign-in risk\" is enabledForReportingButNotEnforced (report-only and disabled policies do not count)\n      at:   policies/conditional-access/CA008-block-high-sign-in-risk.kdl:12:1"), "{out}");
    assert!(out.contains("  pass            MS.AAD.1.1v1         SHALL  met by conditional-access-policy \"CA001 Block legacy authentication\"\n"), "{out}");
    let summary = out.lines().rev().take(2).collect::<Vec<_>>();
    assert!(summary[1].starts_with("SCuBA AAD: "), "{summary:?}");
    assert!(summary[0].starts_with("SCuBA SHAREPOINT: "), "{summary:?}");
    // The docs quote the pack's summary as it is.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap_or_default();
    let docs = std::fs::read_to_string(repo().join("docs/baselines.md")).unwrap_or_default();
    for line in summary {
        assert!(
            docs.contains(&format!("\n{line}\n")),
            "docs/baselines.md quotes {line:?}"
        );
        let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!("`{words}`")),
            "README quotes {line:?}"
        );
    }
    // Report only.
    assert_eq!(scratch.run(&["check", "--fail-on", "none"]).code, 0);
}

#[test]
fn json_follows_the_published_schema_and_sarif_the_sarif_2_1_0_schema() {
    let scratch = with_policies();
    let json = scratch.run(&["check", "--format", "json", "--fail-on", "none"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let document: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        validate(&document, &repo().join("schemas/check.schema.json")),
        Vec::<String>::new()
    );
    assert_eq!(document["source"], "declared");
    let ca008 = document["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == "MS.AAD.2.3v1"))
        .expect("MS.AAD.2.3v1");
    assert_eq!(ca008["status"], "fail");
    assert_eq!(ca008["requirement"], "SHALL");
    assert_eq!(
        ca008["location"]["file"],
        "policies/conditional-access/CA008-block-high-sign-in-risk.kdl"
    );
    assert_eq!(ca008["location"]["line"], 12);
    // The summary goes to stderr, so stdout stays one document.
    assert!(json.stderr.contains("SCuBA AAD: "), "{}", json.stderr);

    let sarif = scratch.run(&["check", "--format", "sarif", "--fail-on", "none"]);
    let log: Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(
        validate(&log, &repo().join("tests/fixtures/sarif-schema-2.1.0.json")),
        Vec::<String>::new()
    );
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(
        rules.len(),
        document["results"].as_array().map_or(0, Vec::len)
    );
    let results = run["results"].as_array().expect("results");
    let failed = document["results"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|r| r["status"] == "fail").count());
    assert_eq!(results.len(), failed, "one SARIF result per failure");
    let located = results
        .iter()
        .find(|r| r["ruleId"] == "MS.AAD.2.3v1")
        .expect("the CA008 result");
    assert_eq!(located["level"], "error");
    assert_eq!(
        located["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "policies/conditional-access/CA008-block-high-sign-in-risk.kdl"
    );
    assert_eq!(
        located["locations"][0]["physicalLocation"]["region"]["startLine"],
        12
    );
    let rule = &rules[located["ruleIndex"].as_u64().unwrap_or(0) as usize];
    assert_eq!(rule["id"], "MS.AAD.2.3v1");
    assert_eq!(
        rule["helpUri"],
        "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/aad.md#msaad23v1"
    );
}

#[test]
fn an_exception_in_the_files_is_a_suppressed_sarif_result_and_expires() {
    let scratch = with_policies();
    scratch.write(
        "policies/exceptions.kdl",
        "check-exception \"MS.AAD.2.1v1\" {\n    reason \"Entra ID P2 is bought in Q1\"\n    expires \"2027-03-31\"\n}\n",
    );
    let sarif = scratch.run(&[
        "check",
        "--format",
        "sarif",
        "--date",
        "2026-12-02",
        "--fail-on",
        "none",
    ]);
    let log: Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let result = log["runs"][0]["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["ruleId"] == "MS.AAD.2.1v1"))
        .cloned()
        .expect("the accepted failure is reported");
    assert_eq!(result["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        result["suppressions"][0]["justification"],
        "Entra ID P2 is bought in Q1 (until 2027-03-31)"
    );
    let later = scratch.run(&["check", "--date", "2027-04-01"]);
    assert!(
        later
            .stdout
            .contains("the exception for MS.AAD.2.1v1 expired on 2027-03-31")
            && later
                .stdout
                .contains("      at:   policies/exceptions.kdl:3:5"),
        "{}",
        later.stdout
    );
    // A malformed exception is a located error, as any file error.
    scratch.write(
        "policies/exceptions.kdl",
        "check-exception \"MS.AAD.2.1\" { reason \"r\"; expires \"soon\"; }\n",
    );
    let bad = scratch.run(&["check"]);
    assert_eq!(bad.code, 1);
    let text = common::flat(&bad.stderr);
    assert!(
        text.contains("\"MS.AAD.2.1\" is not a baseline policy id"),
        "{text}"
    );
    assert!(text.contains("expires \"soon\" is not a date"), "{text}");
}

#[test]
fn the_sandbox_tenant_is_graded_live_and_after_the_plan() {
    let scratch = with_policies();
    let live = scratch.run(&[
        "check",
        "--sandbox",
        "--format",
        "json",
        "--date",
        "2026-12-02",
    ]);
    assert_eq!(live.code, 2, "{}", live.stderr);
    let document: Value = serde_json::from_str(&live.stdout).expect("JSON");
    assert_eq!(document["source"], "live");
    let status = |doc: &Value, id: &str| {
        doc["results"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == id))
            .map(|r| r["status"].clone())
            .unwrap_or_default()
    };
    // The demo tenant: anyone may create apps, invite guests, share with guests.
    assert_eq!(status(&document, "MS.AAD.5.1v1"), "fail");
    assert_eq!(status(&document, "MS.SHAREPOINT.1.1v1"), "fail");
    assert_eq!(status(&document, "MS.AAD.1.1v1"), "pass");

    let planned = scratch.run(&["check", "--planned", "--sandbox", "--format", "markdown"]);
    assert_eq!(planned.code, 2, "{}", planned.stderr);
    let text = &planned.stdout;
    assert!(
        text.starts_with("### Baseline\n\nThis change moves "),
        "{text}"
    );
    assert!(text.contains("| [MS.AAD.5.1v1](https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/aad.md#msaad51v1) | SHALL | fail → **pass** |"), "{text}");
    assert!(
        text.contains("Graded: the tenant as the plan would leave it"),
        "{text}"
    );
    // What the plan comment gets: the delta alone, exit 0 whatever the grade.
    let delta = scratch.run(&["check", "--planned", "--delta", "--sandbox"]);
    assert_eq!(delta.code, 0, "{}", delta.stderr);
    assert!(
        delta
            .stdout
            .starts_with("### Baseline\n\nThis change moves "),
        "{}",
        delta.stdout
    );
    assert!(!delta.stdout.contains("Graded:"), "{}", delta.stdout);
    assert_eq!(
        scratch.run(&["check", "--delta"]).code,
        64,
        "--delta needs --planned"
    );
}

#[test]
fn the_evidence_pack_is_the_same_for_the_same_tenant_apart_from_its_date() {
    let scratch = with_policies();
    let first = scratch.run(&[
        "check",
        "--sandbox",
        "--evidence",
        "evidence",
        "--date",
        "2026-12-02",
        "--fail-on",
        "none",
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first
            .stderr
            .contains("Wrote the evidence pack to evidence/2026-12-02."),
        "{}",
        first.stderr
    );
    let again = scratch.run(&[
        "check",
        "--sandbox",
        "--evidence",
        "again",
        "--date",
        "2026-12-02",
        "--fail-on",
        "none",
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let pack = scratch.path().join("evidence/2026-12-02");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(pack.join("manifest.json")).expect("a manifest"),
    )
    .expect("JSON");
    let files = manifest["files"].as_array().expect("files");
    let names: Vec<&str> = files.iter().filter_map(|f| f["file"].as_str()).collect();
    for wanted in [
        "grade.json",
        "grade.md",
        "grade.sarif",
        "export/conditional-access-policies.kdl",
    ] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    for file in files {
        let name = file["file"].as_str().unwrap_or_default();
        let bytes = std::fs::read(pack.join(name)).expect("a listed file exists");
        let other = std::fs::read(scratch.path().join("again/2026-12-02").join(name))
            .expect("the second pack has it too");
        assert_eq!(bytes, other, "{name} is reproducible");
        use sha2::Digest;
        let digest: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["sha256"], digest.as_str(), "{name}'s hash");
    }
    // The grade of the tenant, not the files: --evidence needs --live.
    let refused = scratch.run(&["check", "--evidence", "x"]);
    assert_eq!(refused.code, 64);
    assert!(
        refused
            .stderr
            .contains("--evidence grades the tenant: add --live (or --sandbox)"),
        "{}",
        refused.stderr
    );
}
