//! `steward apply`: make the tenant match the files — after review, safely, with a journal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use super::fleet::{self, Entered, FanOut, FleetArgs};
use super::{CommandError, CommandErrorKind, Done, output};
use crate::config::Loaded;
use crate::graph::GraphClient;
use crate::graph::apply::{DEFAULT_REPLICATION_WAIT, Journal, WriteSettings};
use crate::model::plan::{Action, Plan};
use crate::reconcile::PlanOptions;
use crate::reconcile::apply::{ApplyReport, Outcome, ResourceOutcome};
use crate::render::{self, Mode};
use crate::workflow::apply::{self as workflow_apply, Unverified};
use crate::workflow::plan::{self as saved_plan, SavedPlan};
use crate::workflow::planning::TargetArgs;

/// Make the tenant match the policy files.
///
/// Computes a fresh plan, prints it and asks for `yes` on a terminal (or takes --auto-approve).
/// With --plan, a plan saved by `steward plan --out` is the confirmation instead: steward plans
/// again from the files and the tenant, and applies only if that plan is the saved one, change
/// for change, made against this tenant. Refuses, before writing anything, a plan whose
/// resulting tenant could lock the emergency-access accounts out (the lockout guard). Every
/// write is journalled; a create is never sent twice for one object. Exits 0 when everything
/// was applied and verified, 1 otherwise — with a report of what was applied, what failed and
/// what was skipped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Apply without asking for confirmation (for CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Apply only if planning again gives exactly this saved plan (from `steward plan --out`),
    /// made against this tenant; refused if the files or the tenant changed since, or if the
    /// file was edited. Stands in for the confirmation prompt.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Create new Conditional Access policies report-only, whatever their declared state, to
    /// watch their effect before enforcing them. The plan shown (and a saved plan, made with
    /// `plan --stage`) shows the staged state; a report-only policy locks nobody out.
    #[arg(long)]
    pub stage: bool,
    /// The journal: every write is appended as JSON lines (started, then its outcome). Read at
    /// start, so a run after a crash knows which creates may have happened; keep it between
    /// runs. In a fleet, each tenant's is .steward/fleet/<tenant>.journal.jsonl.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_JOURNAL)]
    pub journal: PathBuf,
    /// Most objects the apply may delete inside prune scopes.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_deletes: usize,
    /// Longest time, in seconds, Graph is given to show a created object to reads (Entra
    /// replicates with delay). A create whose answer was lost is looked for this long before
    /// it is sent again, so an object is never created twice.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_REPLICATION_WAIT.as_secs_f64(), value_parser = parse_wait)]
    pub replication_wait: f64,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Where apply journals its writes unless told otherwise.
const DEFAULT_JOURNAL: &str = ".steward/journal.jsonl";

/// Parses --replication-wait: seconds, from 0 to an hour.
fn parse_wait(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=3600.0).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0 and 3600"
        )),
    }
}

/// Runs `steward apply`.
pub fn run(mut args: Args) -> Result<Done, CommandError> {
    let how = FanOut {
        command: "apply",
        json: false,
        reports: false,
        clean: "applied",
        changed: "with changes",
        child_flags: &[],
        refuse: (args.plan.is_some() || !args.auto_approve).then_some(
            "applying several tenants in one run needs --auto-approve (each tenant's plan is printed, not confirmed); review each tenant's plan first, or apply one with --tenant NAME",
        ),
        exit_changes: true,
    };
    let scope = match fleet::enter(&args.paths, &args.target, &args.fleet, how)? {
        Entered::Ran(done) => return Ok(done),
        Entered::Here(scope) => scope,
    };
    let loaded = fleet::load(&scope, &args.paths, &mut args.target)?;
    // Tenants applied side by side each keep their own journal.
    if let fleet::Scope::One(_, tenant) = &scope
        && args.journal == std::path::Path::new(DEFAULT_JOURNAL)
    {
        args.journal = crate::workflow::fleet::journal(tenant);
    }
    let saved = args.plan.as_deref().map(saved_plan::read).transpose()?;
    if let Some(saved) = &saved {
        // A fleet tenant's plan is for that tenant: say so before anything else is compared.
        if let fleet::Scope::One(_, tenant) = &scope
            && let Some(id) = &tenant.tenant_id
            && !id.eq_ignore_ascii_case(&saved.tenant_id)
        {
            return Err(CommandError::user(format!(
                "the saved plan was made against tenant {}, not `{}` ({id}); apply it with the tenant it was made for, or plan this one with --tenant {} --out",
                saved.tenant_id, tenant.name, tenant.name
            )));
        }
        saved_plan::check_files(saved, &loaded, &args.paths)?;
    }
    let journal = workflow_apply::open_journal(&args.journal)?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let target = args.target.connect().await?;
        let result = apply(&args, &loaded, saved, &target.client, &journal).await;
        args.target.finish(target).await;
        result
    })
}

