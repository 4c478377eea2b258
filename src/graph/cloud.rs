//! National clouds and the https-or-loopback rule for endpoints.

use std::net::IpAddr;

use url::Url;

use super::error::GraphError;

/// A Microsoft cloud: decides the Graph and sign-in hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Cloud {
    /// Microsoft's global cloud (graph.microsoft.com).
    #[default]
    Global,
    /// US Government L4 / GCC High (graph.microsoft.us).
    #[value(name = "usgov")]
    UsGov,
    /// US Government L5 / DoD (dod-graph.microsoft.us).
    #[value(name = "usgov-dod")]
    UsGovDod,
    /// China, operated by 21Vianet (microsoftgraph.chinacloudapi.cn).
    China,
}

impl Cloud {
    /// Graph base URL of this cloud, without a version segment.
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// Sign-in (Entra ID authority) base URL of this cloud.
    pub fn login_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The domains of this cloud's SharePoint hosts (`contoso.sharepoint.com`).
    pub fn sharepoint_suffixes(self) -> &'static [&'static str] {
        match self {
            Cloud::Global => &["sharepoint.com"],
            Cloud::UsGov => &["sharepoint.us"],
            Cloud::UsGovDod => &["sharepoint-mil.us"],
            Cloud::China => &["sharepoint.cn"],
        }
    }

    /// OAuth scope that asks for a Graph token of this cloud.
    pub fn graph_scope(self) -> String {
        format!("{}/.default", self.graph_url())
    }
}

/// Parses an endpoint base URL and enforces the rule: `https`, or `http` only on a loopback
/// host (a local sandbox). Trailing slashes and a trailing `/v1.0` are dropped.
pub fn validate_endpoint(raw: &str, what: &str) -> Result<Url, GraphError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1.0").unwrap_or(trimmed);
    let url = Url::parse(trimmed).map_err(|e| GraphError::Config {
        message: format!("{what} `{raw}` is not a valid URL: {e}"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GraphError::Config {
            message: format!("{what} must not carry a user name or password"),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(GraphError::Config {
            message: format!("{what} `{raw}` must be a base URL without query or fragment"),
        });
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(GraphError::InsecureUrl {
            what: what.to_string(),
            url: trimmed.to_string(),
        }),
    }
}

/// True when the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
