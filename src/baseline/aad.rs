//! SCuBA's Entra ID baseline (MS.AAD), graded as ScubaGear's `AADConfig.rego` does.

use serde_json::{Map, Value};

use super::{Context, Requirement, Rule, Source, Status, Verdict};
use crate::model::{Address, Kind};

use Requirement::{Shall, Should};

/// The built-in phishing-resistant authentication strength.
const PHISHING_RESISTANT_ID: &str = "00000000-0000-0000-0000-000000000004";
/// The methods a phishing-resistant strength may allow (ScubaGear's list).
const PHISHING_RESISTANT_METHODS: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
];
/// The combinations ScubaGear counts as MFA (MS.AAD.3.2v2).
const MFA_METHODS: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
    "deviceBasedPush",
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "password,microsoftAuthenticatorPush",
    "password,softwareOath",
    "password,hardwareOath",
    "password,sms",
    "password,voice",
    "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor",
    "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor",
    "sms,federatedSingleFactor",
    "voice,federatedSingleFactor",
];
/// ScubaGear's highly privileged roles (role template ids), for MS.AAD.3.6 and 7.x.
const PRIVILEGED_ROLES: &[(&str, &str)] = &[
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
    ),
    (
        "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
    ),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    (
        "SharePoint Administrator",
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    ),
    (
        "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
    ),
    (
        "Hybrid Identity Administrator",
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    ),
    (
        "Application Administrator",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    ),
    (
        "Cloud Application Administrator",
        "158c047a-c907-4556-b7ef-446551a6b5f7",
    ),
];
/// `guestUserRoleId` of limited and of restricted guest access.
const LIMITED_GUEST: &str = "10dae51f-b6af-4016-8d66-8c2a99b929b3";
const RESTRICTED_GUEST: &str = "2af84b1e-32c8-42b7-82bc-daa82404023b";

