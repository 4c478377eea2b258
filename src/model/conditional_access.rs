//! Conditional Access policies (`/identity/conditionalAccess/policies`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;
use super::reference::{
    ApplicationRef, AuthenticationStrengthRef, GroupRef, NamedLocationRef, RoleRef,
    ServicePrincipalRef, UserRef,
};

graph_enum!(
    /// Whether a policy is enforced, only reported on, or off.
    PolicyState {
        Enabled = "enabled",
        Disabled = "disabled",
        EnabledForReportingButNotEnforced = "enabledForReportingButNotEnforced",
    }
);

graph_enum!(
    /// Client application types a policy applies to.
    ClientAppType {
        All = "all",
        Browser = "browser",
        MobileAppsAndDesktopClients = "mobileAppsAndDesktopClients",
        ExchangeActiveSync = "exchangeActiveSync",
        EasSupported = "easSupported",
        Other = "other",
    }
);

graph_enum!(
    /// Device platforms.
    DevicePlatform {
        Android = "android",
        IOs = "iOS",
        Windows = "windows",
        WindowsPhone = "windowsPhone",
        MacOs = "macOS",
        Linux = "linux",
        All = "all",
    }
);

graph_enum!(
    /// Sign-in, user and service-principal risk levels.
    RiskLevel {
        Low = "low",
        Medium = "medium",
        High = "high",
        Hidden = "hidden",
        None = "none",
    }
);

graph_enum!(
    /// Insider risk levels (Graph sends them comma-joined; files list them).
    InsiderRiskLevel {
        Minor = "minor",
        Moderate = "moderate",
        Elevated = "elevated",
    }
);

graph_enum!(
    /// Kinds of guest or external user (Graph sends them comma-joined; files list them).
    GuestOrExternalUserType {
        None = "none",
        InternalGuest = "internalGuest",
        B2bCollaborationGuest = "b2bCollaborationGuest",
        B2bCollaborationMember = "b2bCollaborationMember",
        B2bDirectConnectUser = "b2bDirectConnectUser",
        OtherExternalUser = "otherExternalUser",
        ServiceProvider = "serviceProvider",
    }
);

graph_enum!(
    /// Which external tenants a guest condition covers.
    MembershipKind {
        All = "all",
        Enumerated = "enumerated",
    }
);

graph_enum!(
    /// Whether a filter includes or excludes what matches its rule.
    FilterMode {
        Include = "include",
        Exclude = "exclude",
    }
);

graph_enum!(
    /// Authentication flows (Graph sends them comma-joined; files list them).
    TransferMethod {
        None = "none",
        DeviceCodeFlow = "deviceCodeFlow",
        AuthenticationTransfer = "authenticationTransfer",
    }
);

graph_enum!(
    /// Built-in grant controls.
    GrantControl {
        Block = "block",
        Mfa = "mfa",
        CompliantDevice = "compliantDevice",
        DomainJoinedDevice = "domainJoinedDevice",
        ApprovedApplication = "approvedApplication",
        CompliantApplication = "compliantApplication",
        PasswordChange = "passwordChange",
        RiskRemediation = "riskRemediation",
    }
);

graph_enum!(
    /// How grant controls combine: all of them (AND) or any one (OR).
    GrantOperator {
        And = "AND",
        Or = "OR",
    }
);

graph_enum!(
    /// Cloud app security session modes.
    CloudAppSecurityType {
        McasConfigured = "mcasConfigured",
        MonitorOnly = "monitorOnly",
        BlockDownloads = "blockDownloads",
    }
);

graph_enum!(
    /// Persistent browser session mode.
    PersistentBrowserMode {
        Always = "always",
        Never = "never",
    }
);

graph_enum!(
    /// Which authentications a sign-in frequency applies to.
    SignInFrequencyAuthenticationType {
        PrimaryAndSecondaryAuthentication = "primaryAndSecondaryAuthentication",
        SecondaryAuthentication = "secondaryAuthentication",
    }
);

graph_enum!(
    /// Sign-in frequency: after a time, or every time.
    SignInFrequencyInterval {
        TimeBased = "timeBased",
        EveryTime = "everyTime",
    }
);

graph_enum!(
    /// Unit of a time-based sign-in frequency.
    SignInFrequencyType {
        Days = "days",
        Hours = "hours",
    }
);

/// A Conditional Access policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionalAccessPolicy {
    /// The policy's display name: its identity in steward.
    pub display_name: String,
    /// Pins the policy to one object id, when names are not enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Settings someone else manages (dotted paths such as
    /// `conditions.users.exclude-groups`): never compared, never written, shown as ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_changes: Option<Vec<String>>,
    /// The policy's previous name: found under it, the policy is renamed instead of recreated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Why this policy may leave the emergency-access accounts in scope (lockout guard waiver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_waiver: Option<String>,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// enabled, disabled or enabledForReportingButNotEnforced (report-only).
    pub state: PolicyState,
    /// Who, what and when the policy applies to.
    pub conditions: Conditions,
    /// What a sign-in in scope must satisfy (or `block`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_controls: Option<GrantControls>,
    /// Session restrictions applied after sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_controls: Option<SessionControls>,
}

/// The conditions of a policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Conditions {
    /// Users, groups, roles and guests in scope.
    pub users: Option<Users>,
    /// Cloud apps, user actions and authentication contexts in scope.
    pub applications: Option<Applications>,
    /// Workload identities (service principals) in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_applications: Option<ClientApplications>,
    /// Client app types in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_app_types: Option<Vec<ClientAppType>>,
    /// Device platforms in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Platforms>,
    /// Named locations in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Locations>,
    /// A device filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Devices>,
    /// Sign-in risk levels in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_risk_levels: Option<Vec<RiskLevel>>,
    /// User risk levels in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_risk_levels: Option<Vec<RiskLevel>>,
    /// Service principal risk levels in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_risk_levels: Option<Vec<RiskLevel>>,
    /// Insider risk levels in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insider_risk_levels: Option<Vec<InsiderRiskLevel>>,
    /// Authentication flows in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_flows: Option<AuthenticationFlows>,
}

