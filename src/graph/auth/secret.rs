//! Client-secret sign-in (app-only): the OAuth client-credentials grant.

use super::{AuthMode, Authority, Credential, Secret, Source, TokenAnswer, sign_in_error};
use crate::graph::error::GraphError;

impl Credential {
    /// App registration signing in with a client secret.
    pub fn client_secret(
        authority: Authority,
        client_id: &str,
        secret: Secret,
    ) -> Result<Self, GraphError> {
        if secret.expose().is_empty() {
            return Err(sign_in_error(
                AuthMode::Secret,
                "the client secret is empty",
            ));
        }
        Self::from_source(Source::ClientSecret {
            authority,
            client_id: client_id.to_string(),
            secret,
        })
    }

    pub(super) async fn secret_grant(
        &self,
        authority: &Authority,
        client_id: &str,
        secret: &Secret,
    ) -> Result<TokenAnswer, GraphError> {
        let form = vec![
            ("client_id", client_id.to_string()),
            ("scope", authority.scope.clone()),
            ("client_secret", secret.expose().to_string()),
            ("grant_type", "client_credentials".to_string()),
        ];
        self.post_token(AuthMode::Secret, &authority.token_url(), &form)
            .await
    }
}
