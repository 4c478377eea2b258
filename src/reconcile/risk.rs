//! Risk call-outs: changes that widen access or weaken sign-in, listed first for reviewers.
//!
//! One vocabulary judges both directions. A plan's change runs from the tenant (before) to the
//! files (after): that is what apply would do. Drift runs the other way, from what the files
//! say to what the tenant now has: the same change inverted. Each rule looks at a transition
//! from an old state to a new one and never needs to know which.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::plan::{Action, Direction, FieldChange, ResourceChange, Risk};
use crate::model::{Desired, Kind};

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Collects the risks of one transition.
struct Found<'a> {
    change: &'a ResourceChange,
    direction: Direction,
    out: &'a mut Vec<Risk>,
}

impl Found<'_> {
    fn push(&mut self, code: &str, path: Option<&str>, message: String) {
        self.out.push(Risk {
            address: self.change.address.clone(),
            code: code.to_string(),
            message,
            direction: self.direction,
            path: path.map(String::from),
        });
    }
}

/// The same change seen from the other side: old and new swapped, a create (a declared object
/// the tenant lacks) becomes a delete (it was deleted outside steward), and a delete (an
/// undeclared object in a prune scope) a create.
pub fn invert(change: &ResourceChange) -> ResourceChange {
    ResourceChange {
        address: change.address.clone(),
        kind: change.kind,
        name: change.name.clone(),
        id: change.id.clone(),
        unchanged: change.unchanged,
        ignored: change.ignored.clone(),
        staged: change.staged,
        action: match change.action {
            Action::Create => Action::Delete,
            Action::Delete => Action::Create,
            other => other,
        },
        before: change.after.clone(),
        after: change.before.clone(),
        changes: change
            .changes
            .iter()
            .map(|f| FieldChange {
                path: f.path.clone(),
                pointer: f.pointer.clone(),
                before: f.after.clone(),
                after: f.before.clone(),
                added: f.removed.clone(),
                removed: f.added.clone(),
            })
            .collect(),
    }
}

/// The risks in a set of resource changes, read in `direction`.
pub fn assess(changes: &[ResourceChange], direction: Direction) -> Vec<Risk> {
    // Borrowed where the transition is the change itself: a plan of a thousand unchanged
    // resources must not copy a thousand JSON documents to find no risk.
    let transitions: Vec<Cow<ResourceChange>> = match direction {
        Direction::Apply => changes.iter().map(Cow::Borrowed).collect(),
        Direction::Drift => changes
            .iter()
            .map(|c| match c.action {
                Action::NoOp if c.ignored.is_empty() => Cow::Borrowed(c),
                _ => Cow::Owned(invert(c)),
            })
            .collect(),
    };
    let mut out = Vec::new();
    for c in &transitions {
        let c: &ResourceChange = c;
        let mut found = Found {
            change: c,
            direction,
            out: &mut out,
        };
        let changed = matches!(c.action, Action::Update | Action::Create | Action::Replace);
        let deleted = c.action == Action::Delete;
        // Every kind is listed: a new kind must say whether it has risk rules.
        match c.kind {
            Kind::ConditionalAccessPolicy if deleted => found.push(
                "ca-deleted",
                None,
                "Conditional Access policy deleted: its protection ends".into(),
            ),
            Kind::ConditionalAccessPolicy if changed => policy_risks(&mut found),
            Kind::NamedLocation if deleted => found.push(
                "location-deleted",
                None,
                "named location deleted: policies using it change scope".into(),
            ),
            Kind::AuthenticationStrength if deleted => found.push(
                "strength-deleted",
                None,
                "authentication strength deleted: policies requiring it change".into(),
            ),
            Kind::SharepointSettings if changed => sharing_risks(&mut found),
            Kind::AuthenticationMethodsPolicy if changed => method_risks(&mut found),
            Kind::AuthorizationPolicy if changed => authorization_risks(&mut found),
            Kind::SecurityDefaults
                if changed
                    && c.changes
                        .iter()
                        .any(|f| f.path == "is-enabled" && f.after == Value::Bool(false))
                    && !transitions.iter().any(|t| requires_mfa_of_everyone(t)) =>
            {
                found.push(
                    "security-defaults-off",
                    Some("is-enabled"),
                    "security defaults turned off with no enabled Conditional Access policy requiring MFA of all users taking over".into(),
                );
            }
            Kind::CrossTenantAccess | Kind::CrossTenantPartner if changed => {
                cross_tenant_risks(&mut found)
            }
            Kind::AccessReview if deleted => found.push(
                "review-deleted",
                None,
                "access review deleted: guests are no longer reviewed and its history is gone"
                    .into(),
            ),
            Kind::AccessReview if changed => review_risks(&mut found),
            Kind::ConditionalAccessPolicy
            | Kind::NamedLocation
            | Kind::AuthenticationStrength
            | Kind::SharepointSettings
            | Kind::AuthenticationMethodsPolicy
            | Kind::AuthorizationPolicy
            | Kind::SecurityDefaults
            | Kind::RetentionLabel
            | Kind::CrossTenantAccess
            | Kind::CrossTenantPartner
            | Kind::AccessReview
            | Kind::EmergencyAccess
            | Kind::CheckException
            | Kind::Prune => {}
        }
    }
    out
}

