//! Each policy id's passing and failing cases, with the edge cases ScubaGear's Rego encodes.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{PolicyResult, Source, Status, grade};
use crate::model::Kind;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
}

fn graded_as(text: &str, source: Source, unreadable: &[Kind]) -> BTreeMap<String, PolicyResult> {
    let loaded = crate::config::load_str("test.kdl", text);
    assert!(
        !loaded.has_errors(),
        "the test's policies load: {:?}",
        loaded.diagnostics
    );
    grade(&loaded.desired, source, unreadable, today())
        .grade
        .results
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect()
}

fn graded(text: &str) -> BTreeMap<String, PolicyResult> {
    graded_as(text, Source::Declared, &[])
}

fn status(text: &str, id: &str) -> Status {
    graded(text)[id].status
}

/// A policy meeting the shared rules (enabled, all users, all apps, no exclusions) with
/// `conditions` and `grant` added.
fn policy(name: &str, state: &str, users: &str, conditions: &str, grant: &str) -> String {
    format!(
        r#"conditional-access-policy "{name}" {{
    state {state}
    conditions {{
        users {{ {users} }}
        applications {{ include-applications All }}
        {conditions}
    }}
    grant-controls {grant}
}}
"#
    )
}

const ALL: &str = "include-users All";
const LEGACY: &str = "client-app-types exchangeActiveSync other";
const BLOCK: &str = "operator=OR { built-in-controls block }";

#[test]
fn legacy_authentication_is_blocked_only_by_an_enabled_policy_for_everyone() {
    let id = "MS.AAD.1.1v1";
    assert_eq!(
        status(&policy("L", "enabled", ALL, LEGACY, BLOCK), id),
        Status::Pass
    );
    let report_only = graded(&policy(
        "L",
        "enabledForReportingButNotEnforced",
        ALL,
        LEGACY,
        BLOCK,
    ));
    assert_eq!(report_only[id].status, Status::Fail);
    assert!(
        report_only[id]
            .detail
            .contains("report-only and disabled policies do not count")
    );
    // Only one of the two legacy client types.
    let one = policy("L", "enabled", ALL, "client-app-types other", BLOCK);
    assert_eq!(status(&one, id), Status::Fail);
    let role = policy(
        "L",
        "enabled",
        &format!("{ALL}; exclude-roles \"Global Administrator\""),
        LEGACY,
        BLOCK,
    );
    let result = &graded(&role)[id];
    assert_eq!(result.status, Status::Fail);
    assert!(
        result.detail.contains("no exclusion of a role is allowed"),
        "{}",
        result.detail
    );
}

#[test]
fn excluded_users_count_only_as_emergency_access_or_a_check_exception() {
    let id = "MS.AAD.1.1v1";
    let users = format!("{ALL}; exclude-users \"bg@contoso.com\"");
    let base = policy("L", "enabled", &users, LEGACY, BLOCK);
    let failed = &graded(&base)[id];
    assert_eq!(failed.status, Status::Fail);
    assert!(
        failed.detail.contains("\"bg@contoso.com\""),
        "{}",
        failed.detail
    );
    assert_eq!(
        failed.location.as_ref().map(|l| l.line),
        None,
        "located by the caller"
    );
    let emergency = format!("{base}emergency-access {{ user \"BG@contoso.com\" }}\n");
    assert_eq!(status(&emergency, id), Status::Pass);
    let excepted = format!(
        "{base}check-exception \"{id}\" {{ reason \"break-glass\"; expires \"2027-03-31\"; exclude-users \"bg@contoso.com\" }}\n"
    );
    let result = &graded(&excepted)[id];
    assert_eq!(result.status, Status::Pass);
    assert!(result.exception.as_ref().is_some_and(|e| !e.expired));
    // The exclusion is allowed for that id only.
    let other = format!(
        "{base}check-exception \"MS.AAD.2.1v1\" {{ reason \"r\"; expires \"2027-03-31\"; exclude-users \"bg@contoso.com\" }}\n"
    );
    assert_eq!(status(&other, id), Status::Fail);
}

#[test]
fn an_expired_exception_is_a_failure_even_where_the_policy_passes() {
    let id = "MS.AAD.1.1v1";
    let text = format!(
        "{}check-exception \"{id}\" {{ reason \"old\"; expires \"2026-12-01\" }}\n",
        policy("L", "enabled", ALL, LEGACY, BLOCK)
    );
    let result = &graded(&text)[id];
    assert_eq!(result.status, Status::Fail);
    assert!(
        result
            .detail
            .starts_with("the exception for MS.AAD.1.1v1 expired on 2026-12-01")
    );
    assert!(
        result
            .help
            .as_deref()
            .is_some_and(|h| h.contains("renew the check-exception"))
    );
}

