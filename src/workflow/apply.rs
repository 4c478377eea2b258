//! Applying a plan: open the journal, write through Graph, and check what the tenant kept.

use std::path::Path;

use super::plan::SavedPlan;
use super::planning::Planned;
use super::{Error, Result};
use crate::config::Loaded;
use crate::graph::apply::{GraphExecutor, Journal, PrepareError, WriteSettings};
use crate::graph::{GraphClient, Resolver};
use crate::model::checks::lockout::LockoutReport;
use crate::model::plan::{Action, Plan};
use crate::reconcile::PlanOptions;
use crate::reconcile::apply::{ApplyReport, Outcome, ResourceOutcome};

/// Opens the apply journal at `path` (creating it), reading what earlier runs recorded.
pub fn open_journal(path: &Path) -> Result<Journal> {
    Journal::open(path).map_err(Error::io(format!(
        "cannot open the journal {}",
        path.display()
    )))
}

/// The plan `apply` writes, made now from the files and the tenant (`stage` as `--stage`),
/// and the lockout guard's report on it. A saved plan (read from its path) only confirms it:
/// refused when made against another tenant, or when it is not this plan.
pub async fn plan(
    client: &GraphClient,
    loaded: &Loaded,
    options: &PlanOptions,
    stage: bool,
    saved: Option<(&SavedPlan, &Path)>,
) -> Result<(Planned, LockoutReport)> {
    if let Some((saved, path)) = saved {
        super::plan::check_origin(saved, path, client).await?;
    }
    let mut planned = super::planning::compute(client, loaded, options).await?;
    if stage {
        // What is shown, approved, compared with a saved plan and guarded is what is written.
        super::planning::stage(&mut planned);
    }
    if let Some((saved, path)) = saved {
        super::plan::confirm(saved, path, &planned)?;
    }
    let lockout = super::planning::guard(client, &planned, &planned.plan, stage).await?;
    Ok((planned, lockout))
}

/// Writes `plan` (made as `planned`) to the tenant: resolves the names it writes, then applies
/// every change, journalled; `on_done` hears of each resource as it finishes. Nothing is
/// written when the names cannot be resolved.
pub async fn execute(
    client: &GraphClient,
    planned: &Planned,
    plan: &Plan,
    journal: &Journal,
    settings: WriteSettings,
    on_done: &(dyn Fn(&ResourceOutcome) + Sync),
) -> Result<ApplyReport> {
    let resolver = Resolver::new(client.clone());
    let executor =
        GraphExecutor::prepare(client, &resolver, plan, &planned.live, journal, settings)
            .await
            .map_err(|e| match e {
                PrepareError::Graph(source) => {
                    Error::graph("cannot prepare the apply, nothing was written")(source)
                }
            })?;
    Ok(crate::reconcile::apply::run(plan, &executor, on_done).await)
}

/// Why an apply could not be verified.
#[derive(Debug)]
pub enum Unverified {
    /// Reading the tenant back failed: nothing is known about what it kept.
    ReadFailed(String),
    /// The tenant was read back and differs from what was sent.
    Differs(Vec<String>),
}

/// Re-reads what was applied and checks the plan is now empty for it.
pub async fn verify(
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
    let again = super::planning::compute(client, loaded, &options)
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
