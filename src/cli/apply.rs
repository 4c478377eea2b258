//! `steward apply`: make the tenant match the files — after review, safely, with a journal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::CommandError;
use super::plan::{SAVED_PLAN_FORMAT, SavedPlan, canonical_json, fingerprints, names, origin};
use super::planning::{self, Planned, TargetArgs};
use crate::config::Loaded;
use crate::graph::apply::{DEFAULT_REPLICATION_WAIT, GraphExecutor, Journal, WriteSettings};
use crate::graph::{GraphClient, Resolver};
use crate::model::plan::{Action, Plan, ResourceChange};
use crate::reconcile::PlanOptions;
use crate::reconcile::apply::{ApplyReport, Outcome, ResourceOutcome, run as run_plan};
use crate::render::{self, Mode};

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
    /// runs.
    #[arg(long, value_name = "FILE", default_value = ".steward/journal.jsonl")]
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
}

/// Parses --replication-wait: seconds, from 0 to an hour.
fn parse_wait(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=3600.0).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0 and 3600"
        )),
    }
}

pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let loaded = planning::load(&args.paths)?;
    let saved = args.plan.as_ref().map(read_saved).transpose()?;
    if let Some(saved) = &saved
        && saved.files_hash != planning::files_hash(&loaded)
    {
        return Err(CommandError::User(format!(
            "the saved plan is stale: the policy files changed since it was made ({}); run `steward plan --out` again and review the new plan",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let journal = Journal::open(&args.journal).map_err(|e| {
        CommandError::User(format!(
            "cannot open the journal {}: {e}",
            args.journal.display()
        ))
    })?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let target = args.target.connect().await?;
        let result = apply(&args, &loaded, saved, &target.client, &journal).await;
        args.target.graph.print_stats(&target.client);
        if let Some(sandbox) = target.sandbox {
            sandbox.shutdown().await;
        }
        result
    })
}

fn read_saved(path: &PathBuf) -> Result<SavedPlan, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::User(format!(
            "cannot read the saved plan {}: {e}",
            path.display()
        ))
    })?;
    let not_a_plan = |e: serde_json::Error| {
        CommandError::User(format!(
            "{} is not a plan saved by `steward plan --out`: {e}",
            path.display()
        ))
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(not_a_plan)?;
    // The version first: older formats lack fields this one requires.
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(SAVED_PLAN_FORMAT)) {
        return Err(CommandError::User(format!(
            "the saved plan is stale: {} has plan format {}, this steward reads format {SAVED_PLAN_FORMAT} (which records the tenant); run `steward plan --out` again with this steward and review the new plan",
            path.display(),
            version.map_or_else(|| "(none)".to_string(), |v| v.to_string())
        )));
    }
    serde_json::from_value(value).map_err(not_a_plan)
}

/// Refuses a saved plan made against another tenant or Graph host.
async fn check_origin(
    saved: &SavedPlan,
    path: &std::path::Path,
    client: &GraphClient,
) -> Result<(), CommandError> {
    let here = origin(client).await?;
    if !saved.tenant_id.eq_ignore_ascii_case(&here.tenant_id)
        || !saved.graph_host.eq_ignore_ascii_case(&here.graph_host)
    {
        return Err(CommandError::User(format!(
            "the saved plan {} was made for tenant {} on {}, but this apply works on tenant {} on {}: a plan only applies where it was made. Run `steward plan --out` against this tenant and review that plan",
            path.display(),
            saved.tenant_id,
            saved.graph_host,
            here.tenant_id,
            here.graph_host
        )));
    }
    Ok(())
}

