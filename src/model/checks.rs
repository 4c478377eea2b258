//! Rules Graph enforces (or admins expect) that the schema alone cannot express.
//!
//! Each check returns [`Finding`]s located by JSON pointer, so the language layer can point at
//! the offending line without the model knowing anything about files.

use super::authentication_methods::AuthenticationMethodsPolicy;
use super::conditional_access::{
    ConditionalAccessPolicy, GrantControl, MembershipKind, SignInFrequencyInterval,
};
use super::named_location::NamedLocation;
use super::retention_label::{ActionAfterRetentionPeriod, RetentionLabel, RetentionTrigger};
use super::sharepoint::{
    AnyoneLinkPermission, DefaultSharingLinkType, SharepointSettings, SharingCapability,
    SharingDomainRestrictionMode,
};
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
    retention_event(label, &mut out);
    disposition_review(label, &mut out);
    out
}

/// Event-based retention: `dateOfEvent` and an event type go together.
fn retention_event(label: &RetentionLabel, out: &mut Vec<Finding>) {
    let on_event = label.retention_trigger == Some(RetentionTrigger::DateOfEvent);
    match &label.retention_event_type {
        None if on_event => out.push(error(
            "steward::retention::event-without-type",
            "/retentionTrigger",
            "retention-trigger dateOfEvent needs retention-event-type: without it no event can start the period".into(),
            "add retention-event-type \"<event type id>\" (GET /security/triggerTypes/retentionEventTypes lists them)",
        )),
        Some(_) if !on_event => out.push(error(
            "steward::retention::event-type-without-trigger",
            "/retentionEventType",
            "retention-event-type is only used with retention-trigger dateOfEvent".into(),
            "write retention-trigger dateOfEvent, or remove retention-event-type",
        )),
        Some(id) if !super::reference::is_guid(id) => out.push(error(
            "steward::retention::event-type-not-id",
            "/retentionEventType",
            format!("retention-event-type {id:?} is not an id: steward names event types by id"),
            "write the event type's id (GET /security/triggerTypes/retentionEventTypes lists them)",
        )),
        _ => {}
    }
}

/// Disposition review: `startDispositionReview` and its stages go together, stages are
/// numbered 1, 2, … in order, and every stage has reviewers with email addresses.
fn disposition_review(label: &RetentionLabel, out: &mut Vec<Finding>) {
    let review = label.action_after_retention_period
        == Some(ActionAfterRetentionPeriod::StartDispositionReview);
    let stages = label
        .disposition_review_stages
        .as_deref()
        .unwrap_or_default();
    if review && stages.is_empty() {
        out.push(error(
            "steward::retention::review-without-stages",
            "/actionAfterRetentionPeriod",
            "action-after-retention-period startDispositionReview needs at least one disposition review stage".into(),
            "add disposition-review-stages stage-number=1 name=\"Records team\" { reviewers-email-addresses \"records@contoso.example\" }",
        ));
    }
    if !review && label.disposition_review_stages.is_some() {
        out.push(error(
            "steward::retention::stages-without-review",
            "/dispositionReviewStages",
            "disposition-review-stages are only used with action-after-retention-period startDispositionReview".into(),
            "write action-after-retention-period startDispositionReview, or remove the stages",
        ));
    }
    for (i, stage) in stages.iter().enumerate() {
        let expected = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if stage.stage_number != expected {
            out.push(error(
                "steward::retention::stage-number",
                &format!("/dispositionReviewStages/{i}/stageNumber"),
                format!(
                    "disposition review stage {} is declared in position {expected}: stages are numbered 1, 2, … in the order they run",
                    stage.stage_number
                ),
                &format!("write stage-number={expected}, or reorder the stages"),
            ));
        }
        if stage.reviewers_email_addresses.is_empty() {
            out.push(error(
                "steward::retention::stage-without-reviewers",
                &format!("/dispositionReviewStages/{i}/reviewersEmailAddresses"),
                format!("disposition review stage {:?} has no reviewer", stage.name),
                "add reviewers-email-addresses \"records@contoso.example\"",
            ));
        }
        for (j, address) in stage.reviewers_email_addresses.iter().enumerate() {
            if !is_email(address) {
                out.push(error(
                    "steward::retention::reviewer-email",
                    &format!("/dispositionReviewStages/{i}/reviewersEmailAddresses/{j}"),
                    format!("reviewer {address:?} is not an email address"),
                    "write the reviewer's email address, such as records@contoso.example",
                ));
            }
        }
    }
}

