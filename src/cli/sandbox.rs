//! `steward sandbox`: run a local Microsoft Graph–compatible tenant.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::sandbox::{self, SandboxConfig, Seed};

use super::{CommandError, CommandErrorKind, Done};

/// Run a local tenant that speaks Microsoft Graph, for rehearsals, demos and CI.
///
/// The sandbox serves Graph v1.0 under /v1.0/ and an OAuth2 token endpoint under
/// /{tenant}/oauth2/v2.0/token, on loopback unless --listen says otherwise. Nothing leaves
/// your machine. With --tenant it serves several tenants at once, to rehearse a fleet.
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
    /// the port; with --tenant, stderr first names each tenant, one `tenant ID DOMAIN` line each.
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
    /// --seed, a missing file is created from the seed first. For several tenants, use
    /// --state-dir.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Tenant to start from when there is no state file yet. With --tenant, every tenant
    /// starts from it, with its own id and domain in place of Contoso's.
    #[arg(long, value_enum, default_value = "empty")]
    seed: SeedArg,

    /// Serve this tenant (repeatable, one per tenant): its id, a GUID, and optionally its
    /// initial domain (default tXXXXXXXX.onmicrosoft.com, from the id's first 8 digits). Each
    /// tenant has its own data, token endpoint (/ID/… or /DOMAIN/…), tokens, faults and write
    /// limits; Graph requests reach the tenant that issued their token.
    #[arg(long, value_name = "ID[=DOMAIN]", value_parser = parse_tenant)]
    tenant: Vec<TenantArg>,

    /// With --tenant: keep each tenant in DIR/ID.json (loaded at start, created from --seed
    /// when missing, rewritten on every change). DIR is created if needed.
    #[arg(long, value_name = "DIR", requires = "tenant")]
    state_dir: Option<PathBuf>,

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
    /// (repeatable). Handy for scripts; never use a real secret here. With --tenant, prefix a
    /// tenant's id or domain (TENANT=TOKEN) to give it that tenant's data; a bare token is
    /// accepted by every tenant and reaches the first one.
    #[arg(long, value_name = "[TENANT=]TOKEN")]
    accept_token: Vec<String>,
}

/// One `--tenant ID[=DOMAIN]`.
#[derive(Debug, Clone)]
struct TenantArg {
    id: String,
    domain: Option<String>,
}

impl TenantArg {
    /// The domain the tenant is served under.
    fn domain(&self) -> String {
        match &self.domain {
            Some(d) => d.to_ascii_lowercase(),
            None => sandbox::default_domain(&self.id),
        }
    }

    /// Whether `name` is this tenant's id or domain.
    fn is_named(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(&self.id) || name.eq_ignore_ascii_case(&self.domain())
    }
}

fn parse_tenant(value: &str) -> Result<TenantArg, String> {
    let (id, domain) = match value.split_once('=') {
        Some((id, domain)) => (id.trim(), Some(domain.trim())),
        None => (value.trim(), None),
    };
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| format!("`{id}` is not a tenant id (a GUID)"))?
        .hyphenated()
        .to_string();
    let domain = match domain {
        None => None,
        Some(d) if !crate::fleet::is_domain(d) => {
            return Err(format!("`{d}` is not a domain name"));
        }
        Some(d) => Some(d.to_ascii_lowercase()),
    };
    Ok(TenantArg { id, domain })
}

