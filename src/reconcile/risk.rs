//! Risk call-outs: changes that widen access or weaken sign-in, listed first for reviewers.

use serde_json::Value;

use crate::model::Kind;
use crate::model::plan::{Action, ResourceChange, Risk};

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn risk(change: &ResourceChange, code: &str, message: String) -> Risk {
    Risk {
        address: change.address.clone(),
        code: code.to_string(),
        message,
    }
}

/// The risks in a set of resource changes.
pub fn assess(changes: &[ResourceChange]) -> Vec<Risk> {
    let mut out = Vec::new();
    for c in changes {
        match (c.kind, c.action) {
            (Kind::ConditionalAccessPolicy, Action::Delete) => {
                out.push(risk(
                    c,
                    "ca-deleted",
                    "Conditional Access policy deleted: its protection ends".into(),
                ));
            }
            (Kind::NamedLocation, Action::Delete) => {
                out.push(risk(
                    c,
                    "location-deleted",
                    "named location deleted: policies using it change scope".into(),
                ));
            }
            (Kind::ConditionalAccessPolicy, Action::Update | Action::Create) => {
                policy_risks(c, &mut out)
            }
            (Kind::SharepointSettings, Action::Update) => sharing_risks(c, &mut out),
            (Kind::AuthenticationMethodsPolicy, Action::Update | Action::Create) => {
                method_risks(c, &mut out)
            }
            (Kind::SecurityDefaults, Action::Update)
                if c.changes
                    .iter()
                    .any(|f| f.path == "is-enabled" && f.after == Value::Bool(false)) =>
            {
                out.push(risk(
                    c,
                    "security-defaults-off",
                    "security defaults turned off: make sure Conditional Access policies replace them".into(),
                ));
            }
            _ => {}
        }
    }
    out
}

fn policy_risks(c: &ResourceChange, out: &mut Vec<Risk>) {
    for f in &c.changes {
        match f.path.as_str() {
            "state" => {
                let after = text(&f.after);
                if after == "disabled" {
                    out.push(risk(
                        c,
                        "ca-disabled",
                        format!("policy disabled (was {})", text(&f.before)),
                    ));
                } else if after == "enabledForReportingButNotEnforced"
                    && text(&f.before) == "enabled"
                {
                    out.push(risk(
                        c,
                        "ca-report-only",
                        "policy moved from enforced to report-only: it no longer protects".into(),
                    ));
                }
            }
            p if p.starts_with("conditions.") && p.contains(".exclude-") && !f.added.is_empty() => {
                let added: Vec<String> = f.added.iter().map(text).collect();
                out.push(risk(
                    c,
                    "exclusion-added",
                    format!(
                        "exclusions added to {}: {}",
                        p.trim_start_matches("conditions."),
                        added.join(", ")
                    ),
                ));
            }
            "grant-controls.built-in-controls" => {
                for removed in &f.removed {
                    if matches!(
                        text(removed).as_str(),
                        "mfa" | "block" | "compliantDevice" | "passwordChange"
                    ) {
                        out.push(risk(
                            c,
                            "weaker-grant",
                            format!("grant control {} removed", text(removed)),
                        ));
                    }
                }
            }
            "grant-controls.operator" if text(&f.after) == "OR" && text(&f.before) == "AND" => {
                out.push(risk(
                    c,
                    "weaker-grant",
                    "grant operator changed from AND to OR: one control now suffices".into(),
                ));
            }
            "grant-controls.authentication-strength" if f.after.is_null() => {
                out.push(risk(
                    c,
                    "weaker-grant",
                    "authentication strength requirement removed".into(),
                ));
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

fn sharing_risks(c: &ResourceChange, out: &mut Vec<Risk>) {
    for f in &c.changes {
        match f.path.as_str() {
            "sharing-capability" if breadth(&f.after) > breadth(&f.before) => {
                out.push(risk(
                    c,
                    "sharing-widened",
                    format!(
                        "external sharing widened from {} to {}",
                        text(&f.before),
                        text(&f.after)
                    ),
                ));
            }
            "sharing-domain-restriction-mode" if text(&f.after) == "none" => {
                out.push(risk(
                    c,
                    "sharing-widened",
                    "sharing no longer limited by domain".into(),
                ));
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
                out.push(risk(
                    c,
                    "sharing-widened",
                    format!("sharing allowed with more domains: {}", added.join(", ")),
                ));
            }
            "is-resharing-by-external-users-enabled" if f.after == Value::Bool(true) => {
                out.push(risk(
                    c,
                    "sharing-widened",
                    "guests may now reshare content".into(),
                ));
            }
            _ => {}
        }
    }
}

fn method_risks(c: &ResourceChange, out: &mut Vec<Risk>) {
    for method in ["sms", "voice", "email"] {
        let enabled_now = c
            .after
            .as_ref()
            .and_then(|a| a.get(method))
            .and_then(|m| m.get("state"))
            .and_then(Value::as_str)
            == Some("enabled");
        let was_enabled = c
            .before
            .as_ref()
            .and_then(|b| b.get(method))
            .and_then(|m| m.get("state"))
            .and_then(Value::as_str)
            == Some("enabled");
        if enabled_now && !was_enabled {
            out.push(risk(
                c,
                "phishable-method",
                format!("{method} enabled: a phishable sign-in method"),
            ));
        }
    }
}
