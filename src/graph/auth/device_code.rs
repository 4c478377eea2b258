//! Interactive device-code sign-in (a signed-in admin), refreshed with its refresh token.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{AuthMode, Authority, Credential, Secret, Source, TokenAnswer, sign_in_error};
use super::{num, token_answer};
use crate::graph::error::GraphError;

impl Credential {
    /// Interactive device-code sign-in. `interactive` must say whether a person is at the
    /// terminal (stdin and stderr are terminals); otherwise this refuses at once.
    pub fn device_code(
        authority: Authority,
        client_id: &str,
        interactive: bool,
    ) -> Result<Self, GraphError> {
        if !interactive {
            return Err(sign_in_error(
                AuthMode::DeviceCode,
                "device-code sign-in needs a person at a terminal (stdin and stderr must be \
                 terminals); without one use a non-interactive mode: --auth secret, certificate, \
                 federated, github, azure-cli or token",
            ));
        }
        Self::from_source(Source::DeviceCode {
            authority,
            client_id: client_id.to_string(),
        })
    }

    pub(super) async fn device_code_grant(
        &self,
        authority: &Authority,
        client_id: &str,
        refresh_token: Option<Secret>,
    ) -> Result<TokenAnswer, GraphError> {
        if let Some(rt) = refresh_token {
            let form = vec![
                ("client_id", client_id.to_string()),
                ("scope", format!("{} offline_access", authority.scope)),
                ("refresh_token", rt.expose().to_string()),
                ("grant_type", "refresh_token".to_string()),
            ];
            if let Ok(a) = self
                .post_token(AuthMode::DeviceCode, &authority.token_url(), &form)
                .await
            {
                return Ok(a);
            }
            // A refused refresh falls back to a new interactive sign-in.
        }
        self.device_code_flow(authority, client_id).await
    }

    async fn device_code_flow(
        &self,
        authority: &Authority,
        client_id: &str,
    ) -> Result<TokenAnswer, GraphError> {
        let mode = AuthMode::DeviceCode;
        let scope = format!("{} offline_access", authority.scope);
        let start = self
            .post_form(
                mode,
                &authority.endpoint("devicecode"),
                &[("client_id", client_id.to_string()), ("scope", scope)],
            )
            .await?;
        let device_code = start
            .get("device_code")
            .and_then(Value::as_str)
            .ok_or_else(|| sign_in_error(mode, "the device-code answer has no device_code"))?
            .to_string();
        let message = start
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "To sign in, open {} and enter the code {}",
                    start["verification_uri"]
                        .as_str()
                        .unwrap_or("the sign-in page"),
                    start["user_code"]
                        .as_str()
                        .unwrap_or("shown by your administrator")
                )
            });
        eprintln!("{message}");
        let mut interval = Duration::from_secs(num(start.get("interval")).unwrap_or(5));
        let deadline =
            Instant::now() + Duration::from_secs(num(start.get("expires_in")).unwrap_or(900));
        let form = vec![
            ("client_id", client_id.to_string()),
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_string(),
            ),
            ("device_code", device_code),
        ];
        loop {
            if Instant::now() > deadline {
                return Err(sign_in_error(
                    mode,
                    "the device code expired before sign-in completed; run the command again",
                ));
            }
            tokio::time::sleep(interval).await;
            match self.post_form(mode, &authority.token_url(), &form).await {
                Ok(body) => return token_answer(mode, &body),
                Err(GraphError::TokenEndpoint { error, .. })
                    if error == "authorization_pending" => {}
                Err(GraphError::TokenEndpoint { error, .. }) if error == "slow_down" => {
                    interval += Duration::from_secs(5);
                }
                Err(e) => return Err(e),
            }
        }
    }
}