/// Whether `name` looks like a tenant id or domain rather than the start of a token.
fn looks_like_tenant(name: &str) -> bool {
    uuid::Uuid::try_parse(name).is_ok()
        || (name.contains('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
}

/// Splits `--accept-token` values into those for every tenant and those for one (by index).
fn split_tokens(
    tokens: Vec<String>,
    tenants: &[TenantArg],
) -> Result<(Vec<String>, Vec<Vec<String>>), CommandError> {
    let mut shared = Vec::new();
    let mut own = vec![Vec::new(); tenants.len()];
    for token in tokens {
        let scoped = token.split_once('=').filter(|(name, rest)| {
            !rest.is_empty() && !tenants.is_empty() && looks_like_tenant(name)
        });
        match scoped {
            Some((name, rest)) => match tenants.iter().position(|t| t.is_named(name)) {
                Some(i) => own[i].push(rest.to_string()),
                None => {
                    return Err(CommandError::new(
                        CommandErrorKind::Usage,
                        format!(
                            "--accept-token names tenant '{name}', which no --tenant gives (use one of their ids or domains)"
                        ),
                    ));
                }
            },
            // A token that merely contains '=' (base64 padding, say) is a bare token.
            None => shared.push(token),
        }
    }
    Ok((shared, own))
}

/// Runs `steward sandbox …`.
pub fn run(args: Args) -> Result<Done, CommandError> {
    match args.command {
        SandboxCommand::Serve(serve) => run_serve(serve),
    }
}

fn run_serve(args: ServeArgs) -> Result<Done, CommandError> {
    if !args.tenant.is_empty() && args.state.is_some() {
        return Err(CommandError::new(
            CommandErrorKind::Usage,
            "--state keeps a single tenant; with --tenant, use --state-dir DIR to keep one file per tenant (DIR/ID.json)",
        ));
    }
    let seed = match args.seed {
        SeedArg::Demo => Seed::Demo,
        SeedArg::Empty => Seed::Empty,
        SeedArg::Messy => Seed::Messy,
    };
    let (shared_tokens, own_tokens) = split_tokens(args.accept_token, &args.tenant)?;
    if let Some(dir) = &args.state_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            CommandError::io(format!(
                "cannot create state directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let config = SandboxConfig {
        listen: args.listen,
        state: args.state,
        seed,
        page_size: args.page_size,
        latency_ms: args.latency_ms,
        throttle_every: args.throttle_every,
        retry_after_ms: args.retry_after_ms,
        fail_every: args.fail_every,
        write_timeout_every: args.write_timeout_every,
        consistency_delay_ms: args.consistency_delay_ms,
        write_limits: args.write_limits,
        accept_tokens: shared_tokens,
        tenants: Vec::new(),
    };
    let config = with_tenants(config, &args.tenant, own_tokens, args.state_dir.as_deref());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let running = sandbox::start(config)
            .await
            .map_err(|e| CommandError::user(e.to_string()))?;
        // The tenants first: the stdout line tells a script the sandbox is ready.
        announce_tenants(&running);
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", running.url())?;
        out.flush()?;
        drop(out);
        wait_for_shutdown().await;
        running.shutdown().await;
        Ok(Done::Clean)
    })
}

/// `config` serving the `--tenant` tenants, each from `--seed`, with its own tokens and state
/// file.
fn with_tenants(
    config: SandboxConfig,
    tenants: &[TenantArg],
    own_tokens: Vec<Vec<String>>,
    state_dir: Option<&std::path::Path>,
) -> SandboxConfig {
    let tenants = tenants
        .iter()
        .zip(own_tokens)
        .map(|(t, accept_tokens)| sandbox::SandboxTenant {
            id: t.id.clone(),
            domain: Some(t.domain()),
            seed: config.seed,
            state: state_dir.map(|d| d.join(format!("{}.json", t.id))),
            accept_tokens,
        })
        .collect();
    SandboxConfig { tenants, ..config }
}

/// One `tenant ID DOMAIN` line per tenant on stderr, for the admin to pick a token endpoint.
fn announce_tenants(running: &sandbox::RunningSandbox) {
    let mut err = std::io::stderr().lock();
    for (id, domain) in running.tenants() {
        // Informational only: a closed stderr must not stop the server.
        let _ = writeln!(err, "tenant {id} {domain}");
    }
    let _ = err.flush();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(value: &str) -> TenantArg {
        parse_tenant(value).unwrap_or_else(|e| panic!("{value}: {e}"))
    }

    #[test]
    fn a_tenant_is_an_id_and_an_optional_domain() {
        let t = tenant("00000001-0000-4000-8000-000000000001");
        assert_eq!(t.id, "00000001-0000-4000-8000-000000000001");
        assert_eq!(t.domain(), "t00000001.onmicrosoft.com");
        let t = tenant("C0A7050E-5EED-4D3E-9A1B-0C0A70500001=Fabrikam.onmicrosoft.com");
        assert_eq!(t.id, "c0a7050e-5eed-4d3e-9a1b-0c0a70500001");
        assert_eq!(t.domain(), "fabrikam.onmicrosoft.com");
        assert_eq!(
            parse_tenant("contoso").unwrap_err(),
            "`contoso` is not a tenant id (a GUID)"
        );
        assert_eq!(
            parse_tenant("00000001-0000-4000-8000-000000000001=fabrikam").unwrap_err(),
            "`fabrikam` is not a domain name"
        );
    }

    #[test]
    fn tokens_go_to_the_tenant_they_name_or_to_every_tenant() {
        let tenants = [
            tenant("00000001-0000-4000-8000-000000000001"),
            tenant("00000002-0000-4000-8000-000000000002=fabrikam.onmicrosoft.com"),
        ];
        let (shared, own) = split_tokens(
            vec![
                "00000001-0000-4000-8000-000000000001=alpha".into(),
                "FABRIKAM.onmicrosoft.com=beta".into(),
                "bare".into(),
                "padded==".into(),
                "t00000001.onmicrosoft.com=gamma=".into(),
            ],
            &tenants,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(shared, vec!["bare", "padded=="]);
        assert_eq!(own, vec![vec!["alpha", "gamma="], vec!["beta"]]);
        let err = split_tokens(vec!["nobody.example.com=x".into()], &tenants).unwrap_err();
        assert_eq!(err.kind, CommandErrorKind::Usage);
        assert_eq!(
            err.to_string(),
            "--accept-token names tenant 'nobody.example.com', which no --tenant gives (use one of their ids or domains)"
        );
    }

    #[test]
    fn without_tenants_every_token_is_the_single_tenant_s() {
        let (shared, own) = split_tokens(vec!["contoso.onmicrosoft.com=x".into()], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(shared, vec!["contoso.onmicrosoft.com=x"]);
        assert!(own.is_empty());
    }
}
