//! The authentication methods policy (`/policies/authenticationMethodsPolicy`) and its method
//! configurations (`…/authenticationMethodConfigurations/{id}`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;
use super::reference::MethodTargetRef;

graph_enum!(
    /// Whether a method is allowed in the tenant.
    MethodState {
        Enabled = "enabled",
        Disabled = "disabled",
    }
);

graph_enum!(
    /// A three-way setting where `default` lets Microsoft decide.
    AdvancedConfigState {
        Default = "default",
        Enabled = "enabled",
        Disabled = "disabled",
    }
);

graph_enum!(
    /// Whether a target is a user or a group.
    TargetType {
        User = "user",
        Group = "group",
    }
);

graph_enum!(
    /// What a feature setting targets.
    FeatureTargetType {
        Group = "group",
        AdministrativeUnit = "administrativeUnit",
        Role = "role",
    }
);

graph_enum!(
    /// Sign-in modes of Microsoft Authenticator.
    AuthenticatorMode {
        DeviceBasedPush = "deviceBasedPush",
        Push = "push",
        Any = "any",
    }
);

graph_enum!(
    /// Whether FIDO2 key restrictions allow or block the listed AAGUIDs.
    KeyRestrictionEnforcement {
        Allow = "allow",
        Block = "block",
    }
);

graph_enum!(
    /// Whether external (B2B) users may use email one-time passcodes.
    ExternalEmailOtpState {
        Default = "default",
        Enabled = "enabled",
        Disabled = "disabled",
    }
);

graph_enum!(
    /// Certificate-based authentication strength.
    X509AuthenticationMode {
        X509CertificateSingleFactor = "x509CertificateSingleFactor",
        X509CertificateMultiFactor = "x509CertificateMultiFactor",
    }
);

graph_enum!(
    /// Certificate binding affinity.
    X509AffinityLevel {
        Low = "low",
        High = "high",
    }
);

graph_enum!(
    /// Kind of certificate rule.
    X509RuleType {
        IssuerSubject = "issuerSubject",
        PolicyOid = "policyOID",
        IssuerSubjectAndPolicyOid = "issuerSubjectAndPolicyOID",
    }
);

graph_enum!(
    /// An on/off setting of certificate-based authentication.
    X509SwitchState {
        Disabled = "disabled",
        Enabled = "enabled",
    }
);

graph_enum!(
    /// Where the tenant is in moving its methods from the legacy MFA and SSPR policies to this
    /// policy.
    PolicyMigrationState {
        PreMigration = "preMigration",
        MigrationInProgress = "migrationInProgress",
        MigrationComplete = "migrationComplete",
    }
);

/// The tenant-wide authentication methods policy. Methods not declared are left alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationMethodsPolicy {
    /// `migrationComplete` once this policy alone decides the methods (the legacy MFA and SSPR
    /// method settings are then ignored); `preMigration` or `migrationInProgress` before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_migration_state: Option<PolicyMigrationState>,
    /// Days before users are asked to reconfirm their authentication information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 365))]
    pub reconfirmation_in_days: Option<i32>,
    /// The registration campaign (nudging users to set up stronger methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_enforcement: Option<RegistrationEnforcement>,
    /// FIDO2 security keys and passkeys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fido2: Option<Fido2Method>,
    /// Microsoft Authenticator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub microsoft_authenticator: Option<MicrosoftAuthenticatorMethod>,
    /// Text message (phishable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsMethod>,
    /// Voice call (phishable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceMethod>,
    /// Email one-time passcode (phishable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailMethod>,
    /// Temporary Access Pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_access_pass: Option<TemporaryAccessPassMethod>,
    /// Third-party software OATH tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_oath: Option<BasicMethod>,
    /// Certificate-based authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate: Option<X509CertificateMethod>,
}

/// Registration enforcement settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationEnforcement {
    /// The registration campaign.
    pub authentication_methods_registration_campaign: RegistrationCampaign,
}