async fn apply(
    args: &Args,
    loaded: &Loaded,
    saved: Option<SavedPlan>,
    client: &GraphClient,
    journal: &Journal,
) -> Result<Done, CommandError> {
    let options = PlanOptions {
        max_deletes: args.max_deletes,
    };
    // Saved or not, what is applied (and guarded) is the plan made now from the files and the
    // tenant: a saved plan can only confirm it.
    let saved = saved.as_ref().zip(args.plan.as_deref());
    let (planned, lockout) =
        workflow_apply::plan(client, loaded, &options, args.stage, saved).await?;
    let plan: Plan = planned.plan.clone();
    // The lockout guard, on what this plan would leave: before anything is printed as if it
    // could be applied.
    output::check_lockout(
        loaded,
        &lockout,
        &plan,
        "refusing to apply, nothing was written",
    )?;
    let names = saved_plan::names(&planned);
    let colour = output::colour_stdout();
    print!("{}", render::human(&plan, Mode::Plan, &names, colour));
    if plan.summary.is_empty() {
        return Ok(Done::Clean);
    }
    if args.plan.is_none() && !args.auto_approve && !confirm()? {
        println!("Apply cancelled.");
        return Err(CommandError::reported(CommandErrorKind::User));
    }

    let settings = WriteSettings {
        stage: args.stage,
        replication_wait: std::time::Duration::from_secs_f64(args.replication_wait),
    };
    let progress = Progress::new(
        plan.resources
            .iter()
            .filter(|r| r.action != Action::NoOp)
            .count(),
    );
    let report = workflow_apply::execute(client, &planned, &plan, journal, settings, &|outcome| {
        progress.done(outcome)
    })
    .await;
    progress.finish();
    let report = report?;

    let verified = workflow_apply::verify(client, loaded, &report, args.stage).await;
    print_report(&report, journal);
    let incomplete = || Err(CommandError::reported(CommandErrorKind::Incomplete));
    match verified {
        Ok(()) if report.succeeded() => Ok(Done::Clean),
        Ok(()) => incomplete(),
        Err(Unverified::ReadFailed(error)) => {
            eprintln!("error: the verification read failed: {error}");
            eprintln!(
                "Not verified: the changes above were sent, but the tenant could not be read back to check them. Run `steward plan` to see whether anything is left to do."
            );
            incomplete()
        }
        Err(Unverified::Differs(problems)) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            eprintln!(
                "Verification failed: the tenant did not keep what was sent for the resources above."
            );
            incomplete()
        }
    }
}

/// Asks for `yes` on the terminal; without a terminal, refuses.
fn confirm() -> Result<bool, CommandError> {
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::user(
            "no terminal to confirm on: pass --auto-approve, or apply a reviewed plan with --plan FILE",
        ));
    }
    print!(
        "\nDo you want to perform these actions?\n  steward will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(CommandError::from)?;
    Ok(answer.trim() == "yes")
}

fn print_report(report: &ApplyReport, journal: &Journal) {
    let failed: Vec<&ResourceOutcome> = report
        .resources
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Applied { .. }))
        .collect();
    println!();
    if failed.is_empty() {
        println!(
            "Apply complete! Resources: {} added, {} changed, {} destroyed.",
            report.count(Action::Create) + report.count(Action::Replace),
            report.count(Action::Update),
            report.count(Action::Delete) + report.count(Action::Replace)
        );
    } else {
        println!(
            "Apply incomplete: {} applied, {} failed, {} skipped. Run `steward apply` again once the cause is fixed: it converges.",
            report.resources.len() - failed.len(),
            failed
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
                .count(),
            failed
                .iter()
                .filter(|r| matches!(r.outcome, Outcome::Skipped { .. }))
                .count(),
        );
        for r in &report.resources {
            match &r.outcome {
                Outcome::Applied { .. } => println!("  applied  {}", r.address),
                Outcome::Failed { error, .. } => println!("  FAILED   {}: {error}", r.address),
                Outcome::Skipped { because } => {
                    println!("  skipped  {} (waits for {because})", r.address)
                }
            }
        }
    }
    println!("Journal: {}", journal.path().display());
}

/// A bar on a terminal; a plain line per resource otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let wanted = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress {
            bar: wanted.then(|| {
                let bar = indicatif::ProgressBar::new(total as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            }),
        }
    }

    fn done(&self, outcome: &ResourceOutcome) {
        let verb = match (&outcome.outcome, outcome.action) {
            (Outcome::Applied { .. }, Action::Create) => "created",
            (Outcome::Applied { .. }, Action::Update) => "updated",
            (Outcome::Applied { .. }, Action::Delete) => "destroyed",
            (Outcome::Applied { .. }, Action::Replace) => "replaced",
            (Outcome::Applied { .. }, Action::NoOp) => "unchanged",
            (Outcome::Failed { .. }, _) => "FAILED",
            (Outcome::Skipped { .. }, _) => "skipped",
        };
        let line = match &outcome.outcome {
            Outcome::Applied { id: Some(id) } => format!("{}: {verb} (id {id})", outcome.address),
            Outcome::Failed { error, .. } => format!("{}: {verb}: {error}", outcome.address),
            _ => format!("{}: {verb}", outcome.address),
        };
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => println!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
