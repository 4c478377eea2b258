//! Sign-in: the credential kinds Azure tooling uses, with an in-memory token cache that
//! refreshes before expiry. Tokens, secrets and assertions are never printed or put in errors.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sha1::{Digest, Sha1};
use url::Url;

use super::cloud::{is_loopback, validate_endpoint};
use super::error::GraphError;
use super::stats::Stats;

/// Well-known public client id of "Microsoft Graph Command Line Tools", used for device-code
/// sign-in when no `--client-id` is given.
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Audience GitHub's OIDC token must carry for Entra workload identity federation.
pub const GITHUB_OIDC_AUDIENCE: &str = "api://AzureADTokenExchange";

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A secret string (client secret, token, assertion). `Debug` is redacted and there is no
/// `Display`, so it cannot end up in a log line or error by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself, for putting on the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How steward signs in to Microsoft Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// App registration with a client secret (AZURE_CLIENT_SECRET).
    Secret,
    /// App registration with a certificate (AZURE_CLIENT_CERTIFICATE_PATH, PEM with key).
    Certificate,
    /// Workload identity federation from a token file (AZURE_FEDERATED_TOKEN_FILE).
    Federated,
    /// GitHub Actions OIDC: no secret stored anywhere (needs `permissions: id-token: write`).
    Github,
    /// The Azure CLI's current login (`az login`).
    AzureCli,
    /// Interactive device-code sign-in for an admin at a terminal.
    DeviceCode,
    /// A bearer token in STEWARD_GRAPH_TOKEN (sandbox, or a token obtained elsewhere).
    Token,
}

impl AuthMode {
    /// The flag value, e.g. `azure-cli`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::Secret => "secret",
            AuthMode::Certificate => "certificate",
            AuthMode::Federated => "federated",
            AuthMode::Github => "github",
            AuthMode::AzureCli => "azure-cli",
            AuthMode::DeviceCode => "device-code",
            AuthMode::Token => "token",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where tokens come from: the sign-in host, the tenant and the Graph scope.
#[derive(Debug, Clone)]
pub struct Authority {
    login_url: Url,
    tenant: String,
    scope: String,
}

impl Authority {
    /// `login_url` is the sign-in base (e.g. `https://login.microsoftonline.com`), `graph_url`
    /// the Graph base whose `/.default` scope is requested.
    pub fn new(login_url: &str, tenant: &str, graph_url: &str) -> Result<Self, GraphError> {
        let login_url = validate_endpoint(login_url, "login URL")?;
        // The tenant becomes a path segment: allow only GUIDs and domain names.
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(GraphError::Config {
                message: format!(
                    "tenant `{tenant}` is not a tenant id (GUID) or domain name; set --tenant or AZURE_TENANT_ID"
                ),
            });
        }
        Ok(Authority {
            login_url,
            tenant: tenant.to_string(),
            scope: format!("{}/.default", graph_url.trim_end_matches('/')),
        })
    }

    /// The OAuth scope requested, `{graph}/.default`.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// `{login}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self) -> String {
        self.endpoint("token")
    }

    fn endpoint(&self, leaf: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{leaf}",
            self.login_url.as_str().trim_end_matches('/'),
            self.tenant
        )
    }
}

enum Source {
    ClientSecret {
        authority: Authority,
        client_id: String,
        secret: Secret,
    },
    Certificate {
        authority: Authority,
        client_id: String,
        key: jsonwebtoken::EncodingKey,
        x5t: String,
    },
    FederatedFile {
        authority: Authority,
        client_id: String,
        path: PathBuf,
    },
    GitHub {
        authority: Authority,
        client_id: String,
        request_url: Url,
        request_token: Secret,
    },
    AzureCli {
        graph_url: String,
        tenant: Option<String>,
    },
    DeviceCode {
        authority: Authority,
        client_id: String,
    },
    Static {
        token: Secret,
    },
}

impl Source {
    fn mode(&self) -> AuthMode {
        match self {
            Source::ClientSecret { .. } => AuthMode::Secret,
            Source::Certificate { .. } => AuthMode::Certificate,
            Source::FederatedFile { .. } => AuthMode::Federated,
            Source::GitHub { .. } => AuthMode::Github,
            Source::AzureCli { .. } => AuthMode::AzureCli,
            Source::DeviceCode { .. } => AuthMode::DeviceCode,
            Source::Static { .. } => AuthMode::Token,
        }
    }
}

