//! The baseline pack in policies/ is valid, warning-free and formatted.

use crate::common;

use common::{repo, steward};

#[test]
fn every_policy_file_validates_without_warnings() {
    let run = steward(&repo(), &["validate", "policies"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "the pack must not warn");
    assert!(
        run.stdout.starts_with("Valid: 17 resources in 17 files."),
        "{}",
        run.stdout
    );
}

#[test]
fn every_policy_file_is_formatted() {
    let run = steward(&repo(), &["fmt", "--check", "policies"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn every_conditional_access_policy_excludes_both_emergency_accounts() {
    let loaded = steward::config::load(&[repo().join("policies")]);
    let emergency: Vec<String> = loaded
        .desired
        .emergency_access
        .iter()
        .flat_map(|e| e.user.iter().map(|u| u.0.to_string()))
        .collect();
    assert_eq!(emergency.len(), 2);
    assert_eq!(loaded.desired.conditional_access_policies.len(), 10);
    for policy in &loaded.desired.conditional_access_policies {
        let excluded: Vec<String> = policy
            .conditions
            .users
            .iter()
            .flat_map(|u| u.exclude_users.iter().flatten())
            .map(|u| u.0.to_string())
            .collect();
        for account in &emergency {
            assert!(
                excluded.contains(account),
                "{} does not exclude {account}",
                policy.display_name
            );
        }
    }
}
