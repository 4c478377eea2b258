//! SCuBA's SharePoint and OneDrive baseline (MS.SHAREPOINT), graded as ScubaGear's
//! `SharepointConfig.rego` does, from the settings steward reads.

use serde_json::Value;

use super::{Context, Requirement, Rule, Source, Verdict};
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
        grade: |_| {
            Verdict::cannot(
                "OneDrive's own sharing level is a SharePoint admin setting outside Microsoft Graph, which steward does not read yet",
            )
        },
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
        grade: |_| {
            Verdict::cannot(
                "the default sharing link type is a SharePoint admin setting outside Microsoft Graph, which steward does not read yet",
            )
        },
    },
    Rule {
        id: "MS.SHAREPOINT.2.2v1",
        requirement: Shall,
        section: "2. File and Folder Default Sharing Settings",
        title: "File and folder default sharing permissions SHALL be set to view only.",
        grade: |_| {
            Verdict::cannot(
                "the default link permission is a SharePoint admin setting outside Microsoft Graph, which steward does not read yet",
            )
        },
    },
    Rule {
        id: "MS.SHAREPOINT.3.1v1",
        requirement: Shall,
        section: "3. Securing Anyone Links and Verification Code Users",
        title: "Expiration days for Anyone links SHALL be set to 30 days or less.",
        grade: |ctx| anyone_links(ctx, "Anyone-link expiry"),
    },
    Rule {
        id: "MS.SHAREPOINT.3.2v1",
        requirement: Shall,
        section: "3. Securing Anyone Links and Verification Code Users",
        title: "The allowable file and folder permissions for links SHALL be set to view only.",
        grade: |ctx| anyone_links(ctx, "Anyone-link permissions"),
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

fn sharing_domains(ctx: &Context) -> Verdict {
    let (level, address) = match sharing_capability(ctx) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    if level == "disabled" {
        return Verdict::not_applicable("external sharing is disabled")
            .with_evidence(vec![address.to_string()]);
    }
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

/// The Anyone-link rules apply only where Anyone links are allowed; their settings are
/// SharePoint admin settings outside Graph.
fn anyone_links(ctx: &Context, what: &str) -> Verdict {
    let (level, address) = match sharing_capability(ctx) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    if level != "externalUserAndGuestSharing" {
        return Verdict::not_applicable(format!(
            "Anyone links are not allowed (sharing-capability is {level})"
        ))
        .with_evidence(vec![address.to_string()]);
    }
    Verdict::cannot(format!(
        "{what} is a SharePoint admin setting outside Microsoft Graph, which steward does not read yet"
    ))
}

/// Verification-code users matter wherever guests can be invited (ScubaGear's 3.3v2: any
/// sharing level but "only people in your organization").
fn verification_code_reauthentication(ctx: &Context) -> Verdict {
    let (level, address) = match sharing_capability(ctx) {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    if level == "disabled" {
        return Verdict::not_applicable("external sharing is disabled")
            .with_evidence(vec![address.to_string()]);
    }
    Verdict::cannot(
        "verification-code re-authentication is a SharePoint admin setting outside Microsoft Graph, which steward does not read yet",
    )
}
