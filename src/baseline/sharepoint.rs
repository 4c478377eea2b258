//! SCuBA's SharePoint and OneDrive baseline (MS.SHAREPOINT), graded as ScubaGear's
//! `SharepointConfig.rego` does, from the settings steward reads.

use serde_json::Value;

use super::{Context, Requirement, Rule, Source, Status, Verdict};
use crate::model::{Address, Kind};

use Requirement::Shall;

/// The MS.SHAREPOINT policies, in baseline order.
pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "MS.SHAREPOINT.1.1v1",
        requirement: Shall,
        section: "1. External Sharing",
        title: "External sharing for SharePoint SHALL be limited to \"Existing guests\" or \"Only people in your organization\".",
        grade: sharepoint_sharing,
    },
    Rule {
        id: "MS.SHAREPOINT.1.2v1",
        requirement: Shall,
        section: "1. External Sharing",
        title: "External sharing for OneDrive SHALL be limited to \"Existing guests\" or \"Only people in your organization\".",
        grade: onedrive_sharing,
    },
    Rule {
        id: "MS.SHAREPOINT.1.3v1",
        requirement: Shall,
        section: "1. External Sharing",
        title: "External sharing SHALL be restricted to approved external domains and/or users in approved security groups per interagency collaboration needs.",
        grade: sharing_domains,
    },
    Rule {
        id: "MS.SHAREPOINT.2.1v1",
        requirement: Shall,
        section: "2. File and Folder Default Sharing Settings",
        title: "File and folder default sharing scope SHALL be set to \"Specific people (only the people the user specifies)\".",
        grade: |ctx| {
            spo_setting(
                ctx,
                "defaultSharingLinkType",
                "default-sharing-link-type",
                &|v| v == "specific-people",
                "declare sharepoint-settings { default-sharing-link-type specific-people }",
            )
        },
    },
    Rule {
        id: "MS.SHAREPOINT.2.2v1",
        requirement: Shall,
        section: "2. File and Folder Default Sharing Settings",
        title: "File and folder default sharing permissions SHALL be set to view only.",
        grade: |ctx| {
            spo_setting(
                ctx,
                "defaultLinkPermission",
                "default-link-permission",
                &|v| v == "view",
                "declare sharepoint-settings { default-link-permission view }",
            )
        },
    },
    Rule {
        id: "MS.SHAREPOINT.3.1v1",
        requirement: Shall,
        section: "3. Securing Anyone Links and Verification Code Users",
        title: "Expiration days for Anyone links SHALL be set to 30 days or less.",
        grade: anyone_link_expiry,
    },
    Rule {
        id: "MS.SHAREPOINT.3.2v1",
        requirement: Shall,
        section: "3. Securing Anyone Links and Verification Code Users",
        title: "The allowable file and folder permissions for links SHALL be set to view only.",
        grade: anyone_link_permissions,
    },
    Rule {
        id: "MS.SHAREPOINT.3.3v2",
        requirement: Shall,
        section: "3. Securing Anyone Links and Verification Code Users",
        title: "Reauthentication days for people who use a verification code SHALL be set to 30 days or less.",
        grade: verification_code_reauthentication,
    },
];

/// `sharingCapability`, or the verdict when it cannot be had.
fn sharing_capability(ctx: &Context) -> Result<(String, Address), Verdict> {
    let kind = Kind::SharepointSettings;
    let address = Address::singleton(kind);
    if ctx.unreadable.contains(&kind) {
        return Err(Verdict::cannot(
            "the sign-in may not read the SharePoint settings (SharePointTenantSettings.Read.All)",
        ));
    }
    let json = ctx
        .config
        .resources(kind)
        .into_iter()
        .next()
        .map(|(_, j)| j);
    match json
        .as_ref()
        .and_then(|j| j.get("sharingCapability"))
        .and_then(Value::as_str)
    {
        Some(level) => Ok((level.to_string(), address)),
        None if ctx.source == Source::Declared => Err(Verdict::fail(
            "the files do not set sharepoint-settings sharing-capability, so they do not guarantee it",
            "declare sharepoint-settings { sharing-capability existingExternalUserSharingOnly } (or disabled)",
        )
        .at(address, "")),
        None => Err(Verdict::cannot("the SharePoint settings were not read")),
    }
}

fn sharepoint_sharing(ctx: &Context) -> Verdict {
    let (level, address) = match sharing_capability(ctx) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    if matches!(
        level.as_str(),
        "disabled" | "existingExternalUserSharingOnly"
    ) {
        Verdict::pass(
            format!("sharing-capability is {level}"),
            vec![address.to_string()],
        )
    } else {
        Verdict::fail(
            format!("sharing-capability is {level}"),
            "declare sharepoint-settings { sharing-capability existingExternalUserSharingOnly } (or disabled)",
        )
        .at(address.clone(), "/sharingCapability")
        .with_evidence(vec![address.to_string()])
    }
}

/// `sharingCapability` where sharing reaches outside the organisation; not applicable where
/// it does not.
fn external_sharing(ctx: &Context) -> Result<(String, Address), Verdict> {
    let (level, address) = sharing_capability(ctx)?;
    if level == "disabled" {
        return Err(Verdict::not_applicable("external sharing is disabled")
            .with_evidence(vec![address.to_string()]));
    }
    Ok((level, address))
}

