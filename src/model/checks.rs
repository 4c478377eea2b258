//! Rules Graph enforces (or admins expect) that the schema alone cannot express.
//!
//! Each check returns [`Finding`]s located by JSON pointer, so the language layer can point at
//! the offending line without the model knowing anything about files.

use super::authentication_methods::AuthenticationMethodsPolicy;
use super::conditional_access::{
    ConditionalAccessPolicy, GrantControl, MembershipKind, PolicyState, SignInFrequencyInterval,
};
use super::named_location::NamedLocation;
use super::reference::{GroupRef, RefTarget, UserRef};
use super::retention_label::{ActionAfterRetentionPeriod, RetentionLabel};
use super::sharepoint::{SharepointSettings, SharingDomainRestrictionMode};
use super::{Desired, Finding, Severity};

fn error(code: &'static str, pointer: &str, message: String, help: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        code,
        pointer: pointer.to_string(),
        message,
        help: help.to_string(),
    }
}

fn warning(code: &'static str, pointer: &str, message: String, help: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        ..error(code, pointer, message, help)
    }
}

/// Checks a named location.
pub fn named_location(location: &NamedLocation) -> Vec<Finding> {
    let mut out = Vec::new();
    let has_ip = location.ip_ranges.is_some() || location.is_trusted.is_some();
    if has_ip && location.is_country() {
        out.push(error(
            "steward::named-location::ip-and-country",
            if location.ip_ranges.is_some() { "/ipRanges" } else { "/isTrusted" },
            format!(
                "named location {:?} has both IP settings and country settings",
                location.display_name
            ),
            "a named location is either an IP location (ip-ranges, is-trusted) or a country location (countries-and-regions, include-unknown-countries-and-regions, country-lookup-method); split it into two locations",
        ));
    } else if location.ip_ranges.as_ref().is_none_or(|r| r.is_empty())
        && location
            .countries_and_regions
            .as_ref()
            .is_none_or(|c| c.is_empty())
        && location.include_unknown_countries_and_regions != Some(true)
    {
        out.push(error(
            "steward::named-location::empty",
            "",
            format!("named location {:?} covers nothing", location.display_name),
            "add ip-ranges \"203.0.113.0/24\" … or countries-and-regions \"FR\" …",
        ));
    }
    out
}