/// The MS.AAD policies, in baseline order.
pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "MS.AAD.1.1v1",
        requirement: Shall,
        section: "1. Legacy Authentication",
        title: "Legacy authentication SHALL be blocked.",
        grade: legacy_authentication,
    },
    Rule {
        id: "MS.AAD.2.1v1",
        requirement: Shall,
        section: "2. Risk Based Policies",
        title: "Users detected as high risk SHALL be blocked.",
        grade: high_risk_users,
    },
    Rule {
        id: "MS.AAD.2.2v1",
        requirement: Should,
        section: "2. Risk Based Policies",
        title: "A notification SHOULD be sent to the administrator when high-risk users are detected.",
        grade: |_| {
            manual(
                "risk notifications are set in Entra ID Protection, which has no Graph v1.0 API to read them",
            )
        },
    },
    Rule {
        id: "MS.AAD.2.3v1",
        requirement: Shall,
        section: "2. Risk Based Policies",
        title: "Sign-ins detected as high risk SHALL be blocked.",
        grade: high_risk_sign_ins,
    },
    Rule {
        id: "MS.AAD.3.1v1",
        requirement: Shall,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "Phishing-resistant MFA SHALL be enforced for all users.",
        grade: phishing_resistant_for_all,
    },
    Rule {
        id: "MS.AAD.3.2v2",
        requirement: Shall,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "MFA SHALL be enforced for all users.",
        grade: mfa_for_all,
    },
    Rule {
        id: "MS.AAD.3.3v2",
        requirement: Shall,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "If Microsoft Authenticator is enabled, it SHALL be configured to show login context information.",
        grade: authenticator_context,
    },
    Rule {
        id: "MS.AAD.3.4v1",
        requirement: Shall,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "The Authentication Methods Manage Migration feature SHALL be set to Migration Complete.",
        grade: migration_complete,
    },
    Rule {
        id: "MS.AAD.3.5v2",
        requirement: Shall,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "The authentication methods SMS, Voice Call, and Email One-Time Passcode (OTP) SHALL be disabled.",
        grade: weak_methods_disabled,
    },
    Rule {
        id: "MS.AAD.3.6v1",
        requirement: Shall,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "Phishing-resistant MFA SHALL be required for highly privileged roles.",
        grade: phishing_resistant_for_admins,
    },
    Rule {
        id: "MS.AAD.3.7v1",
        requirement: Should,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "Managed devices SHOULD be required for authentication.",
        grade: managed_devices,
    },
    Rule {
        id: "MS.AAD.3.8v1",
        requirement: Should,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "Managed Devices SHOULD be required to register MFA.",
        grade: managed_devices_to_register,
    },
    Rule {
        id: "MS.AAD.3.9v1",
        requirement: Should,
        section: "3. Strong Authentication and a Secure Registration Process",
        title: "Device code authentication SHOULD be blocked.",
        grade: device_code_blocked,
    },
    Rule {
        id: "MS.AAD.4.1v1",
        requirement: Shall,
        section: "4. Centralized Log Collection",
        title: "Security logs SHALL be sent to the agency's security operations center for monitoring.",
        grade: |_| {
            manual(
                "diagnostic settings are Azure Monitor configuration, not Microsoft Graph; ScubaGear checks this manually too",
            )
        },
    },
    Rule {
        id: "MS.AAD.5.1v1",
        requirement: Shall,
        section: "5. Application Registration and Consent",
        title: "Only administrators SHALL be allowed to register applications.",
        grade: only_admins_register_apps,
    },
    Rule {
        id: "MS.AAD.5.2v1",
        requirement: Shall,
        section: "5. Application Registration and Consent",
        title: "User consent to applications SHALL be restricted.",
        grade: |_| {
            manual("steward does not read the default user role's permission grant policies yet")
        },
    },
    Rule {
        id: "MS.AAD.5.3v1",
        requirement: Shall,
        section: "5. Application Registration and Consent",
        title: "An admin consent workflow SHALL be configured for applications.",
        grade: |_| {
            manual(
                "steward does not read the directory's consent settings (EnableAdminConsentRequests) yet",
            )
        },
    },
    Rule {
        id: "MS.AAD.5.5v1",
        requirement: Should,
        section: "5. Application Registration and Consent",
        title: "Application Password Addition SHOULD be blocked.",
        grade: |_| manual("steward does not read app management policies yet"),
    },
    Rule {
        id: "MS.AAD.5.6v1",
        requirement: Should,
        section: "5. Application Registration and Consent",
        title: "Application password lifetime SHOULD be restricted to 180 days or less.",
        grade: |_| manual("steward does not read app management policies yet"),
    },
    Rule {
        id: "MS.AAD.5.7v1",
        requirement: Should,
        section: "5. Application Registration and Consent",
        title: "Application certificate lifetime SHOULD be restricted to 365 days or less.",
        grade: |_| manual("steward does not read app management policies yet"),
    },
    Rule {
        id: "MS.AAD.6.1v1",
        requirement: Shall,
        section: "6. Passwords",
        title: "User passwords SHALL NOT expire.",
        grade: |_| {
            manual("password expiry is a property of each domain, which steward does not read yet")
        },
    },
    Rule {
        id: "MS.AAD.7.1v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "A minimum of two users and a maximum of eight users SHALL be provisioned with the Global Administrator role.",
        grade: |_| manual("role assignments are not tenant configuration steward manages"),
    },
    Rule {
        id: "MS.AAD.7.2v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "Privileged users SHALL be provisioned with finer-grained roles instead of Global Administrator.",
        grade: |_| manual("role assignments are not tenant configuration steward manages"),
    },
    Rule {
        id: "MS.AAD.7.3v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "Privileged users SHALL be provisioned cloud-only accounts separate from an on-premises directory or other federated identity providers.",
        grade: |_| manual("role assignments are not tenant configuration steward manages"),
    },
    Rule {
        id: "MS.AAD.7.4v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "Permanent active role assignments SHALL NOT be allowed for highly privileged roles.",
        grade: |_| {
            manual(
                "Privileged Identity Management assignments are not tenant configuration steward manages (and need an Entra ID P2 licence)",
            )
        },
    },
    Rule {
        id: "MS.AAD.7.5v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "Provisioning users to highly privileged roles SHALL NOT occur outside of a PAM system.",
        grade: |_| {
            manual(
                "Privileged Identity Management assignments are not tenant configuration steward manages (and need an Entra ID P2 licence)",
            )
        },
    },
    Rule {
        id: "MS.AAD.7.6v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "Activation of the Global Administrator role SHALL require approval.",
        grade: |_| {
            manual(
                "Privileged Identity Management role settings are not read by steward yet (and need an Entra ID P2 licence)",
            )
        },
    },
    Rule {
        id: "MS.AAD.7.7v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "Eligible and active highly privileged role assignments SHALL trigger an alert.",
        grade: |_| {
            manual(
                "Privileged Identity Management role settings are not read by steward yet (and need an Entra ID P2 licence)",
            )
        },
    },
    Rule {
        id: "MS.AAD.7.8v1",
        requirement: Shall,
        section: "7. Highly Privileged User Access",
        title: "User activation of the Global Administrator role SHALL trigger an alert.",
        grade: |_| {
            manual(
                "Privileged Identity Management role settings are not read by steward yet (and need an Entra ID P2 licence)",
            )
        },
    },
    Rule {
        id: "MS.AAD.7.9v1",
        requirement: Should,
        section: "7. Highly Privileged User Access",
        title: "User activation of other highly privileged roles SHOULD trigger an alert.",
        grade: |_| {
            manual(
                "Privileged Identity Management role settings are not read by steward yet (and need an Entra ID P2 licence)",
            )
        },
    },
    Rule {
        id: "MS.AAD.8.1v1",
        requirement: Should,
        section: "8. Guest User Access",
        title: "Guest users SHOULD have limited or restricted access to Microsoft Entra ID directory objects.",
        grade: guest_access_limited,
    },
    Rule {
        id: "MS.AAD.8.2v1",
        requirement: Should,
        section: "8. Guest User Access",
        title: "Only users with the Guest Inviter role SHOULD be able to invite guest users.",
        grade: only_guest_inviters,
    },
    Rule {
        id: "MS.AAD.8.3v1",
        requirement: Should,
        section: "8. Guest User Access",
        title: "Guest invites SHOULD only be allowed to specific external domains that have been authorized by the agency for legitimate business purposes.",
        grade: |_| manual("the B2B collaboration domain allow list is not read by steward yet"),
    },
    Rule {
        id: "MS.AAD.9.1v1",
        requirement: Shall,
        section: "9. AI Agents",
        title: "Risky AI agents SHALL be blocked.",
        grade: |_| {
            manual(
                "Conditional Access for agent identities (agentIdRiskLevels) is not in Graph v1.0, which steward reads",
            )
        },
    },
];

