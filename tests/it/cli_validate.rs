//! `steward validate`: every problem class is reported once, located, with a help line.

use crate::common;

use common::Scratch;

/// Validates one file and returns (exit code, the human diagnostics on stderr).
fn validate(name: &str, text: &str) -> (i32, String) {
    let scratch = Scratch::new();
    scratch.write(name, text);
    let run = scratch.run(&["validate", name]);
    (run.code, run.stderr)
}

/// The `file:line:column` locations miette printed, in order.
fn locations(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let start = l.find("─[")? + "─[".len();
            let end = l[start..].find(']')? + start;
            Some(l[start..end].to_string())
        })
        .collect()
}

#[test]
fn a_valid_file_passes_and_counts_its_resources() {
    let scratch = Scratch::new();
    scratch.write(
        "ok.kdl",
        r#"
named-location "Head office" {
    ip-ranges "203.0.113.0/24" "2001:db8::/48"
    is-trusted #true
}
security-defaults { is-enabled #false }
"#,
    );
    let run = scratch.run(&["validate", "ok.kdl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "Valid: 2 resources in 1 file.\n");
    assert_eq!(run.stderr, "");
}

#[test]
fn a_missing_quote_is_one_located_syntax_error() {
    let (code, stderr) = validate(
        "syntax.kdl",
        "named-location \"Head office {\n    is-trusted #true\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr)[0], "syntax.kdl:1:16");
    insta::assert_snapshot!("syntax_error", stderr);
}

#[test]
fn a_typo_in_a_node_name_suggests_the_right_one() {
    let (code, stderr) = validate(
        "typo.kdl",
        "conditional-acces-policy \"CA1\" {\n    state enabled\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["typo.kdl:1:1"]);
    assert!(
        stderr.contains("did you mean `conditional-access-policy`?"),
        "{stderr}"
    );
    insta::assert_snapshot!("unknown_node", stderr);
}

#[test]
fn a_typo_in_a_setting_suggests_the_right_one() {
    let (code, stderr) = validate(
        "setting.kdl",
        "sharepoint-settings {\n    sharing-capabilty disabled\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["setting.kdl:2:5"]);
    assert!(
        stderr.contains("did you mean `sharing-capability`?"),
        "{stderr}"
    );
    insta::assert_snapshot!("unknown_property", stderr);
}

#[test]
fn a_wrong_value_type_says_what_is_expected() {
    let (code, stderr) = validate(
        "type.kdl",
        "sharepoint-settings {\n    is-loop-enabled \"true\"\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["type.kdl:2:21"]);
    assert!(
        stderr.contains("`is-loop-enabled` takes #true or #false"),
        "{stderr}"
    );
    insta::assert_snapshot!("wrong_type", stderr);
}

#[test]
fn a_wrong_enum_value_lists_the_allowed_values() {
    let (code, stderr) = validate(
        "enum.kdl",
        "sharepoint-settings {\n    sharing-capability everybody\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["enum.kdl:2:24"]);
    assert!(
        stderr.contains(
            "allowed values: disabled, externalUserSharingOnly, externalUserAndGuestSharing,"
        ),
        "{stderr}"
    );
    insta::assert_snapshot!("enum_not_allowed", stderr);
}

#[test]
fn a_missing_required_value_is_named() {
    let (code, stderr) = validate(
        "required.kdl",
        "conditional-access-policy \"CA1\" {\n    conditions {\n        users { include-users All }\n        applications { include-applications All }\n    }\n    grant-controls { built-in-controls mfa }\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["required.kdl:1:1"]);
    assert!(
        stderr.contains("`conditional-access-policy` needs `state`"),
        "{stderr}"
    );
    insta::assert_snapshot!("missing_required", stderr);
}

#[test]
fn a_node_without_its_value_is_reported() {
    let (code, stderr) = validate("novalue.kdl", "security-defaults {\n    is-enabled\n}\n");
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["novalue.kdl:2:5"]);
    assert!(stderr.contains("`is-enabled` needs a value"), "{stderr}");
}

#[test]
fn a_duplicate_name_shows_both_declarations_across_files() {
    let scratch = Scratch::new();
    scratch.write(
        "policies/a.kdl",
        "named-location \"HQ\" {\n    ip-ranges \"203.0.113.0/24\"\n}\n",
    );
    scratch.write(
        "policies/b.kdl",
        "// another team's file\nnamed-location \"HQ\" {\n    ip-ranges \"198.51.100.0/24\"\n}\n",
    );
    let run = scratch.run(&["validate", "policies"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        locations(&run.stderr),
        ["policies/b.kdl:2:1", "policies/a.kdl:1:1"]
    );
    assert!(
        run.stderr
            .contains("named-location \"HQ\" is declared twice"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("duplicate_name", run.stderr);
}

#[test]
fn a_named_location_with_ip_ranges_and_countries_is_refused() {
    let (code, stderr) = validate(
        "both.kdl",
        "named-location \"Mixed\" {\n    ip-ranges \"203.0.113.0/24\"\n    countries-and-regions \"FR\"\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["both.kdl:2:5"]);
    insta::assert_snapshot!("ip_and_country", stderr);
}

#[test]
fn block_combined_with_other_grant_controls_is_refused() {
    let (code, stderr) = validate(
        "block.kdl",
        r#"conditional-access-policy "CA1" {
    state disabled
    conditions {
        users { include-users "alice@contoso.com" }
        applications { include-applications All }
    }
    grant-controls operator=OR {
        built-in-controls block mfa
    }
}
"#,
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["block.kdl:8:9"]);
    assert!(
        stderr.contains("`block` cannot be combined with other grant controls"),
        "{stderr}"
    );
    insta::assert_snapshot!("block_with_others", stderr);
}

#[test]
fn a_sign_in_frequency_without_a_value_is_refused() {
    let (code, stderr) = validate(
        "frequency.kdl",
        r#"conditional-access-policy "CA1" {
    state disabled
    conditions {
        users { include-users "alice@contoso.com" }
        applications { include-applications All }
    }
    session-controls {
        sign-in-frequency is-enabled=#true type=hours
    }
}
"#,
    );
    assert_eq!(code, 1);
    assert_eq!(locations(&stderr), ["frequency.kdl:8:9"]);
    assert!(
        stderr.contains("a time-based sign-in frequency needs a value"),
        "{stderr}"
    );
    insta::assert_snapshot!("frequency_without_value", stderr);
}

#[test]
fn an_undeclared_named_location_is_a_warning_not_an_error() {
    let (code, stderr) = validate(
        "reference.kdl",
        r#"named-location "Head office" {
    ip-ranges "203.0.113.0/24"
}
conditional-access-policy "CA1" {
    state disabled
    conditions {
        users { include-users "alice@contoso.com" }
        applications { include-applications All }
        locations {
            include-locations All
            exclude-locations "Head ofice"
        }
    }
    grant-controls { built-in-controls block }
}
"#,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(locations(&stderr), ["reference.kdl:11:31"]);
    assert!(stderr.contains("did you mean \"Head office\"?"), "{stderr}");
    insta::assert_snapshot!("undeclared_reference", stderr);
}

#[test]
fn a_policy_that_could_lock_admins_out_is_a_warning_in_validate() {
    let (code, stderr) = validate(
        "lockout.kdl",
        r#"emergency-access {
    user "breakglass1@contoso.com"
    user "breakglass2@contoso.com"
}
conditional-access-policy "Block everyone" {
    state enabled
    conditions {
        users {
            include-users All
            exclude-users "breakglass1@contoso.com"
        }
        applications { include-applications All }
    }
    grant-controls { built-in-controls block }
}
"#,
    );
    assert_eq!(code, 0, "{stderr}");
    // The message wraps; compare it with the wrapping (and miette's margin) taken out.
    let flat = stderr
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("could lock the emergency-access accounts out (it targets all users): it does not exclude breakglass2@contoso.com"),
        "{stderr}"
    );
    assert_eq!(locations(&stderr), ["lockout.kdl:10:13"]);
    insta::assert_snapshot!("lockout_warning", stderr);
}

#[test]
fn json_format_lists_every_diagnostic_with_its_location() {
    let scratch = Scratch::new();
    scratch.write(
        "two.kdl",
        "security-defaults {\n    is-enabled maybe\n}\nnamed-locaton \"x\"\n",
    );
    let run = scratch.run(&["validate", "--format", "json", "two.kdl"]);
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["valid"], false);
    let found: Vec<(String, u64, u64, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
                d["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "steward::wrong-type".to_string(),
                2,
                16,
                "error".to_string()
            ),
            (
                "steward::unknown-node".to_string(),
                4,
                1,
                "error".to_string()
            ),
        ]
    );
    assert_eq!(
        report["diagnostics"][1]["help"],
        "did you mean `named-location`?"
    );
}

#[test]
fn every_problem_in_a_file_is_reported_in_one_run() {
    let (code, stderr) = validate(
        "many.kdl",
        "sharepoint-settings {\n    sharing-capability nobody\n    is-loop-enabled 1\n    colour blue\n}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        locations(&stderr),
        ["many.kdl:2:24", "many.kdl:3:21", "many.kdl:4:5"]
    );
    assert!(
        stderr.ends_with("Invalid: 3 errors and 0 warnings in 1 file.\n"),
        "{stderr}"
    );
}

#[test]
fn a_missing_path_is_a_clear_error() {
    let scratch = Scratch::new();
    let run = scratch.run(&["validate", "nowhere"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot read nowhere"), "{}", run.stderr);
}

/// Conversion errors, a duplicate name, `block` with `mfa`, a location with IP ranges and
/// countries, and a sign-in frequency without a value, all in one file.
const MANY_ERRORS: &str = r#"named-location "HQ" {
    ip-ranges "203.0.113.0/24"
    countries-and-regions "FR"
    is-trusted "yes"
}
conditional-access-policy "CA001 Block" {
    state enabled
    colour blue
    conditions {
        users { include-users All }
        applications { include-applications All }
    }
    grant-controls {
        operator OR
        built-in-controls block mfa
    }
}
conditional-access-policy "CA002 Frequency" {
    state enabled
    conditions {
        users { include-users All }
        applications { include-applications All }
    }
    grant-controls {
        operator OR
        built-in-controls mfa
    }
    session-controls {
        sign-in-frequency { is-enabled #true }
    }
}
conditional-access-policy "ca002 frequency" {
    state enabled
    conditions {
        users { include-users All }
        applications { include-applications All }
    }
    grant-controls {
        operator OR
        built-in-controls mfa
    }
    session-controls {
        sign-in-frequency { is-enabled #true }
    }
}
"#;

/// The codes of the diagnostics printed, in order.
fn codes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("steward::") || l.starts_with("Error: steward::"))
        .map(|l| l.trim_start_matches("Error: "))
        .collect()
}

#[test]
fn one_run_reports_every_problem_of_a_file_with_many_errors() {
    let (code, stderr) = validate("many.kdl", MANY_ERRORS);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&stderr),
        [
            "steward::wrong-type",
            "steward::named-location::ip-and-country",
            "steward::unknown-property",
            "steward::ca::block-with-others",
            "steward::ca::frequency-without-value",
            "steward::ca::frequency-without-type",
            "steward::duplicate",
            "steward::duplicate",
            "steward::ca::frequency-without-value",
            "steward::ca::frequency-without-type",
            "steward::lockout::no-emergency-access",
        ]
    );
    assert!(
        stderr.ends_with("Invalid: 9 errors and 1 warning in 1 file.\n"),
        "{stderr}"
    );
    insta::assert_snapshot!("many_errors_in_one_pass", stderr);
}

#[test]
fn a_setting_that_failed_to_convert_is_not_reported_again_by_the_resource_checks() {
    let (code, stderr) = validate(
        "frequency.kdl",
        r#"
conditional-access-policy "CA003" {
    state enabled
    colour blue
    conditions {
        users { include-users None }
        applications { include-applications All }
    }
    session-controls {
        sign-in-frequency {
            is-enabled #true
            value "eight"
            type hours
        }
    }
}
"#,
    );
    assert_eq!(code, 1);
    assert_eq!(
        codes(&stderr),
        ["steward::unknown-property", "steward::wrong-type"],
        "{stderr}"
    );
}

#[test]
fn the_summary_and_the_json_count_every_file_found_refused_ones_too() {
    let scratch = Scratch::new();
    scratch.write(
        "policies/a-ok.kdl",
        "security-defaults { is-enabled #false }\n",
    );
    scratch.write(
        "policies/b-bad.kdl",
        "named-location \"X\" { is-trusted \"yes\" }\n",
    );
    scratch.write(
        "policies/c-latin1.kdl",
        b"// caf\xe9\nsecurity-defaults { }\n",
    );
    let mut big = "// padding\n".repeat(400_000);
    big.push_str("security-defaults { is-enabled #false }\n");
    scratch.write("policies/d-big.kdl", big);
    let run = scratch.run(&["validate", "policies"]);
    assert_eq!(run.code, 1);
    let summary = run.stderr.lines().last().unwrap_or_default().to_string();
    assert_eq!(
        summary, "Invalid: 4 errors and 0 warnings in 4 files.",
        "{}",
        run.stderr
    );
    let json = scratch.run(&["validate", "policies", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    assert_eq!(
        report["files"],
        serde_json::json!([
            "policies/a-ok.kdl",
            "policies/b-bad.kdl",
            "policies/c-latin1.kdl",
            "policies/d-big.kdl"
        ])
    );
}
