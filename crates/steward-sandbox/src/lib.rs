//! The sandbox tenant: a local Microsoft Graph–compatible server.
//!
//! It stores raw Graph JSON and shares no types with steward's model, so it catches mapping
//! mistakes instead of mirroring them.

mod auth;
mod batch;
pub mod csdl;
mod graph;
mod query;
mod reply;
pub mod seed;
mod server;
mod sharepoint;
mod store;
mod xml;

use std::net::SocketAddr;
use std::path::PathBuf;

/// The tenant a sandbox starts from when it has no state file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// The believable "Contoso" demo tenant.
    Demo,
    /// The demo tenant with what real tenants hold: orphaned ids, duplicate and case-variant
    /// names, a type steward does not model, empty values.
    Messy,
    /// A tenant with Graph's built-in objects only.
    #[default]
    Empty,
}

/// Graph's default page size for directory collections.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// One tenant of a sandbox that serves several (see [`SandboxConfig::tenants`]).
#[derive(Clone)]
pub struct SandboxTenant {
    /// Tenant (organization) id, a GUID; the token endpoint answers to it and tokens carry it.
    pub id: String,
    /// Initial domain; [`default_domain`] of `id` when `None`.
    pub domain: Option<String>,
    /// What the tenant starts from when it has no state file; its Contoso domain and tenant id
    /// are replaced with this tenant's.
    pub seed: Seed,
    /// State file: loaded if present, created from `seed` if not, rewritten on every write.
    pub state: Option<PathBuf>,
    /// Bearer tokens this tenant accepts as a signed-in administrator; a request carrying one
    /// is served from this tenant.
    pub accept_tokens: Vec<String>,
}

impl std::fmt::Debug for SandboxTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Accepted tokens are secrets: show how many, never their values.
        f.debug_struct("SandboxTenant")
            .field("id", &self.id)
            .field("domain", &self.domain)
            .field("seed", &self.seed)
            .field("state", &self.state)
            .field(
                "accept_tokens",
                &format!("{} token(s)", self.accept_tokens.len()),
            )
            .finish()
    }
}

impl SandboxTenant {
    /// A tenant with `id`, its default domain, seeded from `seed`, kept in memory only.
    pub fn new(id: impl Into<String>, seed: Seed) -> SandboxTenant {
        SandboxTenant {
            id: id.into(),
            domain: None,
            seed,
            state: None,
            accept_tokens: Vec::new(),
        }
    }

    /// The initial domain: the one given, or [`default_domain`] of the id.
    pub fn domain(&self) -> String {
        match &self.domain {
            Some(d) => d.to_ascii_lowercase(),
            None => default_domain(&self.id),
        }
    }
}

/// A deterministic tenant id (a well-formed GUID) for the `n`th tenant of a test fleet.
pub fn tenant_id(n: u64) -> String {
    format!("{:08}-0000-4000-8000-{:012}", n % 100_000_000, n)
}

/// The initial domain of a tenant given none: `t<first 8 hex digits of its id>.onmicrosoft.com`.
pub fn default_domain(id: &str) -> String {
    let hex: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("t{hex}.onmicrosoft.com")
}