fn manual(why: &str) -> Verdict {
    Verdict::cannot(why)
}

// ---------------------------------------------------------------------------------------------
// Conditional Access

/// A Conditional Access policy in the model's JSON form, with what the rules ask of it.
struct Policy<'a> {
    name: &'a str,
    json: &'a Map<String, Value>,
}

fn list<'a>(json: &'a Map<String, Value>, pointer: &str) -> Vec<&'a str> {
    get(json, pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn get<'a>(json: &'a Map<String, Value>, pointer: &str) -> Option<&'a Value> {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let first = parts.next()?;
    parts.try_fold(json.get(first)?, |v, p| v.get(p))
}

fn has(values: &[&str], wanted: &str) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case(wanted))
}

impl<'a> Policy<'a> {
    fn address(&self) -> Address {
        Address::named(Kind::ConditionalAccessPolicy, self.name)
    }

    /// Report-only and disabled policies do not count (ScubaGear: `State == "enabled"`).
    fn enabled(&self) -> bool {
        self.json.get("state").and_then(Value::as_str) == Some("enabled")
    }

    fn strings(&self, pointer: &str) -> Vec<&'a str> {
        list(self.json, pointer)
    }

    /// ScubaGear's shared rules for `scope`: all users (except for 3.6), all apps (except for
    /// 3.8), no excluded roles or guests, and exclusions of users, groups and apps only as
    /// allowed for the policy id (check-exceptions, emergency access). `Err` says what fails.
    fn in_scope(&self, ctx: &Context, scope: Scope) -> Result<(), String> {
        if scope != Scope::Roles && !has(&self.strings("/conditions/users/includeUsers"), "All") {
            return Err("does not include all users".into());
        }
        if scope != Scope::UserAction
            && !has(
                &self.strings("/conditions/applications/includeApplications"),
                "All",
            )
        {
            return Err("does not cover all resources (include-applications All)".into());
        }
        let roles = self.strings("/conditions/users/excludeRoles");
        if !roles.is_empty() {
            return Err(format!(
                "excludes the roles {} (no exclusion of a role is allowed)",
                quoted(&roles)
            ));
        }
        let owned = |pointer: &str| -> Vec<String> {
            self.strings(pointer)
                .into_iter()
                .map(String::from)
                .collect()
        };
        let users = owned("/conditions/users/excludeUsers");
        let groups = owned("/conditions/users/excludeGroups");
        let apps = match scope {
            Scope::UserAction => Vec::new(),
            _ => owned("/conditions/applications/excludeApplications"),
        };
        let disallowed = ctx.allowed.disallowed(ctx.id, &users, &groups, &apps);
        if !disallowed.is_empty() {
            return Err(format!(
                "excludes {} (neither an emergency-access account nor an exclusion of a check-exception for {})",
                quoted(&disallowed),
                ctx.id
            ));
        }
        if get(self.json, "/conditions/users/excludeGuestsOrExternalUsers")
            .is_some_and(|v| !v.is_null())
        {
            return Err("excludes guests or external users".into());
        }
        Ok(())
    }

    fn grants(&self, control: &str) -> bool {
        has(&self.strings("/grantControls/builtInControls"), control)
    }

    /// The allowed method combinations of the policy's authentication strength: the
    /// built-in ones by id or name, custom ones from the configuration.
    fn strength_methods(&self, ctx: &Context) -> Option<Vec<String>> {
        let strength = get(self.json, "/grantControls/authenticationStrength")?.as_str()?;
        let builtin = |combos: &[&str]| Some(combos.iter().map(|s| s.to_string()).collect());
        match strength.to_ascii_lowercase().as_str() {
            PHISHING_RESISTANT_ID | "phishing-resistant mfa" | "phishing resistant mfa" => {
                builtin(PHISHING_RESISTANT_METHODS)
            }
            "00000000-0000-0000-0000-000000000002" | "multifactor authentication" => {
                builtin(MFA_METHODS)
            }
            "00000000-0000-0000-0000-000000000003" | "passwordless mfa" => builtin(&[
                "windowsHelloForBusiness",
                "fido2",
                "microsoftAuthenticatorPasswordless",
            ]),
            _ => ctx
                .config
                .authentication_strengths
                .iter()
                .find(|s| {
                    s.display_name.eq_ignore_ascii_case(strength)
                        || s.id
                            .as_deref()
                            .is_some_and(|id| id.eq_ignore_ascii_case(strength))
                })
                .map(|s| {
                    serde_json::to_value(&s.allowed_combinations)
                        .ok()
                        .and_then(|v| v.as_array().cloned())
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                }),
        }
    }

    fn requires_phishing_resistant(&self, ctx: &Context) -> bool {
        self.strength_methods(ctx).is_some_and(|methods| {
            !methods.is_empty()
                && methods
                    .iter()
                    .all(|m| listed(PHISHING_RESISTANT_METHODS, m))
        })
    }
}