/// A plain `local@domain.tld` address: one `@`, no spaces, a dot in the domain.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|part| !part.is_empty())
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
    sharing_levels(settings, &mut out);
    anyone_links(settings, &mut out);
    for (i, site) in settings
        .restricted_search_allowed_sites
        .iter()
        .flatten()
        .enumerate()
    {
        let host = url::Url::parse(site)
            .ok()
            .filter(|u| u.scheme() == "https")
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        if !host.is_some_and(|h| h.contains(".sharepoint")) {
            out.push(error(
                "steward::sharepoint::not-a-site-url",
                &format!("/restrictedSearchAllowedSites/{i}"),
                format!("{site:?} is not a SharePoint site URL"),
                "write the site's address as the browser shows it: \"https://contoso.sharepoint.com/sites/HR\"",
            ));
        }
    }
    out
}

/// OneDrive may be stricter than SharePoint, never wider (SharePoint refuses the setting).
fn sharing_levels(settings: &SharepointSettings, out: &mut Vec<Finding>) {
    let wider = |narrow: Option<SharingCapability>, wide: Option<SharingCapability>| matches!((narrow, wide), (Some(n), Some(w)) if n.breadth() > w.breadth());
    let ceilings = [
        ("sharing-capability", settings.sharing_capability),
        ("core-sharing-capability", settings.core_sharing_capability),
    ];
    for (name, ceiling) in ceilings {
        if wider(settings.one_drive_sharing_capability, ceiling) {
            let (od, sp) = (
                settings
                    .one_drive_sharing_capability
                    .map(SharingCapability::as_str),
                ceiling.map(SharingCapability::as_str),
            );
            out.push(error(
                "steward::sharepoint::onedrive-wider-than-sharepoint",
                "/oneDriveSharingCapability",
                format!(
                    "OneDrive sharing ({}) is wider than SharePoint's {name} ({}): OneDrive may be as strict as SharePoint or stricter, never more permissive",
                    od.unwrap_or_default(),
                    sp.unwrap_or_default()
                ),
                "narrow one-drive-sharing-capability, or widen the SharePoint level if that is what is meant",
            ));
            return;
        }
    }
    if wider(
        settings.core_sharing_capability,
        settings.sharing_capability,
    ) {
        out.push(error(
            "steward::sharepoint::core-wider-than-tenant",
            "/coreSharingCapability",
            "core-sharing-capability is wider than sharing-capability, the organisation's ceiling"
                .into(),
            "narrow core-sharing-capability, or widen sharing-capability",
        ));
    }
}