/// Users in scope of a policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Users {
    /// Users included: UPNs, ids, `All`, `None` or `GuestsOrExternalUsers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_users: Option<Vec<UserRef>>,
    /// Users excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_users: Option<Vec<UserRef>>,
    /// Groups included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_groups: Option<Vec<GroupRef>>,
    /// Groups excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_groups: Option<Vec<GroupRef>>,
    /// Directory roles included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_roles: Option<Vec<RoleRef>>,
    /// Directory roles excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_roles: Option<Vec<RoleRef>>,
    /// Guests or external users included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_guests_or_external_users: Option<GuestsOrExternalUsers>,
    /// Guests or external users excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_guests_or_external_users: Option<GuestsOrExternalUsers>,
}

/// Guests or external users, by kind and home tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestsOrExternalUsers {
    /// The kinds of guest or external user.
    pub guest_or_external_user_types: Vec<GuestOrExternalUserType>,
    /// Their home tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_tenants: Option<ExternalTenants>,
}

/// External tenants: all, or an enumerated list of tenant ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalTenants {
    /// `all`, or `enumerated` with `members`.
    pub membership_kind: MembershipKind,
    /// Tenant ids, when `membership-kind` is `enumerated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
}

/// Applications, user actions and authentication contexts in scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Applications {
    /// Applications included: names, appIds, `All`, `None`, `Office365`, `MicrosoftAdminPortals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_applications: Option<Vec<ApplicationRef>>,
    /// Applications excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_applications: Option<Vec<ApplicationRef>>,
    /// User actions included (`urn:user:registersecurityinfo`, `urn:user:registerdevice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_user_actions: Option<Vec<String>>,
    /// Authentication context class references included (`c1` … `c99`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_authentication_context_class_references: Option<Vec<String>>,
    /// A filter on application attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_filter: Option<Filter>,
}

/// Workload identities in scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientApplications {
    /// Service principals included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_service_principals: Option<Vec<ServicePrincipalRef>>,
    /// Service principals excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_service_principals: Option<Vec<ServicePrincipalRef>>,
    /// A filter on service principal attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_filter: Option<Filter>,
}

/// A rule-based filter (devices, applications, service principals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    /// Whether matching objects are included or excluded.
    pub mode: FilterMode,
    /// The filter rule, in Entra's rule syntax.
    pub rule: String,
}

/// Device platforms in scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Platforms {
    /// Platforms included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_platforms: Option<Vec<DevicePlatform>>,
    /// Platforms excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_platforms: Option<Vec<DevicePlatform>>,
}

/// Named locations in scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Locations {
    /// Locations included: names, ids, `All` or `AllTrusted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_locations: Option<Vec<NamedLocationRef>>,
    /// Locations excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_locations: Option<Vec<NamedLocationRef>>,
}

/// Devices in scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Devices {
    /// A filter on device attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_filter: Option<Filter>,
}

/// Authentication flows in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationFlows {
    /// The transfer methods (device code flow, authentication transfer).
    pub transfer_methods: Vec<TransferMethod>,
}

/// Grant controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantControls {
    /// `AND` (all controls required) or `OR` (any one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<GrantOperator>,
    /// Built-in controls (`block`, `mfa`, `compliantDevice`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_in_controls: Option<Vec<GrantControl>>,
    /// Custom authentication factors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_authentication_factors: Option<Vec<String>>,
    /// Terms of use agreement ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_of_use: Option<Vec<String>>,
    /// An authentication strength required (by name or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_strength: Option<AuthenticationStrengthRef>,
}

/// Session controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionControls {
    /// Enforce application restrictions (Exchange Online, SharePoint Online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_enforced_restrictions: Option<EnabledControl>,
    /// Route sessions through Defender for Cloud Apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_app_security: Option<CloudAppSecurity>,
    /// Turn off resilience defaults during an outage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_resilience_defaults: Option<bool>,
    /// Persistent browser sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_browser: Option<PersistentBrowser>,
    /// Token protection for sign-in sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_sign_in_session: Option<EnabledControl>,
    /// How often users must sign in again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_frequency: Option<SignInFrequency>,
}

/// A session control that is only on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnabledControl {
    /// Whether the control is on.
    pub is_enabled: bool,
}

/// Defender for Cloud Apps session control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloudAppSecurity {
    /// Whether the control is on.
    pub is_enabled: bool,
    /// The session mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_app_security_type: Option<CloudAppSecurityType>,
}

/// Persistent browser session control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistentBrowser {
    /// Whether the control is on.
    pub is_enabled: bool,
    /// `always` or `never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PersistentBrowserMode>,
}

/// Sign-in frequency session control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInFrequency {
    /// Whether the control is on.
    pub is_enabled: bool,
    /// `timeBased` (with `value` and `type`) or `everyTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_interval: Option<SignInFrequencyInterval>,
    /// The number of hours or days, for a time-based frequency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 365))]
    pub value: Option<i32>,
    /// `hours` or `days`, for a time-based frequency.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub frequency_type: Option<SignInFrequencyType>,
    /// Which authentications the frequency applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_type: Option<SignInFrequencyAuthenticationType>,
}

impl super::Resource for ConditionalAccessPolicy {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }

    fn checks(&self) -> Vec<super::Finding> {
        super::checks::conditional_access_policy(self)
    }
}