/// True when `combination` is one of `list`, whatever the order of its modes (Graph and the
/// model may order `password,sms` differently).
fn listed(list: &[&str], combination: &str) -> bool {
    let modes = |c: &str| {
        let mut parts: Vec<String> = c
            .split(',')
            .map(|p| p.trim().to_ascii_lowercase())
            .collect();
        parts.sort();
        parts
    };
    let wanted = modes(combination);
    list.iter().any(|l| modes(l) == wanted)
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn policies(ctx: &Context) -> Vec<(String, Map<String, Value>)> {
    ctx.config
        .resources(Kind::ConditionalAccessPolicy)
        .into_iter()
        .map(|(name, json)| (name.unwrap_or_default().to_string(), json))
        .collect()
}

/// Grades a Conditional Access requirement: passes when an enabled policy meets `meets`
/// for all users and all apps (as `scope` says). A failure names the closest policy and why it
/// does not count, pointing at it; `what` says what is missing, `help` what to write.
fn conditional_access(
    ctx: &Context,
    what: &str,
    help: &str,
    scope: Scope,
    meets: &dyn Fn(&Policy, &Context) -> bool,
) -> Verdict {
    if ctx.unreadable.contains(&Kind::ConditionalAccessPolicy) {
        return Verdict::cannot(
            "the sign-in may not read Conditional Access policies (Policy.Read.All)",
        );
    }
    let all = policies(ctx);
    let mut satisfying = Vec::new();
    // The policy closest to counting: off only by its state (report-only first), else the
    // first that is out of scope.
    let mut near: Option<(u8, Address, String)> = None;
    for (name, json) in &all {
        let policy = Policy { name, json };
        if !meets(&policy, ctx) {
            continue;
        }
        let state = json
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or("not enabled");
        let (rank, reason) = if policy.enabled() {
            (2, policy.in_scope(ctx, scope))
        } else {
            let rank = if state == "enabledForReportingButNotEnforced" {
                0
            } else {
                1
            };
            (
                rank,
                Err(format!(
                    "is {state} (report-only and disabled policies do not count)"
                )),
            )
        };
        match reason {
            Ok(()) => satisfying.push(policy.address().to_string()),
            Err(why) => {
                if near.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                    near = Some((
                        rank,
                        policy.address(),
                        format!("{} {why}", policy.address()),
                    ));
                }
            }
        }
    }
    if !satisfying.is_empty() {
        return Verdict::pass(format!("met by {}", satisfying.join(", ")), satisfying);
    }
    let where_ = match ctx.source {
        Source::Declared => "the files declare",
        Source::Live => "the tenant has",
        Source::Planned => "the plan leaves",
    };
    match near {
        Some((_, address, why)) => Verdict::fail(format!("no enabled policy {what}: {why}"), help)
            .at(address.clone(), "")
            .with_evidence(vec![address.to_string()]),
        None => Verdict::fail(
            format!("{where_} no Conditional Access policy that {what}"),
            help,
        ),
    }
}