/// Anyone-link settings only mean something where Anyone links exist.
fn anyone_links(settings: &SharepointSettings, out: &mut Vec<Finding>) {
    let Some(level) = settings.sharing_capability else {
        // The tenant's level decides; the files do not say it.
        return;
    };
    if level == SharingCapability::ExternalUserAndGuestSharing {
        return;
    }
    let declared = [
        (
            "/requireAnonymousLinksExpireInDays",
            "require-anonymous-links-expire-in-days",
            settings
                .require_anonymous_links_expire_in_days
                .is_some_and(|d| d > 0),
        ),
        (
            "/fileAnonymousLinkType",
            "file-anonymous-link-type",
            settings
                .file_anonymous_link_type
                .is_some_and(|p| p != AnyoneLinkPermission::None),
        ),
        (
            "/folderAnonymousLinkType",
            "folder-anonymous-link-type",
            settings
                .folder_anonymous_link_type
                .is_some_and(|p| p != AnyoneLinkPermission::None),
        ),
        (
            "/defaultSharingLinkType",
            "default-sharing-link-type anyone",
            settings.default_sharing_link_type == Some(DefaultSharingLinkType::Anyone),
        ),
    ];
    for (pointer, name, set) in declared {
        if set {
            out.push(error(
                "steward::sharepoint::anyone-links-need-anyone-sharing",
                pointer,
                format!(
                    "{name} configures Anyone links, but sharing-capability is {level}, which allows none (SharePoint ignores the setting)"
                ),
                "remove the setting, or set sharing-capability externalUserAndGuestSharing",
            ));
        }
    }
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

/// Checks the outbound settings of a cross-tenant configuration: a user target is `All` or a
/// user, never a Conditional Access token Graph would refuse here.
pub fn cross_tenant_settings(
    settings: &[(&str, Option<&super::cross_tenant::OutboundSetting>)],
) -> Vec<Finding> {
    use super::reference::RefTarget;
    let mut out = Vec::new();
    for (pointer, setting) in settings {
        let users = setting
            .and_then(|s| s.users_and_groups.as_ref())
            .and_then(|u| u.users.as_ref());
        for (i, user) in users.into_iter().flatten().enumerate() {
            if let RefTarget::Special(special) = &user.0
                && *special != "All"
            {
                out.push(error(
                    "steward::cross-tenant::user-target",
                    &format!("{pointer}/usersAndGroups/users/{i}"),
                    format!("{special} is not a cross-tenant access target"),
                    "name users by UPN or id, or write All for every user",
                ));
            }
        }
    }
    out
}

/// The finding for a partner declared by something other than its tenant id.
pub fn cross_tenant_partner_name(name: &str) -> Finding {
    error(
        "steward::cross-tenant::partner-id",
        "/displayName",
        format!("cross-tenant-partner {name:?} is neither a tenant id nor a domain name"),
        "name the partner by its tenant id (a GUID) or one of its verified domains (fabrikam.com)",
    )
}

/// Checks an access review: one kind of scope, reviewers that go together, dates Graph takes.
pub fn access_review(review: &super::access_review::AccessReview) -> Vec<Finding> {
    let mut out = Vec::new();
    let scope = &review.scope;
    let named = scope.groups.as_ref().is_some_and(|g| !g.is_empty())
        || scope.applications.as_ref().is_some_and(|a| !a.is_empty());
    if scope.guests_in.is_some() == named {
        out.push(error(
            "steward::access-review::scope",
            "/scope",
            format!(
                "access review {:?} must review either guests-in (every Microsoft 365 group or team) or named groups and applications",
                review.display_name
            ),
            "write scope { guests-in allMicrosoft365Groups; } or scope { groups \"Finance\"; applications \"Salesforce\"; }",
        ));
    }
    let reviewers = &review.reviewers;
    let others = reviewers.group_owners == Some(true)
        || reviewers.managers == Some(true)
        || reviewers.users.as_ref().is_some_and(|u| !u.is_empty())
        || reviewers.groups.as_ref().is_some_and(|g| !g.is_empty());
    if reviewers.self_review == Some(true) && others {
        out.push(error(
            "steward::access-review::self-review",
            "/reviewers",
            "self-review cannot be combined with other reviewers".into(),
            "keep self-review #true alone, or remove it",
        ));
    } else if reviewers.self_review != Some(true) && !others {
        out.push(error(
            "steward::access-review::no-reviewers",
            "/reviewers",
            format!("access review {:?} names no reviewer", review.display_name),
            "write reviewers { group-owners #true; }, managers #true, users \"…\", groups \"…\" or self-review #true",
        ));
    }
    let settings = &review.settings;
    if settings.auto_apply_decisions_enabled == Some(true)
        && settings.default_decision_enabled == Some(true)
        && settings.default_decision == Some(super::access_review::DefaultDecision::Deny)
    {
        // Microsoft's caution on accessReviewScheduleSettings.
        out.push(warning(
            "steward::access-review::deny-by-default",
            "/settings/defaultDecision",
            format!(
                "access review {:?} removes every guest whose reviewers do not answer in time",
                review.display_name
            ),
            "keep it if that is intended; default-decision Recommendation removes only guests the recommendations flag (inactive ones)",
        ));
    }
    let date = |text: &str| {
        let b = text.as_bytes();
        b.len() == 10
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            })
    };
    if let Some(recurrence) = &review.settings.recurrence {
        for (pointer, value) in [
            (
                "/settings/recurrence/startDate",
                Some(&recurrence.start_date),
            ),
            ("/settings/recurrence/endDate", recurrence.end_date.as_ref()),
        ] {
            if let Some(value) = value.filter(|v| !date(v)) {
                out.push(error(
                    "steward::access-review::date",
                    pointer,
                    format!("{value:?} is not a date"),
                    "write the date as YYYY-MM-DD, e.g. start-date=\"2027-01-05\"",
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;

    /// The errors a `sharepoint-settings` block with `body` gets: code and (line, column).
    fn sharepoint_errors(body: &str) -> Vec<(&'static str, Option<(usize, usize)>)> {
        let loaded = load_str(
            "sharing.kdl",
            &format!("sharepoint-settings {{\n{body}}}\n"),
        );
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code, d.line_column()))
            .collect()
    }

    #[test]
    fn onedrive_sharing_wider_than_sharepoint_is_an_error_at_the_onedrive_line() {
        let errors = sharepoint_errors(
            "    sharing-capability existingExternalUserSharingOnly\n    one-drive-sharing-capability externalUserSharingOnly\n",
        );
        assert_eq!(
            errors,
            [(
                "steward::sharepoint::onedrive-wider-than-sharepoint",
                Some((3, 5))
            )]
        );
        // As strict or stricter is fine.
        assert!(
            sharepoint_errors(
                "    sharing-capability externalUserSharingOnly\n    one-drive-sharing-capability disabled\n"
            )
            .is_empty()
        );
        // Against the SharePoint-only level too.
        let errors = sharepoint_errors(
            "    core-sharing-capability disabled\n    one-drive-sharing-capability existingExternalUserSharingOnly\n",
        );
        assert_eq!(
            errors[0].0,
            "steward::sharepoint::onedrive-wider-than-sharepoint"
        );
    }

    #[test]
    fn anyone_link_settings_without_anyone_sharing_are_errors_at_each_setting() {
        let errors = sharepoint_errors(
            "    sharing-capability externalUserSharingOnly\n    require-anonymous-links-expire-in-days 30\n    file-anonymous-link-type view\n    folder-anonymous-link-type view\n    default-sharing-link-type anyone\n",
        );
        let code = "steward::sharepoint::anyone-links-need-anyone-sharing";
        assert_eq!(
            errors,
            [
                (code, Some((3, 5))),
                (code, Some((4, 5))),
                (code, Some((5, 5))),
                (code, Some((6, 5))),
            ]
        );
        // With Anyone sharing they hold; "none" and "no expiry" need nothing.
        assert!(
            sharepoint_errors(
                "    sharing-capability externalUserAndGuestSharing\n    require-anonymous-links-expire-in-days 30\n    file-anonymous-link-type view\n"
            )
            .is_empty()
        );
        assert!(
            sharepoint_errors(
                "    sharing-capability disabled\n    require-anonymous-links-expire-in-days 0\n    file-anonymous-link-type none\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn sharepoint_day_counts_outside_sharepoints_ranges_are_errors() {
        for (line, ok) in [
            ("require-anonymous-links-expire-in-days 731", false),
            ("require-anonymous-links-expire-in-days -1", false),
            ("require-anonymous-links-expire-in-days 730", true),
            ("email-attestation-re-auth-days 0", false),
            ("email-attestation-re-auth-days 366", false),
            ("email-attestation-re-auth-days 365", true),
            ("external-user-expire-in-days 29", false),
            ("external-user-expire-in-days 731", false),
            ("external-user-expire-in-days 30", true),
        ] {
            let errors = sharepoint_errors(&format!("    {line}\n"));
            if ok {
                assert!(errors.is_empty(), "{line}: {errors:?}");
            } else {
                // Located at the value.
                let column = line.find(' ').map(|c| c + 6);
                assert_eq!(
                    errors,
                    [("steward::out-of-range", column.map(|c| (2, c)))],
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn restricted_search_allowed_sites_must_be_sharepoint_site_urls() {
        let errors = sharepoint_errors(
            "    restricted-search-allowed-sites \"https://contoso.sharepoint.com/sites/HR\" \"HR\" \"http://contoso.sharepoint.com/sites/IT\"\n",
        );
        let codes: Vec<&str> = errors.iter().map(|e| e.0).collect();
        assert_eq!(
            codes,
            [
                "steward::sharepoint::not-a-site-url",
                "steward::sharepoint::not-a-site-url"
            ]
        );
    }

    #[test]
    fn sharepoint_settings_are_names_never_enum_integers() {
        let errors = sharepoint_errors("    default-link-permission 1\n");
        assert_eq!(errors.len(), 1);
        assert!(
            sharepoint_errors(
                "    default-sharing-link-type specific-people\n    default-link-permission view\n    unmanaged-device-access limited-access\n    limited-access-file-type web-previewable-files\n    restricted-search-mode enabled\n"
            )
            .is_empty()
        );
    }

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

    fn review_codes(body: &str) -> Vec<&'static str> {
        let loaded = load_str("r.kdl", &format!("access-review \"R\" {{\n{body}}}\n"));
        loaded.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_review_has_one_kind_of_scope_reviewers_that_go_together_and_real_dates() {
        let settings =
            "    settings { recurrence type=weekly interval=1 start-date=\"2027-01-05\"; }\n";
        assert_eq!(
            review_codes(&format!(
                "    scope guests-in=allTeams\n    reviewers group-owners=#true\n{settings}"
            )),
            Vec::<&str>::new()
        );
        assert_eq!(
            review_codes(&format!(
                "    scope guests-in=allTeams {{ groups \"Finance\"; }}\n    reviewers group-owners=#true\n{settings}"
            )),
            ["steward::access-review::scope"]
        );
        assert_eq!(
            review_codes(&format!(
                "    scope {{ groups \"Finance\"; }}\n    reviewers self-review=#true managers=#true\n{settings}"
            )),
            ["steward::access-review::self-review"]
        );
        assert_eq!(
            review_codes(
                "    scope guests-in=allTeams\n    reviewers\n    settings { recurrence type=weekly interval=1 start-date=\"5 Jan\"; }\n"
            ),
            [
                "steward::access-review::no-reviewers",
                "steward::access-review::date"
            ]
        );
    }

    #[test]
    fn auto_applied_deny_by_default_is_a_warning() {
        let codes = review_codes(
            "    scope guests-in=allTeams\n    reviewers group-owners=#true\n    settings {\n        auto-apply-decisions-enabled #true\n        default-decision-enabled #true\n        default-decision Deny\n    }\n",
        );
        assert_eq!(codes, ["steward::access-review::deny-by-default"]);
    }

    fn retention_codes(body: &str) -> Vec<&'static str> {
        let loaded = load_str(
            "labels.kdl",
            &format!(
                "retention-label \"L\" {{\n    behavior-during-retention-period retain\n    retention-duration days=30\n{body}}}\n"
            ),
        );
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code)
            .collect()
    }

    #[test]
    fn date_of_event_without_an_event_type_is_an_error() {
        assert_eq!(
            retention_codes("    retention-trigger dateOfEvent\n"),
            ["steward::retention::event-without-type"]
        );
        assert_eq!(
            retention_codes(
                "    retention-trigger dateOfEvent\n    retention-event-type \"6f7a1b2c-3d4e-4f50-8a61-7b8c9d0e1f20\"\n"
            ),
            Vec::<&str>::new()
        );
        assert_eq!(
            retention_codes(
                "    retention-trigger dateOfEvent\n    retention-event-type \"Employee departure\"\n"
            ),
            ["steward::retention::event-type-not-id"]
        );
        assert_eq!(
            retention_codes(
                "    retention-trigger dateCreated\n    retention-event-type \"6f7a1b2c-3d4e-4f50-8a61-7b8c9d0e1f20\"\n"
            ),
            ["steward::retention::event-type-without-trigger"]
        );
    }

    #[test]
    fn disposition_review_without_stages_is_an_error() {
        assert_eq!(
            retention_codes("    action-after-retention-period startDispositionReview\n"),
            ["steward::retention::review-without-stages"]
        );
        assert_eq!(
            retention_codes(
                "    action-after-retention-period delete\n    disposition-review-stages stage-number=1 name=\"A\" { reviewers-email-addresses \"a@contoso.example\"; }\n"
            ),
            ["steward::retention::stages-without-review"]
        );
    }

    #[test]
    fn review_stages_are_numbered_in_order_and_name_reviewers_by_email() {
        let review = "    action-after-retention-period startDispositionReview\n";
        assert_eq!(
            retention_codes(&format!(
                "{review}    disposition-review-stages stage-number=1 name=\"A\" {{ reviewers-email-addresses \"a@contoso.example\"; }}\n    disposition-review-stages stage-number=2 name=\"B\" {{ reviewers-email-addresses \"b@contoso.example\" \"c@contoso.example\"; }}\n"
            )),
            Vec::<&str>::new()
        );
        assert_eq!(
            retention_codes(&format!(
                "{review}    disposition-review-stages stage-number=1 name=\"A\" {{ reviewers-email-addresses \"a@contoso.example\"; }}\n    disposition-review-stages stage-number=3 name=\"B\" {{ reviewers-email-addresses \"b@contoso.example\"; }}\n"
            )),
            ["steward::retention::stage-number"]
        );
        assert_eq!(
            retention_codes(&format!(
                "{review}    disposition-review-stages stage-number=1 name=\"A\" {{ reviewers-email-addresses \"records team\" \"a@\"; }}\n"
            )),
            [
                "steward::retention::reviewer-email",
                "steward::retention::reviewer-email"
            ]
        );
    }
}