/// Checks a Conditional Access policy on its own (references are checked against the whole
/// configuration in [`configuration`]).
pub fn conditional_access_policy(policy: &ConditionalAccessPolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    let conditions = &policy.conditions;
    if conditions.users.is_none() {
        out.push(error(
            "steward::ca::missing-users",
            "/conditions",
            "conditions need a `users` block: Graph rejects a policy without one".into(),
            "add users { include-users All } (or the users, groups or roles the policy targets)",
        ));
    }
    if conditions.applications.is_none() {
        out.push(error(
            "steward::ca::missing-applications",
            "/conditions",
            "conditions need an `applications` block: Graph rejects a policy without one".into(),
            "add applications { include-applications All } (or the applications or user actions the policy targets)",
        ));
    }
    if policy.grant_controls.is_none() && policy.session_controls.is_none() {
        out.push(error(
            "steward::ca::no-controls",
            "",
            format!(
                "policy {:?} has neither grant-controls nor session-controls",
                policy.display_name
            ),
            "add grant-controls operator=OR { built-in-controls mfa } or a session-controls block",
        ));
    }
    if let Some(grant) = &policy.grant_controls {
        let controls = grant.built_in_controls.as_deref().unwrap_or_default();
        let others = controls.len()
            + grant.authentication_strength.iter().count()
            + grant.terms_of_use.as_ref().map_or(0, Vec::len)
            + grant
                .custom_authentication_factors
                .as_ref()
                .map_or(0, Vec::len);
        if controls.contains(&GrantControl::Block) && others > 1 {
            out.push(error(
                "steward::ca::block-with-others",
                "/grantControls/builtInControls",
                "`block` cannot be combined with other grant controls".into(),
                "a blocking policy has built-in-controls block and nothing else; move the other controls to a separate policy",
            ));
        }
        if controls.contains(&GrantControl::Mfa) && grant.authentication_strength.is_some() {
            out.push(error(
                "steward::ca::mfa-with-strength",
                "/grantControls/authenticationStrength",
                "`mfa` and an authentication strength cannot both be required".into(),
                "an authentication strength already implies MFA: remove mfa from built-in-controls",
            ));
        }
        if others == 0 {
            out.push(error(
                "steward::ca::empty-grant",
                "/grantControls",
                "grant-controls names no control".into(),
                "add built-in-controls (block, mfa, compliantDevice, …) or authentication-strength",
            ));
        }
        if others > 1 && grant.operator.is_none() {
            out.push(error(
                "steward::ca::missing-operator",
                "/grantControls",
                "grant-controls with several controls need an operator".into(),
                "write grant-controls operator=OR { … } (any one control) or operator=AND (all of them)",
            ));
        }
    }
    if let Some(frequency) = policy
        .session_controls
        .as_ref()
        .and_then(|s| s.sign_in_frequency.as_ref())
    {
        let every_time = frequency.frequency_interval == Some(SignInFrequencyInterval::EveryTime);
        if frequency.is_enabled && !every_time {
            if frequency.value.is_none() {
                out.push(error(
                    "steward::ca::frequency-without-value",
                    "/sessionControls/signInFrequency",
                    "a time-based sign-in frequency needs a value".into(),
                    "add value=N type=hours (or type=days), or frequency-interval=everyTime",
                ));
            }
            if frequency.frequency_type.is_none() {
                out.push(error(
                    "steward::ca::frequency-without-type",
                    "/sessionControls/signInFrequency",
                    "a time-based sign-in frequency needs a type".into(),
                    "add type=hours or type=days",
                ));
            }
        }
        if every_time && (frequency.value.is_some() || frequency.frequency_type.is_some()) {
            out.push(error(
                "steward::ca::frequency-every-time-with-value",
                "/sessionControls/signInFrequency",
                "frequency-interval=everyTime takes no value or type".into(),
                "remove value and type, or use frequency-interval=timeBased",
            ));
        }
    }
    if let Some(users) = &conditions.users {
        for (pointer, guests) in [
            (
                "/conditions/users/includeGuestsOrExternalUsers",
                &users.include_guests_or_external_users,
            ),
            (
                "/conditions/users/excludeGuestsOrExternalUsers",
                &users.exclude_guests_or_external_users,
            ),
        ] {
            if let Some(tenants) = guests.as_ref().and_then(|g| g.external_tenants.as_ref()) {
                let members = tenants.members.as_ref().map_or(0, Vec::len);
                if tenants.membership_kind == MembershipKind::Enumerated && members == 0 {
                    out.push(error(
                        "steward::ca::enumerated-without-members",
                        pointer,
                        "external-tenants membership-kind=enumerated lists no tenant".into(),
                        "add members \"<tenant id>\" …, or use membership-kind=all",
                    ));
                }
            }
        }
    }
    out
}

/// Checks a retention label.
pub fn retention_label(label: &RetentionLabel) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(duration) = &label.retention_duration
        && duration.days.is_some() == (duration.forever == Some(true))
    {
        out.push(error(
            "steward::retention::duration",
            "/retentionDuration",
            "retention-duration needs exactly one of days=N or forever=#true".into(),
            "write retention-duration days=2555 or retention-duration forever=#true",
        ));
    }
    if label.action_after_retention_period == Some(ActionAfterRetentionPeriod::Relabel)
        && label.label_to_be_applied.is_none()
    {
        out.push(error(
            "steward::retention::relabel-without-label",
            "/actionAfterRetentionPeriod",
            "action-after-retention-period relabel needs label-to-be-applied".into(),
            "add label-to-be-applied \"<label name>\"",
        ));
    }
    out
}