/// How the saved plan differs from the plan made now, resource by resource; empty when it is
/// the same plan.
fn differences(saved: &Plan, now: &Plan) -> Vec<String> {
    let canonical = |r: &ResourceChange| {
        serde_json::to_value(r)
            .map(|v| canonical_json(&v))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in &saved.resources {
        if !seen.insert(s.address.as_str()) {
            out.push(format!("{}: the saved plan lists it twice", s.address));
        }
    }
    for n in &now.resources {
        match saved.resources.iter().find(|s| s.address == n.address) {
            None => out.push(format!(
                "{}: the saved plan leaves it out; the files and the tenant call for {}",
                n.address,
                action_text(n.action)
            )),
            Some(s) if canonical(s) != canonical(n) => {
                out.push(format!("{}: {}", n.address, difference(s, n)))
            }
            Some(_) => {}
        }
    }
    for s in &saved.resources {
        if !now.resources.iter().any(|n| n.address == s.address) {
            out.push(format!(
                "{}: the saved plan would {} it, which the files do not call for",
                s.address,
                verb(s.action)
            ));
        }
    }
    if out.is_empty()
        && saved
            .resources
            .iter()
            .map(|r| &r.address)
            .ne(now.resources.iter().map(|r| &r.address))
    {
        out.push("the saved plan orders the changes differently".into());
    }
    out
}

/// What differs in one resource's change, in words.
fn difference(saved: &ResourceChange, now: &ResourceChange) -> String {
    if saved.action != now.action {
        return format!(
            "the saved plan would {} it; the files and the tenant call for {}",
            verb(saved.action),
            action_text(now.action)
        );
    }
    if saved.id != now.id {
        return format!(
            "the saved plan targets the object with id {}; the tenant's object of that name has id {}",
            saved.id.as_deref().unwrap_or("(none)"),
            now.id.as_deref().unwrap_or("(none)")
        );
    }
    if saved.kind != now.kind || saved.name != now.name {
        return "the saved plan gives it another kind or name".into();
    }
    let field = |c: &crate::model::plan::FieldChange| {
        serde_json::to_value(c)
            .map(|v| canonical_json(&v))
            .unwrap_or_default()
    };
    let mut paths: Vec<&str> = Vec::new();
    for c in saved.changes.iter().chain(&now.changes) {
        let in_both = saved.changes.iter().any(|s| field(s) == field(c))
            && now.changes.iter().any(|n| field(n) == field(c));
        if !in_both && !paths.contains(&c.path.as_str()) {
            paths.push(&c.path);
        }
    }
    if !paths.is_empty() {
        return format!(
            "the saved plan's change to {} is not what the files and the tenant call for",
            paths.join(", ")
        );
    }
    if saved.after != now.after {
        return "the saved plan's declared settings are not the files'".into();
    }
    if saved.before != now.before {
        return "the saved plan's view of the tenant's object is not the tenant's".into();
    }
    "the saved plan's entry is not the one planned now".into()
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::NoOp => "leave",
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
    }
}

fn action_text(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no change",
        Action::Create => "a create",
        Action::Update => "an update",
        Action::Delete => "a delete",
    }
}

/// The changes a saved plan was made against that the tenant no longer matches.
fn stale_objects(saved: &SavedPlan, planned: &Planned) -> Vec<String> {
    let now = fingerprints(&planned.live);
    let mut stale = Vec::new();
    for change in saved
        .plan
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
    {
        let before = saved.fingerprints.get(&change.address);
        let after = now.get(&change.address);
        if before != after {
            stale.push(match (before, after) {
                (None, Some(_)) => format!("{} now exists in the tenant", change.address),
                (Some(_), None) => format!("{} no longer exists in the tenant", change.address),
                _ => format!("{} changed in the tenant", change.address),
            });
        }
    }
    stale
}

