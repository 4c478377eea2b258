//! `steward plan`: what applying the files would change in the tenant.

use std::path::PathBuf;

use super::fleet::{self, Entered, FanOut, FleetArgs};
use super::{CommandError, Done, output};
use crate::model::plan::Plan;
use crate::reconcile::PlanOptions;
use crate::render::{self, Mode, Names, PlanDocument};
use crate::workflow::plan as saved;
use crate::workflow::planning::{self, Planned, TargetArgs};
use crate::workflow::{self};

/// Show what applying the policy files would change in the tenant, Terraform style.
///
/// Reads the tenant through Microsoft Graph (or the local sandbox with --sandbox), compares
/// it with the files, and prints every create (+), update (~) and delete (-) with the
/// settings that change. Risky changes (a policy disabled or deleted, an exclusion added,
/// sharing widened) are listed first, before the changes, in every format. Exits 0 (or, with --detailed-exitcode, 2 when
/// there are changes); 1 on any error, and then nothing is planned; 1 too when apply would
/// refuse the plan because it could lock the emergency-access accounts out (printed after the
/// plan, which is then not saved).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Output format: `human`, `json` (schemas/plan.schema.json) or `markdown` (a PR comment).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Save the plan, with the tenant's id, the Graph host and fingerprints of the files and
    /// of every object read, for `steward apply --plan`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes (0 when none, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Most objects the plan may delete inside prune scopes; a plan deleting more fails.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_deletes: usize,
    /// Plan as `steward apply --stage` will apply: new Conditional Access policies created
    /// report-only. A plan saved with it is applied with `apply --stage --plan`.
    #[arg(long)]
    pub stage: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terraform-style text.
    Human,
    /// The plan document.
    Json,
    /// Markdown, for a pull-request comment, an issue or an alert body.
    Markdown,
}

/// Prints a plan in `format`.
pub fn print(plan: &Plan, mode: Mode, format: Format, names: &Names) -> Result<(), CommandError> {
    match format {
        Format::Human => {
            let colour = output::colour_stdout();
            print!("{}", render::human(plan, mode, names, colour));
        }
        Format::Markdown => print!("{}", render::markdown(plan, mode, names)),
        Format::Json => {
            let doc: PlanDocument = render::document(plan, mode);
            let text = serde_json::to_string_pretty(&doc)
                .map_err(|e| CommandError::internal(format!("cannot print the plan: {e}")))?;
            println!("{text}");
        }
    }
    Ok(())
}

/// Runs `steward plan`.
pub fn run(mut args: Args) -> Result<Done, CommandError> {
    let how = FanOut {
        command: "plan",
        json: args.format == Format::Json,
        reports: true,
        clean: "unchanged",
        changed: "with changes",
        child_flags: &["--detailed-exitcode"],
        refuse: args
            .out
            .as_ref()
            .map(|_| "--out saves one tenant's plan: pick the tenant with --tenant NAME"),
        exit_changes: args.detailed_exitcode,
    };
    let scope = match fleet::enter(&args.paths, &args.target, &args.fleet, how)? {
        Entered::Ran(done) => return Ok(done),
        Entered::Here(scope) => scope,
    };
    let loaded = fleet::load(&scope, &args.paths, &mut args.target)?;
    let options = PlanOptions {
        max_deletes: args.max_deletes,
    };
    let (planned, lockout, origin) = super::runtime()?.block_on(async {
        let target = args.target.connect().await?;
        let result = async {
            let (planned, lockout) =
                planning::plan_and_guard(&target.client, &loaded, &options, args.stage).await?;
            let origin = match &args.out {
                Some(_) => Some(saved::origin(&target.client).await?),
                None => None,
            };
            Ok::<_, workflow::Error>((planned, lockout, origin))
        }
        .await;
        args.target.finish(target).await;
        result
    })?;
    let names = saved::names(&planned);
    let Planned { plan, live, .. } = planned;
    print(&plan, Mode::Plan, args.format, &names)?;
    // A plan apply would refuse is an error, shown after the plan and never saved.
    output::check_lockout(
        &loaded,
        &lockout,
        &plan,
        "apply would refuse this plan (not saved)",
    )?;
    if let (Some(path), Some(origin)) = (&args.out, origin) {
        saved::save(path, &loaded, origin, &live, &plan)?;
        eprintln!("Saved the plan to {}.", path.display());
    }
    Ok(if args.detailed_exitcode && !plan.summary.is_empty() {
        Done::Changes
    } else {
        Done::Clean
    })
}
