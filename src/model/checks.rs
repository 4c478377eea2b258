//! Rules Graph enforces (or admins expect) that the schema alone cannot express.
//!
//! Each check returns [`Finding`]s located by JSON pointer, so the language layer can point at
//! the offending line without the model knowing anything about files.

use super::authentication_methods::AuthenticationMethodsPolicy;
use super::conditional_access::{
    ConditionalAccessPolicy, GrantControl, MembershipKind, SignInFrequencyInterval,
};
use super::named_location::NamedLocation;
use super::retention_label::{ActionAfterRetentionPeriod, RetentionLabel};
use super::sharepoint::{SharepointSettings, SharingDomainRestrictionMode};
use super::{Address, Desired, Finding, Severity};

pub mod lockout;

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
    if policy
        .lockout_waiver
        .as_deref()
        .is_some_and(|w| w.trim().is_empty())
    {
        out.push(error(
            "steward::ca::empty-lockout-waiver",
            "/lockoutWaiver",
            "lockout-waiver needs a reason: an empty waiver waives nothing".into(),
            "write why the emergency-access accounts may stay in scope, and until when: lockout-waiver \"breakglass2 replaced this week (CHG-1234)\"",
        ));
    }
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

/// Checks across the whole configuration that no single resource can see: the lockout guard,
/// judged on the files alone (the tenant is not known), as `validate` does. Findings are
/// warnings, except for declarations that are wrong whatever the tenant holds.
pub fn configuration(desired: &Desired) -> Vec<(Address, Finding)> {
    lockout_from_files(desired)
        .findings
        .into_iter()
        .map(|f| (f.address, f.finding))
        .collect()
}

/// The lockout guard on the files alone: what validate reports, and what it cannot decide.
pub fn lockout_from_files(desired: &Desired) -> lockout::LockoutReport {
    let policies: Vec<lockout::JudgedPolicy> = desired
        .conditional_access_policies
        .iter()
        .map(|p| lockout::JudgedPolicy {
            policy: p.clone(),
            provenance: lockout::Provenance::Declared,
            id: None,
        })
        .collect();
    lockout::judge(&lockout::LockoutInput {
        emergency: desired.emergency_access.as_ref(),
        policies: &policies,
        methods: desired
            .authentication_methods_policy
            .as_ref()
            .map(|m| (m, lockout::Provenance::Declared)),
        directory: &lockout::Directory::default(),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;

    #[test]
    fn an_empty_lockout_waiver_is_an_error() {
        let loaded = load_str(
            "waiver.kdl",
            r#"conditional-access-policy "Block all" {
    state enabled
    lockout-waiver "  "
    conditions {
        users { include-users All }
        applications { include-applications All }
    }
    grant-controls { built-in-controls block }
}
"#,
        );
        let codes: Vec<&str> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, ["steward::ca::empty-lockout-waiver"]);
    }
}