/// The registration campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationCampaign {
    /// `default`, `enabled` or `disabled`.
    pub state: AdvancedConfigState,
    /// Days a user may postpone registration (0–14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 14))]
    pub snooze_duration_in_days: Option<i32>,
    /// Who is nudged, and to which method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<CampaignTarget>>,
    /// Who is not nudged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
}

/// A registration campaign target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignTarget {
    /// `user` or `group`.
    pub target_type: TargetType,
    /// The group (name or id), `all_users`, or with target-type user a UPN.
    pub id: MethodTargetRef,
    /// The method users are nudged to register (`microsoftAuthenticator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeted_authentication_method: Option<String>,
}

/// Who a method is enabled for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncludeTarget {
    /// `user` or `group`.
    pub target_type: TargetType,
    /// The group (name or id), `all_users`, or with target-type user a UPN.
    pub id: MethodTargetRef,
    /// Whether users in the target must register the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_registration_required: Option<bool>,
}

/// Who a method is enabled for, in Microsoft Authenticator's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticatorTarget {
    /// `user` or `group`.
    pub target_type: TargetType,
    /// The group (name or id), `all_users`, or with target-type user a UPN.
    pub id: MethodTargetRef,
    /// Whether users in the target must register the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_registration_required: Option<bool>,
    /// `any`, `push` or `deviceBasedPush` (passwordless phone sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_mode: Option<AuthenticatorMode>,
}

/// Who SMS is enabled for, and whether it may be used for sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsTarget {
    /// `user` or `group`.
    pub target_type: TargetType,
    /// The group (name or id), `all_users`, or with target-type user a UPN.
    pub id: MethodTargetRef,
    /// Whether users in the target must register the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_registration_required: Option<bool>,
    /// Whether SMS may be used as a first factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_usable_for_sign_in: Option<bool>,
}

/// Who a method is not enabled for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExcludeTarget {
    /// `user` or `group`.
    pub target_type: TargetType,
    /// The group (name or id), or with target-type user a UPN.
    pub id: MethodTargetRef,
}

/// A method with only a state and targets (software OATH).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<IncludeTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
}

/// FIDO2 security keys and passkeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fido2Method {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<IncludeTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
    /// Whether users may register keys themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_self_service_registration_allowed: Option<bool>,
    /// Whether attestation is enforced at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_attestation_enforced: Option<bool>,
    /// Restrictions on key models by AAGUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_restrictions: Option<KeyRestrictions>,
}

/// FIDO2 key restrictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyRestrictions {
    /// Whether the restrictions are enforced.
    pub is_enforced: bool,
    /// `allow` or `block` the listed AAGUIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement_type: Option<KeyRestrictionEnforcement>,
    /// Authenticator model ids (AAGUIDs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aa_guids: Option<Vec<String>>,
}

/// Microsoft Authenticator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MicrosoftAuthenticatorMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<AuthenticatorTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
    /// Whether Authenticator may also be used as a software OATH token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_software_oath_enabled: Option<bool>,
    /// Context shown in push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_settings: Option<AuthenticatorFeatureSettings>,
}

/// Microsoft Authenticator feature settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticatorFeatureSettings {
    /// Show the application name in push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_app_information_required_state: Option<FeatureConfiguration>,
    /// Show the sign-in location in push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_location_information_required_state: Option<FeatureConfiguration>,
}

/// A feature setting with its own targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureConfiguration {
    /// `default`, `enabled` or `disabled`.
    pub state: AdvancedConfigState,
    /// Who the feature applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_target: Option<FeatureTarget>,
    /// Who the feature does not apply to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_target: Option<FeatureTarget>,
}

/// A feature setting's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureTarget {
    /// `group`, `administrativeUnit` or `role`.
    pub target_type: FeatureTargetType,
    /// The group (name or id) or `all_users`.
    pub id: MethodTargetRef,
}

/// Text message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<SmsTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
}