#[test]
fn a_whole_id_exception_accepts_a_failure_until_it_expires() {
    let text = "check-exception \"MS.AAD.2.1v1\" { reason \"no P2 licence yet\"; expires \"2027-06-30\"; }\n";
    assert_eq!(status(text, "MS.AAD.2.1v1"), Status::Accepted);
    let expired = text.replace("2027-06-30", "2026-01-01");
    assert_eq!(status(&expired, "MS.AAD.2.1v1"), Status::Fail);
}

#[test]
fn high_risk_users_and_sign_ins_are_blocked() {
    let users = policy("U", "enabled", ALL, "user-risk-levels high", BLOCK);
    assert_eq!(status(&users, "MS.AAD.2.1v1"), Status::Pass);
    assert_eq!(status(&users, "MS.AAD.2.3v1"), Status::Fail);
    let sign_ins = policy(
        "S",
        "enabled",
        ALL,
        "sign-in-risk-levels high medium",
        BLOCK,
    );
    assert_eq!(status(&sign_ins, "MS.AAD.2.3v1"), Status::Pass);
    // Requiring a password change is not blocking.
    let change = policy(
        "U",
        "enabled",
        ALL,
        "user-risk-levels high",
        "operator=AND { built-in-controls mfa passwordChange }",
    );
    assert_eq!(status(&change, "MS.AAD.2.1v1"), Status::Fail);
}

#[test]
fn phishing_resistant_mfa_is_judged_by_the_strengths_methods() {
    let id = "MS.AAD.3.1v1";
    let builtin = policy(
        "P",
        "enabled",
        ALL,
        "",
        "{ authentication-strength \"Phishing-resistant MFA\" }",
    );
    assert_eq!(status(&builtin, id), Status::Pass);
    let fido_only = format!(
        "authentication-strength \"Keys\" {{ allowed-combinations fido2 }}\n{}",
        policy(
            "P",
            "enabled",
            ALL,
            "",
            "{ authentication-strength \"Keys\" }"
        )
    );
    assert_eq!(status(&fido_only, id), Status::Pass);
    let extra = fido_only.replace(
        "allowed-combinations fido2",
        "allowed-combinations fido2 \"sms,password\"",
    );
    assert_eq!(status(&extra, id), Status::Fail);
    // 3.2v2: a phishing-resistant-only strength is not "MFA" for ScubaGear; mfa is.
    assert_eq!(status(&builtin, "MS.AAD.3.2v2"), Status::Fail);
    assert_eq!(status(&extra, "MS.AAD.3.2v2"), Status::Pass);
    let mfa = policy(
        "M",
        "enabled",
        ALL,
        "",
        "operator=OR { built-in-controls mfa }",
    );
    assert_eq!(status(&mfa, "MS.AAD.3.2v2"), Status::Pass);
}

#[test]
fn phishing_resistant_mfa_for_admins_needs_every_privileged_role() {
    let id = "MS.AAD.3.6v1";
    let roles = [
        "Global Administrator",
        "Privileged Role Administrator",
        "User Administrator",
        "SharePoint Administrator",
        "Exchange Administrator",
        "Hybrid Identity Administrator",
        "Application Administrator",
        "Cloud Application Administrator",
    ];
    let include = roles
        .iter()
        .map(|r| format!("include-roles \"{r}\""))
        .collect::<Vec<_>>()
        .join("; ");
    let grant = "{ authentication-strength \"Phishing-resistant MFA\" }";
    assert_eq!(
        status(&policy("A", "enabled", &include, "", grant), id),
        Status::Pass
    );
    let fewer = include.replace("include-roles \"Hybrid Identity Administrator\"; ", "");
    assert_eq!(
        status(&policy("A", "enabled", &fewer, "", grant), id),
        Status::Fail
    );
    // By role template id too.
    let by_id = include.replace(
        "\"Global Administrator\"",
        "\"62e90394-69f5-4237-9190-012177145e10\"",
    );
    assert_eq!(
        status(&policy("A", "enabled", &by_id, "", grant), id),
        Status::Pass
    );
}

