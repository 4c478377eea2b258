//! `steward drift`: what changed in the tenant outside steward, for a scheduled check.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CommandError;
use super::plan::{Format, names, print};
use super::planning::{self, TargetArgs};
use crate::reconcile::PlanOptions;
use crate::render::Mode;

/// Report settings changed in the tenant outside steward (for a cron or CI schedule).
///
/// The same comparison as `plan`, worded as what the tenant has against what the files say.
/// Risky changes come first: each judged in the drift direction (a policy disabled, an exclusion
/// added, sharing widened in the tenant), plus enabled policies nobody declares that could lock
/// every administrator out. Exits 0 when the tenant matches, 2 when it drifted or holds such a
/// risk, 1 on any error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Output format: `human`, `json` or `markdown` (an issue or alert body).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let loaded = planning::load(&args.paths)?;
    // Drift reports what prune scopes would delete too; it never refuses to report.
    let options = PlanOptions {
        max_deletes: usize::MAX,
    };
    let planned = args.target.plan(&loaded, &options)?;
    let names = names(&planned);
    let risks = planning::drift_risks(&planned);
    let mut plan = planned.plan;
    plan.risks = risks;
    print(&plan, Mode::Drift, args.format, &names)?;
    // A risk made outside steward (a lockout by an undeclared policy) is drift too.
    Ok(if plan.summary.is_empty() && plan.risks.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