/// How a sandbox listens, where it keeps its state, and which faults it injects.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Tenants to serve, each with its own data, tokens, faults and write limits. Empty: one
    /// tenant, from `state` and `seed`.
    pub tenants: Vec<SandboxTenant>,
    /// State file of the single tenant (unused when `tenants` is not empty): loaded if present,
    /// created from `seed` if not, rewritten on every write.
    pub state: Option<PathBuf>,
    /// Where the single tenant starts when there is no state file (unused with `tenants`).
    pub seed: Seed,
    /// Server page size when a request has no `$top`.
    pub page_size: usize,
    /// Delay added to every request, in milliseconds.
    pub latency_ms: u64,
    /// Every Nth Graph request is answered 429 (0 = never).
    pub throttle_every: u64,
    /// The wait those throttled answers ask for, in milliseconds; `Retry-After` carries it in
    /// whole seconds, rounded up, as Graph sends it (0 asks for an immediate retry).
    pub retry_after_ms: u64,
    /// Every Nth Graph request is answered 503 (0 = never).
    pub fail_every: u64,
    /// Every Nth Graph write (POST, PATCH, PUT, DELETE) is carried out, then answered 504
    /// Gateway Timeout, as when Graph's gateway gives up on a request the service completed
    /// (0 = never).
    pub write_timeout_every: u64,
    /// A created object becomes visible to reads only after this many milliseconds.
    pub consistency_delay_ms: u64,
    /// Enforce Graph's per-tenant write rate on Conditional Access and named locations.
    pub write_limits: bool,
    /// Bearer tokens accepted as a signed-in administrator with every delegated scope. With
    /// several `tenants`, every tenant accepts them and a request carrying one is served from
    /// the first tenant; give each tenant its own in [`SandboxTenant::accept_tokens`] instead.
    pub accept_tokens: Vec<String>,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Accepted tokens are secrets: show how many, never their values.
        f.debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("tenants", &self.tenants)
            .field("state", &self.state)
            .field("seed", &self.seed)
            .field("page_size", &self.page_size)
            .field("latency_ms", &self.latency_ms)
            .field("throttle_every", &self.throttle_every)
            .field("retry_after_ms", &self.retry_after_ms)
            .field("fail_every", &self.fail_every)
            .field("write_timeout_every", &self.write_timeout_every)
            .field("consistency_delay_ms", &self.consistency_delay_ms)
            .field("write_limits", &self.write_limits)
            .field(
                "accept_tokens",
                &format!("{} token(s)", self.accept_tokens.len()),
            )
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tenants: Vec::new(),
            state: None,
            seed: Seed::Empty,
            page_size: DEFAULT_PAGE_SIZE,
            latency_ms: 0,
            throttle_every: 0,
            retry_after_ms: 1000,
            fail_every: 0,
            write_timeout_every: 0,
            consistency_delay_ms: 0,
            write_limits: false,
            accept_tokens: Vec::new(),
        }
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The state file exists but could not be read.
    #[error("cannot read state file {path}: {source}")]
    ReadState {
        /// The state file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The state file is not a JSON object in the sandbox's format.
    #[error("state file {path} is not valid: {message}")]
    InvalidState {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The state file could not be written.
    #[error("cannot write state file {path}: {source}")]
    WriteState {
        /// The state file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A configuration value is out of range.
    #[error("{0}")]
    Config(String),
}

/// A sandbox serving in the background of the current tokio runtime.
pub struct RunningSandbox {
    addr: SocketAddr,
    tenants: Vec<(String, String)>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// Base URL, such as `http://127.0.0.1:PORT` (no trailing slash, no `/v1.0`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configured tenants, as (tenant id, initial domain) in the order given; empty for a
    /// single-tenant sandbox.
    pub fn tenants(&self) -> &[(String, String)] {
        &self.tenants
    }

    /// Stops accepting requests and waits for the server to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Loads (or seeds) the state, binds the listen address and starts serving in the background.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    if config.page_size == 0 || config.page_size > query::MAX_TOP {
        return Err(SandboxError::Config(format!(
            "page size must be between 1 and {}",
            query::MAX_TOP
        )));
    }
    // Parse Graph's metadata now rather than on the first write.
    let _ = csdl::schema();
    let tenants = open_tenants(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: config.listen,
        source,
    })?;
    let base_url = format!("http://{addr}");
    let multi = !config.tenants.is_empty();
    let apps: Vec<server::App> = tenants
        .into_iter()
        .map(|(store, identity, tokens)| {
            server::App::new(&config, store, base_url.clone(), tokens, identity)
        })
        .collect();
    // A single tenant answers to any name: it has no identity of its own to list.
    let listed = if multi {
        apps.iter().map(|a| (a.tenant_id(), a.domain())).collect()
    } else {
        Vec::new()
    };
    let server = server::Server::new(apps, multi, config.latency_ms);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, server, rx));
    Ok(RunningSandbox {
        addr,
        tenants: listed,
        shutdown: tx,
        task,
    })
}

/// A tenant's store, its (id, domain) when configured, and the tokens it accepts.
type OpenTenant = (store::Store, Option<(String, String)>, Vec<String>);

/// Checks the tenants and loads (or seeds) each one's store.
fn open_tenants(config: &SandboxConfig) -> Result<Vec<OpenTenant>, SandboxError> {
    if config.tenants.is_empty() {
        let store = store::Store::open(config.state.clone(), config.seed, None)?;
        return Ok(vec![(store, None, config.accept_tokens.clone())]);
    }
    let mut seen_ids: Vec<String> = Vec::new();
    let mut seen_domains: Vec<String> = Vec::new();
    let mut seen_states: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for tenant in &config.tenants {
        let id = match uuid::Uuid::try_parse(&tenant.id) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => {
                return Err(SandboxError::Config(format!(
                    "tenant id '{}' is not a GUID",
                    tenant.id
                )));
            }
        };
        let domain = tenant.domain();
        if !is_domain(&domain) {
            return Err(SandboxError::Config(format!(
                "'{domain}' is not a domain name (tenant {id})"
            )));
        }
        if seen_ids.contains(&id) {
            return Err(SandboxError::Config(format!(
                "tenant {id} is configured twice"
            )));
        }
        if seen_domains.contains(&domain) {
            return Err(SandboxError::Config(format!(
                "domain {domain} is given to two tenants"
            )));
        }
        if let Some(state) = &tenant.state {
            // Two tenants writing one file would overwrite each other's data.
            if seen_states.contains(state) {
                return Err(SandboxError::Config(format!(
                    "state file {} is given to two tenants",
                    state.display()
                )));
            }
            seen_states.push(state.clone());
        }
        seen_ids.push(id.clone());
        seen_domains.push(domain.clone());
        let store = store::Store::open(tenant.state.clone(), tenant.seed, Some((&id, &domain)))?;
        let mut tokens = tenant.accept_tokens.clone();
        tokens.extend(config.accept_tokens.iter().cloned());
        out.push((store, Some((id, domain)), tokens));
    }
    Ok(out)
}