#[test]
fn managed_devices_need_exactly_both_controls_with_or() {
    let id = "MS.AAD.3.7v1";
    let both = "operator=OR { built-in-controls compliantDevice domainJoinedDevice }";
    assert_eq!(
        status(&policy("D", "enabled", ALL, "", both), id),
        Status::Pass
    );
    let and = both.replace("OR", "AND");
    assert_eq!(
        status(&policy("D", "enabled", ALL, "", &and), id),
        Status::Fail
    );
    let one = "operator=OR { built-in-controls compliantDevice }";
    assert_eq!(
        status(&policy("D", "enabled", ALL, "", one), id),
        Status::Fail
    );
    // 3.8: either control alone is enough to register security information.
    let register = r#"conditional-access-policy "R" {
    state enabled
    conditions {
        users { include-users All }
        applications { include-user-actions "urn:user:registersecurityinfo" }
    }
    grant-controls operator=OR { built-in-controls compliantDevice }
}
"#;
    assert_eq!(status(register, "MS.AAD.3.8v1"), Status::Pass);
}

#[test]
fn device_code_flow_must_be_the_only_transfer_method_blocked() {
    let id = "MS.AAD.3.9v1";
    let only = policy(
        "C",
        "enabled",
        ALL,
        "authentication-flows { transfer-methods deviceCodeFlow }",
        BLOCK,
    );
    assert_eq!(status(&only, id), Status::Pass);
    let both = only.replace("deviceCodeFlow", "deviceCodeFlow authenticationTransfer");
    assert_eq!(status(&both, id), Status::Fail);
}

#[test]
fn authenticator_context_and_weak_methods() {
    let good = r#"authentication-methods-policy {
    sms state=disabled
    voice state=disabled
    email state=disabled
    microsoft-authenticator state=enabled {
        is-software-oath-enabled #false
        include-targets target-type=group id=all_users
        feature-settings {
            display-app-information-required-state state=enabled { include-target target-type=group id=all_users; }
            display-location-information-required-state state=enabled { include-target target-type=group id=all_users; }
        }
    }
}
"#;
    let results = graded(good);
    assert_eq!(results["MS.AAD.3.3v2"].status, Status::Pass);
    assert_eq!(results["MS.AAD.3.5v2"].status, Status::Pass);
    let sms = graded(&good.replace("sms state=disabled", "sms state=enabled"));
    assert_eq!(sms["MS.AAD.3.5v2"].status, Status::Fail);
    assert_eq!(sms["MS.AAD.3.5v2"].detail, "sms enabled");
    let group = good.replacen(
        "include-target target-type=group id=all_users;",
        "include-target target-type=group id=\"Pilot\";",
        1,
    );
    let result = &graded(&group)["MS.AAD.3.3v2"];
    assert_eq!(result.status, Status::Fail);
    assert!(
        result
            .detail
            .contains("shows the app name to some users only"),
        "{}",
        result.detail
    );
    let off = good.replace(
        "microsoft-authenticator state=enabled",
        "microsoft-authenticator state=disabled",
    );
    assert_eq!(graded(&off)["MS.AAD.3.3v2"].status, Status::NotApplicable);
    // The files must say it; the tenant not having a method at all is fine.
    let unset = "authentication-methods-policy { sms state=disabled; }\n";
    assert_eq!(status(unset, "MS.AAD.3.5v2"), Status::Fail);
    let live = graded_as(unset, Source::Live, &[]);
    assert_eq!(live["MS.AAD.3.5v2"].status, Status::Pass);
}

#[test]
fn authorization_settings() {
    let good = r#"authorization-policy {
    allow-invites-from adminsAndGuestInviters
    guest-user-role-id "2af84b1e-32c8-42b7-82bc-daa82404023b"
    default-user-role-permissions { allowed-to-create-apps #false; }
}
"#;
    let results = graded(good);
    for id in ["MS.AAD.5.1v1", "MS.AAD.8.1v1", "MS.AAD.8.2v1"] {
        assert_eq!(results[id].status, Status::Pass, "{id}");
    }
    // "none" is stricter, but ScubaGear passes only adminsAndGuestInviters.
    let none = good.replace("adminsAndGuestInviters", "none");
    assert_eq!(status(&none, "MS.AAD.8.2v1"), Status::Fail);
    let member = good.replace(
        "2af84b1e-32c8-42b7-82bc-daa82404023b",
        "a0b1b346-4d3e-4e8b-98f8-753987be4970",
    );
    assert_eq!(status(&member, "MS.AAD.8.1v1"), Status::Fail);
    // Undeclared in the files: not guaranteed. Unreadable in the tenant: cannot check.
    assert_eq!(status("", "MS.AAD.5.1v1"), Status::Fail);
    let unreadable = graded_as("", Source::Live, &[Kind::AuthorizationPolicy]);
    assert_eq!(unreadable["MS.AAD.5.1v1"].status, Status::CannotCheck);
}

