//! `steward report merge`: one fleet summary from per-tenant reports.

use std::path::PathBuf;

use super::{CommandError, Done};
use crate::render::fleet;
use crate::workflow::report;

/// Combine per-tenant reports (drift, plan, check) into one fleet summary.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// What `report` does.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Merge per-tenant JSON reports into one fleet summary.
    ///
    /// Each tenant's job writes `steward drift`, `plan` or `check` with `--format json` to a
    /// file named after the tenant (`contoso.json`, `contoso.drift.json`, `contoso.check.json`:
    /// the name up to the first dot is the tenant). `report merge` reads them all and prints one
    /// summary for the pull-request comment or the drift issue: per tenant, drifted or clean (or
    /// the plan's counts), the risks called out, the baseline grade's failures. Exits 0 when
    /// every tenant is clean, 2 when one needs attention (drift, changes, a failed SHALL, or a
    /// report that cannot be read, which is listed, never dropped), 1 on error.
    Merge(MergeArgs),
}

/// `steward report merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The per-tenant reports (`steward drift|plan|check --format json` output).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: `markdown` (a comment or issue body) or `json`
    /// (schemas/fleet-report.schema.json).
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
}

/// How the summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table, tenants needing attention first.
    Markdown,
    /// The fleet report document.
    Json,
}

/// Runs `steward report`.
pub fn run(args: Args) -> Result<Done, CommandError> {
    let Command::Merge(args) = args.command;
    let merged = report::merge(&args.files);
    match args.format {
        Format::Markdown => print!("{}", fleet::markdown(&merged)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&merged)
                .map_err(|e| CommandError::internal(format!("cannot print the report: {e}")))?
        ),
    }
    Ok(if merged.attention > 0 {
        Done::Changes
    } else {
        Done::Clean
    })
}