/// Whether `s` can be a tenant's domain name: dot-separated labels of letters, digits and hyphens.
fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_deterministic_guids() {
        assert_eq!(tenant_id(1), "00000001-0000-4000-8000-000000000001");
        assert_eq!(tenant_id(42), "00000042-0000-4000-8000-000000000042");
        assert_eq!(
            tenant_id(123_456_789_012),
            "56789012-0000-4000-8000-123456789012"
        );
        assert!(uuid::Uuid::try_parse(&tenant_id(7)).is_ok());
    }

    #[test]
    fn the_default_domain_comes_from_the_id() {
        assert_eq!(
            default_domain("00000042-0000-4000-8000-000000000042"),
            "t00000042.onmicrosoft.com"
        );
        assert_eq!(
            default_domain("C0A7050E-5eed-4d3e-9a1b-0c0a70500001"),
            "tc0a7050e.onmicrosoft.com"
        );
        let mut t = SandboxTenant::new(tenant_id(3), Seed::Empty);
        assert_eq!(t.domain(), "t00000003.onmicrosoft.com");
        t.domain = Some("Fabrikam.onmicrosoft.com".into());
        assert_eq!(t.domain(), "fabrikam.onmicrosoft.com");
    }

    #[test]
    fn domains_are_checked() {
        assert!(is_domain("fabrikam.onmicrosoft.com"));
        assert!(is_domain("a-b.example"));
        assert!(!is_domain("fabrikam"));
        assert!(!is_domain("fab rikam.com"));
        assert!(!is_domain("fab\"rikam.com"));
        assert!(!is_domain("-a.com"));
        assert!(!is_domain("a..com"));
    }

    fn config(tenants: Vec<SandboxTenant>) -> SandboxConfig {
        SandboxConfig {
            tenants,
            ..SandboxConfig::default()
        }
    }

    #[tokio::test]
    async fn tenants_are_listed_in_order_with_their_domains() {
        let mut b = SandboxTenant::new(tenant_id(2), Seed::Demo);
        b.domain = Some("fabrikam.onmicrosoft.com".into());
        let running = start(config(vec![
            SandboxTenant::new(tenant_id(1), Seed::Empty),
            b,
        ]))
        .await
        .unwrap();
        assert_eq!(
            running.tenants(),
            [
                (tenant_id(1), "t00000001.onmicrosoft.com".to_string()),
                (tenant_id(2), "fabrikam.onmicrosoft.com".to_string()),
            ]
        );
        running.shutdown().await;
    }

    #[tokio::test]
    async fn a_single_tenant_sandbox_lists_no_tenants() {
        let running = start(SandboxConfig::default()).await.unwrap();
        assert!(running.tenants().is_empty());
        running.shutdown().await;
    }

    #[tokio::test]
    async fn bad_tenant_lists_are_refused() {
        let cases = [
            (
                vec![SandboxTenant::new("nope", Seed::Empty)],
                "tenant id 'nope' is not a GUID",
            ),
            (
                vec![
                    SandboxTenant::new(tenant_id(1), Seed::Empty),
                    SandboxTenant::new(tenant_id(1).to_uppercase(), Seed::Empty),
                ],
                "tenant 00000001-0000-4000-8000-000000000001 is configured twice",
            ),
            (
                vec![
                    SandboxTenant {
                        domain: Some("same.example".into()),
                        ..SandboxTenant::new(tenant_id(1), Seed::Empty)
                    },
                    SandboxTenant {
                        domain: Some("SAME.example".into()),
                        ..SandboxTenant::new(tenant_id(2), Seed::Empty)
                    },
                ],
                "domain same.example is given to two tenants",
            ),
            (
                vec![SandboxTenant {
                    domain: Some("no_domain".into()),
                    ..SandboxTenant::new(tenant_id(1), Seed::Empty)
                }],
                "'no_domain' is not a domain name (tenant 00000001-0000-4000-8000-000000000001)",
            ),
        ];
        for (tenants, message) in cases {
            match start(config(tenants)).await {
                Err(SandboxError::Config(m)) => assert_eq!(m, message),
                Err(e) => panic!("unexpected error {e}"),
                Ok(_) => panic!("started with a bad tenant list: {message}"),
            }
        }
    }
}