/// Which of ScubaGear's shared rules a Conditional Access id applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// All users and all resources (most ids).
    AllUsers,
    /// Named roles, all resources (MS.AAD.3.6).
    Roles,
    /// All users, a user action rather than resources (MS.AAD.3.8).
    UserAction,
}

fn legacy_authentication(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "blocks legacy authentication for all users and apps",
        "declare an enabled conditional-access-policy with include-users All, include-applications All, client-app-types exchangeActiveSync other, and grant-controls { built-in-controls block }",
        Scope::AllUsers,
        &|p, _| {
            let types = p.strings("/conditions/clientAppTypes");
            has(&types, "exchangeActiveSync") && has(&types, "other") && p.grants("block")
        },
    )
}

fn high_risk_users(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "blocks users detected as high risk",
        "declare an enabled conditional-access-policy with include-users All, include-applications All, user-risk-levels high and grant-controls { built-in-controls block } (needs Entra ID P2)",
        Scope::AllUsers,
        &|p, _| has(&p.strings("/conditions/userRiskLevels"), "high") && p.grants("block"),
    )
}

fn high_risk_sign_ins(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "blocks sign-ins detected as high risk",
        "declare an enabled conditional-access-policy with include-users All, include-applications All, sign-in-risk-levels high and grant-controls { built-in-controls block } (needs Entra ID P2)",
        Scope::AllUsers,
        &|p, _| has(&p.strings("/conditions/signInRiskLevels"), "high") && p.grants("block"),
    )
}

fn phishing_resistant_for_all(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "requires phishing-resistant MFA of all users",
        "declare an enabled conditional-access-policy with include-users All, include-applications All and grant-controls { authentication-strength \"Phishing-resistant MFA\" }",
        Scope::AllUsers,
        &|p, ctx| p.requires_phishing_resistant(ctx),
    )
}