/// True when the transition leaves an enabled policy that demands MFA (or a strength) of all
/// users: what takes over from security defaults.
fn requires_mfa_of_everyone(c: &ResourceChange) -> bool {
    if c.kind != Kind::ConditionalAccessPolicy || c.action == Action::Delete {
        return false;
    }
    let Some(after) = &c.after else { return false };
    let enabled = after.get("state").and_then(Value::as_str) == Some("enabled");
    let all = after
        .pointer("/conditions/users/includeUsers")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|u| text(u).eq_ignore_ascii_case("all")));
    let grant = after.get("grantControls");
    let mfa = grant
        .and_then(|g| g.get("builtInControls"))
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|x| text(x) == "mfa"))
        || grant
            .and_then(|g| g.get("authenticationStrength"))
            .is_some_and(|s| !s.is_null());
    enabled && all && mfa
}

/// How strong a built-in authentication strength is (custom ones are not ranked).
fn strength_rank(value: &Value) -> Option<u8> {
    match text(value).to_ascii_lowercase().as_str() {
        "00000000-0000-0000-0000-000000000002" => Some(1),
        "00000000-0000-0000-0000-000000000003" => Some(2),
        "00000000-0000-0000-0000-000000000004" => Some(3),
        _ => None,
    }
}

fn policy_risks(found: &mut Found<'_>) {
    let c = found.change;
    for f in &c.changes {
        let path = Some(f.path.as_str());
        match f.path.as_str() {
            "state" => {
                let after = text(&f.after);
                if after == "disabled" {
                    found.push(
                        "ca-disabled",
                        path,
                        format!("policy disabled (was {})", text(&f.before)),
                    );
                } else if after == "enabledForReportingButNotEnforced"
                    && text(&f.before) == "enabled"
                {
                    found.push(
                        "ca-report-only",
                        path,
                        "policy moved from enforced to report-only: it no longer protects".into(),
                    );
                }
            }
            p if p.starts_with("conditions.") && p.contains(".exclude-") && !f.added.is_empty() => {
                let added: Vec<String> = f.added.iter().map(text).collect();
                found.push(
                    "exclusion-added",
                    path,
                    format!(
                        "exclusions added to {}: {}",
                        p.trim_start_matches("conditions."),
                        added.join(", ")
                    ),
                );
            }
            "grant-controls.built-in-controls" => {
                for removed in &f.removed {
                    if matches!(
                        text(removed).as_str(),
                        "mfa"
                            | "block"
                            | "compliantDevice"
                            | "domainJoinedDevice"
                            | "approvedApplication"
                            | "compliantApplication"
                            | "passwordChange"
                    ) {
                        found.push(
                            "weaker-grant",
                            path,
                            format!("grant control {} removed", text(removed)),
                        );
                    }
                }
            }
            "grant-controls.operator" if text(&f.after) == "OR" && text(&f.before) == "AND" => {
                found.push(
                    "weaker-grant",
                    path,
                    "grant operator changed from AND to OR: one control now suffices".into(),
                );
            }
            "grant-controls.authentication-strength" if f.after.is_null() => {
                found.push(
                    "weaker-grant",
                    path,
                    "authentication strength requirement removed".into(),
                );
            }
            "grant-controls.authentication-strength" => {
                if let (Some(before), Some(after)) =
                    (strength_rank(&f.before), strength_rank(&f.after))
                    && after < before
                {
                    found.push(
                        "weaker-grant",
                        path,
                        "a weaker authentication strength is required".into(),
                    );
                }
            }
            _ => {}
        }
    }
}

