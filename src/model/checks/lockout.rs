//! The lockout guard's rule: the emergency-access ("break-glass") accounts must still be able
//! to sign in.
//!
//! For every enabled Conditional Access policy that blocks or demands controls of member users
//! (all users, users, groups or roles), each emergency-access account must be excluded —
//! directly, or through an excluded group that holds it — and must not be included by name,
//! unless the policy carries a `lockout-waiver` with a reason. The authentication methods
//! policy must leave each account at least one method. `emergency-access` itself must name
//! users, and groups holding only those users.
//!
//! The rule is a pure function of what it is given: policies (as declared, for `validate`, or
//! as apply would leave them, for `plan` and `apply`) and what is known of the directory. With
//! the files alone, what only the tenant can answer (is this id that UPN? who is in this
//! group?) is left undecided rather than guessed, and listed so that validate can say so.

use std::collections::HashMap;

use crate::model::authentication_methods::{AuthenticationMethodsPolicy, MethodState, TargetType};
use crate::model::conditional_access::{ConditionalAccessPolicy, PolicyState};
use crate::model::reference::{RefTarget, is_guid};
use crate::model::{Address, EmergencyAccess, Finding, Kind, Severity};

/// What a directory object is, as far as the guard cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectType {
    /// A user.
    User,
    /// A group.
    Group,
    /// Anything else (device, service principal, contact, …), by its Graph type name.
    Other(String),
}

/// One transitive member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// Its object id, lower case.
    pub id: String,
    /// What it is.
    pub kind: ObjectType,
}

/// What the guard knows of the directory.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// True when references are the tenant's ids and the facts below were read from it
    /// (`plan`, `apply`); false when only the files are known (`validate`).
    pub read: bool,
    /// Transitive members of every group the judged objects refer to, by lowercase group id.
    pub members: HashMap<String, Vec<GroupMember>>,
    /// What each `emergency-access` entry is, by lowercase id.
    pub types: HashMap<String, ObjectType>,
    /// Names (UPNs for users) by lowercase id, for messages.
    pub names: HashMap<String, String>,
}

/// Where a judged object comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Declared in the files: its waiver counts, and findings point at the file.
    Declared,
    /// Only in the tenant: apply leaves it as it is.
    TenantOnly,
}

/// A Conditional Access policy as the guard judges it.
#[derive(Debug, Clone)]
pub struct JudgedPolicy {
    /// The policy (with its waiver when declared).
    pub policy: ConditionalAccessPolicy,
    /// Where it comes from.
    pub provenance: Provenance,
    /// Its id in the tenant, when it exists there.
    pub id: Option<String>,
}

/// Everything the rule judges.
#[derive(Debug, Clone, Copy)]
pub struct LockoutInput<'a> {
    /// The declared emergency-access accounts (ids once resolved against a tenant).
    pub emergency: Option<&'a EmergencyAccess>,
    /// The policies.
    pub policies: &'a [JudgedPolicy],
    /// The authentication methods policy, and where it comes from.
    pub methods: Option<(&'a AuthenticationMethodsPolicy, Provenance)>,
    /// What is known of the directory.
    pub directory: &'a Directory,
}

/// One problem the guard found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutFinding {
    /// The object at fault (a policy, `emergency-access`, the methods policy).
    pub address: Address,
    /// Whether the files declare it.
    pub provenance: Provenance,
    /// Its id in the tenant, when known.
    pub id: Option<String>,
    /// What is wrong, where (JSON pointer into the object) and what to do.
    pub finding: Finding,
}

/// The guard's verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockoutReport {
    /// Problems: errors when the directory was read, warnings when judged from files alone.
    pub findings: Vec<LockoutFinding>,
    /// What the files alone cannot decide, one sentence each (validate's note).
    pub undecided: Vec<String>,
}