async fn apply(
    args: &Args,
    loaded: &Loaded,
    saved: Option<SavedPlan>,
    client: &GraphClient,
    journal: &Journal,
) -> Result<ExitCode, CommandError> {
    let options = PlanOptions {
        max_deletes: args.max_deletes,
    };
    if let (Some(saved), Some(path)) = (&saved, &args.plan) {
        check_origin(saved, path, client).await?;
    }
    // Saved or not, what is applied (and guarded) is the plan made now from the files and the
    // tenant: a saved plan can only confirm it.
    let mut planned = planning::compute(client, loaded, &options).await?;
    if args.stage {
        // What is shown, approved, compared with a saved plan and guarded is what is written.
        planning::stage(&mut planned);
    }

    if let Some(saved) = &saved {
        let stale = stale_objects(saved, &planned);
        if !stale.is_empty() {
            return Err(CommandError::User(format!(
                "the saved plan is stale: {}; run `steward plan --out` again and review the new plan",
                stale.join("; ")
            )));
        }
        let differ = differences(&saved.plan, &planned.plan);
        if !differ.is_empty() {
            const SHOWN: usize = 5;
            let more = differ.len().saturating_sub(SHOWN);
            return Err(CommandError::User(format!(
                "refusing the saved plan {}: it is not the plan the files and the tenant give now, so it is not what was reviewed or it was edited since: {}{}. Nothing was written. A saved plan only confirms the plan steward makes again; run `steward plan --out` again and review the new plan",
                args.plan
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                differ
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            )));
        }
    }
    let plan: Plan = planned.plan.clone();
    // The lockout guard, on what this plan would leave: before anything is printed as if it
    // could be applied.
    let lockout = planning::guard(client, &planned, &plan, args.stage).await?;
    planning::check_lockout(
        loaded,
        &lockout,
        &plan,
        "refusing to apply, nothing was written",
    )?;
    let names = names(&planned);
    let colour = super::output::colour_stdout();
    print!("{}", render::human(&plan, Mode::Plan, &names, colour));
    if plan.summary.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if args.plan.is_none() && !args.auto_approve && !confirm()? {
        println!("Apply cancelled.");
        return Ok(ExitCode::from(1));
    }

    let resolver = Resolver::new(client.clone());
    let settings = WriteSettings {
        stage: args.stage,
        replication_wait: std::time::Duration::from_secs_f64(args.replication_wait),
    };
    let executor =
        GraphExecutor::prepare(client, &resolver, &plan, &planned.live, journal, settings)
            .await
            .map_err(|e| {
                CommandError::User(format!(
                    "cannot prepare the apply, nothing was written: {e}"
                ))
            })?;
    let progress = Progress::new(
        plan.resources
            .iter()
            .filter(|r| r.action != Action::NoOp)
            .count(),
    );
    let report = run_plan(&plan, &executor, &|outcome| progress.done(outcome)).await;
    progress.finish();

    let verified = verify(client, loaded, &report, args.stage).await;
    print_report(&report, journal);
    match verified {
        Ok(()) if report.succeeded() => Ok(ExitCode::SUCCESS),
        Ok(()) => Ok(ExitCode::from(1)),
        Err(Unverified::ReadFailed(error)) => {
            eprintln!("error: the verification read failed: {error}");
            eprintln!(
                "Not verified: the changes above were sent, but the tenant could not be read back to check them. Run `steward plan` to see whether anything is left to do."
            );
            Ok(ExitCode::from(1))
        }
        Err(Unverified::Differs(problems)) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            eprintln!(
                "Verification failed: the tenant did not keep what was sent for the resources above."
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// Why an apply could not be verified.
enum Unverified {
    /// Reading the tenant back failed: nothing is known about what it kept.
    ReadFailed(String),
    /// The tenant was read back and differs from what was sent.
    Differs(Vec<String>),
}

/// Asks for `yes` on the terminal; without a terminal, refuses.
fn confirm() -> Result<bool, CommandError> {
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::User(
            "no terminal to confirm on: pass --auto-approve, or apply a reviewed plan with --plan FILE".into(),
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

/// Re-reads what was applied and checks the plan is now empty for it.
async fn verify(
    client: &GraphClient,
    loaded: &Loaded,
    report: &ApplyReport,
    stage: bool,
) -> Result<(), Unverified> {
    let applied: Vec<&ResourceOutcome> = report
        .resources
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Applied { .. }) && r.action != Action::Delete)
        .collect();
    if applied.is_empty() {
        return Ok(());
    }
    let options = PlanOptions {
        max_deletes: usize::MAX,
    };
    let again = planning::compute(client, loaded, &options)
        .await
        .map_err(|e| Unverified::ReadFailed(e.to_string()))?;
    let mut problems = Vec::new();
    for outcome in applied {
        let Some(change) = again
            .plan
            .resources
            .iter()
            .find(|r| r.address == outcome.address)
        else {
            continue;
        };
        let remaining: Vec<&str> = change
            .changes
            .iter()
            .map(|c| c.path.as_str())
            // Staged policies are report-only on purpose.
            .filter(|p| {
                !(stage
                    && *p == "state"
                    && change.kind == crate::model::Kind::ConditionalAccessPolicy)
            })
            .collect();
        if change.action == Action::Create {
            problems.push(format!(
                "{} was created but cannot be read back",
                change.address
            ));
        } else if !remaining.is_empty() {
            problems.push(format!(
                "{} still differs after apply: {}",
                change.address,
                remaining.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Unverified::Differs(problems))
    }
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
            report.count(Action::Create),
            report.count(Action::Update),
            report.count(Action::Delete)
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
                Outcome::Failed { error } => println!("  FAILED   {}: {error}", r.address),
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
            (Outcome::Applied { .. }, Action::NoOp) => "unchanged",
            (Outcome::Failed { .. }, _) => "FAILED",
            (Outcome::Skipped { .. }, _) => "skipped",
        };
        let line = match &outcome.outcome {
            Outcome::Applied { id: Some(id) } => format!("{}: {verb} (id {id})", outcome.address),
            Outcome::Failed { error } => format!("{}: {verb}: {error}", outcome.address),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Kind;

    fn change(name: &str, action: Action, state: &str) -> ResourceChange {
        ResourceChange {
            address: format!("conditional-access-policy {name:?}"),
            kind: Kind::ConditionalAccessPolicy,
            name: Some(name.into()),
            id: Some(format!("id-{name}")),
            action,
            before: None,
            after: Some(json!({"displayName": name, "state": state})),
            changes: Vec::new(),
            unchanged: 0,
            ignored: Vec::new(),
            staged: false,
        }
    }

    fn plan(resources: Vec<ResourceChange>) -> Plan {
        Plan {
            resources,
            ..Plan::default()
        }
    }

    #[test]
    fn the_same_plan_has_no_differences_whatever_its_key_order() {
        let now = plan(vec![change("A", Action::Update, "enabled")]);
        let text = serde_json::to_string(&now).unwrap_or_default();
        let again: Plan = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(differences(&again, &now), Vec::<String>::new());
    }

    #[test]
    fn a_reordered_or_repeated_change_is_a_difference() {
        let a = change("A", Action::Update, "enabled");
        let b = change("B", Action::Create, "enabled");
        let now = plan(vec![a.clone(), b.clone()]);
        assert_eq!(
            differences(&plan(vec![b.clone(), a.clone()]), &now),
            ["the saved plan orders the changes differently"]
        );
        assert_eq!(
            differences(&plan(vec![a.clone(), b.clone(), b]), &now),
            ["conditional-access-policy \"B\": the saved plan lists it twice"]
        );
        assert_eq!(
            differences(&plan(vec![a]), &now),
            [
                "conditional-access-policy \"B\": the saved plan leaves it out; the files and the tenant call for a create"
            ]
        );
    }

    #[test]
    fn a_changed_setting_is_named_by_its_path() {
        let mut saved = change("A", Action::Update, "disabled");
        let mut now = change("A", Action::Update, "enabled");
        let field = |after: &str| crate::model::plan::FieldChange {
            path: "state".into(),
            pointer: "/state".into(),
            before: json!("enabledForReportingButNotEnforced"),
            after: json!(after),
            added: Vec::new(),
            removed: Vec::new(),
        };
        saved.changes.push(field("disabled"));
        now.changes.push(field("enabled"));
        assert_eq!(
            differences(&plan(vec![saved]), &plan(vec![now])),
            [
                "conditional-access-policy \"A\": the saved plan's change to state is not what the files and the tenant call for"
            ]
        );
    }
}
