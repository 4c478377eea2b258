//! `steward sandbox`: run a local Microsoft Graph–compatible tenant.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::sandbox::{self, SandboxConfig, SandboxTenant, Seed};

use super::{CommandError, CommandErrorKind, Done};

/// Run a local tenant that speaks Microsoft Graph, for rehearsals, demos and CI.
///
/// The sandbox serves Graph v1.0 under /v1.0/ and an OAuth2 token endpoint under
/// /{tenant}/oauth2/v2.0/token, on loopback unless --listen says otherwise. Nothing leaves
/// your machine.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SandboxCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SandboxCommand {
    /// Start the sandbox tenant and serve until Ctrl-C.
    ///
    /// The first line on stdout is `listening on http://127.0.0.1:PORT`, so scripts can find
    /// the port.
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SeedArg {
    /// The "Contoso" demo tenant, with policies, users and groups.
    Demo,
    /// A tenant with Microsoft's built-in objects only.
    Empty,
    /// The demo tenant with what real tenants hold: policies excluding deleted users and
    /// groups, duplicate and case-variant names, a named location type steward does not model.
    Messy,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    listen: SocketAddr,

    /// Keep the tenant in this JSON file: loaded at start, rewritten on every change. With
    /// --seed, a missing file is created from the seed first.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Tenant to start from when there is no state file yet.
    #[arg(long, value_enum, default_value = "empty")]
    seed: SeedArg,

    /// Objects per page when a request has no $top (Graph's default is 100).
    #[arg(long, default_value_t = sandbox::DEFAULT_PAGE_SIZE, value_name = "N")]
    page_size: usize,

    /// Delay every request by N milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    latency_ms: u64,

    /// Answer every Nth Graph request with 429 Too Many Requests and Retry-After (0: never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    throttle_every: u64,

    /// The wait those 429 answers ask for, in milliseconds; Retry-After is sent in whole
    /// seconds, rounded up, as Graph sends it (0: retry at once).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    retry_after_ms: u64,

    /// Answer every Nth Graph request with 503 Service Unavailable (0: never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    fail_every: u64,

    /// Carry out every Nth Graph write (POST, PATCH, DELETE), then answer it 504 Gateway
    /// Timeout, as when Graph's gateway gives up on a request the service completed: the write
    /// took effect though the client was told otherwise (0: never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    write_timeout_every: u64,

    /// Make created objects visible to reads only after N milliseconds, like Entra replication.
    #[arg(long, default_value_t = 0, value_name = "N")]
    consistency_delay_ms: u64,

    /// Enforce Graph's limit of one Conditional Access / named-location write per second
    /// (excess writes get 429 without Retry-After, as Graph answers).
    #[arg(long)]
    write_limits: bool,

    /// Also accept this fixed bearer token, as a signed-in admin with every permission
    /// (repeatable). Handy for scripts; never use a real secret here. With several tenants,
    /// TENANT=TOKEN (TENANT an id or domain given with --tenant) makes one tenant accept it;
    /// a bare token is accepted by the first tenant.
    #[arg(long, value_name = "[TENANT=]TOKEN")]
    accept_token: Vec<String>,

    /// Hold this tenant (repeatable, for a fleet): its id (a GUID) and optionally its initial
    /// domain (default t<first 8 hex digits>.onmicrosoft.com). Each tenant starts from --seed
    /// with its own id and domain, signs its own tokens and has its own data, faults and write
    /// limits; a token request picks it by the tenant in its path, Graph by the token's tenant.
    #[arg(long = "tenant", value_name = "ID[=DOMAIN]", value_parser = parse_tenant)]
    tenants: Vec<(String, Option<String>)>,

    /// With --tenant: keep each tenant in DIR/<tenant id>.json.
    #[arg(
        long,
        value_name = "DIR",
        requires = "tenants",
        conflicts_with = "state"
    )]
    state_dir: Option<PathBuf>,
}