impl LockoutReport {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The help every lockout finding on a policy ends with.
const POLICY_HELP: &str = "add every emergency-access account to exclude-users (or exclude a group holding only them) and keep them out of include-users, or add lockout-waiver \"<reason>\" to the policy; exclude-roles does not count, as steward does not read role assignments";

/// The help of a lockout finding on a policy only the tenant holds.
const TENANT_POLICY_HELP: &str = "the files do not declare this policy, and apply would leave it as it is: exclude the emergency-access accounts from it in the portal, or declare it in the files (`steward export` writes it) with the exclusions or a lockout-waiver \"<reason>\"";

/// A three-valued answer: yes, no, or not knowable from what the guard was given.
type Tri = Option<bool>;

fn any(values: impl IntoIterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for v in values {
        match v {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    if unknown { None } else { Some(false) }
}

/// An emergency-access account as the guard tracks it: its lowercase id (tenant) or the text
/// the files give (UPN or id).
type Account = String;

struct Judge<'a> {
    directory: &'a Directory,
    /// Declared emergency groups (lowercase, as written or ids).
    groups: Vec<String>,
    /// Declared emergency users (lowercase).
    users: Vec<String>,
}

impl Judge<'_> {
    fn shown(&self, key: &str) -> String {
        self.directory
            .names
            .get(&key.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    fn account_shown(&self, account: &Account) -> String {
        self.shown(account)
    }

    /// Whether two references name the same object.
    fn same(&self, a: &str, b: &str) -> Tri {
        if self.directory.read || is_guid(a) == is_guid(b) {
            Some(a.eq_ignore_ascii_case(b))
        } else {
            // A UPN and an id: only the tenant can tell.
            None
        }
    }

    /// Whether `group` holds `account`.
    fn holds(&self, group: &str, account: &Account) -> Tri {
        if self.directory.read {
            return self
                .directory
                .members
                .get(&group.to_ascii_lowercase())
                .map(|members| {
                    members
                        .iter()
                        .any(|m| m.kind == ObjectType::User && m.id.eq_ignore_ascii_case(account))
                });
        }
        // Files only: a declared emergency group is taken to hold the declared accounts (plan
        // checks that it does); any other group's members are unknown.
        match any(self.groups.iter().map(|g| self.same(g, group))) {
            Some(true) => Some(true),
            _ => None,
        }
    }

    /// Whether a user reference names `account`.
    fn is_account(&self, user: &str, account: &Account) -> Tri {
        self.same(account, user)
    }
}

/// Judges `input`: every problem that could keep the emergency-access accounts out.
pub fn judge(input: &LockoutInput) -> LockoutReport {
    let directory = input.directory;
    let severity = if directory.read {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut report = LockoutReport::default();
    let emergency_address = Address::singleton(Kind::EmergencyAccess);
    let declared_users: Vec<(usize, &RefTarget)> = input
        .emergency
        .map(|e| e.user.iter().map(|u| &u.0).enumerate().collect())
        .unwrap_or_default();
    let declared_groups: Vec<(usize, &RefTarget)> = input
        .emergency
        .map(|e| e.group.iter().map(|g| &g.0).enumerate().collect())
        .unwrap_or_default();
    let mut judge = Judge {
        directory,
        groups: Vec::new(),
        users: Vec::new(),
    };
    let emergency_error =
        |pointer: String, code: &'static str, message: String, help: &str| LockoutFinding {
            address: emergency_address.clone(),
            provenance: Provenance::Declared,
            id: None,
            finding: Finding {
                severity: Severity::Error,
                code,
                pointer,
                message,
                help: help.to_string(),
            },
        };

    // The accounts, and what is wrong with their declaration.
    let mut accounts: Vec<Account> = Vec::new();
    for (i, user) in &declared_users {
        let text = user.as_str().to_ascii_lowercase();
        if let RefTarget::Special(s) = user {
            report.findings.push(emergency_error(
                format!("/user/{i}"),
                "steward::emergency-access::not-a-user",
                format!("emergency-access user {s} is not an account"),
                "list each break-glass account by its UPN or object id",
            ));
            continue;
        }
        if directory.read {
            match directory.types.get(&text) {
                Some(ObjectType::User) => {}
                other => {
                    let what = match other {
                        Some(ObjectType::Group) => "a group".to_string(),
                        Some(ObjectType::Other(t)) => format!("a {t}"),
                        _ => "not a user of the tenant".to_string(),
                    };
                    report.findings.push(emergency_error(
                        format!("/user/{i}"),
                        "steward::emergency-access::not-a-user",
                        format!(
                            "emergency-access user {} is {what}, not a break-glass user account",
                            judge.shown(&text)
                        ),
                        "list the break-glass user accounts themselves (a group of them goes in `group`)",
                    ));
                    continue;
                }
            }
        }
        judge.users.push(text.clone());
        accounts.push(text);
    }
    for (j, group) in &declared_groups {
        let text = group.as_str().to_ascii_lowercase();
        if directory.read {
            match directory.types.get(&text) {
                Some(ObjectType::Group) => {}
                other => {
                    let what = match other {
                        Some(ObjectType::User) => "a user".to_string(),
                        Some(ObjectType::Other(t)) => format!("a {t}"),
                        _ => "not a group of the tenant".to_string(),
                    };
                    report.findings.push(emergency_error(
                        format!("/group/{j}"),
                        "steward::emergency-access::not-a-group",
                        format!(
                            "emergency-access group {} is {what}",
                            judge.shown(&text)
                        ),
                        "name a group holding only the break-glass accounts (an account goes in `user`)",
                    ));
                    continue;
                }
            }
            let members = directory.members.get(&text).cloned().unwrap_or_default();
            let mut strangers = Vec::new();
            for m in &members {
                match &m.kind {
                    ObjectType::User => {
                        if !judge.users.contains(&m.id) {
                            strangers.push(judge.shown(&m.id));
                        }
                    }
                    // A nested group's own members are listed too: that is what is checked.
                    ObjectType::Group => {}
                    ObjectType::Other(t) => strangers.push(format!("{t} {}", judge.shown(&m.id))),
                }
            }
            if !strangers.is_empty() {
                report.findings.push(emergency_error(
                    format!("/group/{j}"),
                    "steward::emergency-access::group-holds-others",
                    format!(
                        "emergency-access group {} holds {} besides the declared emergency-access users: {}",
                        judge.shown(&text),
                        if strangers.len() == 1 { "a member" } else { "members" },
                        strangers.join(", ")
                    ),
                    "an emergency-access group must hold only the break-glass accounts (excluding it excludes everyone in it): remove the others from the group, or declare them as emergency-access users if they are break-glass accounts",
                ));
            }
        }
        judge.groups.push(text);
    }
    if declared_users.is_empty() && !declared_groups.is_empty() {
        // A group is checked against the accounts; it cannot stand for them, or anyone added
        // to it would become a break-glass account.
        report.findings.push(emergency_error(
            "/group/0".into(),
            "steward::emergency-access::group-without-users",
            "emergency-access names a group but no user: steward checks each group against the declared accounts".into(),
            "list the break-glass accounts themselves (user \"breakglass1@…\"); keep the group, which must hold only them",
        ));
    }
    let none_declared = declared_users.is_empty() && declared_groups.is_empty();

    for judged in input.policies {
        judge_policy(
            &judge,
            judged,
            &accounts,
            none_declared,
            severity,
            &mut report,
        );
    }
    if let Some((methods, provenance)) = input.methods {
        judge_methods(
            &judge,
            methods,
            provenance,
            &accounts,
            none_declared,
            severity,
            &mut report,
        );
    }
    report
}

/// Whether a policy, as it stands, blocks or demands controls of member users.
fn in_scope(policy: &ConditionalAccessPolicy) -> bool {
    if policy.state != PolicyState::Enabled {
        return false;
    }
    let demands = policy.grant_controls.as_ref().is_some_and(|g| {
        g.built_in_controls.as_ref().is_some_and(|c| !c.is_empty())
            || g.authentication_strength.is_some()
            || g.terms_of_use.as_ref().is_some_and(|t| !t.is_empty())
            || g.custom_authentication_factors
                .as_ref()
                .is_some_and(|c| !c.is_empty())
    });
    let Some(users) = &policy.conditions.users else {
        return false;
    };
    // `None` and guests are not members; everything else may reach the break-glass accounts.
    let members = users.include_users.iter().flatten().any(|u| {
        !matches!(
            u.0,
            RefTarget::Special("None") | RefTarget::Special("GuestsOrExternalUsers")
        )
    }) || users.include_groups.as_ref().is_some_and(|g| !g.is_empty())
        || users.include_roles.as_ref().is_some_and(|r| !r.is_empty());
    demands && members
}

fn judge_policy(
    judge: &Judge,
    judged: &JudgedPolicy,
    accounts: &[Account],
    none_declared: bool,
    severity: Severity,
    report: &mut LockoutReport,
) {
    let policy = &judged.policy;
    if !in_scope(policy) {
        return;
    }
    let waived = judged.provenance == Provenance::Declared
        && policy
            .lockout_waiver
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty());
    if waived {
        return;
    }
    let Some(users) = &policy.conditions.users else {
        return;
    };
    let address = Address::named(Kind::ConditionalAccessPolicy, policy.display_name.clone());
    let push = |report: &mut LockoutReport, code, pointer: &str, message: String| {
        report.findings.push(LockoutFinding {
            address: address.clone(),
            provenance: judged.provenance,
            id: judged.id.clone(),
            finding: Finding {
                severity,
                code,
                pointer: pointer.to_string(),
                message,
                help: match judged.provenance {
                    Provenance::Declared => POLICY_HELP.to_string(),
                    Provenance::TenantOnly => TENANT_POLICY_HELP.to_string(),
                },
            },
        });
    };
    let label = match judged.provenance {
        Provenance::Declared => format!("enabled policy {:?}", policy.display_name),
        Provenance::TenantOnly => format!(
            "enabled policy {:?} (in the tenant, not in the files{})",
            policy.display_name,
            judged
                .id
                .as_deref()
                .map(|id| format!("; id {id}"))
                .unwrap_or_default()
        ),
    };
    let all_users = users
        .include_users
        .iter()
        .flatten()
        .any(|u| u.0 == RefTarget::Special("All"));
    if none_declared {
        // Nothing to check the tenant's own policies against; the files' policies need a
        // declaration (or a waiver).
        if judged.provenance == Provenance::Declared {
            push(
                report,
                "steward::lockout::no-emergency-access",
                "/conditions/users",
                format!(
                    "{label} could lock every administrator out ({}), and no emergency-access account is declared",
                    scope(judge, users, all_users, &[])
                ),
            );
        }
        return;
    }
    let named: Vec<String> = users
        .include_users
        .iter()
        .flatten()
        .filter(|u| !matches!(u.0, RefTarget::Special(_)))
        .map(|u| u.0.as_str().to_string())
        .collect();
    let mut included = Vec::new();
    let mut missing = Vec::new();
    let mut undecided = Vec::new();
    for account in accounts {
        let by_name = any(named.iter().map(|u| judge.is_account(u, account)));
        let excluded = any(users
            .exclude_users
            .iter()
            .flatten()
            .map(|u| judge.is_account(u.0.as_str(), account))
            .chain(
                users
                    .exclude_groups
                    .iter()
                    .flatten()
                    .map(|g| judge.holds(g.0.as_str(), account)),
            ));
        match (by_name, excluded) {
            (Some(true), _) => included.push(judge.account_shown(account)),
            (_, Some(false)) => missing.push(account.clone()),
            (Some(false), Some(true)) => {}
            // Only the files are known; the tenant would answer. (With the tenant read,
            // nothing is unknown; were it so, the account counts as not excluded.)
            _ if !judge.directory.read => undecided.push(judge.account_shown(account)),
            _ => missing.push(account.clone()),
        }
    }
    if !included.is_empty() {
        push(
            report,
            "steward::lockout::included",
            "/conditions/users/includeUsers",
            format!(
                "{label} could lock the emergency-access accounts out: it includes {} by name",
                included.join(", ")
            ),
        );
    }
    if !missing.is_empty() {
        push(
            report,
            "steward::lockout",
            "/conditions/users/excludeUsers",
            format!(
                "{label} could lock the emergency-access accounts out ({}): it does not exclude {}",
                scope(judge, users, all_users, &missing),
                missing
                    .iter()
                    .map(|a| judge.account_shown(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if !undecided.is_empty() {
        report.undecided.push(format!(
            "policy {:?}: whether it excludes {} depends on the tenant (exclusions by id, or group membership)",
            policy.display_name,
            undecided.join(", ")
        ));
    }
}

/// How a policy reaches the accounts, in words.
fn scope(
    judge: &Judge,
    users: &crate::model::conditional_access::Users,
    all_users: bool,
    missing: &[Account],
) -> String {
    if all_users {
        return "it targets all users".into();
    }
    for g in users.include_groups.iter().flatten() {
        let holds: Vec<String> = missing
            .iter()
            .filter(|a| judge.holds(g.0.as_str(), a) == Some(true))
            .map(|a| judge.account_shown(a))
            .collect();
        if !holds.is_empty() {
            return format!(
                "it includes group {}, which holds {}",
                judge.shown(g.0.as_str()),
                holds.join(", ")
            );
        }
    }
    if users.include_roles.as_ref().is_some_and(|r| !r.is_empty()) {
        return "it targets directory roles, which break-glass accounts hold".into();
    }
    "every enabled policy that blocks or demands controls must exclude them, so that a membership change cannot lock them out".into()
}

/// A method configuration reduced to what the guard needs.
struct Method<'a> {
    state: MethodState,
    include: Vec<(TargetType, &'a str)>,
    exclude: Vec<(TargetType, &'a str)>,
}

/// The methods a member can complete MFA with (email one-time passcodes serve guests and
/// password reset, not member sign-in), `None` where the policy does not say.
fn methods_of(policy: &AuthenticationMethodsPolicy) -> Vec<(&'static str, Option<Method<'_>>)> {
    macro_rules! method {
        ($name:literal, $field:ident) => {
            (
                $name,
                policy.$field.as_ref().map(|m| Method {
                    state: m.state,
                    include: m
                        .include_targets
                        .iter()
                        .flatten()
                        .map(|t| (t.target_type, t.id.0.as_str()))
                        .collect(),
                    exclude: m
                        .exclude_targets
                        .iter()
                        .flatten()
                        .map(|t| (t.target_type, t.id.0.as_str()))
                        .collect(),
                }),
            )
        };
    }
    vec![
        method!("fido2", fido2),
        method!("microsoft-authenticator", microsoft_authenticator),
        method!("sms", sms),
        method!("voice", voice),
        method!("temporary-access-pass", temporary_access_pass),
        method!("software-oath", software_oath),
        method!("x509-certificate", x509_certificate),
    ]
}

fn judge_methods(
    judge: &Judge,
    policy: &AuthenticationMethodsPolicy,
    provenance: Provenance,
    accounts: &[Account],
    none_declared: bool,
    severity: Severity,
    report: &mut LockoutReport,
) {
    let methods = methods_of(policy);
    let read = judge.directory.read;
    // A method the tenant did not list cannot be used; one the files do not declare is
    // unknown to validate.
    let absent: Tri = if read { Some(false) } else { None };
    let address = Address::singleton(Kind::AuthenticationMethodsPolicy);
    let mut push = |message: String| {
        report.findings.push(LockoutFinding {
            address: address.clone(),
            provenance,
            id: None,
            finding: Finding {
                severity,
                code: "steward::lockout::methods",
                pointer: String::new(),
                message,
                help: "enable a phishing-resistant method (fido2) for the break-glass accounts, and keep them out of its exclude-targets; Microsoft requires MFA for its admin portals of every account, break-glass included".into(),
            },
        });
    };
    if none_declared {
        let any_enabled = any(methods.iter().map(|(_, m)| match m {
            Some(m) => Some(m.state == MethodState::Enabled),
            None => absent,
        }));
        if any_enabled == Some(false) {
            push("every authentication method is disabled: nobody can complete multifactor authentication, administrators included".into());
        }
        return;
    }
    let target = |kind: TargetType, id: &str, account: &Account| -> Tri {
        if id.eq_ignore_ascii_case("all_users") {
            return Some(true);
        }
        match kind {
            TargetType::User => judge.is_account(id, account),
            TargetType::Group => judge.holds(id, account),
        }
    };
    let mut stranded = Vec::new();
    for account in accounts {
        let usable = any(methods.iter().map(|(_, m)| {
            let Some(m) = m else { return absent };
            if m.state != MethodState::Enabled {
                return Some(false);
            }
            let included = any(m.include.iter().map(|(k, id)| target(*k, id, account)));
            let excluded = any(m.exclude.iter().map(|(k, id)| target(*k, id, account)));
            match (included, excluded) {
                (Some(false), _) | (_, Some(true)) => Some(false),
                (Some(true), Some(false)) => Some(true),
                _ => None,
            }
        }));
        // Undecided (files only) is not a finding: the tenant decides at plan time.
        if usable == Some(false) {
            stranded.push(judge.account_shown(account));
        }
    }
    if !stranded.is_empty() {
        push(format!(
            "the authentication methods policy leaves {} no method to complete multifactor authentication with: every method ({}) is disabled or excludes them",
            stranded.join(", "),
            methods
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use serde_json::json;

    const BG1: &str = "5eed0001-0000-4000-8000-000000000001";
    const BG2: &str = "5eed0001-0000-4000-8000-000000000002";
    const MEGAN: &str = "5eed0001-0000-4000-8000-000000000003";
    const EMERGENCY_GROUP: &str = "5eed0002-0000-4000-8000-000000000005";
    const IT_ADMINS: &str = "5eed0002-0000-4000-8000-000000000004";
    const FINANCE: &str = "5eed0002-0000-4000-8000-000000000002";

    /// The guard on files alone, as validate runs it.
    fn files(text: &str) -> LockoutReport {
        let loaded = load_str("guard.kdl", text);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        crate::model::checks::lockout_from_files(&loaded.desired)
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

    fn messages(report: &LockoutReport) -> Vec<String> {
        report
            .findings
            .iter()
            .map(|f| f.finding.message.clone())
            .collect()
    }

    fn codes(report: &LockoutReport) -> Vec<&'static str> {
        report.findings.iter().map(|f| f.finding.code).collect()
    }

    #[test]
    fn a_policy_excluding_every_emergency_account_is_safe() {
        let text = with(
            "emergency-access { user \"bg1@c.com\"; user \"bg2@c.com\" }",
            "exclude-users \"BG1@c.com\" \"bg2@c.com\"",
        );
        assert_eq!(files(&text), LockoutReport::default());
    }

    #[test]
    fn from_files_the_accounts_not_excluded_are_named_in_a_warning() {
        let text = with(
            "emergency-access { user \"bg1@c.com\"; user \"bg2@c.com\" }",
            "exclude-users \"bg1@c.com\"",
        );
        let report = files(&text);
        assert_eq!(
            messages(&report),
            [
                "enabled policy \"Block all\" could lock the emergency-access accounts out (it targets all users): it does not exclude bg2@c.com"
            ]
        );
        assert_eq!(report.findings[0].finding.severity, Severity::Warning);
        assert_eq!(
            report.findings[0].finding.pointer,
            "/conditions/users/excludeUsers"
        );
    }

    #[test]
    fn excluding_the_declared_emergency_group_excludes_its_accounts() {
        let text = with(
            "emergency-access { user \"bg1@c.com\"; group \"Emergency Access Accounts\" }",
            "exclude-groups \"Emergency Access Accounts\"",
        );
        assert_eq!(files(&text), LockoutReport::default());
        // A group cannot stand for the accounts: who is in it is not who is declared.
        let loaded = load_str(
            "guard.kdl",
            &with(
                "emergency-access { group \"Emergency Access Accounts\" }",
                "exclude-groups \"emergency access accounts\"",
            ),
        );
        let report = crate::model::checks::lockout_from_files(&loaded.desired);
        assert_eq!(
            codes(&report),
            ["steward::emergency-access::group-without-users"]
        );
        assert_eq!(report.findings[0].finding.severity, Severity::Error);
    }

    #[test]
    fn with_no_emergency_account_declared_a_declared_blocking_policy_is_a_risk() {
        let report = files(&with("", "exclude-users \"someone@c.com\""));
        assert_eq!(codes(&report), ["steward::lockout::no-emergency-access"]);
        assert_eq!(
            messages(&report),
            [
                "enabled policy \"Block all\" could lock every administrator out (it targets all users), and no emergency-access account is declared"
            ]
        );
    }

    #[test]
    fn a_waiver_with_a_reason_or_a_report_only_state_lifts_the_guard() {
        let text = with(
            "emergency-access { user \"bg1@c.com\" }",
            "exclude-users \"x@c.com\"",
        );
        let waived = text.replace(
            "state enabled",
            "state enabled\n    lockout-waiver \"CHG-1\"",
        );
        assert_eq!(files(&waived), LockoutReport::default());
        let report_only = text.replace("state enabled", "state enabledForReportingButNotEnforced");
        assert_eq!(files(&report_only), LockoutReport::default());
        // A blank waiver waives nothing (and validate reports it as an error on its own).
        let mut loaded = load_str("guard.kdl", &text);
        loaded.desired.conditional_access_policies[0].lockout_waiver = Some(" ".into());
        let report = crate::model::checks::lockout_from_files(&loaded.desired);
        assert_eq!(codes(&report), ["steward::lockout"]);
    }

    #[test]
    fn an_account_excluded_by_id_but_declared_by_upn_is_left_to_the_tenant() {
        // Validate cannot tell whether the id is the account: a note, not a warning.
        let text = with(
            "emergency-access { user \"breakglass1@c.com\" }",
            &format!("exclude-users \"{BG1}\""),
        );
        let report = files(&text);
        assert_eq!(report.findings, []);
        assert_eq!(
            report.undecided,
            [
                "policy \"Block all\": whether it excludes breakglass1@c.com depends on the tenant (exclusions by id, or group membership)"
            ]
        );
        // Any other group may hold the account too: also the tenant's to say.
        let groups = with(
            "emergency-access { user \"breakglass1@c.com\" }",
            "exclude-groups \"Finance\"",
        );
        let report = files(&groups);
        assert_eq!(report.findings, []);
        assert_eq!(report.undecided.len(), 1);
    }

    #[test]
    fn including_an_account_by_name_is_a_lockout_even_when_it_is_excluded() {
        let text = r#"
emergency-access { user "bg1@c.com" }
conditional-access-policy "Block bg1" {
    state enabled
    conditions {
        users {
            include-users "bg1@c.com"
            exclude-users "bg1@c.com"
        }
        applications { include-applications All }
    }
    grant-controls { built-in-controls block }
}
"#;
        let report = files(text);
        assert_eq!(codes(&report), ["steward::lockout::included"]);
        assert_eq!(
            messages(&report),
            [
                "enabled policy \"Block bg1\" could lock the emergency-access accounts out: it includes bg1@c.com by name"
            ]
        );
    }

    #[test]
    fn policies_for_guests_only_or_without_grant_controls_are_not_judged() {
        let guests = r#"
emergency-access { user "bg1@c.com" }
conditional-access-policy "Guests" {
    state enabled
    conditions {
        users {
            include-users GuestsOrExternalUsers
        }
        applications { include-applications All }
    }
    grant-controls { built-in-controls mfa }
}
conditional-access-policy "Session only" {
    state enabled
    conditions {
        users { include-users All }
        applications { include-applications All }
    }
    session-controls { sign-in-frequency is-enabled=#true value=4 type=hours }
}
"#;
        assert_eq!(files(guests), LockoutReport::default());
    }

    #[test]
    fn a_group_scoped_policy_must_exclude_the_accounts_too() {
        let text = r#"
emergency-access { user "bg1@c.com" }
conditional-access-policy "MFA for IT" {
    state enabled
    conditions {
        users { include-groups "IT Admins" }
        applications { include-applications All }
    }
    grant-controls { built-in-controls mfa }
}
"#;
        assert_eq!(codes(&files(text)), ["steward::lockout"]);
    }

    #[test]
    fn a_special_value_is_not_an_emergency_account() {
        let loaded = load_str("guard.kdl", "emergency-access { user All }");
        let report = crate::model::checks::lockout_from_files(&loaded.desired);
        assert_eq!(codes(&report), ["steward::emergency-access::not-a-user"]);
        assert_eq!(report.findings[0].finding.pointer, "/user/0");
        assert_eq!(report.findings[0].finding.severity, Severity::Error);
        // Validate reports it as an error at the entry.
        let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line_column(), Some((1, 25)));
    }

    const ALL_METHODS_OFF: &str = r#"
authentication-methods-policy {
    fido2 state=disabled
    microsoft-authenticator state=disabled
    sms state=disabled
    voice state=disabled
    temporary-access-pass state=disabled
    software-oath state=disabled
    x509-certificate state=disabled
}
"#;

    #[test]
    fn every_method_disabled_leaves_the_accounts_no_way_in() {
        let report = files(&format!(
            "emergency-access {{ user \"bg1@c.com\" }}\n{ALL_METHODS_OFF}"
        ));
        assert_eq!(codes(&report), ["steward::lockout::methods"]);
        assert!(
            messages(&report)[0].starts_with(
                "the authentication methods policy leaves bg1@c.com no method to complete multifactor authentication with"
            ),
            "{report:?}"
        );
        // Without emergency-access, it is everyone who is left without a method.
        assert_eq!(
            codes(&files(ALL_METHODS_OFF)),
            ["steward::lockout::methods"]
        );
        // One method on is enough; undeclared methods are the tenant's to say.
        let one_on = ALL_METHODS_OFF.replace(
            "fido2 state=disabled",
            "fido2 state=enabled { include-targets target-type=group id=all_users; }",
        );
        assert_eq!(files(&one_on), LockoutReport::default());
        let partial = "authentication-methods-policy {\n    sms state=disabled\n}\n";
        assert_eq!(files(partial), LockoutReport::default());
    }

    // ---- With the tenant read ----------------------------------------------------------

    fn policy(value: serde_json::Value) -> ConditionalAccessPolicy {
        serde_json::from_value(value).expect("policy")
    }

    fn block(users: serde_json::Value) -> ConditionalAccessPolicy {
        policy(json!({
            "displayName": "Block",
            "state": "enabled",
            "conditions": { "users": users, "applications": { "includeApplications": ["All"] } },
            "grantControls": { "operator": "OR", "builtInControls": ["block"] }
        }))
    }

    fn tenant() -> Directory {
        let user = |id: &str| GroupMember {
            id: id.into(),
            kind: ObjectType::User,
        };
        Directory {
            read: true,
            members: HashMap::from([
                (EMERGENCY_GROUP.to_string(), vec![user(BG1), user(BG2)]),
                (IT_ADMINS.to_string(), vec![user(MEGAN), user(BG1)]),
                (FINANCE.to_string(), vec![user(MEGAN)]),
            ]),
            types: HashMap::from([
                (BG1.to_string(), ObjectType::User),
                (BG2.to_string(), ObjectType::User),
                (MEGAN.to_string(), ObjectType::User),
                (EMERGENCY_GROUP.to_string(), ObjectType::Group),
                (FINANCE.to_string(), ObjectType::Group),
            ]),
            names: HashMap::from([
                (BG1.to_string(), "breakglass1@contoso.com".to_string()),
                (BG2.to_string(), "breakglass2@contoso.com".to_string()),
                (MEGAN.to_string(), "megan@contoso.com".to_string()),
                (IT_ADMINS.to_string(), "IT Admins".to_string()),
                (FINANCE.to_string(), "Finance".to_string()),
                (EMERGENCY_GROUP.to_string(), "Emergency".to_string()),
            ]),
        }
    }

    fn emergency(users: &[&str], groups: &[&str]) -> EmergencyAccess {
        serde_json::from_value(json!({ "user": users, "group": groups })).expect("emergency")
    }

    fn judged(policy: ConditionalAccessPolicy, provenance: Provenance) -> JudgedPolicy {
        JudgedPolicy {
            policy,
            provenance,
            id: Some("7a1c3e5f-0b2d-4f6a-8c9e-1d3f5a7b9c99".into()),
        }
    }

    fn in_tenant(
        emergency: &EmergencyAccess,
        policies: &[JudgedPolicy],
        directory: &Directory,
    ) -> LockoutReport {
        judge(&LockoutInput {
            emergency: Some(emergency),
            policies,
            methods: None,
            directory,
        })
    }

    #[test]
    fn an_exclusion_through_a_group_holding_the_accounts_counts() {
        let dir = tenant();
        let accounts = emergency(&[BG1, BG2], &[]);
        let through_group = [judged(
            block(json!({ "includeUsers": ["All"], "excludeGroups": [EMERGENCY_GROUP] })),
            Provenance::Declared,
        )];
        assert_eq!(
            in_tenant(&accounts, &through_group, &dir),
            LockoutReport::default()
        );
        let finance = [judged(
            block(json!({ "includeUsers": ["All"], "excludeGroups": [FINANCE] })),
            Provenance::Declared,
        )];
        let report = in_tenant(&accounts, &finance, &dir);
        assert_eq!(
            messages(&report),
            [
                "enabled policy \"Block\" could lock the emergency-access accounts out (it targets all users): it does not exclude breakglass1@contoso.com, breakglass2@contoso.com"
            ]
        );
        assert_eq!(report.findings[0].finding.severity, Severity::Error);
    }

    #[test]
    fn an_id_and_a_upn_of_one_account_are_the_same_once_resolved() {
        // Resolved against the tenant, both forms are the id.
        let dir = tenant();
        let policies = [judged(
            block(json!({ "includeUsers": ["All"], "excludeUsers": [BG1.to_uppercase()] })),
            Provenance::Declared,
        )];
        assert_eq!(
            in_tenant(&emergency(&[BG1], &[]), &policies, &dir),
            LockoutReport::default()
        );
    }

    #[test]
    fn a_group_including_an_account_is_named_as_the_way_in() {
        let dir = tenant();
        let policies = [judged(
            block(json!({ "includeGroups": [IT_ADMINS] })),
            Provenance::Declared,
        )];
        let report = in_tenant(&emergency(&[BG1], &[]), &policies, &dir);
        assert_eq!(
            messages(&report),
            [
                "enabled policy \"Block\" could lock the emergency-access accounts out (it includes group IT Admins, which holds breakglass1@contoso.com): it does not exclude breakglass1@contoso.com"
            ]
        );
        // Roles are not read: a role-scoped block is taken to reach the accounts.
        let roles = [judged(
            block(
                json!({ "includeRoles": ["62e90394-69f5-4237-9190-012177145e10"], "excludeRoles": ["62e90394-69f5-4237-9190-012177145e10"] }),
            ),
            Provenance::Declared,
        )];
        assert!(
            messages(&in_tenant(&emergency(&[BG1], &[]), &roles, &dir))[0]
                .contains("(it targets directory roles, which break-glass accounts hold)")
        );
    }

    #[test]
    fn a_tenant_policy_the_files_do_not_touch_is_judged_and_says_so() {
        let dir = tenant();
        let policies = [judged(
            block(json!({ "includeUsers": ["All"], "excludeUsers": [BG1] })),
            Provenance::TenantOnly,
        )];
        let report = in_tenant(&emergency(&[BG1, BG2], &[]), &policies, &dir);
        assert_eq!(report.findings[0].provenance, Provenance::TenantOnly);
        assert_eq!(
            messages(&report),
            [
                "enabled policy \"Block\" (in the tenant, not in the files; id 7a1c3e5f-0b2d-4f6a-8c9e-1d3f5a7b9c99) could lock the emergency-access accounts out (it targets all users): it does not exclude breakglass2@contoso.com"
            ]
        );
        // A waiver can only come from the files.
        let mut waived = policies[0].clone();
        waived.policy.lockout_waiver = Some("reason".into());
        assert_eq!(
            in_tenant(&emergency(&[BG1, BG2], &[]), &[waived], &dir)
                .findings
                .len(),
            1
        );
        // Without emergency-access, the tenant's own policies are not judged.
        assert_eq!(
            judge(&LockoutInput {
                emergency: None,
                policies: &policies,
                methods: None,
                directory: &dir,
            }),
            LockoutReport::default()
        );
    }

    #[test]
    fn emergency_entries_must_be_users_and_groups_of_only_those_users() {
        let mut dir = tenant();
        // A user entry that is a group, a group entry that is a user.
        let report = in_tenant(&emergency(&[FINANCE], &[MEGAN]), &[], &dir);
        assert_eq!(
            messages(&report),
            [
                "emergency-access user Finance is a group, not a break-glass user account",
                "emergency-access group megan@contoso.com is a user",
            ]
        );
        assert_eq!(report.findings[0].finding.pointer, "/user/0");
        assert_eq!(report.findings[1].finding.pointer, "/group/0");
        // A group holding someone else, or a device.
        dir.members.insert(
            EMERGENCY_GROUP.to_string(),
            vec![
                GroupMember {
                    id: BG1.into(),
                    kind: ObjectType::User,
                },
                GroupMember {
                    id: MEGAN.into(),
                    kind: ObjectType::User,
                },
                GroupMember {
                    id: FINANCE.into(),
                    kind: ObjectType::Group,
                },
                GroupMember {
                    id: "kiosk".into(),
                    kind: ObjectType::Other("device".into()),
                },
            ],
        );
        let report = in_tenant(&emergency(&[BG1], &[EMERGENCY_GROUP]), &[], &dir);
        assert_eq!(
            messages(&report),
            [
                "emergency-access group Emergency holds members besides the declared emergency-access users: megan@contoso.com, device kiosk"
            ]
        );
        // Holding fewer than the declared accounts is fine; excluding it excludes only those.
        dir.members.insert(
            EMERGENCY_GROUP.to_string(),
            vec![GroupMember {
                id: BG2.into(),
                kind: ObjectType::User,
            }],
        );
        let policies = [judged(
            block(json!({ "includeUsers": ["All"], "excludeGroups": [EMERGENCY_GROUP] })),
            Provenance::Declared,
        )];
        let report = in_tenant(&emergency(&[BG1, BG2], &[EMERGENCY_GROUP]), &policies, &dir);
        assert_eq!(codes(&report), ["steward::lockout"]);
        assert!(messages(&report)[0].ends_with("it does not exclude breakglass1@contoso.com"));
    }

    #[test]
    fn methods_excluding_the_emergency_group_leave_the_accounts_without_mfa() {
        let dir = tenant();
        let methods: AuthenticationMethodsPolicy = serde_json::from_value(json!({
            "fido2": {
                "state": "enabled",
                "includeTargets": [{ "targetType": "group", "id": "all_users" }],
                "excludeTargets": [{ "targetType": "group", "id": EMERGENCY_GROUP }]
            },
            "microsoftAuthenticator": {
                "state": "enabled",
                "includeTargets": [{ "targetType": "group", "id": FINANCE }]
            },
            "sms": { "state": "disabled" },
            "voice": { "state": "disabled" },
            "temporaryAccessPass": { "state": "disabled" },
            "softwareOath": { "state": "disabled" },
            "x509Certificate": { "state": "disabled" }
        }))
        .expect("methods");
        let run = |methods: &AuthenticationMethodsPolicy| {
            judge(&LockoutInput {
                emergency: Some(&emergency(&[BG1], &[])),
                policies: &[],
                methods: Some((methods, Provenance::Declared)),
                directory: &dir,
            })
        };
        let report = run(&methods);
        assert_eq!(codes(&report), ["steward::lockout::methods"]);
        assert!(messages(&report)[0].contains("leaves breakglass1@contoso.com no method"));
        let mut fixed = methods.clone();
        if let Some(f) = fixed.fido2.as_mut() {
            f.exclude_targets = None;
        }
        assert_eq!(run(&fixed), LockoutReport::default());
        // With the tenant read, a method the tenant does not list cannot be used.
        let mut missing = fixed;
        missing.fido2 = None;
        assert_eq!(codes(&run(&missing)), ["steward::lockout::methods"]);
    }
}