/// Checks SharePoint settings.
pub fn sharepoint_settings(settings: &SharepointSettings) -> Vec<Finding> {
    let mut out = Vec::new();
    let empty = |list: &Option<Vec<String>>| list.as_ref().is_none_or(Vec::is_empty);
    match settings.sharing_domain_restriction_mode {
        Some(SharingDomainRestrictionMode::AllowList)
            if empty(&settings.sharing_allowed_domain_list) =>
        {
            out.push(warning(
                "steward::sharepoint::empty-allow-list",
                "/sharingDomainRestrictionMode",
                "sharing is limited to an allow-list, but no allowed domain is declared".into(),
                "add sharing-allowed-domain-list \"partner.example\" …, or the list in the tenant is kept as it is",
            ));
        }
        Some(SharingDomainRestrictionMode::BlockList)
            if empty(&settings.sharing_blocked_domain_list) =>
        {
            out.push(warning(
                "steward::sharepoint::empty-block-list",
                "/sharingDomainRestrictionMode",
                "sharing uses a block-list, but no blocked domain is declared".into(),
                "add sharing-blocked-domain-list \"rival.example\" …",
            ));
        }
        _ => {}
    }
    out
}

/// Checks the authentication methods policy.
pub fn authentication_methods_policy(_policy: &AuthenticationMethodsPolicy) -> Vec<Finding> {
    Vec::new()
}

/// A policy that could lock administrators out, and what it fails to exclude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutRisk {
    /// The policy's display name.
    pub policy: String,
    /// The emergency-access accounts it does not exclude (all of them when none is declared).
    pub missing_exclusions: Vec<String>,
    /// Why the policy is in scope of the guard.
    pub reason: String,
}

