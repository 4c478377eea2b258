//! Flags shared by every command that talks to Microsoft Graph: where Graph is, how to sign in,
//! and `--stats`. Secrets come only from environment variables or files, never from flags.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::graph::auth::{Authority, DEFAULT_PUBLIC_CLIENT_ID};
use crate::graph::sharepoint::Setup as SharePointSetup;
use crate::graph::{AuthMode, ClientConfig, Cloud, Credential, GraphClient, GraphError, Secret};

/// Microsoft Graph connection and sign-in options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GraphArgs {
    /// Graph base URL, e.g. a local sandbox `http://127.0.0.1:8080` (steward appends /v1.0/).
    /// Must be https, or http on a loopback host. Default: the Graph host of --cloud.
    #[arg(
        long,
        env = "STEWARD_GRAPH_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub graph_url: Option<String>,

    /// Sign-in (token endpoint) base URL. Default: the login host of --cloud.
    /// Must be https, or http on a loopback host.
    #[arg(
        long,
        env = "STEWARD_LOGIN_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub login_url: Option<String>,

    /// Microsoft cloud: sets the Graph and sign-in hosts.
    #[arg(long, value_enum, value_name = "CLOUD", env = "STEWARD_CLOUD", default_value_t = Cloud::Global)]
    pub cloud: Cloud,

    /// Entra tenant id (GUID) or primary domain.
    #[arg(
        long,
        env = "AZURE_TENANT_ID",
        value_name = "TENANT",
        hide_env_values = true
    )]
    pub tenant: Option<String>,

    /// Application (client) id of the app registration steward signs in as.
    #[arg(
        long,
        env = "AZURE_CLIENT_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,

    /// How to sign in. Without it steward picks, in order: token (STEWARD_GRAPH_TOKEN), secret
    /// (AZURE_CLIENT_SECRET), certificate (AZURE_CLIENT_CERTIFICATE_PATH), federated
    /// (AZURE_FEDERATED_TOKEN_FILE), github (inside GitHub Actions with id-token: write), else
    /// azure-cli. device-code is never picked automatically.
    #[arg(long, value_enum, value_name = "MODE", env = "STEWARD_AUTH")]
    pub auth: Option<AuthMode>,

    /// SharePoint admin centre URL, e.g. https://contoso-admin.sharepoint.com. Default: found
    /// from the tenant's root site through Graph. Used only when the files declare SharePoint
    /// settings Graph does not hold.
    #[arg(
        long,
        env = "STEWARD_SHAREPOINT_ADMIN_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub sharepoint_admin_url: Option<String>,

    /// Print Graph request statistics (requests by kind, retries, throttles, wall time) at the end.
    #[arg(long)]
    pub stats: bool,

    /// Sign-in variables read from other variables, `(standard name, name to read)`, or not
    /// read at all (`None`): a fleet tenant's own credential (`sign-in secret-env="…"` in its
    /// tenant.kdl), which hides the fleet's other credentials from that tenant.
    #[arg(skip)]
    pub redirect: Vec<(String, Option<String>)>,
}

impl GraphArgs {
    /// Builds a signed-in Graph client from the flags and the process environment.
    pub fn build(&self) -> Result<GraphClient, GraphError> {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        // Empty counts as unset. A variable that is set but not UTF-8 is an error, not unset:
        // ignoring it would quietly sign in some other way.
        let not_text = std::cell::RefCell::new(None);
        let env = |name: &str| match self.variable(name).map(std::env::var) {
            None => None,
            Some(Ok(v)) => Some(v).filter(|v| !v.is_empty()),
            Some(Err(std::env::VarError::NotPresent)) => None,
            Some(Err(std::env::VarError::NotUnicode(_))) => {
                not_text.borrow_mut().get_or_insert(name.to_string());
                None
            }
        };
        let built = self.build_with(&env, interactive, ClientConfig::default());
        if let Some(name) = not_text.borrow_mut().take() {
            return Err(GraphError::Config {
                message: format!(
                    "{name} is set but is not UTF-8 text; set it again (tokens and secrets are \
                     plain ASCII) or unset it"
                ),
            });
        }
        built
    }