fn breadth(value: &Value) -> u8 {
    match text(value).as_str() {
        "disabled" => 0,
        "existingExternalUserSharingOnly" => 1,
        "externalUserSharingOnly" => 2,
        "externalUserAndGuestSharing" => 3,
        _ => 0,
    }
}

fn sharing_risks(found: &mut Found<'_>) {
    let c = found.change;
    for f in &c.changes {
        let path = Some(f.path.as_str());
        match f.path.as_str() {
            "sharing-capability" if breadth(&f.after) > breadth(&f.before) => {
                found.push(
                    "sharing-widened",
                    path,
                    format!(
                        "external sharing widened from {} to {}",
                        text(&f.before),
                        text(&f.after)
                    ),
                );
            }
            "sharing-domain-restriction-mode" if text(&f.after) == "none" => {
                found.push(
                    "sharing-widened",
                    path,
                    "sharing no longer limited by domain".into(),
                );
            }
            // Adding domains to an allow-list widens sharing; introducing the allow-list itself
            // (mode changing to allowList in the same change) narrows it.
            "sharing-allowed-domain-list"
                if !f.added.is_empty()
                    && !c
                        .changes
                        .iter()
                        .any(|m| m.path == "sharing-domain-restriction-mode") =>
            {
                let added: Vec<String> = f.added.iter().map(text).collect();
                found.push(
                    "sharing-widened",
                    path,
                    format!("sharing allowed with more domains: {}", added.join(", ")),
                );
            }
            "is-resharing-by-external-users-enabled" if f.after == Value::Bool(true) => {
                found.push(
                    "sharing-widened",
                    path,
                    "guests may now reshare content".into(),
                );
            }
            _ => sharepoint_admin_risk(found, f),
        }
    }
}

/// The risks of SharePoint's own settings (those outside Graph).
fn sharepoint_admin_risk(found: &mut Found<'_>, f: &FieldChange) {
    let path = Some(f.path.as_str());
    let (before, after) = (text(&f.before), text(&f.after));
    // How far a default link reaches (SharePoint's "none" behaves as organization).
    let reach = |v: &str| match v {
        "specific-people" => 1,
        "anyone" => 3,
        _ => 2,
    };
    // What an Anyone link allows.
    let power = |v: &str| match v {
        "edit" => 2,
        "view" => 1,
        _ => 0,
    };
    match f.path.as_str() {
        "core-sharing-capability" | "one-drive-sharing-capability"
            if breadth(&f.after) > breadth(&f.before) =>
        {
            let which = if f.path.starts_with("core") {
                "SharePoint sites'"
            } else {
                "OneDrive's"
            };
            found.push(
                "sharing-widened",
                path,
                format!("{which} external sharing widened from {before} to {after}"),
            );
        }
        "default-sharing-link-type" if reach(&after) > reach(&before) => found.push(
            "sharing-widened",
            path,
            format!("the default sharing link widened from {before} to {after}"),
        ),
        "default-link-permission" if after == "edit" && before == "view" => found.push(
            "links-editable",
            path,
            "new sharing links now let their holders edit by default".into(),
        ),
        "file-anonymous-link-type" | "folder-anonymous-link-type"
            if power(&after) > power(&before) && after == "edit" =>
        {
            found.push(
                "anyone-links-editable",
                path,
                format!(
                    "Anyone links to {} may now edit",
                    if f.path.starts_with("file") { "files" } else { "folders" }
                ),
            );
        }
        "require-anonymous-links-expire-in-days" => {
            let days = |v: &Value| v.as_i64().unwrap_or(0);
            let (old, new) = (days(&f.before), days(&f.after));
            if old > 0 && (new == 0 || new > old) {
                let lives = if new == 0 {
                    "never expire".to_string()
                } else {
                    format!("live {new} days instead of {old}")
                };
                found.push(
                    "anyone-links-longer-lived",
                    path,
                    format!("Anyone links now {lives}"),
                );
            }
        }
        "external-user-expiration-required" if f.before == Value::Bool(true) && f.after == Value::Bool(false) => {
            found.push(
                "guest-expiry-removed",
                path,
                "guests no longer lose access to sites after a set time".into(),
            );
        }
        "unmanaged-device-access" if after == "full-access" && !before.is_empty() && before != "null" => found.push(
            "unmanaged-devices-full-access",
            path,
            format!("unmanaged devices given full access (was {before})"),
        ),
        "restricted-search-mode" if before == "enabled" && after == "disabled" => found.push(
            "search-restriction-off",
            path,
            "Restricted SharePoint Search turned off: search and Copilot see every site users can open".into(),
        ),
        _ => {}
    }
}