fn sharing_domains(ctx: &Context) -> Verdict {
    let (_, address) = match external_sharing(ctx) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    let json = ctx
        .config
        .resources(Kind::SharepointSettings)
        .into_iter()
        .next()
        .map(|(_, j)| j)
        .unwrap_or_default();
    match json
        .get("sharingDomainRestrictionMode")
        .and_then(Value::as_str)
    {
        Some("allowList") => Verdict::pass(
            "sharing is limited to the allowed domains",
            vec![address.to_string()],
        ),
        other => Verdict::fail(
            format!(
                "sharing-domain-restriction-mode is {}",
                other.unwrap_or("not set (none)")
            ),
            "declare sharepoint-settings { sharing-domain-restriction-mode allowList; sharing-allowed-domain-list \"partner.example\" }",
        )
        .at(address.clone(), "/sharingDomainRestrictionMode")
        .with_evidence(vec![address.to_string()]),
    }
}

/// The tenant's SharePoint settings in the model's JSON form.
fn settings(ctx: &Context) -> serde_json::Map<String, Value> {
    ctx.config
        .resources(Kind::SharepointSettings)
        .into_iter()
        .next()
        .map(|(_, json)| json)
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A SharePoint admin setting that must satisfy `good`: unset in the files is not guaranteed;
/// unset in the tenant means SharePoint's admin API was not read.
fn spo_setting(
    ctx: &Context,
    property: &str,
    setting: &str,
    good: &dyn Fn(&str) -> bool,
    help: &str,
) -> Verdict {
    let address = Address::singleton(Kind::SharepointSettings);
    if ctx.unreadable.contains(&Kind::SharepointSettings) {
        return Verdict::cannot("the sign-in may not read the SharePoint settings");
    }
    match settings(ctx).get(property).map(text) {
        Some(value) if good(&value) => {
            Verdict::pass(format!("{setting} is {value}"), vec![address.to_string()])
        }
        Some(value) => Verdict::fail(format!("{setting} is {value}"), help)
            .at(address.clone(), &format!("/{property}"))
            .with_evidence(vec![address.to_string()]),
        None if ctx.source == Source::Declared => Verdict::fail(
            format!(
                "the files do not set sharepoint-settings {setting}, so they do not guarantee it"
            ),
            help,
        )
        .at(address, ""),
        None => Verdict::cannot(format!(
            "{setting} was not read (SharePoint's admin API, outside Graph)"
        )),
    }
}

fn onedrive_sharing(ctx: &Context) -> Verdict {
    spo_setting(
        ctx,
        "oneDriveSharingCapability",
        "one-drive-sharing-capability",
        &|v| matches!(v, "disabled" | "existingExternalUserSharingOnly"),
        "declare sharepoint-settings { one-drive-sharing-capability existingExternalUserSharingOnly } (or disabled)",
    )
}

/// The Anyone-link rules apply only where Anyone links are allowed (ScubaGear: SharePoint's
/// sharing level is "Anyone").
fn anyone_links_allowed(ctx: &Context) -> Result<(), Box<Verdict>> {
    let (level, address) = sharing_capability(ctx).map_err(Box::new)?;
    if level == "externalUserAndGuestSharing" {
        Ok(())
    } else {
        Err(Box::new(
            Verdict::not_applicable(format!(
                "Anyone links are not allowed (sharing-capability is {level})"
            ))
            .with_evidence(vec![address.to_string()]),
        ))
    }
}

fn anyone_link_expiry(ctx: &Context) -> Verdict {
    if let Err(verdict) = anyone_links_allowed(ctx) {
        return *verdict;
    }
    spo_setting(
        ctx,
        "requireAnonymousLinksExpireInDays",
        "require-anonymous-links-expire-in-days",
        &|v| v.parse::<i64>().is_ok_and(|days| (1..=30).contains(&days)),
        "declare sharepoint-settings { require-anonymous-links-expire-in-days 30 } (or fewer; 0 means never)",
    )
}

fn anyone_link_permissions(ctx: &Context) -> Verdict {
    if let Err(verdict) = anyone_links_allowed(ctx) {
        return *verdict;
    }
    let help = "declare sharepoint-settings { file-anonymous-link-type view; folder-anonymous-link-type view }";
    for (property, setting) in [
        ("fileAnonymousLinkType", "file-anonymous-link-type"),
        ("folderAnonymousLinkType", "folder-anonymous-link-type"),
    ] {
        let verdict = spo_setting(ctx, property, setting, &|v| v == "view", help);
        if verdict.status != Status::Pass {
            return verdict;
        }
    }
    Verdict::pass(
        "Anyone links to files and folders are view-only",
        vec![Address::singleton(Kind::SharepointSettings).to_string()],
    )
}

/// Verification-code users matter wherever guests can be invited (ScubaGear's 3.3v2: any
/// sharing level but "only people in your organization").
fn verification_code_reauthentication(ctx: &Context) -> Verdict {
    if let Err(verdict) = external_sharing(ctx) {
        return verdict;
    }
    let help = "declare sharepoint-settings { email-attestation-required #true; email-attestation-re-auth-days 30 } (or fewer days)";
    let required = spo_setting(
        ctx,
        "emailAttestationRequired",
        "email-attestation-required",
        &|v| v == "true",
        help,
    );
    if required.status != Status::Pass {
        return required;
    }
    spo_setting(
        ctx,
        "emailAttestationReAuthDays",
        "email-attestation-re-auth-days",
        &|v| v.parse::<i64>().is_ok_and(|days| days <= 30),
        help,
    )
}
