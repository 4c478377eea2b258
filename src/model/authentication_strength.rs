//! Authentication strengths (`/policies/authenticationStrengthPolicies`).

use std::borrow::Cow;
use std::collections::BTreeSet;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::macros::graph_enum;

graph_enum!(
    /// An authentication method mode, the unit authentication strengths combine.
    MethodMode {
        Password = "password",
        Voice = "voice",
        HardwareOath = "hardwareOath",
        SoftwareOath = "softwareOath",
        Sms = "sms",
        Fido2 = "fido2",
        WindowsHelloForBusiness = "windowsHelloForBusiness",
        MicrosoftAuthenticatorPush = "microsoftAuthenticatorPush",
        DeviceBasedPush = "deviceBasedPush",
        TemporaryAccessPassOneTime = "temporaryAccessPassOneTime",
        TemporaryAccessPassMultiUse = "temporaryAccessPassMultiUse",
        Email = "email",
        X509CertificateSingleFactor = "x509CertificateSingleFactor",
        X509CertificateMultiFactor = "x509CertificateMultiFactor",
        FederatedSingleFactor = "federatedSingleFactor",
        FederatedMultiFactor = "federatedMultiFactor",
        QrCodePin = "qrCodePin",
    }
);

impl MethodMode {
    /// Looks a mode up by Graph's name, ignoring case.
    pub fn from_name(name: &str) -> Option<MethodMode> {
        MethodMode::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// One allowed combination of method modes, such as `password,sms`.
///
/// Graph writes combinations comma-joined, sometimes with spaces; steward keeps the set of modes
/// so `"password, sms"` and `"sms,password"` are the same combination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Combination(pub BTreeSet<MethodMode>);

impl Combination {
    /// Parses a comma-joined combination; the error names the unknown mode.
    pub fn parse(text: &str) -> Result<Combination, String> {
        let mut modes = BTreeSet::new();
        for part in text.split(',') {
            let mode = MethodMode::from_name(part)
                .ok_or_else(|| format!("`{}` is not an authentication method mode", part.trim()))?;
            modes.insert(mode);
        }
        Ok(Combination(modes))
    }
}

impl std::fmt::Display for Combination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|m| m.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Combination {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Combination {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Combination::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Combination {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Combination")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let modes: Vec<&str> = MethodMode::ALL.iter().map(|m| m.as_str()).collect();
        json_schema!({
            "type": "string",
            "format": "method-combination",
            "description": format!(
                "Authentication method modes joined by commas, e.g. \"password,sms\". Modes: {}.",
                modes.join(", ")
            ),
        })
    }
}

/// A custom authentication strength.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationStrength {
    /// The strength's display name: its identity in steward.
    pub display_name: String,
    /// Pins the strength to one object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Settings someone else manages (dotted paths such as
    /// `conditions.users.exclude-groups`): never compared, never written, shown as ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_changes: Option<Vec<String>>,
    /// The strength's previous name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The method combinations that satisfy this strength.
    pub allowed_combinations: Vec<Combination>,
}

impl super::Resource for AuthenticationStrength {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_ignore_spaces_and_order() {
        assert_eq!(
            Combination::parse("password, sms"),
            Combination::parse("sms,password")
        );
        assert_eq!(
            Combination::parse("password, sms").map(|c| c.to_string()),
            Ok("password,sms".to_string())
        );
    }

    #[test]
    fn an_unknown_mode_is_named() {
        assert_eq!(
            Combination::parse("password,carrierPigeon"),
            Err("`carrierPigeon` is not an authentication method mode".to_string())
        );
    }
}
