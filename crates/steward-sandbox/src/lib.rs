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

/// How a sandbox listens, where it keeps its state, and which faults it injects.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// State file: loaded if present, created from `seed` if not, rewritten on every write.
    pub state: Option<PathBuf>,
    /// Tenant to start from when there is no state file.
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
    /// Bearer tokens accepted as a signed-in administrator with every delegated scope.
    pub accept_tokens: Vec<String>,
    /// Several tenants, each with its own id, domain, data, signing key, faults and write
    /// limits; empty for the one tenant `state`, `seed` and `accept_tokens` describe.
    pub tenants: Vec<SandboxTenant>,
}

/// One tenant of a sandbox that holds several.
#[derive(Clone)]
pub struct SandboxTenant {
    /// Its tenant (organization) id, a GUID.
    pub id: String,
    /// Its initial domain; `t<first 8 hex of the id>.onmicrosoft.com` when `None`.
    pub domain: Option<String>,
    /// The tenant it starts from when it has no state file yet (with its own id and domain).
    pub seed: Seed,
    /// Its state file.
    pub state: Option<PathBuf>,
    /// Bearer tokens it accepts as a signed-in administrator.
    pub accept_tokens: Vec<String>,
}

impl std::fmt::Debug for SandboxTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
    /// Its initial domain.
    pub fn domain(&self) -> String {
        self.domain.clone().unwrap_or_else(|| {
            let hex: String = self
                .id
                .chars()
                .filter(char::is_ascii_hexdigit)
                .take(8)
                .collect();
            format!("t{hex}.onmicrosoft.com")
        })
    }
}

/// The `n`-th made-up tenant id: `{n:08}-0000-4000-8000-{n:012}` (n below 10^8 is kept whole).
pub fn tenant_id(n: u64) -> String {
    format!("{:08}-0000-4000-8000-{n:012}", n % 100_000_000)
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Accepted tokens are secrets: show how many, never their values.
        f.debug_struct("SandboxConfig")
            .field("listen", &self.listen)
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
            .field("tenants", &self.tenants)
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
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
            tenants: Vec::new(),
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

    /// The tenants it holds, `(id, domain)`; empty for a single-tenant sandbox.
    pub fn tenants(&self) -> &[(String, String)] {
        &self.tenants
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
    let mut hosts = Vec::new();
    if config.tenants.is_empty() {
        let store = store::Store::open(config.state.clone(), config.seed, None)?;
        hosts.push(server::Host::single(server::App::new(
            config, store, base_url,
        )));
    } else {
        for tenant in &config.tenants {
            let domain = tenant.domain();
            let store = store::Store::open(
                tenant.state.clone(),
                tenant.seed,
                Some((tenant.id.as_str(), domain.as_str())),
            )?;
            let mut own = config.clone();
            own.tenants = Vec::new();
            own.accept_tokens = tenant.accept_tokens.clone();
            hosts.push(server::Host::tenant(
                &tenant.id,
                &domain,
                server::App::new(own, store, base_url.clone()),
            ));
        }
    }
    let tenants = hosts.iter().filter_map(server::Host::identity).collect();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, hosts, rx));
    Ok(RunningSandbox {
        addr,
        tenants,
        shutdown: tx,
        task,
    })
}
