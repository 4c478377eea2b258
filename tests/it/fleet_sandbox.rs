//! The example fleet end to end against three sandbox tenants, each with its own tenant id,
//! domain and accounts: plan, apply, drift in one tenant, and the merged report.

use std::path::Path;

use serde_json::Value;

use crate::common::{Scratch, copy_dir, repo};

use crate::common::steward_clean as steward;

/// The part of a fan-out's stdout under one tenant's heading.
fn section<'a>(stdout: &'a str, tenant: &str) -> &'a str {
    let start = stdout
        .find(&format!("── tenant {tenant} ("))
        .unwrap_or_else(|| panic!("no section for {tenant}:\n{stdout}"));
    let heading = "── tenant ".len();
    let rest = &stdout[start + heading..];
    let end = rest.find("── tenant ").map_or(rest.len(), |i| i);
    &stdout[start..start + heading + end]
}

#[test]
fn three_sandbox_tenants_plan_apply_and_report_drift_from_one_baseline() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    copy_dir(&repo().join("examples/fleet"), &dir.join("fleet"));

    // Plan: each tenant with its own values, fabrikam's override, tailspin's deviation.
    let plan = steward(dir, &["plan", "fleet", "--tenants", "all", "--sandbox"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.ends_with("Fleet: 3 tenants: 0 unchanged, 3 with changes (contoso, fabrikam, tailspin), 0 failed.\n"),
        "{}",
        plan.stderr
    );
    let fabrikam = section(&plan.stdout, "fabrikam");
    assert!(fabrikam.starts_with("── tenant fabrikam (00000002-0000-4000-8000-000000000002) ──\n"));
    // Its own values; its override keeps CA004 report-only, where contoso's plan enforces it.
    assert!(
        fabrikam.contains("+ ip-ranges  = [\"198.51.100.0/24\"]"),
        "{fabrikam}"
    );
    assert!(
        fabrikam
            .contains("+ sharing-allowed-domain-list                         = [\"contoso.com\"]"),
        "{fabrikam}"
    );
    assert!(!fabrikam.contains("~ state "), "{fabrikam}");
    let contoso = section(&plan.stdout, "contoso");
    assert!(contoso.contains("~ state                           = \"enabledForReportingButNotEnforced\" -> \"enabled\""), "{contoso}");
    assert!(!fabrikam.contains("contoso.onmicrosoft.com"), "{fabrikam}");
    assert!(!fabrikam.contains("Accepted deviations"), "{fabrikam}");
    let tailspin = section(&plan.stdout, "tailspin");
    assert!(
        tailspin.contains("Accepted deviations (recorded in the files; not changes, not drift):\n  conditional-access-policy \"CA004 Require MFA for all users\" conditions.users.exclude-groups:"),
        "{tailspin}"
    );
    // Each tenant has its own sandbox state, seeded with its id and domain.
    for (tenant, id) in [
        ("contoso", "00000001-0000-4000-8000-000000000001"),
        ("fabrikam", "00000002-0000-4000-8000-000000000002"),
        ("tailspin", "00000003-0000-4000-8000-000000000003"),
    ] {
        let state = std::fs::read_to_string(dir.join(format!(".steward/fleet/{tenant}.json")))
            .expect("the tenant's sandbox state");
        assert!(state.contains(id), "{tenant}");
    }

    // Apply every tenant, then nothing is left to do anywhere.
    let apply = steward(
        dir,
        &[
            "apply",
            "fleet",
            "--tenants",
            "all",
            "--sandbox",
            "--auto-approve",
        ],
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    for tenant in ["contoso", "fabrikam", "tailspin"] {
        assert!(
            section(&apply.stdout, tenant).contains("Apply complete!"),
            "{}",
            apply.stdout
        );
        assert!(
            dir.join(format!(".steward/fleet/{tenant}.journal.jsonl"))
                .is_file()
        );
    }
    let again = steward(
        dir,
        &[
            "plan",
            "fleet",
            "--tenants",
            "all",
            "--sandbox",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again
            .stderr
            .ends_with("Fleet: 3 tenants: 3 unchanged, 0 with changes, 0 failed.\n"),
        "{}",
        again.stderr
    );
    // The deviation still accepts tailspin's exclusion; apply left it alone.
    assert!(section(&again.stdout, "tailspin").contains("Accepted deviations"));

    // Someone disables CA002 in fabrikam's portal: only fabrikam drifts.
    disable(
        &dir.join(".steward/fleet/fabrikam.json"),
        "CA002 Require MFA for administrators",
    );
    let drift = steward(
        dir,
        &[
            "drift",
            "fleet",
            "--tenants",
            "all",
            "--sandbox",
            "--report-dir",
            "reports",
        ],
    );
    assert_eq!(drift.code, 2, "{}\n{}", drift.stdout, drift.stderr);
    assert!(
        drift
            .stderr
            .ends_with("Fleet: 3 tenants: 2 unchanged, 1 drifted (fabrikam), 0 failed.\n"),
        "{}",
        drift.stderr
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("reports/fabrikam.drift.json")).expect("report"),
    )
    .expect("JSON");
    assert_eq!(report["summary"]["change"], 1);

    let merged = steward(
        dir,
        &[
            "report",
            "merge",
            "reports/contoso.drift.json",
            "reports/fabrikam.drift.json",
            "reports/tailspin.drift.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(merged.code, 2, "{}", merged.stderr);
    let merged: Value = serde_json::from_str(&merged.stdout).expect("JSON");
    assert_eq!(merged["attention"], 1);
    let tenants = merged["tenants"].as_array().expect("tenants");
    let by_name = |name: &str| {
        tenants
            .iter()
            .find(|t| t["tenant"] == name)
            .unwrap_or_else(|| panic!("{name} in {merged:#}"))
    };
    assert_eq!(by_name("fabrikam")["changes"]["change"], 1);
    assert_eq!(by_name("contoso")["changes"]["change"], 0);
    assert_eq!(
        by_name("tailspin")["changes"]["accepted"],
        serde_json::json!([
            "conditional-access-policy \"CA004 Require MFA for all users\" conditions.users.exclude-groups (until 2027-06-30)"
        ])
    );
}

/// Disables `policy` in the sandbox state at `state`.
fn disable(state: &Path, policy: &str) {
    let text = std::fs::read_to_string(state).expect("state file");
    let mut value: Value = serde_json::from_str(&text).expect("state JSON");
    let mut found = 0;
    set_disabled(&mut value, policy, &mut found);
    assert_eq!(found, 1, "{policy} once in {}", state.display());
    std::fs::write(state, serde_json::to_string_pretty(&value).expect("JSON"))
        .expect("write state");
}

fn set_disabled(value: &mut Value, policy: &str, found: &mut usize) {
    match value {
        Value::Object(map) => {
            if map.get("displayName").and_then(Value::as_str) == Some(policy)
                && map.contains_key("state")
            {
                map.insert("state".into(), Value::String("disabled".into()));
                *found += 1;
            }
            for v in map.values_mut() {
                set_disabled(v, policy, found);
            }
        }
        Value::Array(items) => {
            for v in items {
                set_disabled(v, policy, found);
            }
        }
        _ => {}
    }
}

#[test]
fn a_tenants_saved_plan_applies_to_that_tenant_only() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    copy_dir(&repo().join("examples/fleet"), &dir.join("fleet"));
    let plan = steward(
        dir,
        &[
            "plan",
            "fleet",
            "--tenant",
            "fabrikam",
            "--sandbox",
            "--out",
            "fabrikam.plan",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    // Another tenant's files and tenant: refused, nothing written.
    let other = steward(
        dir,
        &[
            "apply",
            "fleet",
            "--tenant",
            "contoso",
            "--sandbox",
            "--plan",
            "fabrikam.plan",
        ],
    );
    assert_eq!(other.code, 1, "{}", other.stderr);
    assert!(
        other.stderr.contains("error: the saved plan was made against tenant 00000002-0000-4000-8000-000000000002, not `contoso` (00000001-0000-4000-8000-000000000001)"),
        "{}",
        other.stderr
    );
    assert!(!dir.join(".steward/fleet/contoso.journal.jsonl").exists());
    let apply = steward(
        dir,
        &[
            "apply",
            "fleet",
            "--tenant",
            "fabrikam",
            "--sandbox",
            "--plan",
            "fabrikam.plan",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 1 added, 2 changed, 0 destroyed.")
    );
}

#[test]
fn a_tenant_that_fails_is_a_failed_row_of_the_merged_report_not_a_missing_one() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    copy_dir(&repo().join("examples/fleet"), &dir.join("fleet"));
    let path = dir.join("fleet/tenants/tailspin/tenant.kdl");
    let text = std::fs::read_to_string(&path).expect("tenant.kdl");
    std::fs::write(
        &path,
        text.replace("    office-ip-ranges \"192.0.2.0/24\"\n", ""),
    )
    .expect("write");
    let drift = steward(
        dir,
        &[
            "drift",
            "fleet",
            "--tenants",
            "all",
            "--sandbox",
            "--report-dir",
            "reports",
        ],
    );
    assert_eq!(drift.code, 1, "{}", drift.stderr);
    assert!(
        drift.stderr.ends_with(
            "Fleet: 3 tenants: 0 unchanged, 2 drifted (contoso, fabrikam), 1 failed (tailspin).\n"
        ),
        "{}",
        drift.stderr
    );
    let failed: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("reports/tailspin.drift.json")).expect("its file"),
    )
    .expect("JSON");
    assert_eq!(
        failed,
        serde_json::json!({
            "error": "parameter `office-ip-ranges` has no value for tenant `tailspin`",
            "exit_code": 1
        })
    );

    let merged = steward(
        dir,
        &[
            "report",
            "merge",
            "reports/contoso.drift.json",
            "reports/fabrikam.drift.json",
            "reports/tailspin.drift.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(merged.code, 2, "{}", merged.stderr);
    let merged: Value = serde_json::from_str(&merged.stdout).expect("JSON");
    let tailspin = merged["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|t| t["tenant"] == "tailspin")
        .expect("tailspin is listed");
    assert_eq!(
        tailspin["errors"],
        serde_json::json!([format!(
            "reports/tailspin.drift.json: {}",
            failed["error"].as_str().unwrap_or_default()
        )])
    );
}