fn method_state(side: Option<&Value>, method: &str) -> Option<String> {
    side?
        .get(method)?
        .get("state")?
        .as_str()
        .map(str::to_string)
}

fn method_risks(found: &mut Found<'_>) {
    let c = found.change;
    let (before, after) = (c.before.as_ref(), c.after.as_ref());
    for (method, kdl) in [("sms", "sms"), ("voice", "voice"), ("email", "email")] {
        if method_state(after, method).as_deref() == Some("enabled")
            && method_state(before, method).as_deref() != Some("enabled")
        {
            found.push(
                "phishable-method",
                Some(&format!("{kdl}.state")),
                format!("{kdl} enabled: a phishable sign-in method"),
            );
        }
    }
    for (method, kdl) in [
        ("fido2", "fido2"),
        ("microsoftAuthenticator", "microsoft-authenticator"),
        ("x509Certificate", "x509-certificate"),
    ] {
        if method_state(before, method).as_deref() == Some("enabled")
            && method_state(after, method).as_deref() == Some("disabled")
        {
            found.push(
                "strong-method-disabled",
                Some(&format!("{kdl}.state")),
                format!("{kdl} disabled: a phishing-resistant or strong sign-in method is gone"),
            );
        }
    }
}

fn invite_breadth(value: &Value) -> u8 {
    match text(value).as_str() {
        "none" => 0,
        "adminsAndGuestInviters" => 1,
        "adminsGuestInvitersAndAllMembers" => 2,
        "everyone" => 3,
        _ => 0,
    }
}

/// How much user consent a list of permission grant policies allows: none, low-risk apps
/// (Microsoft's `…-low` or a custom policy), or any app (`…-legacy`).
fn consent_breadth(value: &Value) -> u8 {
    let Some(list) = value.as_array() else {
        return 0;
    };
    list.iter()
        .map(|p| {
            let p = text(p).to_ascii_lowercase();
            if !p.starts_with("managepermissiongrantsforself.") {
                0
            } else if p.ends_with("microsoft-user-default-legacy") {
                2
            } else {
                1
            }
        })
        .max()
        .unwrap_or(0)
}

/// Guest roles from most restricted to member-like.
fn guest_breadth(value: &Value) -> u8 {
    match text(value).to_ascii_lowercase().as_str() {
        "2af84b1e-32c8-42b7-82bc-daa82404023b" => 0,
        "10dae51f-b6af-4016-8d66-8c2a99b929b3" => 1,
        "a0b1b346-4d3e-4e8b-98f8-753987be4970" => 2,
        _ => 1,
    }
}

