//! A ready bearer token (STEWARD_GRAPH_TOKEN), and what can be read from any token's claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{AuthMode, Credential, Secret, Source, sign_in_error};
use crate::graph::error::GraphError;

impl Credential {
    /// A ready bearer token (STEWARD_GRAPH_TOKEN); never refreshed.
    pub fn static_token(token: Secret) -> Result<Self, GraphError> {
        if token.expose().trim().is_empty() {
            return Err(sign_in_error(
                AuthMode::Token,
                "STEWARD_GRAPH_TOKEN is empty",
            ));
        }
        if let Some(problem) = token_problem(token.expose()) {
            return Err(sign_in_error(
                AuthMode::Token,
                &format!("STEWARD_GRAPH_TOKEN is not a valid bearer token: {problem}"),
            ));
        }
        Self::from_source(Source::Static { token })
    }
}

/// Why `token` cannot travel as a bearer token (HTTP headers hold one line of printable ASCII),
/// or None. Says which character and where, never the token itself.
pub(crate) fn token_problem(token: &str) -> Option<String> {
    let length = token.chars().count();
    token.chars().enumerate().find_map(|(i, c)| {
        let what = match c {
            '\n' | '\r' => "a line break",
            ' ' | '\t' => "a space or tab",
            c if c.is_control() => "a control character",
            c if !c.is_ascii() => "a non-ASCII character",
            _ => return None,
        };
        Some(format!(
            "it holds {what} at character {} of {length}; a token is one line of printable \
             ASCII, so check how it was copied into the variable",
            i + 1
        ))
    })
}

/// Reads the claims of a JWT access token: Some(true) delegated (`scp`), Some(false) app-only
/// (`idtyp: app`, or `roles` without `scp`), None when it is not a readable JWT.
pub(super) fn claims_delegated(token: &str) -> Option<bool> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    if claims.get("scp").is_some() {
        Some(true)
    } else if claims.get("idtyp").and_then(Value::as_str) == Some("app")
        || claims.get("roles").is_some()
    {
        Some(false)
    } else {
        None
    }
}