#[test]
fn sharepoint_sharing_levels() {
    let text = |level: &str| format!("sharepoint-settings {{ sharing-capability {level}; }}\n");
    let existing = graded(&text("existingExternalUserSharingOnly"));
    assert_eq!(existing["MS.SHAREPOINT.1.1v1"].status, Status::Pass);
    assert_eq!(existing["MS.SHAREPOINT.1.3v1"].status, Status::Fail);
    assert_eq!(
        existing["MS.SHAREPOINT.3.1v1"].status,
        Status::NotApplicable
    );
    // Guests can come in, so verification codes matter; the files do not set them.
    assert_eq!(existing["MS.SHAREPOINT.3.3v2"].status, Status::Fail);
    let anyone = graded(&text("externalUserAndGuestSharing"));
    assert_eq!(anyone["MS.SHAREPOINT.1.1v1"].status, Status::Fail);
    assert_eq!(anyone["MS.SHAREPOINT.3.1v1"].status, Status::Fail);
    let live = graded_as(&text("externalUserAndGuestSharing"), Source::Live, &[]);
    assert_eq!(live["MS.SHAREPOINT.3.1v1"].status, Status::CannotCheck);
    let off = graded(&text("disabled"));
    assert_eq!(off["MS.SHAREPOINT.1.3v1"].status, Status::NotApplicable);
    assert_eq!(off["MS.SHAREPOINT.3.3v2"].status, Status::NotApplicable);
}

#[test]
fn every_id_is_graded_once_with_its_anchor() {
    let results = graded("");
    assert_eq!(results.len(), super::policy_ids().len());
    assert_eq!(
        results["MS.AAD.3.2v2"].url,
        "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/aad.md#msaad32v2"
    );
    for id in super::policy_ids() {
        assert!(crate::model::check_exception::is_policy_id(id), "{id}");
    }
}

#[test]
fn sharepoints_own_settings() {
    let anyone = r#"sharepoint-settings {
    sharing-capability externalUserAndGuestSharing
    one-drive-sharing-capability existingExternalUserSharingOnly
    default-sharing-link-type specific-people
    default-link-permission view
    require-anonymous-links-expire-in-days 30
    file-anonymous-link-type view
    folder-anonymous-link-type view
    email-attestation-required #true
    email-attestation-re-auth-days 30
}
"#;
    let results = graded(anyone);
    for id in [
        "MS.SHAREPOINT.1.2v1",
        "MS.SHAREPOINT.2.1v1",
        "MS.SHAREPOINT.2.2v1",
        "MS.SHAREPOINT.3.1v1",
        "MS.SHAREPOINT.3.2v1",
        "MS.SHAREPOINT.3.3v2",
    ] {
        assert_eq!(
            results[id].status,
            Status::Pass,
            "{id}: {}",
            results[id].detail
        );
    }
    // Links that never expire, or live longer than 30 days, fail.
    for days in ["0", "31"] {
        let text = anyone.replace("expire-in-days 30", &format!("expire-in-days {days}"));
        assert_eq!(status(&text, "MS.SHAREPOINT.3.1v1"), Status::Fail, "{days}");
    }
    let edit = anyone.replace(
        "folder-anonymous-link-type view",
        "folder-anonymous-link-type edit",
    );
    let result = &graded(&edit)["MS.SHAREPOINT.3.2v1"];
    assert_eq!(result.status, Status::Fail);
    assert_eq!(result.detail, "folder-anonymous-link-type is edit");
    let monthly = anyone.replace("re-auth-days 30", "re-auth-days 60");
    assert_eq!(status(&monthly, "MS.SHAREPOINT.3.3v2"), Status::Fail);
    let org = anyone.replace(
        "default-sharing-link-type specific-people",
        "default-sharing-link-type organization",
    );
    assert_eq!(status(&org, "MS.SHAREPOINT.2.1v1"), Status::Fail);
}

#[test]
fn the_methods_migration_must_be_complete() {
    let id = "MS.AAD.3.4v1";
    let text = |state: &str| {
        format!("authentication-methods-policy {{ policy-migration-state {state}; }}\n")
    };
    assert_eq!(status(&text("migrationComplete"), id), Status::Pass);
    let result = &graded(&text("preMigration"))[id];
    assert_eq!(result.status, Status::Fail);
    assert_eq!(result.detail, "policy-migration-state is preMigration");
    assert_eq!(
        status(
            "authentication-methods-policy { sms state=disabled; }\n",
            id
        ),
        Status::Fail
    );
    let live = graded_as(
        "authentication-methods-policy { sms state=disabled; }\n",
        Source::Live,
        &[],
    );
    assert_eq!(
        live[id].status,
        Status::Pass,
        "a null state passes, as in ScubaGear"
    );
}