/// Voice call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoiceMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<IncludeTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
    /// Whether office phones may receive the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_office_phone_allowed: Option<bool>,
}

/// Email one-time passcode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<IncludeTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
    /// Whether external users may use email OTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_external_id_to_use_email_otp: Option<ExternalEmailOtpState>,
}

/// Temporary Access Pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemporaryAccessPassMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<IncludeTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
    /// Default pass length (8–48).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 8, max = 48))]
    pub default_length: Option<i32>,
    /// Default lifetime in minutes (10–43200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 43200))]
    pub default_lifetime_in_minutes: Option<i32>,
    /// Minimum lifetime in minutes (10–43200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 43200))]
    pub minimum_lifetime_in_minutes: Option<i32>,
    /// Maximum lifetime in minutes (10–43200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 43200))]
    pub maximum_lifetime_in_minutes: Option<i32>,
    /// Whether a pass may be used only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_usable_once: Option<bool>,
}

/// Certificate-based authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X509CertificateMethod {
    /// `enabled` or `disabled`.
    pub state: MethodState,
    /// Who may use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_targets: Option<Vec<IncludeTarget>>,
    /// Who may not use the method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_targets: Option<Vec<ExcludeTarget>>,
    /// How certificates map to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_user_bindings: Option<Vec<CertificateUserBinding>>,
    /// Default strength and rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_mode_configuration: Option<X509ModeConfiguration>,
    /// Certificate revocation list checking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_validation_configuration: Option<CrlValidation>,
    /// Whether issuer hints are sent to clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_hints_configuration: Option<IssuerHints>,
}

/// A certificate-to-user binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateUserBinding {
    /// The certificate field (`PrincipalName`, `RFC822Name`, …).
    pub x509_certificate_field: String,
    /// The user property it matches (`userPrincipalName`, …).
    pub user_property: String,
    /// Binding priority (lower first).
    pub priority: i32,
    /// `low` or `high` affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_affinity_level: Option<X509AffinityLevel>,
}

/// Certificate authentication mode configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X509ModeConfiguration {
    /// Default strength of a certificate sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_authentication_default_mode: Option<X509AuthenticationMode>,
    /// Default affinity required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_default_required_affinity_level: Option<X509AffinityLevel>,
    /// Rules overriding the default per issuer or policy OID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<X509Rule>>,
}

/// A certificate authentication rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X509Rule {
    /// `issuerSubject`, `policyOID` or `issuerSubjectAndPolicyOID`.
    pub x509_certificate_rule_type: X509RuleType,
    /// The issuer subject or policy OID the rule matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// The issuer subject, for combined rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_subject_identifier: Option<String>,
    /// The policy OID, for combined rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_oid_identifier: Option<String>,
    /// The strength the rule grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_authentication_mode: Option<X509AuthenticationMode>,
    /// The affinity the rule requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_required_affinity_level: Option<X509AffinityLevel>,
}

/// Certificate revocation list checking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrlValidation {
    /// `enabled` or `disabled`.
    pub state: X509SwitchState,
    /// Subject key identifiers of authorities exempt from checking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempted_certificate_authorities_subject_key_identifiers: Option<Vec<String>>,
}

/// Issuer hints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerHints {
    /// `enabled` or `disabled`.
    pub state: X509SwitchState,
}

/// The method configurations, with Graph's id for each (PascalCase, as Graph returns it).
pub const METHOD_IDS: &[(&str, &str)] = &[
    ("fido2", "Fido2"),
    ("microsoftAuthenticator", "MicrosoftAuthenticator"),
    ("sms", "Sms"),
    ("voice", "Voice"),
    ("email", "Email"),
    ("temporaryAccessPass", "TemporaryAccessPass"),
    ("softwareOath", "SoftwareOath"),
    ("x509Certificate", "X509Certificate"),
];

impl super::Resource for AuthenticationMethodsPolicy {
    fn checks(&self) -> Vec<super::Finding> {
        super::checks::authentication_methods_policy(self)
    }
}
