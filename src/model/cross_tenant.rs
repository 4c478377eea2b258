//! Cross-tenant access settings (`/policies/crossTenantAccessPolicy`): the default
//! configuration every other organisation gets, and per-partner configurations that override it.
//!
//! Graph lists the users, groups and applications a setting covers as `targets` of
//! `{target, targetType}`. The model splits them by type, so that those in this tenant can be
//! written by name: outbound settings (and tenant restrictions) name this tenant's users and
//! groups and the partner's applications; inbound settings name the partner's users and groups
//! and this tenant's applications. The partner's objects are written by id (this tenant cannot
//! look them up). `All` stands for Graph's `AllUsers` / `AllApplications`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;
use super::reference::{ApplicationRef, GroupRef, UserRef, is_guid};

graph_enum!(
    /// Whether the listed users, groups or applications are allowed or blocked.
    AccessType {
        Allowed = "allowed",
        Blocked = "blocked",
    }
);

/// Users and groups of this tenant (outbound settings), allowed or blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnUsersAndGroups {
    /// `allowed` or `blocked`.
    pub access_type: AccessType,
    /// This tenant's users, by UPN or id, or `All` (every user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRef>>,
    /// This tenant's groups, by display name or id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRef>>,
}

/// Users and groups of the other organisation (inbound settings), allowed or blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalUsersAndGroups {
    /// `allowed` or `blocked`.
    pub access_type: AccessType,
    /// The other organisation's user ids, or `All` (every user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// The other organisation's group ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// Applications of this tenant (inbound settings), allowed or blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnApplications {
    /// `allowed` or `blocked`.
    pub access_type: AccessType,
    /// This tenant's applications, by name or appId, `Office365`, or `All` (every application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<Vec<ApplicationRef>>,
}

/// Applications of the other organisation (outbound settings), allowed or blocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalApplications {
    /// `allowed` or `blocked`.
    pub access_type: AccessType,
    /// The other organisation's application ids, `Office365`, or `All` (every application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<Vec<String>>,
}

/// Who from the other organisation may reach which of this tenant's applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundSetting {
    /// The other organisation's users and groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_and_groups: Option<ExternalUsersAndGroups>,
    /// This tenant's applications they may reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<OwnApplications>,
}

/// Which of this tenant's users may reach which of the other organisation's applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundSetting {
    /// This tenant's users and groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_and_groups: Option<OwnUsersAndGroups>,
    /// The other organisation's applications they may reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<ExternalApplications>,
}

/// Which of the other organisation's sign-in claims Conditional Access accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundTrust {
    /// Accept MFA done in the other organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mfa_accepted: Option<bool>,
    /// Accept the other organisation's compliant devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_compliant_device_accepted: Option<bool>,
    /// Accept the other organisation's hybrid Microsoft Entra joined devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "isHybridAzureADJoinedDeviceAccepted")]
    pub is_hybrid_azure_ad_joined_device_accepted: Option<bool>,
}

/// Automatic redemption: invitations accepted without the consent prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutomaticUserConsent {
    /// Users of the other organisation are not asked to consent when they arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_allowed: Option<bool>,
    /// This tenant's users are not asked to consent when they go to the other organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_allowed: Option<bool>,
}

/// The default cross-tenant access configuration: what every organisation without a partner
/// configuration gets. Undeclared settings are left alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrossTenantAccess {
    /// Guests from other organisations (B2B collaboration) into this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration_inbound: Option<InboundSetting>,
    /// This tenant's users as guests of other organisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration_outbound: Option<OutboundSetting>,
    /// Other organisations' users in this tenant's shared channels (B2B direct connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect_inbound: Option<InboundSetting>,
    /// This tenant's users in other organisations' shared channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect_outbound: Option<OutboundSetting>,
    /// Which MFA and device claims of other organisations Conditional Access accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_trust: Option<InboundTrust>,
    /// Automatic redemption of invitations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_user_consent_settings: Option<AutomaticUserConsent>,
    /// Tenant restrictions: which other organisations' applications this tenant's users may
    /// use from managed networks and devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_restrictions: Option<OutboundSetting>,
}

/// A partner configuration: settings for one other organisation, by its tenant id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrossTenantPartner {
    /// The partner organisation: its tenant id, or one of its verified domains (steward looks
    /// the tenant id up when it plans).
    pub display_name: String,
    /// Pins the declaration to the partner's tenant id (the same as its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Settings someone else manages (dotted paths): never compared, never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_changes: Option<Vec<String>>,
    /// Guests from the partner (B2B collaboration) into this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration_inbound: Option<InboundSetting>,
    /// This tenant's users as guests of the partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration_outbound: Option<OutboundSetting>,
    /// The partner's users in this tenant's shared channels (B2B direct connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect_inbound: Option<InboundSetting>,
    /// This tenant's users in the partner's shared channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect_outbound: Option<OutboundSetting>,
    /// Which of the partner's MFA and device claims Conditional Access accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_trust: Option<InboundTrust>,
    /// Automatic redemption of invitations with the partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_user_consent_settings: Option<AutomaticUserConsent>,
    /// Tenant restrictions for the partner's applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_restrictions: Option<OutboundSetting>,
    /// Whether the partner is a service provider for this tenant (Microsoft's GDAP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_service_provider: Option<bool>,
}

/// True for a DNS domain name (`fabrikam.com`): labels of letters, digits and hyphens.
pub fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    labels.len() >= 2
        && text.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl super::Resource for CrossTenantAccess {
    fn checks(&self) -> Vec<super::Finding> {
        super::checks::cross_tenant_settings(&[
            (
                "/b2bCollaborationOutbound",
                self.b2b_collaboration_outbound.as_ref(),
            ),
            (
                "/b2bDirectConnectOutbound",
                self.b2b_direct_connect_outbound.as_ref(),
            ),
            ("/tenantRestrictions", self.tenant_restrictions.as_ref()),
        ])
    }
}

impl super::Resource for CrossTenantPartner {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }

    fn checks(&self) -> Vec<super::Finding> {
        let mut out = super::checks::cross_tenant_settings(&[
            (
                "/b2bCollaborationOutbound",
                self.b2b_collaboration_outbound.as_ref(),
            ),
            (
                "/b2bDirectConnectOutbound",
                self.b2b_direct_connect_outbound.as_ref(),
            ),
            ("/tenantRestrictions", self.tenant_restrictions.as_ref()),
        ]);
        if !is_guid(&self.display_name) && !is_domain(&self.display_name) {
            out.push(super::checks::cross_tenant_partner_name(&self.display_name));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::is_domain;

    #[test]
    fn domain_names_are_told_from_other_text() {
        assert!(is_domain("fabrikam.com"));
        assert!(is_domain("contoso.onmicrosoft.com"));
        assert!(!is_domain("fabrikam"));
        assert!(!is_domain("Fabrikam Ltd.com"));
        assert!(!is_domain("-x.com"));
        assert!(!is_domain("a..com"));
    }
}
