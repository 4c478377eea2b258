//! Named locations (`/identity/conditionalAccess/namedLocations`): IP ranges or countries.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;

graph_enum!(
    /// How a country location is determined.
    CountryLookupMethod {
        ClientIpAddress = "clientIpAddress",
        AuthenticatorAppGps = "authenticatorAppGps",
    }
);

/// A named location: either IP ranges (`ip-ranges`, `is-trusted`) or countries
/// (`countries-and-regions`, …), never both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedLocation {
    /// The location's display name: its identity in steward.
    pub display_name: String,
    /// Pins the location to one object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Settings someone else manages (dotted paths such as
    /// `conditions.users.exclude-groups`): never compared, never written, shown as ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_changes: Option<Vec<String>>,
    /// The location's previous name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// IPv4 or IPv6 ranges in CIDR notation (an IP location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("items" = {"type": "string", "format": "cidr"}))]
    pub ip_ranges: Option<Vec<String>>,
    /// Whether the IP location is trusted (`AllTrusted` in policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trusted: Option<bool>,
    /// ISO 3166 two-letter country or region codes (a country location).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("items" = {"type": "string", "format": "country"}))]
    pub countries_and_regions: Option<Vec<String>>,
    /// Whether sign-ins that cannot be mapped to a country are included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_unknown_countries_and_regions: Option<bool>,
    /// How the country is determined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_lookup_method: Option<CountryLookupMethod>,
}

impl NamedLocation {
    /// True when the location is defined by countries rather than IP ranges.
    pub fn is_country(&self) -> bool {
        self.countries_and_regions.is_some()
            || self.include_unknown_countries_and_regions.is_some()
            || self.country_lookup_method.is_some()
    }
}

/// Checks that `text` is an IPv4 or IPv6 CIDR range (`203.0.113.0/24`, `2001:db8::/48`).
pub fn is_cidr(text: &str) -> bool {
    let Some((addr, len)) = text.split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => len <= 32,
        Ok(std::net::IpAddr::V6(_)) => len <= 128,
        Err(_) => false,
    }
}

impl super::Resource for NamedLocation {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }

    fn checks(&self) -> Vec<super::Finding> {
        super::checks::named_location(self)
    }
}

#[cfg(test)]
mod tests {
    use super::is_cidr;

    #[test]
    fn cidr_ranges_are_recognised() {
        assert!(is_cidr("203.0.113.0/24"));
        assert!(is_cidr("2001:db8::/48"));
        assert!(!is_cidr("203.0.113.0"));
        assert!(!is_cidr("203.0.113.0/33"));
        assert!(!is_cidr("head office/24"));
    }
}