/// Parses --tenant ID[=DOMAIN].
fn parse_tenant(text: &str) -> Result<(String, Option<String>), String> {
    let (id, domain) = match text.split_once('=') {
        Some((id, domain)) => (id.trim(), Some(domain.trim())),
        None => (text.trim(), None),
    };
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(format!("`{id}` is not a tenant id (a GUID)"));
    }
    if let Some(domain) = domain
        && !crate::fleet::is_domain(domain)
    {
        return Err(format!("`{domain}` is not a domain name"));
    }
    Ok((id.to_ascii_lowercase(), domain.map(str::to_ascii_lowercase)))
}

/// Runs `steward sandbox …`.
pub fn run(args: Args) -> Result<Done, CommandError> {
    match args.command {
        SandboxCommand::Serve(serve) => run_serve(serve),
    }
}

fn run_serve(args: ServeArgs) -> Result<Done, CommandError> {
    let config = SandboxConfig {
        listen: args.listen,
        state: args.state,
        seed: match args.seed {
            SeedArg::Demo => Seed::Demo,
            SeedArg::Empty => Seed::Empty,
            SeedArg::Messy => Seed::Messy,
        },
        page_size: args.page_size,
        latency_ms: args.latency_ms,
        throttle_every: args.throttle_every,
        retry_after_ms: args.retry_after_ms,
        fail_every: args.fail_every,
        write_timeout_every: args.write_timeout_every,
        consistency_delay_ms: args.consistency_delay_ms,
        write_limits: args.write_limits,
        accept_tokens: Vec::new(),
        tenants: Vec::new(),
    };
    let config = with_tenants(config, args.tenants, args.state_dir, args.accept_token)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let running = sandbox::start(config)
            .await
            .map_err(|e| CommandError::user(e.to_string()))?;
        // The tenants first: the stdout line tells a script the sandbox is ready.
        for (id, domain) in running.tenants() {
            eprintln!("tenant {id} {domain}");
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", running.url())?;
        out.flush()?;
        drop(out);
        wait_for_shutdown().await;
        running.shutdown().await;
        Ok(Done::Clean)
    })
}

/// Spreads the tenants, their state files and the accepted tokens over `config`.
fn with_tenants(
    mut config: SandboxConfig,
    tenants: Vec<(String, Option<String>)>,
    state_dir: Option<PathBuf>,
    tokens: Vec<String>,
) -> Result<SandboxConfig, CommandError> {
    if tenants.is_empty() {
        config.accept_tokens = tokens;
        return Ok(config);
    }
    if config.state.is_some() {
        return Err(CommandError::new(
            CommandErrorKind::Usage,
            "--state keeps one tenant: with --tenant, use --state-dir DIR (one file per tenant)",
        ));
    }
    config.tenants = tenants
        .into_iter()
        .map(|(id, domain)| SandboxTenant {
            state: state_dir.as_ref().map(|d| d.join(format!("{id}.json"))),
            id,
            domain,
            seed: config.seed,
            accept_tokens: Vec::new(),
        })
        .collect();
    for token in tokens {
        let (tenant, token) = match token.split_once('=') {
            Some((tenant, token)) => (Some(tenant.to_string()), token.to_string()),
            None => (None, token),
        };
        let index = match &tenant {
            None => 0,
            Some(name) => config
                .tenants
                .iter()
                .position(|t| {
                    t.id.eq_ignore_ascii_case(name) || t.domain().eq_ignore_ascii_case(name)
                })
                .ok_or_else(|| {
                    CommandError::new(
                        CommandErrorKind::Usage,
                        format!(
                            "--accept-token {name}=…: no --tenant has the id or domain `{name}`"
                        ),
                    )
                })?,
        };
        if let Some(t) = config.tenants.get_mut(index) {
            t.accept_tokens.push(token);
        }
    }
    if let Some(dir) = &state_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| CommandError::io(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(config)
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
