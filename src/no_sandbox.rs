//! The sandbox's interface in a build without the `sandbox` feature: the commands that use it
//! parse their flags as usual, and starting a sandbox fails with [`SandboxError::NotBuilt`].

use std::net::SocketAddr;
use std::path::PathBuf;

/// What a user is told when this build cannot start a sandbox.
pub const NOT_BUILT: &str = "this build of steward has no sandbox tenant (it was built without \
    the `sandbox` feature): use a release build, or build with default features \
    (`cargo build --release`)";

/// The tenant a sandbox starts from when it has no state file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// The "Contoso" demo tenant.
    Demo,
    /// The demo tenant with what real tenants hold.
    Messy,
    /// A tenant with Graph's built-in objects only.
    #[default]
    Empty,
}

/// Graph's default page size for directory collections.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// How a sandbox would listen; accepted so the commands parse, never used.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// State file.
    pub state: Option<PathBuf>,
    /// Tenant to start from.
    pub seed: Seed,
    /// Server page size.
    pub page_size: usize,
    /// Delay added to every request, in milliseconds.
    pub latency_ms: u64,
    /// Every Nth request is answered 429.
    pub throttle_every: u64,
    /// The wait those answers ask for, in milliseconds.
    pub retry_after_ms: u64,
    /// Every Nth request is answered 503.
    pub fail_every: u64,
    /// Every Nth write is carried out, then answered 504.
    pub write_timeout_every: u64,
    /// Delay before a created object is visible, in milliseconds.
    pub consistency_delay_ms: u64,
    /// Enforce Graph's per-tenant write rate.
    pub write_limits: bool,
    /// Bearer tokens accepted.
    pub accept_tokens: Vec<String>,
    /// Several tenants.
    pub tenants: Vec<SandboxTenant>,
}

/// One tenant of a sandbox that holds several; accepted so the commands parse, never used.
#[derive(Debug, Clone)]
pub struct SandboxTenant {
    /// Its tenant id.
    pub id: String,
    /// Its initial domain.
    pub domain: Option<String>,
    /// The tenant it starts from.
    pub seed: Seed,
    /// Its state file.
    pub state: Option<PathBuf>,
    /// Bearer tokens it accepts.
    pub accept_tokens: Vec<String>,
}

impl SandboxTenant {
    /// Its initial domain.
    pub fn domain(&self) -> String {
        self.domain.clone().unwrap_or_default()
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
    /// This build has no sandbox.
    #[error("{NOT_BUILT}")]
    NotBuilt,
}

/// A running sandbox; never constructed in this build.
pub struct RunningSandbox {
    never: std::convert::Infallible,
}

impl RunningSandbox {
    /// Base URL.
    pub fn url(&self) -> String {
        match self.never {}
    }

    /// The tenants it holds.
    pub fn tenants(&self) -> &[(String, String)] {
        match self.never {}
    }

    /// Stops the sandbox.
    pub async fn shutdown(self) {
        match self.never {}
    }
}

/// A tenant's default domain; this build serves no tenant, so there is none.
pub fn default_domain(_id: &str) -> String {
    String::new()
}

/// Always fails: this build has no sandbox.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    let _ = config;
    Err(SandboxError::NotBuilt)
}
