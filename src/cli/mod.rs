//! Command-line interface: one file per command, thin glue over the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod apply;
mod check;
mod completions;
mod drift;
mod error;
mod export;
mod fleet;
mod fmt;
mod logging;
mod man;
mod output;
pub(crate) mod permissions;
mod plan;
mod render;
mod report;
mod sandbox;
mod schema;
mod tenants;
pub(crate) mod validate;

pub use error::{CommandError, CommandErrorKind, Done, EXIT_USAGE};

/// steward: policy-as-code for Microsoft 365.
///
/// Declare Conditional Access, authentication methods, SharePoint/OneDrive sharing and retention
/// settings in KDL files kept in git; steward validates them, shows how the live tenant differs,
/// applies the difference after review and reports drift.
#[derive(Debug, Parser)]
#[command(
    name = "steward",
    version,
    about,
    long_about,
    after_long_help = "Exit codes: 0 success (nothing to do); 1 error; 2 changes (plan \
        --detailed-exitcode) or drift (drift); 64 a usage error (a flag, a value, a STEWARD_ \
        variable)."
)]
pub struct Cli {
    /// Log each Graph request to stderr: method, path, status, milliseconds, request-id and
    /// retries (never a token or a secret). Twice for more detail. STEWARD_LOG=debug does the
    /// same from the environment.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(validate::Args),
    Fmt(fmt::Args),
    Schema(schema::Args),
    Permissions(permissions::Args),
    Export(export::Args),
    Plan(plan::Args),
    Drift(drift::Args),
    Check(check::Args),
    Report(report::Args),
    Render(render::Args),
    Tenants(tenants::Args),
    Apply(apply::Args),
    Sandbox(sandbox::Args),
    Completions(completions::Args),
    Man(man::Args),
}

/// Parses the command line, runs the command and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout and usage errors to stderr.
            let _ = e.print();
            return error::exit(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Ok(Done::Clean)
                }
                _ => Err(CommandError::reported(CommandErrorKind::Usage)),
            });
        }
    };
    if let Err(message) = logging::init(cli.verbose) {
        return error::exit(Err(CommandError::new(CommandErrorKind::Usage, message)));
    }
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Permissions(args) => permissions::run(args),
        Command::Export(args) => export::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Drift(args) => drift::run(args),
        Command::Check(args) => check::run(args),
        Command::Report(args) => report::run(args),
        Command::Render(args) => render::run(args),
        Command::Tenants(args) => tenants::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    };
    error::exit(result)
}

/// A runtime for the commands that talk to Graph.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::internal(format!("cannot start the async runtime: {e}")))
}
