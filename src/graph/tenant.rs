//! Which tenant a client works on: the tenant's id and the Graph host, recorded in saved plans
//! so that a plan is only ever applied where it was made.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{GraphClient, GraphError};

/// The tenant (organization) id: the access token's `tid` claim when the token is a JWT (as
/// Microsoft's are), else the id Graph's `organization` endpoint gives.
pub async fn tenant_id(client: &GraphClient) -> Result<String, GraphError> {
    let token = client.credential().token().await?;
    if let Some(tid) = tid_claim(token.expose()) {
        return Ok(tid);
    }
    let path = "organization?$select=id";
    let body = client.get(path).await?;
    let ids: Vec<&str> = body
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("id").and_then(Value::as_str))
        .collect();
    match ids.as_slice() {
        [one] if !one.trim().is_empty() => Ok(one.to_ascii_lowercase()),
        _ => Err(GraphError::InvalidResponse {
            method: "GET".into(),
            path: format!("/v1.0/{path}"),
            detail: format!(
                "expected exactly one organization with an id, got {}",
                ids.len()
            ),
        }),
    }
}

/// The tenant id of the organisation that owns `domain` (a verified domain), `None` when no
/// tenant does (Graph answers 404).
pub async fn tenant_of_domain(
    client: &GraphClient,
    domain: &str,
) -> Result<Option<String>, GraphError> {
    let quoted = domain.replace('\'', "''");
    let path =
        format!("tenantRelationships/findTenantInformationByDomainName(domainName='{quoted}')");
    match client.get(&path).await {
        Ok(body) => Ok(body
            .get("tenantId")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)),
        Err(GraphError::Http(e)) if e.status == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// The Graph host the client talks to, `host[:port]` in lower case. Loopback hosts are given
/// without their port: a local sandbox listens on a new port every run, the tenant id tells
/// sandboxes apart.
pub fn graph_host(client: &GraphClient) -> String {
    host_of(client.base_url())
}

fn host_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.port() {
        Some(port) if !loopback => format!("{host}:{port}"),
        _ => host,
    }
}

/// The `tid` claim of a JWT, if the token is one and carries it.
fn tid_claim(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("tid")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_id_comes_from_a_jwts_tid_claim() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"tid":"C0A7050E-5EED-4D3E-9A1B-0C0A70500001"}"#);
        assert_eq!(
            tid_claim(&format!("eyJhbGciOiJub25lIn0.{payload}.sig")),
            Some("c0a7050e-5eed-4d3e-9a1b-0c0a70500001".into())
        );
        assert_eq!(tid_claim("an-opaque-token"), None);
        let no_tid = URL_SAFE_NO_PAD.encode(br#"{"aud":"x"}"#);
        assert_eq!(tid_claim(&format!("h.{no_tid}.s")), None);
    }

    #[test]
    fn loopback_hosts_drop_their_port_and_others_keep_it() {
        let host = |u: &str| url::Url::parse(u).map(|u| host_of(&u)).unwrap_or_default();
        assert_eq!(host("https://graph.microsoft.com"), "graph.microsoft.com");
        assert_eq!(
            host("https://Graph.Microsoft.US:8443/"),
            "graph.microsoft.us:8443"
        );
        assert_eq!(host("http://127.0.0.1:41237"), "127.0.0.1");
        assert_eq!(host("http://localhost:8080"), "localhost");
        assert_eq!(host("http://[::1]:8080"), "[::1]");
    }
}
