//! `steward drift`: what changed in the tenant outside steward, for a scheduled check.

use std::path::PathBuf;

use super::fleet::{self, Entered, FanOut, FleetArgs};
use super::plan::{Format, print};
use super::{CommandError, Done};
use crate::reconcile::PlanOptions;
use crate::render::Mode;
use crate::workflow::plan::names;
use crate::workflow::planning::{self, TargetArgs};

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
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Runs `steward drift`.
pub fn run(mut args: Args) -> Result<Done, CommandError> {
    let how = FanOut {
        command: "drift",
        json: args.format == Format::Json,
        reports: true,
        clean: "unchanged",
        changed: "drifted",
        child_flags: &[],
        refuse: None,
        exit_changes: true,
    };
    let scope = match fleet::enter(&args.paths, &args.target, &args.fleet, how)? {
        Entered::Ran(done) => return Ok(done),
        Entered::Here(scope) => scope,
    };
    let loaded = fleet::load(&scope, &args.paths, &mut args.target)?;
    // Drift reports what prune scopes would delete too; it never refuses to report.
    let options = PlanOptions {
        max_deletes: usize::MAX,
    };
    let planned = super::runtime()?.block_on(args.target.plan(&loaded, &options))?;
    let names = names(&planned);
    let plan = planning::drift(planned);
    print(&plan, Mode::Drift, args.format, &names)?;
    // A risk made outside steward (a lockout by an undeclared policy) is drift too.
    Ok(if plan.summary.is_empty() && plan.risks.is_empty() {
        Done::Clean
    } else {
        Done::Changes
    })
}