fn authorization_risks(found: &mut Found<'_>) {
    let c = found.change;
    for f in &c.changes {
        let path = Some(f.path.as_str());
        let turned_on = f.after == Value::Bool(true) && f.before != Value::Bool(true);
        match f.path.as_str() {
            "allow-invites-from" if invite_breadth(&f.after) > invite_breadth(&f.before) => {
                found.push(
                    "invites-widened",
                    path,
                    format!(
                        "more people may invite guests: {} (was {})",
                        text(&f.after),
                        text(&f.before)
                    ),
                );
            }
            "guest-user-role-id" if guest_breadth(&f.after) > guest_breadth(&f.before) => {
                found.push(
                    "guest-access-widened",
                    path,
                    "guests get a less restricted directory role".into(),
                );
            }
            "allow-user-consent-for-risky-apps" if turned_on => found.push(
                "consent-loosened",
                path,
                "users may consent to risky applications".into(),
            ),
            "default-user-role-permissions.permission-grant-policies-assigned"
                if consent_breadth(&f.after) > consent_breadth(&f.before) =>
            {
                let added: Vec<String> = f.added.iter().map(text).collect();
                found.push(
                    "consent-loosened",
                    path,
                    format!(
                        "users may consent to more applications: {}",
                        added.join(", ")
                    ),
                );
            }
            "default-user-role-permissions.allowed-to-create-apps" if turned_on => found.push(
                "users-create-apps",
                path,
                "users may register applications".into(),
            ),
            "default-user-role-permissions.allowed-to-create-tenants" if turned_on => found.push(
                "users-create-tenants",
                path,
                "users may create tenants".into(),
            ),
            "default-user-role-permissions.allowed-to-create-security-groups" if turned_on => found
                .push(
                    "users-create-groups",
                    path,
                    "users may create security groups".into(),
                ),
            "allow-email-verified-users-to-join-organization" if turned_on => found.push(
                "self-service-join",
                path,
                "anyone with a verified email address may join the organisation".into(),
            ),
            "allowed-to-sign-up-email-based-subscriptions" if turned_on => found.push(
                "self-service-join",
                path,
                "users may sign up for email-based subscriptions".into(),
            ),
            _ => {}
        }
    }
}

/// Access reviews: replaced (running reviews end), decisions no longer applied, unanswered
/// reviews approved.
fn review_risks(found: &mut Found<'_>) {
    let c = found.change;
    if c.action == Action::Replace {
        found.push(
            "review-replaced",
            None,
            format!(
                "access review replaced because {} changed: running reviews end and their decisions are lost",
                c.forcing_replacement().join(", ")
            ),
        );
    }
    let before = with_changes(c.before.as_ref(), &c.changes, |f| &f.before);
    let after = with_changes(c.after.as_ref(), &c.changes, |f| &f.after);
    let setting = |side: &Value, key: &str| side.pointer(&format!("/settings/{key}")).cloned();
    let on = |side: &Value| setting(side, "autoApplyDecisionsEnabled") == Some(Value::Bool(true));
    if on(&before) && !on(&after) {
        found.push(
            "review-auto-apply-off",
            Some("settings.auto-apply-decisions-enabled"),
            "access review decisions are no longer applied: denied guests keep their access".into(),
        );
    }
    let approves = |side: &Value| {
        setting(side, "defaultDecision").is_some_and(|d| text(&d).eq_ignore_ascii_case("approve"))
    };
    if approves(&after) && !approves(&before) {
        found.push(
            "review-default-approve",
            Some("settings.default-decision"),
            "guests nobody reviews are now approved".into(),
        );
    }
}

/// One side of a transition: its object with each field change's value for that side set at
/// the change's pointer.
fn with_changes(
    base: Option<&Value>,
    changes: &[FieldChange],
    side: impl Fn(&FieldChange) -> &Value,
) -> Value {
    let mut out = base
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    for change in changes {
        let mut slot = &mut out;
        for key in change.pointer.trim_start_matches('/').split('/') {
            if !slot.is_object() {
                *slot = Value::Object(Default::default());
            }
            let Value::Object(map) = slot else { break };
            slot = map.entry(key.to_string()).or_insert(Value::Null);
        }
        *slot = side(change).clone();
    }
    out
}

/// True when `side`'s settings block `block` allows every user (`All`).
fn open_to_all_users(side: Option<&Value>, block: &str) -> bool {
    let Some(config) = side
        .and_then(|s| s.get(block))
        .and_then(|b| b.get("usersAndGroups"))
    else {
        return false;
    };
    config.get("accessType").and_then(Value::as_str) == Some("allowed")
        && config
            .get("users")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|u| text(u).eq_ignore_ascii_case("all")))
}