fn mfa_for_all(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "requires MFA of all users",
        "declare an enabled conditional-access-policy with include-users All, include-applications All and grant-controls { built-in-controls mfa } (a phishing-resistant-only strength does not count for this id)",
        Scope::AllUsers,
        &|p, ctx| {
            p.grants("mfa")
                || p.strength_methods(ctx).is_some_and(|methods| {
                    methods.iter().all(|m| listed(MFA_METHODS, m))
                        && methods
                            .iter()
                            .any(|m| !listed(PHISHING_RESISTANT_METHODS, m))
                })
        },
    )
}

fn phishing_resistant_for_admins(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "requires phishing-resistant MFA of every highly privileged role",
        "declare an enabled conditional-access-policy with include-roles naming Global Administrator, Privileged Role Administrator, User Administrator, SharePoint Administrator, Exchange Administrator, Hybrid Identity Administrator, Application Administrator and Cloud Application Administrator, include-applications All, and grant-controls { authentication-strength \"Phishing-resistant MFA\" }",
        Scope::Roles,
        &|p, ctx| {
            let roles = p.strings("/conditions/users/includeRoles");
            let covers = |(name, id): &(&str, &str)| has(&roles, name) || has(&roles, id);
            PRIVILEGED_ROLES.iter().all(covers) && p.requires_phishing_resistant(ctx)
        },
    )
}

fn managed_devices(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "requires a compliant or hybrid-joined device of all users",
        "declare an enabled conditional-access-policy with include-users All, include-applications All and grant-controls operator=OR { built-in-controls compliantDevice domainJoinedDevice }",
        Scope::AllUsers,
        &|p, _| {
            let controls = p.strings("/grantControls/builtInControls");
            controls.len() == 2
                && p.grants("compliantDevice")
                && p.grants("domainJoinedDevice")
                && operator_or(p)
        },
    )
}

fn managed_devices_to_register(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "requires a managed device to register security information",
        "declare an enabled conditional-access-policy with include-users All, include-user-actions \"urn:user:registersecurityinfo\" and grant-controls operator=OR { built-in-controls compliantDevice domainJoinedDevice }",
        Scope::UserAction,
        &|p, _| {
            has(
                &p.strings("/conditions/applications/includeUserActions"),
                "urn:user:registersecurityinfo",
            ) && (p.grants("compliantDevice") || p.grants("domainJoinedDevice"))
        },
    )
}

fn device_code_blocked(ctx: &Context) -> Verdict {
    conditional_access(
        ctx,
        "blocks the device code flow for all users",
        "declare an enabled conditional-access-policy with include-users All, include-applications All, authentication-flows { transfer-methods deviceCodeFlow } (and no other method) and grant-controls { built-in-controls block }",
        Scope::AllUsers,
        &|p, _| {
            p.strings("/conditions/authenticationFlows/transferMethods") == ["deviceCodeFlow"]
                && p.grants("block")
        },
    )
}

fn operator_or(p: &Policy) -> bool {
    get(p.json, "/grantControls/operator")
        .and_then(Value::as_str)
        .is_none_or(|o| o.eq_ignore_ascii_case("OR"))
}

// ---------------------------------------------------------------------------------------------
// Singletons: the authentication methods and authorization policies

/// The singleton of `kind`, or the verdict when it is not there to grade.
fn singleton(ctx: &Context, kind: Kind, setting: &str) -> Result<Map<String, Value>, Verdict> {
    if ctx.unreadable.contains(&kind) {
        return Err(Verdict::cannot(format!(
            "the sign-in may not read the {}",
            kind.node_name()
        )));
    }
    match ctx.config.resources(kind).into_iter().next() {
        Some((_, json)) => Ok(json),
        None => Err(match ctx.source {
            Source::Declared => Verdict::fail(
                format!(
                    "the files do not declare {} {setting}, so they do not guarantee it",
                    kind.node_name()
                ),
                format!("declare {} {{ {setting} … }}", kind.node_name()),
            ),
            _ => Verdict::cannot(format!("the {} was not read", kind.node_name())),
        }),
    }
}

