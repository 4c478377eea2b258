//! A fleet repository without a tenant to talk to: resolving layers (`render`), typed
//! parameters, locked settings, deviations, validating every tenant, and `steward tenants` for
//! the engines that fan out.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Scratch, copy_dir, repo};

use crate::common::steward_clean as steward;

/// A copy of examples/fleet in a scratch directory, to change.
fn example_fleet() -> Scratch {
    let scratch = Scratch::new();
    copy_dir(&repo().join("examples/fleet"), scratch.path());
    scratch
}

#[test]
fn render_puts_the_layers_together_with_the_tenants_values() {
    let run = steward(
        &repo(),
        &["render", "examples/fleet", "--tenant", "fabrikam"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let out = run.stdout;
    assert!(
        out.starts_with(
            "// tenant fabrikam (00000002-0000-4000-8000-000000000002)\n// layers: baseline → tenants/fabrikam\n"
        ),
        "{out}"
    );
    // The override changes CA004's state only; the rest comes from the baseline.
    let ca004 = out
        .split("\n\n")
        .find(|part| part.contains("\"CA004 Require MFA for all users\""))
        .expect("CA004 rendered");
    assert!(ca004.starts_with(
        "// from examples/fleet/baseline/conditional-access/CA004-require-mfa-for-all-users.kdl:1:1\n// overridden by examples/fleet/tenants/fabrikam/conditional-access.kdl:3:1\n"
    ), "{ca004}");
    assert!(
        ca004.contains("    state enabledForReportingButNotEnforced\n"),
        "{ca004}"
    );
    assert!(ca004.contains("            exclude-users breakglass1@fabrikam.onmicrosoft.com breakglass2@fabrikam.onmicrosoft.com\n"), "{ca004}");
    assert!(
        ca004.contains("    grant-controls operator=OR {\n        built-in-controls mfa\n    }"),
        "{ca004}"
    );
    // A parameter is a value: no (param) annotation and no locked= reaches what plan sees.
    assert!(!out.contains("(param)"), "{out}");
    assert!(
        !out.lines()
            .any(|l| !l.trim_start().starts_with("//") && l.contains("locked=")),
        "{out}"
    );
    assert!(out.contains("    ip-ranges \"198.51.100.0/24\"\n"), "{out}");
}

#[test]
fn a_group_layer_applies_to_its_members_only() {
    let eu = steward(
        &repo(),
        &["render", "examples/fleet", "--tenant", "contoso"],
    );
    let other = steward(
        &repo(),
        &["render", "examples/fleet", "--tenant", "fabrikam"],
    );
    assert_eq!(eu.code, 0, "{}", eu.stderr);
    assert!(
        eu.stdout
            .contains("// layers: baseline → groups/eu → tenants/contoso\n")
    );
    assert!(
        eu.stdout
            .contains("// overridden by examples/fleet/groups/eu/sharepoint.kdl:2:1\n")
    );
    assert!(
        eu.stdout
            .contains("    deleted-user-personal-site-retention-period-in-days 3650\n")
    );
    assert!(
        other
            .stdout
            .contains("    deleted-user-personal-site-retention-period-in-days 365\n")
    );
}

#[test]
fn a_tenant_is_named_by_its_directory_id_or_domain() {
    for name in [
        "tailspin",
        "00000003-0000-4000-8000-000000000003",
        "TAILSPIN.onmicrosoft.com",
    ] {
        let run = steward(&repo(), &["render", "examples/fleet", "--tenant", name]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(run.stdout.starts_with("// tenant tailspin "), "{name}");
    }
    let unknown = steward(
        &repo(),
        &["render", "examples/fleet", "--tenant", "northwind"],
    );
    assert_eq!(unknown.code, 64);
    assert_eq!(
        unknown.stderr,
        "error: the fleet has no tenant `northwind` (tenants: contoso, fabrikam, tailspin)\n"
    );
}

#[test]
fn overriding_a_locked_setting_is_an_error_at_the_override() {
    let fleet = example_fleet();
    fleet.write(
        "tenants/fabrikam/legacy.kdl",
        "conditional-access-policy \"CA001 Block legacy authentication\" {\n    state disabled\n}\n",
    );
    let run = steward(
        fleet.path(),
        &["validate", ".", "--tenant", "fabrikam", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let locked: Vec<&Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "steward::locked")
        .collect();
    assert_eq!(locked.len(), 1, "{report:#}");
    assert_eq!(locked[0]["file"], "./tenants/fabrikam/legacy.kdl");
    assert_eq!(locked[0]["line"], 2);
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["tenants"],
        json!([{"tenant": "fabrikam", "valid": false, "errors": 1, "warnings": 0}])
    );
    // Every other tenant is still fine.
    let others = steward(
        fleet.path(),
        &["validate", ".", "--tenants", "contoso,tailspin"],
    );
    assert_eq!(others.code, 0, "{}", others.stderr);
}

#[test]
fn an_unset_parameter_is_an_error_where_it_is_used_naming_the_tenant() {
    let fleet = example_fleet();
    let path = fleet.path().join("tenants/fabrikam/tenant.kdl");
    let text = std::fs::read_to_string(&path).expect("tenant.kdl");
    std::fs::write(
        &path,
        text.replace("    office-ip-ranges \"198.51.100.0/24\"\n", ""),
    )
    .expect("write");
    let run = steward(fleet.path(), &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches(" × ").count(),
        1,
        "one error: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("parameter `office-ip-ranges` has no value for tenant `fabrikam`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("[./baseline/named-locations.kdl:2:15]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Fleet: 1 of 3 tenants invalid (fabrikam)."),
        "{}",
        run.stderr
    );
}

#[test]
fn a_value_of_the_wrong_type_is_an_error_in_tenant_kdl() {
    let fleet = example_fleet();
    let path = fleet.path().join("tenants/fabrikam/tenant.kdl");
    let text = std::fs::read_to_string(&path).expect("tenant.kdl");
    std::fs::write(&path, text.replace("198.51.100.0/24", "198.51.100.0/33")).expect("write");
    let run = steward(
        fleet.path(),
        &["validate", ".", "--tenant", "fabrikam", "--format", "json"],
    );
    assert_eq!(run.code, 1);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let errors: Vec<(String, u64)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // The value is wrong where the tenant writes it, and only there: what the model would say
    // of the declaration using it would only repeat it.
    assert_eq!(errors, [("./tenants/fabrikam/tenant.kdl".to_string(), 5)]);
    assert_eq!(
        report["diagnostics"][0]["message"],
        "`office-ip-ranges` is a cidr parameter: expected an IP range in CIDR notation, like 203.0.113.0/24"
    );
}

#[test]
fn validate_checks_every_tenant_of_a_fleet_by_default() {
    let run = steward(&repo(), &["validate", "examples/fleet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().last(), Some("Fleet: 3 tenants valid."));
    for tenant in ["contoso", "fabrikam", "tailspin"] {
        assert!(
            run.stderr.contains(&format!("── tenant {tenant} ──\n")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn an_expired_deviation_is_a_warning_and_accepts_nothing() {
    let run = steward(
        &repo(),
        &[
            "render",
            "examples/fleet",
            "--tenant",
            "tailspin",
            "--date",
            "2027-07-01",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("steward::deviation-expired"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("deviation "), "{}", run.stdout);
    let before = steward(
        &repo(),
        &[
            "render",
            "examples/fleet",
            "--tenant",
            "tailspin",
            "--date",
            "2027-06-30",
        ],
    );
    assert_eq!(before.stderr, "");
    assert!(before.stdout.contains(
        "// deviation recorded at examples/fleet/tenants/tailspin/tenant.kdl:13:1, accepted until 2027-06-30\n"
    ));
}

#[test]
fn tenants_lists_them_for_each_engine() {
    let fleet = repo().join("examples/fleet");
    let fleet = fleet.to_str().expect("path");
    let lines = steward(&repo(), &["tenants", fleet]);
    assert_eq!(lines.code, 0, "{}", lines.stderr);
    assert_eq!(lines.stdout, "contoso\nfabrikam\ntailspin\n");

    let matrix = steward(
        &repo(),
        &[
            "tenants",
            fleet,
            "--format",
            "github-matrix",
            "--tenants",
            "group:eu",
        ],
    );
    assert_eq!(
        matrix.stdout.lines().count(),
        1,
        "one line, for $GITHUB_OUTPUT"
    );
    let matrix: Value = serde_json::from_str(&matrix.stdout).expect("JSON");
    assert_eq!(
        matrix,
        json!({"include": [
            {"tenant": "contoso", "tenant-id": "00000001-0000-4000-8000-000000000001", "domain": "contoso.onmicrosoft.com"},
            {"tenant": "tailspin", "tenant-id": "00000003-0000-4000-8000-000000000003", "domain": "tailspin.onmicrosoft.com"},
        ]})
    );

    let argo = steward(
        &repo(),
        &["tenants", fleet, "--format", "json", "--tenants", "index:1"],
    );
    let argo: Value = serde_json::from_str(&argo.stdout).expect("JSON");
    assert_eq!(
        argo,
        json!([{"name": "fabrikam", "tenant-id": "00000002-0000-4000-8000-000000000002", "domain": "fabrikam.onmicrosoft.com", "groups": [], "index": 1}])
    );

    let second = steward(
        &repo(),
        &["tenants", fleet, "--batch", "1", "--batch-size", "2"],
    );
    assert_eq!(second.stdout, "tailspin\n");
    let past = steward(
        &repo(),
        &[
            "tenants",
            fleet,
            "--format",
            "github-matrix",
            "--batch",
            "5",
        ],
    );
    assert_eq!(past.stdout, "{\"include\":[]}\n");

    let out_of_range = steward(&repo(), &["tenants", fleet, "--tenants", "index:3"]);
    assert_eq!(out_of_range.code, 64);
    assert_eq!(
        out_of_range.stderr,
        "error: index:3 is past the last tenant: the fleet has 3 (index:0 to index:2)\n"
    );
}

#[test]
fn a_matrix_of_more_than_256_tenants_must_be_batched() {
    let fleet = Scratch::new();
    fleet.write(
        "baseline/security-defaults.kdl",
        "security-defaults { enabled #false }\n",
    );
    for n in 0..300 {
        fleet.write(
            &format!("tenants/t{n:03}/tenant.kdl"),
            format!("tenant-id \"{n:08}-0000-4000-8000-{n:012}\"\n"),
        );
    }
    let run = steward(fleet.path(), &["tenants", ".", "--format", "github-matrix"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: 300 tenants: a GitHub Actions matrix holds at most 256 jobs; run one matrix per batch with --batch 0 to --batch 1\n"
    );
    let second = steward(
        fleet.path(),
        &["tenants", ".", "--format", "github-matrix", "--batch", "1"],
    );
    let matrix: Value = serde_json::from_str(&second.stdout).expect("JSON");
    let include = matrix["include"].as_array().expect("include");
    assert_eq!(include.len(), 44);
    assert_eq!(include[0]["tenant"], "t256");
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn changed_since_lists_the_tenants_a_change_touches() {
    let fleet = example_fleet();
    let dir = fleet.path();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "fleet"]);
    let changed = || steward(dir, &["tenants", ".", "--changed-since", "main"]).stdout;
    assert_eq!(changed(), "");

    fleet.write(
        "groups/eu/sharepoint.kdl",
        "sharepoint-settings {\n    deleted-user-personal-site-retention-period-in-days 2000\n}\n",
    );
    assert_eq!(changed(), "contoso\ntailspin\n");
    git(dir, &["commit", "-q", "-am", "eu"]);
    assert_eq!(
        steward(dir, &["tenants", ".", "--changed-since", "HEAD~1"]).stdout,
        "contoso\ntailspin\n"
    );

    fleet.write(
        "tenants/fabrikam/extra.kdl",
        "// a new file, not yet added\n",
    );
    assert_eq!(changed(), "fabrikam\n");

    fleet.write("baseline/parameters.kdl", "// every tenant\n");
    assert_eq!(changed(), "contoso\nfabrikam\ntailspin\n");

    let bad = steward(dir, &["tenants", ".", "--changed-since", "no-such-ref"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .starts_with("error: --changed-since no-such-ref: git diff"),
        "{}",
        bad.stderr
    );
}

#[test]
fn in_a_fleet_a_command_needs_to_know_which_tenants() {
    let fleet = repo().join("examples/fleet");
    let fleet = fleet.to_str().expect("path");
    let run = steward(&repo(), &["plan", fleet, "--sandbox"]);
    assert_eq!(run.code, 64);
    assert!(
        run.stderr.contains("is a fleet repository: name the tenant with --tenant NAME, or several with --tenants all|group:NAME|a,b (tenants: contoso, fabrikam, tailspin)"),
        "{}",
        run.stderr
    );
    let json = steward(
        &repo(),
        &[
            "drift",
            fleet,
            "--sandbox",
            "--tenants",
            "all",
            "--format",
            "json",
        ],
    );
    assert_eq!(json.code, 64);
    assert!(
        json.stderr.contains("add --report-dir DIR"),
        "{}",
        json.stderr
    );
    let apply = steward(&repo(), &["apply", fleet, "--sandbox", "--tenants", "all"]);
    assert_eq!(apply.code, 64);
    assert!(
        apply.stderr.contains("needs --auto-approve"),
        "{}",
        apply.stderr
    );
    let not_fleet = steward(
        &repo(),
        &["plan", "policies", "--sandbox", "--tenants", "all"],
    );
    assert_eq!(not_fleet.code, 64);
    assert!(
        not_fleet
            .stderr
            .contains("is not one (it has no tenants/ directory)"),
        "{}",
        not_fleet.stderr
    );
}

#[test]
fn a_tenant_with_its_own_credential_variable_must_have_it_set() {
    let fleet = example_fleet();
    let path = fleet.path().join("tenants/fabrikam/tenant.kdl");
    let text = std::fs::read_to_string(&path).expect("tenant.kdl");
    std::fs::write(
        &path,
        format!("{text}sign-in client-id=\"11111111-2222-4333-8444-555555555555\" secret-env=\"FABRIKAM_SECRET\"\n"),
    )
    .expect("write");
    let run = steward(
        fleet.path(),
        &[
            "plan",
            ".",
            "--tenant",
            "fabrikam",
            "--graph-url",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: tenant `fabrikam` signs in with FABRIKAM_SECRET (./tenants/fabrikam/tenant.kdl), which is not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn permissions_of_a_fleet_cover_every_tenants_resolved_files() {
    let fleet = example_fleet();
    // Only one tenant declares security defaults: the fleet's app still needs their permission.
    fleet.write(
        "tenants/tailspin/security-defaults.kdl",
        "security-defaults {\n    is-enabled #false\n}\n",
    );
    let run = steward(fleet.path(), &["permissions", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let kinds: Vec<&str> = report["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .filter_map(|k| k["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "named-location",
            "conditional-access-policy",
            "security-defaults",
            "sharepoint-settings"
        ]
    );
}

#[test]
fn a_tenants_cloud_is_one_microsoft_runs() {
    let fleet = example_fleet();
    let path = fleet.path().join("tenants/tailspin/tenant.kdl");
    let text = std::fs::read_to_string(&path).expect("tenant.kdl");
    std::fs::write(&path, format!("{text}sign-in cloud=\"mars\"\n")).expect("write");
    let run = steward(fleet.path(), &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`cloud` is one of global, usgov, usgov-dod, china"),
        "{}",
        run.stderr
    );
    std::fs::write(&path, format!("{text}sign-in cloud=\"usgov\"\n")).expect("write");
    let run = steward(fleet.path(), &["validate", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_group_without_members_is_a_usage_error_not_an_empty_run() {
    let fleet = example_fleet();
    fleet.write(
        "groups/apac/sharepoint.kdl",
        "// no tenant is in apac yet\n",
    );
    let run = steward(
        fleet.path(),
        &["plan", ".", "--sandbox", "--tenants", "group:apac"],
    );
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: --tenants group:apac names no tenant of the fleet at .\n"
    );
}