    /// The variable read for the standard sign-in variable `name`; `None` when it is hidden.
    pub fn variable<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        match self.redirect.iter().find(|(standard, _)| standard == name) {
            Some((_, own)) => own.as_deref(),
            None => Some(name),
        }
    }

    /// Builds a client reading variables through `env`; `interactive` says whether a person is
    /// at the terminal (device-code sign-in needs one). `config`'s base URL is replaced by
    /// --graph-url or the cloud's Graph host.
    pub fn build_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        interactive: bool,
        mut config: ClientConfig,
    ) -> Result<GraphClient, GraphError> {
        config.base_url = self
            .graph_url
            .clone()
            .unwrap_or_else(|| self.cloud.graph_url().to_string());
        let credential = self.credential(env, interactive)?;
        let client = GraphClient::new(config, credential)?;
        client.set_sharepoint(self.sharepoint_setup(&client, env));
        Ok(client)
    }

    /// How `client`'s run reaches SharePoint's admin API: the same sign-in, for the admin
    /// host's tokens. A ready token (STEWARD_GRAPH_TOKEN) is Graph's only: SharePoint's comes
    /// from STEWARD_SHAREPOINT_TOKEN, except that a local sandbox accepts the one token for both.
    fn sharepoint_setup(
        &self,
        client: &GraphClient,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> SharePointSetup {
        let graph = client.credential().clone();
        let own_token = env("STEWARD_SHAREPOINT_TOKEN").map(Secret::new);
        let local = crate::graph::cloud::is_loopback(client.base_url());
        SharePointSetup {
            admin_url: self.sharepoint_admin_url.clone(),
            cloud: self.cloud,
            credential: std::sync::Arc::new(move |admin: &url::Url| {
                match (graph.mode(), &own_token) {
                    (AuthMode::Token, Some(token)) => Credential::static_token(token.clone()),
                    (AuthMode::Token, None) if local => Ok(graph.clone()),
                    _ => graph.for_resource(admin),
                }
            }),
        }
    }

    /// The sign-in mode: --auth, else detected from the environment.
    pub fn mode(&self, env: &dyn Fn(&str) -> Option<String>) -> AuthMode {
        if let Some(m) = self.auth {
            return m;
        }
        if env("STEWARD_GRAPH_TOKEN").is_some() {
            AuthMode::Token
        } else if env("AZURE_CLIENT_SECRET").is_some() {
            AuthMode::Secret
        } else if env("AZURE_CLIENT_CERTIFICATE_PATH").is_some() {
            AuthMode::Certificate
        } else if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
            AuthMode::Federated
        } else if env("ACTIONS_ID_TOKEN_REQUEST_URL").is_some()
            && env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").is_some()
        {
            AuthMode::Github
        } else {
            AuthMode::AzureCli
        }
    }

    /// The credential for the chosen mode.
    pub fn credential(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        interactive: bool,
    ) -> Result<Credential, GraphError> {
        let mode = self.mode(env);
        let missing = |what: &str| GraphError::SignIn {
            mode: mode.name().to_string(),
            message: format!("{what} is not set"),
        };
        let authority = || -> Result<Authority, GraphError> {
            let tenant = self
                .tenant
                .as_deref()
                .ok_or_else(|| missing("the tenant (--tenant or AZURE_TENANT_ID)"))?;
            let login = self
                .login_url
                .clone()
                .unwrap_or_else(|| self.cloud.login_url().to_string());
            Authority::new(&login, tenant, self.cloud.graph_url())
        };
        let client_id = || {
            self.client_id
                .clone()
                .ok_or_else(|| missing("the application id (--client-id or AZURE_CLIENT_ID)"))
        };
        match mode {
            AuthMode::Token => {
                let token =
                    env("STEWARD_GRAPH_TOKEN").ok_or_else(|| missing("STEWARD_GRAPH_TOKEN"))?;
                Credential::static_token(Secret::new(token))
            }
            AuthMode::Secret => {
                let secret =
                    env("AZURE_CLIENT_SECRET").ok_or_else(|| missing("AZURE_CLIENT_SECRET"))?;
                Credential::client_secret(authority()?, &client_id()?, Secret::new(secret))
            }
            AuthMode::Certificate => {
                let path = env("AZURE_CLIENT_CERTIFICATE_PATH")
                    .ok_or_else(|| missing("AZURE_CLIENT_CERTIFICATE_PATH"))?;
                let pem = std::fs::read_to_string(&path).map_err(|e| GraphError::SignIn {
                    mode: mode.name().to_string(),
                    message: format!("cannot read the certificate file {path} (AZURE_CLIENT_CERTIFICATE_PATH): {e}"),
                })?;
                Credential::client_certificate(authority()?, &client_id()?, &pem)
            }
            AuthMode::Federated => {
                let path = env("AZURE_FEDERATED_TOKEN_FILE")
                    .ok_or_else(|| missing("AZURE_FEDERATED_TOKEN_FILE"))?;
                Credential::federated_token_file(authority()?, &client_id()?, PathBuf::from(path))
            }
            AuthMode::Github => {
                let url = env("ACTIONS_ID_TOKEN_REQUEST_URL").ok_or_else(|| {
                    missing("ACTIONS_ID_TOKEN_REQUEST_URL (grant the workflow `permissions: id-token: write`)")
                })?;
                let token = env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
                    .ok_or_else(|| missing("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))?;
                Credential::github_oidc(authority()?, &client_id()?, &url, Secret::new(token))
            }
            AuthMode::AzureCli => {
                Credential::azure_cli(self.cloud.graph_url(), self.tenant.as_deref())
            }
            AuthMode::DeviceCode => {
                let tenant_default = self.tenant.is_none();
                let login = self
                    .login_url
                    .clone()
                    .unwrap_or_else(|| self.cloud.login_url().to_string());
                // Without a tenant, any work account may sign in ("organizations").
                let tenant = if tenant_default {
                    "organizations".to_string()
                } else {
                    self.tenant.clone().unwrap_or_default()
                };
                let authority = Authority::new(&login, &tenant, self.cloud.graph_url())?;
                let id = self
                    .client_id
                    .clone()
                    .unwrap_or_else(|| DEFAULT_PUBLIC_CLIENT_ID.to_string());
                Credential::device_code(authority, &id, interactive)
            }
        }
    }

    /// Prints the `--stats` block to stderr when it was asked for.
    pub fn print_stats(&self, client: &GraphClient) {
        if self.stats {
            eprint!("{}", client.stats());
        }
    }
}