/// A setting of a singleton that must have one of `good`; unset in the files is a failure (the
/// tenant's value is left alone), unset in the tenant means Graph's default `default`.
fn singleton_setting(
    ctx: &Context,
    kind: Kind,
    pointer: &str,
    setting: &str,
    good: &[&str],
    default: Option<&str>,
    help: &str,
) -> Verdict {
    let json = match singleton(ctx, kind, setting) {
        Ok(json) => json,
        Err(verdict) => return verdict,
    };
    let address = Address::singleton(kind);
    let value = get(&json, pointer).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let value = match (value, ctx.source) {
        (Some(v), _) => v,
        (None, Source::Declared) => {
            return Verdict::fail(
                format!(
                    "{} does not set {setting}, so the files do not guarantee it",
                    kind.node_name()
                ),
                help,
            )
            .at(address, "");
        }
        (None, _) => match default {
            Some(d) => d.to_string(),
            None => return Verdict::cannot(format!("{setting} was not read")),
        },
    };
    if good.iter().any(|g| g.eq_ignore_ascii_case(&value)) {
        Verdict::pass(format!("{setting} is {value}"), vec![address.to_string()])
    } else {
        Verdict::fail(format!("{setting} is {value}"), help)
            .at(address.clone(), pointer)
            .with_evidence(vec![address.to_string()])
    }
}

fn weak_methods_disabled(ctx: &Context) -> Verdict {
    let json = match singleton(
        ctx,
        Kind::AuthenticationMethodsPolicy,
        "sms, voice and email",
    ) {
        Ok(json) => json,
        Err(verdict) => return verdict,
    };
    let address = Address::singleton(Kind::AuthenticationMethodsPolicy);
    let mut enabled = Vec::new();
    let mut unset = Vec::new();
    for (method, node) in [("sms", "sms"), ("voice", "voice"), ("email", "email")] {
        match get(&json, &format!("/{method}/state")).and_then(Value::as_str) {
            Some("disabled") => {}
            Some(_) => enabled.push(node),
            None => unset.push(node),
        }
    }
    let help = "declare sms state=disabled, voice state=disabled and email state=disabled in authentication-methods-policy";
    if let Some(first) = enabled.first() {
        return Verdict::fail(format!("{} enabled", enabled.join(", ")), help)
            .at(address.clone(), &format!("/{first}/state"))
            .with_evidence(vec![address.to_string()]);
    }
    if !unset.is_empty() && ctx.source == Source::Declared {
        return Verdict::fail(
            format!(
                "the files do not set the state of {}, so they do not guarantee it",
                unset.join(", ")
            ),
            help,
        )
        .at(address, "");
    }
    // The tenant has no configuration for a method it never set up: nothing to disable.
    Verdict::pass(
        "sms, voice and email are disabled",
        vec![address.to_string()],
    )
}

