//! Workload identity federation (app-only): a token file, or GitHub Actions' OIDC token, sent
//! as the client assertion.

use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;

use super::{AuthMode, Authority, Credential, Secret, Source, TokenAnswer, sign_in_error};
use super::{GITHUB_OIDC_AUDIENCE, transport_sign_in};
use crate::graph::error::GraphError;

impl Credential {
    /// Workload identity federation: the file's content (re-read for every token, as it
    /// rotates) is sent as the client assertion.
    pub fn federated_token_file(
        authority: Authority,
        client_id: &str,
        path: PathBuf,
    ) -> Result<Self, GraphError> {
        Self::from_source(Source::FederatedFile {
            authority,
            client_id: client_id.to_string(),
            path,
        })
    }

    /// GitHub Actions OIDC: asks the runner for an ID token (ACTIONS_ID_TOKEN_REQUEST_URL /
    /// ACTIONS_ID_TOKEN_REQUEST_TOKEN) with audience `api://AzureADTokenExchange` and exchanges it.
    pub fn github_oidc(
        authority: Authority,
        client_id: &str,
        request_url: &str,
        request_token: Secret,
    ) -> Result<Self, GraphError> {
        let mode = AuthMode::Github;
        let mut url = Url::parse(request_url)
            .map_err(|_| sign_in_error(mode, "ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL"))?;
        if url.scheme() != "https" && !crate::graph::cloud::is_loopback(&url) {
            return Err(sign_in_error(
                mode,
                "ACTIONS_ID_TOKEN_REQUEST_URL must be https (or loopback)",
            ));
        }
        url.query_pairs_mut()
            .append_pair("audience", GITHUB_OIDC_AUDIENCE);
        Self::from_source(Source::GitHub {
            authority,
            client_id: client_id.to_string(),
            request_url: url,
            request_token,
        })
    }

    pub(super) async fn federated_grant(
        &self,
        authority: &Authority,
        client_id: &str,
        path: &Path,
    ) -> Result<TokenAnswer, GraphError> {
        let mode = AuthMode::Federated;
        let text = tokio::fs::read_to_string(path).await.map_err(|e| {
            sign_in_error(
                mode,
                &format!(
                    "cannot read the federated token file {} (AZURE_FEDERATED_TOKEN_FILE): {e}",
                    path.display()
                ),
            )
        })?;
        let assertion = text.trim();
        if assertion.is_empty() {
            return Err(sign_in_error(
                mode,
                &format!("the federated token file {} is empty", path.display()),
            ));
        }
        self.assertion_grant(mode, authority, client_id, Secret::new(assertion))
            .await
    }

    pub(super) async fn github_grant(
        &self,
        authority: &Authority,
        client_id: &str,
        request_url: &Url,
        request_token: &Secret,
    ) -> Result<TokenAnswer, GraphError> {
        let id_token = self.github_id_token(request_url, request_token).await?;
        self.assertion_grant(AuthMode::Github, authority, client_id, id_token)
            .await
    }

    async fn github_id_token(&self, url: &Url, token: &Secret) -> Result<Secret, GraphError> {
        let mode = AuthMode::Github;
        self.count("GET GitHub OIDC token");
        let resp = self
            .inner
            .http
            .get(url.clone())
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| transport_sign_in(mode, url, &e))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(GraphError::TokenEndpoint {
                mode: mode.name().to_string(),
                status: status.as_u16(),
                error: "id_token_request_failed".to_string(),
                description: format!(
                    "the GitHub Actions runner refused the OIDC token request (does the workflow \
                     grant `permissions: id-token: write`?){}",
                    body.get("message")
                        .and_then(Value::as_str)
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                trace_id: None,
                correlation_id: None,
            });
        }
        match body.get("value").and_then(Value::as_str) {
            Some(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(sign_in_error(
                mode,
                "the GitHub Actions OIDC answer has no `value` token",
            )),
        }
    }
}
