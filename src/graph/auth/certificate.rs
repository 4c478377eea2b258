//! Certificate sign-in (app-only): a client assertion signed with the certificate's key.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha1::{Digest, Sha1};

use super::{AuthMode, Authority, Credential, Secret, Source, TokenAnswer, sign_in_error};
use crate::graph::error::GraphError;

impl Credential {
    /// App registration signing in with a certificate: `pem` holds the certificate and its
    /// unencrypted RSA private key (PKCS#8 or PKCS#1).
    pub fn client_certificate(
        authority: Authority,
        client_id: &str,
        pem: &str,
    ) -> Result<Self, GraphError> {
        let mode = AuthMode::Certificate;
        let blocks = pem_blocks(pem);
        let cert = blocks
            .iter()
            .find(|(label, _)| label == "CERTIFICATE")
            .ok_or_else(|| sign_in_error(mode, "the PEM file holds no CERTIFICATE block"))?;
        let der = STANDARD
            .decode(&cert.1)
            .map_err(|_| sign_in_error(mode, "the CERTIFICATE block is not valid base64"))?;
        let x5t = URL_SAFE_NO_PAD.encode(Sha1::digest(&der));
        if blocks.iter().any(|(l, _)| l == "ENCRYPTED PRIVATE KEY") {
            return Err(sign_in_error(
                mode,
                "the private key is encrypted; steward needs an unencrypted key (e.g. \
                 `openssl pkcs8 -nocrypt`) in a file only the runner can read",
            ));
        }
        let (label, body) = blocks
            .iter()
            .find(|(l, _)| l == "PRIVATE KEY" || l == "RSA PRIVATE KEY")
            .ok_or_else(|| {
                sign_in_error(
                    mode,
                    "the PEM file holds no RSA PRIVATE KEY or PRIVATE KEY block",
                )
            })?;
        let key_pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes())
            .map_err(|_| sign_in_error(mode, "the private key is not a readable RSA key"))?;
        Self::from_source(Source::Certificate {
            authority,
            client_id: client_id.to_string(),
            key,
            x5t,
        })
    }

    pub(super) async fn certificate_grant(
        &self,
        authority: &Authority,
        client_id: &str,
        key: &jsonwebtoken::EncodingKey,
        x5t: &str,
    ) -> Result<TokenAnswer, GraphError> {
        let assertion = sign_assertion(authority, client_id, key, x5t)?;
        self.assertion_grant(AuthMode::Certificate, authority, client_id, assertion)
            .await
    }
}

/// Splits PEM text into (label, base64 body) blocks.
fn pem_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_string(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some(block) = current.take() {
                out.push(block);
            }
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            body.push_str(line);
        }
    }
    out
}

/// The signed client assertion: RS256, `x5t` = base64url SHA-1 of the certificate, 10 minutes.
fn sign_assertion(
    authority: &Authority,
    client_id: &str,
    key: &jsonwebtoken::EncodingKey,
    x5t: &str,
) -> Result<Secret, GraphError> {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5t = Some(x5t.to_string());
    let claims = serde_json::json!({
        "aud": authority.token_url(),
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    });
    jsonwebtoken::encode(&header, &claims, key)
        .map(Secret::new)
        .map_err(|_| {
            sign_in_error(
                AuthMode::Certificate,
                "cannot sign the client assertion with this key",
            )
        })
}
