//! `steward render`: one fleet tenant's resolved files, as plan sees them.

use std::path::PathBuf;

use super::{CommandError, CommandErrorKind, Done, output};
use crate::fleet::{self, Fleet, Selection};

/// Print one tenant's resolved policy files: the baseline, its groups and its own files put
/// together, with parameters filled in.
///
/// Each declaration is headed by the file and line it comes from and by each layer that
/// overrides it; the tenant's deviations in force follow. This is exactly what plan, drift and
/// apply compare with the tenant. Problems (an unset parameter, an override of a locked
/// setting) are printed to stderr with where they are; exits 1 when there are errors.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The fleet repository (the directory holding baseline/ and tenants/).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The tenant: its directory name under tenants/, its tenant id or its domain.
    #[arg(long, value_name = "NAME")]
    pub tenant: String,
    /// Resolve as of this day (YYYY-MM-DD): deviations expire by it. Default: today (UTC).
    #[arg(long, value_name = "DATE")]
    pub date: Option<chrono::NaiveDate>,
}

/// Runs `steward render`.
pub fn run(args: Args) -> Result<Done, CommandError> {
    if !fleet::is_fleet(&args.path) {
        return Err(CommandError::new(
            CommandErrorKind::Usage,
            format!(
                "{} is not a fleet repository (it has no tenants/ directory); render puts a fleet tenant's layers together",
                args.path.display()
            ),
        ));
    }
    let fleet = Fleet::open(&args.path)
        .map_err(|d| CommandError::reported(CommandErrorKind::User).with_diagnostics(d))?;
    let tenant = fleet
        .select(&Selection::One(args.tenant.clone()))
        .map_err(|e| CommandError::new(CommandErrorKind::Usage, e))?
        .into_iter()
        .next()
        .cloned()
        .ok_or_else(|| CommandError::internal("a selected tenant went missing"))?;
    let today = args.date.unwrap_or_else(fleet::today);
    let resolved = fleet::resolve(&fleet, &tenant, today);
    output::print_diagnostics(&resolved.loaded.diagnostics);
    if resolved.loaded.has_errors() {
        return Err(CommandError::reported(CommandErrorKind::User));
    }
    print!("{}", fleet::render(&resolved));
    Ok(Done::Clean)
}