fn authenticator_context(ctx: &Context) -> Verdict {
    let phishing_resistant = phishing_resistant_for_all(ctx);
    if phishing_resistant.status == Status::Pass {
        return Verdict::not_applicable("phishing-resistant MFA is enforced")
            .with_evidence(phishing_resistant.evidence);
    }
    let json = match singleton(
        ctx,
        Kind::AuthenticationMethodsPolicy,
        "microsoft-authenticator",
    ) {
        Ok(json) => json,
        Err(verdict) => return verdict,
    };
    let address = Address::singleton(Kind::AuthenticationMethodsPolicy);
    match get(&json, "/microsoftAuthenticator/state").and_then(Value::as_str) {
        Some("enabled") => {}
        Some(_) => {
            return Verdict::not_applicable("Microsoft Authenticator is disabled")
                .with_evidence(vec![address.to_string()]);
        }
        None if ctx.source == Source::Declared => {
            return Verdict::fail(
                "the files do not declare microsoft-authenticator, so they do not guarantee it",
                "declare microsoft-authenticator with feature-settings display-app-information-required-state and display-location-information-required-state enabled for all_users",
            )
            .at(address, "");
        }
        None => return Verdict::cannot("Microsoft Authenticator's settings were not read"),
    }
    let mut missing: Vec<String> = Vec::new();
    if get(&json, "/microsoftAuthenticator/isSoftwareOathEnabled") != Some(&Value::Bool(false)) {
        missing.push("its one-time codes are not turned off (is-software-oath-enabled)".into());
    }
    for (feature, shown) in [
        ("displayAppInformationRequiredState", "the app name"),
        (
            "displayLocationInformationRequiredState",
            "the sign-in location",
        ),
    ] {
        let base = format!("/microsoftAuthenticator/featureSettings/{feature}");
        let on = get(&json, &format!("{base}/state")).and_then(Value::as_str) == Some("enabled");
        let everyone = get(&json, &format!("{base}/includeTarget/id"))
            .and_then(Value::as_str)
            .is_some_and(|id| id.eq_ignore_ascii_case("all_users"));
        if !on {
            missing.push(format!("it does not show {shown}"));
        } else if !everyone {
            missing.push(format!("it shows {shown} to some users only"));
        }
    }
    if missing.is_empty() {
        return Verdict::pass(
            "Microsoft Authenticator shows the app and the location for all users",
            vec![address.to_string()],
        );
    }
    Verdict::fail(
        format!("Microsoft Authenticator is enabled, but {}", missing.join("; ")),
        "under microsoft-authenticator, declare is-software-oath-enabled #false and feature-settings { display-app-information-required-state state=enabled { include-target target-type=group id=all_users }; display-location-information-required-state state=enabled { include-target target-type=group id=all_users } }",
    )
    .at(address.clone(), "/microsoftAuthenticator")
    .with_evidence(vec![address.to_string()])
}

fn migration_complete(ctx: &Context) -> Verdict {
    let help = "declare authentication-methods-policy { policy-migration-state migrationComplete } once the legacy MFA and SSPR method settings are moved";
    let json = match singleton(
        ctx,
        Kind::AuthenticationMethodsPolicy,
        "policy-migration-state",
    ) {
        Ok(json) => json,
        Err(verdict) => return verdict,
    };
    let address = Address::singleton(Kind::AuthenticationMethodsPolicy);
    match json.get("policyMigrationState").and_then(Value::as_str) {
        Some("migrationComplete") => Verdict::pass(
            "policy-migration-state is migrationComplete",
            vec![address.to_string()],
        ),
        Some(state) => Verdict::fail(format!("policy-migration-state is {state}"), help)
            .at(address.clone(), "/policyMigrationState")
            .with_evidence(vec![address.to_string()]),
        // The files must say it; a tenant without the property has no legacy policies to
        // migrate (ScubaGear passes a null state).
        None if ctx.source == Source::Declared => Verdict::fail(
            "the files do not set policy-migration-state, so they do not guarantee it",
            help,
        )
        .at(address, ""),
        None => Verdict::pass(
            "the tenant has no migration state to complete",
            vec![address.to_string()],
        ),
    }
}

fn only_admins_register_apps(ctx: &Context) -> Verdict {
    singleton_setting(
        ctx,
        Kind::AuthorizationPolicy,
        "/defaultUserRolePermissions/allowedToCreateApps",
        "default-user-role-permissions allowed-to-create-apps",
        &["false"],
        Some("true"),
        "declare authorization-policy { default-user-role-permissions { allowed-to-create-apps #false } }",
    )
}

fn guest_access_limited(ctx: &Context) -> Verdict {
    singleton_setting(
        ctx,
        Kind::AuthorizationPolicy,
        "/guestUserRoleId",
        "guest-user-role-id",
        &[LIMITED_GUEST, RESTRICTED_GUEST],
        None,
        "declare authorization-policy { guest-user-role-id \"10dae51f-b6af-4016-8d66-8c2a99b929b3\" } (limited) or \"2af84b1e-32c8-42b7-82bc-daa82404023b\" (restricted)",
    )
}

fn only_guest_inviters(ctx: &Context) -> Verdict {
    singleton_setting(
        ctx,
        Kind::AuthorizationPolicy,
        "/allowInvitesFrom",
        "allow-invites-from",
        &["adminsAndGuestInviters"],
        Some("everyone"),
        "declare authorization-policy { allow-invites-from adminsAndGuestInviters }",
    )
}