struct Cached {
    token: Secret,
    refresh_at: Option<Instant>,
    refresh_token: Option<Secret>,
}

struct Inner {
    source: Source,
    cache: tokio::sync::Mutex<Option<Cached>>,
    http: reqwest::Client,
    stats: OnceLock<Arc<Stats>>,
    // Learned from a token's claims: Some(true) delegated, Some(false) app-only.
    delegated: Mutex<Option<bool>>,
}

/// A way to get Graph access tokens. Cheap to clone; tokens are cached for the run.
#[derive(Clone)]
pub struct Credential {
    inner: Arc<Inner>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("mode", &self.mode().name())
            .field("secrets", &"<redacted>")
            .finish()
    }
}

/// Fields of a token endpoint answer steward uses.
struct TokenAnswer {
    access_token: Secret,
    lifetime: Option<Duration>,
    refresh_token: Option<Secret>,
}

impl Credential {
    fn from_source(source: Source) -> Result<Self, GraphError> {
        let mut builder = reqwest::Client::builder();
        let local_sign_in = match &source {
            Source::ClientSecret { authority, .. }
            | Source::Certificate { authority, .. }
            | Source::FederatedFile { authority, .. }
            | Source::GitHub { authority, .. }
            | Source::DeviceCode { authority, .. } => is_loopback(&authority.login_url),
            Source::AzureCli { .. } | Source::Static { .. } => false,
        };
        if local_sign_in {
            // A local token endpoint (the sandbox) is reached directly: secrets sent over
            // plain http must not pass through an HTTP_PROXY.
            builder = builder.no_proxy();
        }
        let http = builder
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("steward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Config {
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        let delegated = match &source {
            Source::Static { token } => claims_delegated(token.expose()),
            _ => None,
        };
        Ok(Credential {
            inner: Arc::new(Inner {
                source,
                cache: tokio::sync::Mutex::new(None),
                http,
                stats: OnceLock::new(),
                delegated: Mutex::new(delegated),
            }),
        })
    }

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
        if url.scheme() != "https" && !super::cloud::is_loopback(&url) {
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

    /// The Azure CLI's current login, via `az account get-access-token`.
    pub fn azure_cli(graph_url: &str, tenant: Option<&str>) -> Result<Self, GraphError> {
        Self::from_source(Source::AzureCli {
            graph_url: graph_url.trim_end_matches('/').to_string(),
            tenant: tenant.map(str::to_string),
        })
    }

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

    /// The sign-in mode.
    pub fn mode(&self) -> AuthMode {
        self.inner.source.mode()
    }

    /// True when tokens act for a signed-in user (delegated), false for app-only sign-ins.
    /// For `azure-cli` and `token` the token's claims decide once a token has been seen
    /// (an `az login --service-principal` is app-only); before that they count as delegated.
    pub fn is_delegated(&self) -> bool {
        match self.mode() {
            AuthMode::Secret | AuthMode::Certificate | AuthMode::Federated | AuthMode::Github => {
                false
            }
            AuthMode::DeviceCode => true,
            AuthMode::AzureCli | AuthMode::Token => self
                .inner
                .delegated
                .lock()
                .ok()
                .and_then(|d| *d)
                .unwrap_or(true),
        }
    }

    pub(crate) fn attach_stats(&self, stats: Arc<Stats>) {
        // A credential shared by two clients counts its sign-ins on the first one.
        let _ = self.inner.stats.set(stats);
    }

    fn count(&self, kind: &str) {
        if let Some(s) = self.inner.stats.get() {
            s.request(kind.to_string());
        }
    }

    /// A valid access token, from the cache or freshly obtained (refreshed ~5 minutes before
    /// it expires).
    pub async fn token(&self) -> Result<Secret, GraphError> {
        let mut cache = self.inner.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && c.refresh_at.is_none_or(|t| Instant::now() < t)
        {
            return Ok(c.token.clone());
        }
        let refresh_token = cache.as_ref().and_then(|c| c.refresh_token.clone());
        let answer = self.fetch(refresh_token).await?;
        if let Some(d) = claims_delegated(answer.access_token.expose())
            && let Ok(mut slot) = self.inner.delegated.lock()
        {
            *slot = Some(d);
        }
        let refresh_at = answer.lifetime.map(|l| {
            let margin = REFRESH_MARGIN.min(l / 2);
            Instant::now() + l.saturating_sub(margin)
        });
        let token = answer.access_token.clone();
        *cache = Some(Cached {
            token: answer.access_token,
            refresh_at,
            refresh_token: answer.refresh_token,
        });
        Ok(token)
    }

    /// Forgets the cached token (after Graph rejected it with 401). Returns false for a
    /// static token, which cannot be renewed.
    pub async fn invalidate(&self) -> bool {
        if matches!(self.inner.source, Source::Static { .. }) {
            return false;
        }
        let mut cache = self.inner.cache.lock().await;
        if let Some(c) = cache.as_mut() {
            c.refresh_at = Some(Instant::now());
        }
        true
    }

    async fn fetch(&self, refresh_token: Option<Secret>) -> Result<TokenAnswer, GraphError> {
        let mode = self.mode();
        match &self.inner.source {
            Source::Static { token } => Ok(TokenAnswer {
                access_token: token.clone(),
                lifetime: None,
                refresh_token: None,
            }),
            Source::ClientSecret {
                authority,
                client_id,
                secret,
            } => {
                let form = vec![
                    ("client_id", client_id.clone()),
                    ("scope", authority.scope.clone()),
                    ("client_secret", secret.expose().to_string()),
                    ("grant_type", "client_credentials".to_string()),
                ];
                self.post_token(mode, &authority.token_url(), &form).await
            }
            Source::Certificate {
                authority,
                client_id,
                key,
                x5t,
            } => {
                let assertion = sign_assertion(authority, client_id, key, x5t)?;
                self.assertion_grant(mode, authority, client_id, assertion)
                    .await
            }
            Source::FederatedFile {
                authority,
                client_id,
                path,
            } => {
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
            Source::GitHub {
                authority,
                client_id,
                request_url,
                request_token,
            } => {
                let id_token = self.github_id_token(request_url, request_token).await?;
                self.assertion_grant(mode, authority, client_id, id_token)
                    .await
            }
            Source::AzureCli { graph_url, tenant } => {
                self.count("az account get-access-token");
                azure_cli_token(graph_url, tenant.as_deref()).await
            }
            Source::DeviceCode {
                authority,
                client_id,
            } => {
                if let Some(rt) = refresh_token {
                    let form = vec![
                        ("client_id", client_id.clone()),
                        ("scope", format!("{} offline_access", authority.scope)),
                        ("refresh_token", rt.expose().to_string()),
                        ("grant_type", "refresh_token".to_string()),
                    ];
                    if let Ok(a) = self.post_token(mode, &authority.token_url(), &form).await {
                        return Ok(a);
                    }
                    // A refused refresh falls back to a new interactive sign-in.
                }
                self.device_code_flow(authority, client_id).await
            }
        }
    }

    async fn assertion_grant(
        &self,
        mode: AuthMode,
        authority: &Authority,
        client_id: &str,
        assertion: Secret,
    ) -> Result<TokenAnswer, GraphError> {
        let form = vec![
            ("client_id", client_id.to_string()),
            ("scope", authority.scope.clone()),
            ("client_assertion_type", ASSERTION_TYPE.to_string()),
            ("client_assertion", assertion.expose().to_string()),
            ("grant_type", "client_credentials".to_string()),
        ];
        self.post_token(mode, &authority.token_url(), &form).await
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

    async fn post_token(
        &self,
        mode: AuthMode,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<TokenAnswer, GraphError> {
        let body = self.post_form(mode, url, form).await?;
        token_answer(mode, &body)
    }

    /// Posts a form to the sign-in host; non-2xx becomes `TokenEndpoint` with the OAuth error.
    async fn post_form(
        &self,
        mode: AuthMode,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<Value, GraphError> {
        let parsed = Url::parse(url).map_err(|_| sign_in_error(mode, "invalid sign-in URL"))?;
        self.count("POST sign-in");
        let resp = self
            .inner
            .http
            .post(parsed.clone())
            .form(form)
            .send()
            .await
            .map_err(|e| transport_sign_in(mode, &parsed, &e))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        Err(oauth_error(mode, status.as_u16(), &body))
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

fn num(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

fn token_answer(mode: AuthMode, body: &Value) -> Result<TokenAnswer, GraphError> {
    let access = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            sign_in_error(mode, "the token endpoint answered without an access_token")
        })?;
    Ok(TokenAnswer {
        access_token: Secret::new(access),
        lifetime: num(body.get("expires_in")).map(Duration::from_secs),
        refresh_token: body
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(Secret::new),
    })
}

fn oauth_error(mode: AuthMode, status: u16, body: &Value) -> GraphError {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    // Some endpoints answer with Graph's error shape instead of OAuth's.
    let (gcode, gmsg, _) = super::error::parse_error_body(Some(body));
    GraphError::TokenEndpoint {
        mode: mode.name().to_string(),
        status,
        error: s("error")
            .or(gcode)
            .unwrap_or_else(|| "unknown_error".to_string()),
        description: s("error_description")
            .or(gmsg)
            .map(|d| d.lines().next().unwrap_or("").to_string())
            .unwrap_or_else(|| "no description".to_string()),
        trace_id: s("trace_id"),
        correlation_id: s("correlation_id"),
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

fn sign_in_error(mode: AuthMode, message: &str) -> GraphError {
    GraphError::SignIn {
        mode: mode.name().to_string(),
        message: message.to_string(),
    }
}

fn transport_sign_in(mode: AuthMode, url: &Url, e: &reqwest::Error) -> GraphError {
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "?".to_string(),
    };
    let what = if e.is_timeout() {
        "did not answer in time (timeout)"
    } else if e.is_connect() {
        "is unreachable"
    } else {
        "broke the connection"
    };
    sign_in_error(mode, &format!("sign-in host {host} {what}"))
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

/// Reads the claims of a JWT access token: Some(true) delegated (`scp`), Some(false) app-only
/// (`idtyp: app`, or `roles` without `scp`), None when it is not a readable JWT.
fn claims_delegated(token: &str) -> Option<bool> {
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

async fn azure_cli_token(graph_url: &str, tenant: Option<&str>) -> Result<TokenAnswer, GraphError> {
    let mode = AuthMode::AzureCli;
    let program = if cfg!(windows) { "az.cmd" } else { "az" };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(["account", "get-access-token", "--output", "json"]);
    if graph_url == super::cloud::Cloud::Global.graph_url() {
        cmd.args(["--resource-type", "ms-graph"]);
    } else {
        cmd.args(["--resource", graph_url]);
    }
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .map_err(|_| sign_in_error(mode, "`az account get-access-token` did not finish within 120 s"))?
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                sign_in_error(
                    mode,
                    "the Azure CLI (`az`) is not on PATH; install it and run `az login`, or choose another --auth mode",
                )
            } else {
                sign_in_error(mode, &format!("cannot run `az`: {e}"))
            }
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first: String = stderr.trim().chars().take(400).collect();
        return Err(sign_in_error(
            mode,
            &format!("`az account get-access-token` failed (run `az login` first?): {first}"),
        ));
    }
    let body: Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| sign_in_error(mode, "`az account get-access-token` printed no JSON"))?;
    let token = body
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            sign_in_error(mode, "`az account get-access-token` printed no accessToken")
        })?;
    let now = chrono::Utc::now();
    let expires = num(body.get("expires_on"))
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0))
        .or_else(|| {
            // Older CLIs only print `expiresOn` in local time, e.g. "2024-01-01 12:00:00.000000".
            let s = body.get("expiresOn")?.as_str()?;
            let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()?;
            naive
                .and_local_timezone(chrono::Local)
                .single()
                .map(|d| d.with_timezone(&chrono::Utc))
        });
    let lifetime = expires
        .map(|e| (e - now).to_std().unwrap_or(Duration::ZERO))
        // Unknown expiry: ask az again after a few minutes rather than trusting it forever.
        .or(Some(Duration::from_secs(600)));
    Ok(TokenAnswer {
        access_token: Secret::new(token),
        lifetime,
        refresh_token: None,
    })
}