/// Cross-tenant access: B2B collaboration or direct connect opened to every user (of every
/// organisation, for the default configuration), and MFA done elsewhere trusted.
fn cross_tenant_risks(found: &mut Found<'_>) {
    let c = found.change;
    // A partner is owned whole: a setting its file leaves out shows only as a field change.
    let before = with_changes(c.before.as_ref(), &c.changes, |f| &f.before);
    let after = with_changes(c.after.as_ref(), &c.changes, |f| &f.after);
    let (before, after) = (Some(&before), Some(&after));
    let whom = match c.kind {
        Kind::CrossTenantPartner => format!(
            "every user of partner {}",
            c.name.as_deref().unwrap_or_default()
        ),
        _ => "every user of every other organisation".to_string(),
    };
    for (block, kdl, what) in [
        (
            "b2bCollaborationInbound",
            "b2b-collaboration-inbound",
            "B2B collaboration into this tenant",
        ),
        (
            "b2bCollaborationOutbound",
            "b2b-collaboration-outbound",
            "B2B collaboration out of this tenant",
        ),
        (
            "b2bDirectConnectInbound",
            "b2b-direct-connect-inbound",
            "B2B direct connect into this tenant",
        ),
        (
            "b2bDirectConnectOutbound",
            "b2b-direct-connect-outbound",
            "B2B direct connect out of this tenant",
        ),
    ] {
        if open_to_all_users(after, block) && !open_to_all_users(before, block) {
            let who = if block.ends_with("Inbound") {
                whom.clone()
            } else {
                "every user of this tenant".to_string()
            };
            found.push(
                "collaboration-opened",
                Some(&format!("{kdl}.users-and-groups")),
                format!("{what} opened to {who}"),
            );
        }
    }
    let mfa = |side: Option<&Value>| {
        side.and_then(|s| s.pointer("/inboundTrust/isMfaAccepted")) == Some(&Value::Bool(true))
    };
    if mfa(after) && !mfa(before) {
        let whose = match c.kind {
            Kind::CrossTenantPartner => {
                format!("partner {}", c.name.as_deref().unwrap_or_default())
            }
            _ => "every other organisation".to_string(),
        };
        found.push(
            "mfa-trust-granted",
            Some("inbound-trust.is-mfa-accepted"),
            format!("MFA done in {whose} now satisfies this tenant's MFA requirements"),
        );
    }
}

/// Enabled Conditional Access policies in the tenant that nothing declares and that block or
/// demand controls for all users or admin roles without excluding every emergency-access
/// account: a lockout made outside steward (drift only; nothing when no emergency-access
/// account is declared). `live` and `emergency_users` are in ids; `unmanaged_ids` are the ids
/// of the tenant's undeclared objects.
pub fn outside_lockouts(
    live: &Desired,
    unmanaged_ids: &[String],
    emergency_users: &[String],
) -> Vec<Risk> {
    let mut out = Vec::new();
    // Without declared emergency-access accounts there is nothing to judge a lockout by.
    if emergency_users.is_empty() {
        return out;
    }
    for policy in &live.conditional_access_policies {
        let json = serde_json::to_value(policy).unwrap_or_default();
        let id = json.get("id").and_then(Value::as_str).unwrap_or_default();
        if !unmanaged_ids.iter().any(|u| u.eq_ignore_ascii_case(id)) {
            continue;
        }
        if json.get("state").and_then(Value::as_str) != Some("enabled") {
            continue;
        }
        let list = |pointer: &str| -> Vec<String> {
            json.pointer(pointer)
                .and_then(Value::as_array)
                .map(|l| l.iter().map(|v| text(v).to_ascii_lowercase()).collect())
                .unwrap_or_default()
        };
        let grant = json.get("grantControls");
        let demands = grant
            .and_then(|g| g.get("builtInControls"))
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty())
            || grant
                .and_then(|g| g.get("authenticationStrength"))
                .is_some_and(|s| !s.is_null());
        let broad = list("/conditions/users/includeUsers").contains(&"all".to_string())
            || !list("/conditions/users/includeRoles").is_empty();
        let excluded = list("/conditions/users/excludeUsers");
        let missing: Vec<&String> = emergency_users
            .iter()
            .filter(|u| !excluded.contains(&u.to_ascii_lowercase()))
            .collect();
        if demands && broad && !missing.is_empty() {
            let name = json
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            out.push(Risk {
                address: format!("conditional-access-policy {name:?}"),
                code: "lockout-outside-steward".into(),
                message: "an enabled policy nobody declares applies to all users or admin roles without excluding every emergency-access account: it could lock every administrator out".into(),
                direction: Direction::Drift,
                path: Some("conditions.users.exclude-users".into()),
            });
        }
    }
    out
}