/// The lockout guard: enabled policies that block or demand controls for all users or for
/// admin roles, without excluding every emergency-access account (and without a waiver).
pub fn lockout_risks(desired: &Desired) -> Vec<LockoutRisk> {
    let emergency: Vec<&UserRef> = desired
        .emergency_access
        .as_ref()
        .map(|e| e.user.iter().collect())
        .unwrap_or_default();
    let emergency_groups: Vec<&GroupRef> = desired
        .emergency_access
        .as_ref()
        .map(|e| e.group.iter().collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for policy in &desired.conditional_access_policies {
        if policy.state != PolicyState::Enabled || policy.lockout_waiver.is_some() {
            continue;
        }
        let demands = policy.grant_controls.as_ref().is_some_and(|g| {
            g.built_in_controls.as_ref().is_some_and(|c| !c.is_empty())
                || g.authentication_strength.is_some()
                || g.terms_of_use.as_ref().is_some_and(|t| !t.is_empty())
        });
        if !demands {
            continue;
        }
        let Some(users) = &policy.conditions.users else {
            continue;
        };
        let all_users = users
            .include_users
            .iter()
            .flatten()
            .any(|u| u.0 == RefTarget::Special("All"));
        let roles = users.include_roles.as_ref().is_some_and(|r| !r.is_empty());
        if !all_users && !roles {
            continue;
        }
        let excluded: Vec<&UserRef> = users.exclude_users.iter().flatten().collect();
        let excluded_groups: Vec<&GroupRef> = users.exclude_groups.iter().flatten().collect();
        // Excluding every declared emergency group excludes the accounts in them.
        let groups_excluded = !emergency_groups.is_empty()
            && emergency_groups.iter().all(|g| {
                excluded_groups
                    .iter()
                    .any(|x| x.0.as_str().eq_ignore_ascii_case(g.0.as_str()))
            });
        let declared = !emergency.is_empty() || !emergency_groups.is_empty();
        let missing: Vec<String> = if groups_excluded {
            vec![]
        } else {
            emergency
                .iter()
                .filter(|e| !excluded.iter().any(|x| same_user(x, e)))
                .map(|e| e.0.to_string())
                .chain(
                    // With no accounts listed, the groups themselves are what must be excluded.
                    emergency_groups
                        .iter()
                        .filter(|_| emergency.is_empty())
                        .map(|g| format!("group {}", g.0)),
                )
                .collect()
        };
        if !declared || !missing.is_empty() {
            out.push(LockoutRisk {
                policy: policy.display_name.clone(),
                missing_exclusions: missing,
                reason: if all_users {
                    "it targets all users".into()
                } else {
                    "it targets administrator roles".into()
                },
            });
        }
    }
    out
}

fn same_user(a: &UserRef, b: &UserRef) -> bool {
    a.0.as_str().eq_ignore_ascii_case(b.0.as_str())
}

/// Checks across the whole configuration that no single resource can see.
pub fn configuration(desired: &Desired) -> Vec<(String, Finding)> {
    let mut out = Vec::new();
    for risk in lockout_risks(desired) {
        let message = if risk.missing_exclusions.is_empty() {
            format!(
                "enabled policy {:?} could lock every administrator out ({}), and no emergency-access account is declared",
                risk.policy, risk.reason
            )
        } else {
            format!(
                "enabled policy {:?} could lock every administrator out ({}): it does not exclude {}",
                risk.policy,
                risk.reason,
                risk.missing_exclusions.join(", ")
            )
        };
        out.push((
            risk.policy.clone(),
            warning(
                "steward::lockout",
                "/conditions/users/excludeUsers",
                message,
                "declare emergency-access { user \"breakglass@…\" } and add those accounts to exclude-users (or declare and exclude a group holding them), or add lockout-waiver \"<reason>\" to the policy; apply refuses this policy otherwise",
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    fn risks(text: &str) -> Vec<LockoutRisk> {
        let loaded = load_str("guard.kdl", text);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        lockout_risks(&loaded.desired)
    }

    const POLICY: &str = r#"
conditional-access-policy "Block all" {
    state enabled
    conditions {
        users {
            include-users All
            EXCLUSIONS
        }
        applications { include-applications All }
    }
    grant-controls { built-in-controls block }
}
"#;

    fn with(emergency: &str, exclusions: &str) -> String {
        format!("{emergency}\n{}", POLICY.replace("EXCLUSIONS", exclusions))
    }

    #[test]
    fn a_policy_excluding_every_emergency_account_is_safe() {
        let text = with(
            "emergency-access { user \"bg1@c.com\"; user \"bg2@c.com\" }",
            "exclude-users \"BG1@c.com\" \"bg2@c.com\"",
        );
        assert_eq!(risks(&text), []);
    }

    #[test]
    fn the_accounts_not_excluded_are_named() {
        let text = with(
            "emergency-access { user \"bg1@c.com\"; user \"bg2@c.com\" }",
            "exclude-users \"bg1@c.com\"",
        );
        let found = risks(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].missing_exclusions, ["bg2@c.com"]);
        assert_eq!(found[0].reason, "it targets all users");
    }

    #[test]
    fn excluding_the_declared_emergency_group_excludes_its_accounts() {
        let text = with(
            "emergency-access { user \"bg1@c.com\"; group \"Emergency Access Accounts\" }",
            "exclude-groups \"Emergency Access Accounts\"",
        );
        assert_eq!(risks(&text), []);
    }

    #[test]
    fn with_no_emergency_account_declared_every_blocking_policy_is_a_risk() {
        let found = risks(&with("", "exclude-users \"someone@c.com\""));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].missing_exclusions, Vec::<String>::new());
    }

    #[test]
    fn a_waiver_or_a_report_only_state_lifts_the_guard() {
        let waived = with(
            "emergency-access { user \"bg1@c.com\" }",
            "exclude-users \"x@c.com\"",
        )
        .replace(
            "state enabled",
            "state enabled\n    lockout-waiver \"CHG-1\"",
        );
        assert_eq!(risks(&waived), []);
        let report_only = with(
            "emergency-access { user \"bg1@c.com\" }",
            "exclude-users \"x@c.com\"",
        )
        .replace("state enabled", "state enabledForReportingButNotEnforced");
        assert_eq!(risks(&report_only), []);
    }
}
