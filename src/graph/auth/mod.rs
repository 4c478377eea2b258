//! Sign-in: the credential kinds Azure tooling uses, with an in-memory token cache that
//! refreshes before expiry. Tokens, secrets and assertions are never printed or put in errors.
//! Each sign-in flow has its file (secret, certificate, federated and GitHub OIDC, azure-cli,
//! device code, a ready token); this one holds the credential, its cache and the token endpoint.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

mod azure_cli;
mod certificate;
mod device_code;
mod federated;
mod secret;
mod token;

use token::claims_delegated;
pub(crate) use token::token_problem;

use super::cloud::{is_loopback, validate_endpoint};
use super::error::GraphError;
use super::stats::Stats;

/// Well-known public client id of "Microsoft Graph Command Line Tools", used for device-code
/// sign-in when no `--client-id` is given.
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Well-known public client id of "SharePoint Online Management Shell", used for device-code
/// sign-in to SharePoint's admin API when no `--client-id` is given.
pub const SHAREPOINT_PUBLIC_CLIENT_ID: &str = "9bc3ab49-b65d-410a-85ad-de819febfddc";

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

#[derive(Clone)]
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

    /// The same sign-in, for tokens of another resource (`resource` is its URL, e.g.
    /// SharePoint's admin host): certificate, federated and GitHub sign-ins ask for the
    /// resource's `/.default` scope, azure-cli for the resource, device code signs in again.
    /// A client secret is refused, as SharePoint refuses its tokens; a ready token is for one
    /// resource only.
    pub fn for_resource(&self, resource: &Url) -> Result<Credential, GraphError> {
        let resource = resource.as_str().trim_end_matches('/').to_string();
        let scoped = |a: &Authority| Authority {
            scope: format!("{resource}/.default"),
            ..a.clone()
        };
        let source = match &self.inner.source {
            Source::ClientSecret { .. } => {
                return Err(sign_in_error(
                    AuthMode::Secret,
                    &format!(
                        "SharePoint's admin API ({resource}) refuses app-only tokens obtained with a client secret, and the files declare SharePoint settings that only it holds. Sign in with a certificate (--auth certificate, AZURE_CLIENT_CERTIFICATE_PATH) or a federated credential (--auth federated, or --auth github in GitHub Actions) on the same app registration, as docs/sharepoint.md shows"
                    ),
                ));
            }
            Source::Static { .. } => {
                return Err(sign_in_error(
                    AuthMode::Token,
                    &format!(
                        "STEWARD_GRAPH_TOKEN is a token for Microsoft Graph; SharePoint's admin API needs one for {resource}: put it in STEWARD_SHAREPOINT_TOKEN"
                    ),
                ));
            }
            Source::Certificate {
                authority,
                client_id,
                key,
                x5t,
            } => Source::Certificate {
                authority: scoped(authority),
                client_id: client_id.clone(),
                key: key.clone(),
                x5t: x5t.clone(),
            },
            Source::FederatedFile {
                authority,
                client_id,
                path,
            } => Source::FederatedFile {
                authority: scoped(authority),
                client_id: client_id.clone(),
                path: path.clone(),
            },
            Source::GitHub {
                authority,
                client_id,
                request_url,
                request_token,
            } => Source::GitHub {
                authority: scoped(authority),
                client_id: client_id.clone(),
                request_url: request_url.clone(),
                request_token: request_token.clone(),
            },
            Source::AzureCli { tenant, .. } => Source::AzureCli {
                graph_url: resource.clone(),
                tenant: tenant.clone(),
            },
            Source::DeviceCode {
                authority,
                client_id,
            } => Source::DeviceCode {
                authority: scoped(authority),
                // Graph's command-line tools cannot ask for SharePoint tokens; SharePoint's
                // management shell can.
                client_id: if client_id == DEFAULT_PUBLIC_CLIENT_ID {
                    SHAREPOINT_PUBLIC_CLIENT_ID.to_string()
                } else {
                    client_id.clone()
                },
            },
        };
        Self::from_source(source)
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
            } => self.secret_grant(authority, client_id, secret).await,
            Source::Certificate {
                authority,
                client_id,
                key,
                x5t,
            } => self.certificate_grant(authority, client_id, key, x5t).await,
            Source::FederatedFile {
                authority,
                client_id,
                path,
            } => self.federated_grant(authority, client_id, path).await,
            Source::GitHub {
                authority,
                client_id,
                request_url,
                request_token,
            } => {
                self.github_grant(authority, client_id, request_url, request_token)
                    .await
            }
            Source::AzureCli { graph_url, tenant } => {
                self.count("az account get-access-token");
                azure_cli::token(graph_url, tenant.as_deref()).await
            }
            Source::DeviceCode {
                authority,
                client_id,
            } => {
                self.device_code_grant(authority, client_id, refresh_token)
                    .await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn authority() -> Authority {
        Authority::new(
            "https://login.microsoftonline.com",
            "contoso.onmicrosoft.com",
            "https://graph.microsoft.com",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn admin() -> Url {
        Url::parse("https://contoso-admin.sharepoint.com").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_client_secret_is_refused_for_sharepoint_naming_the_alternatives() {
        let secret = Credential::client_secret(authority(), "app", Secret::new("s3cret"));
        let err = secret
            .and_then(|c| c.for_resource(&admin()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("sign-in (secret) failed: SharePoint's admin API (https://contoso-admin.sharepoint.com) refuses app-only tokens obtained with a client secret"), "{err}");
        assert!(
            err.contains("--auth certificate") && err.contains("--auth federated"),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
    }

    #[test]
    fn a_ready_graph_token_is_not_sent_to_sharepoint() {
        let token = Credential::static_token(Secret::new("graph-token"));
        let err = token
            .and_then(|c| c.for_resource(&admin()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("STEWARD_SHAREPOINT_TOKEN"), "{err}");
        assert!(!err.contains("graph-token"));
    }

    #[test]
    fn other_sign_ins_ask_for_the_admin_hosts_scope() {
        let federated =
            Credential::federated_token_file(authority(), "app", PathBuf::from("/nonexistent"))
                .and_then(|c| c.for_resource(&admin()));
        match federated.as_ref().map(|c| &c.inner.source) {
            Ok(Source::FederatedFile { authority, .. }) => assert_eq!(
                authority.scope(),
                "https://contoso-admin.sharepoint.com/.default"
            ),
            _ => panic!("a federated credential for SharePoint"),
        }
        let device = Credential::device_code(authority(), DEFAULT_PUBLIC_CLIENT_ID, true)
            .and_then(|c| c.for_resource(&admin()));
        match device.as_ref().map(|c| &c.inner.source) {
            Ok(Source::DeviceCode { client_id, .. }) => {
                assert_eq!(client_id, SHAREPOINT_PUBLIC_CLIENT_ID)
            }
            _ => panic!("a device-code credential for SharePoint"),
        }
        let cli = Credential::azure_cli("https://graph.microsoft.com", None)
            .and_then(|c| c.for_resource(&admin()));
        match cli.as_ref().map(|c| &c.inner.source) {
            Ok(Source::AzureCli { graph_url, .. }) => {
                assert_eq!(graph_url, "https://contoso-admin.sharepoint.com")
            }
            _ => panic!("an azure-cli credential for SharePoint"),
        }
    }
}
