//! `steward plan`: what applying the files would change in the tenant.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::planning::{self, Planned, TargetArgs};
use crate::cli::CommandError;
use crate::graph::read::Live;
use crate::graph::{GraphClient, kinds, tenant};
use crate::model::plan::Plan;
use crate::reconcile::PlanOptions;
use crate::render::{self, Mode, Names, PlanDocument};

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

/// The format of plans saved with `--out` that this steward writes and reads.
pub const SAVED_PLAN_FORMAT: u32 = 2;

/// A plan saved with `--out`: the plan, and what it was made from. `apply --plan` treats it as
/// a confirmation: it plans again and applies only if that plan is this one.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SavedPlan {
    /// The version of this file's format.
    pub format_version: u32,
    /// The tenant (organization) id the plan was made against.
    pub tenant_id: String,
    /// The Graph host the plan was made against (`graph.microsoft.com`; loopback hosts without
    /// their port).
    pub graph_host: String,
    /// SHA-256 of the policy files (names and contents) the plan was made from.
    pub files_hash: String,
    /// SHA-256 of the normalised Graph JSON of every object read, by address.
    pub fingerprints: BTreeMap<String, String>,
    /// The plan.
    pub plan: Plan,
}

/// The fingerprint of every live object: a hash of its normalised Graph JSON, so only changes
/// that matter (not timestamps) make a saved plan stale.
pub fn fingerprints(live: &Live) -> BTreeMap<String, String> {
    live.objects
        .iter()
        .map(|o| {
            let (json, _) = kinds::to_model_json(o.address.kind, &o.raw);
            let canonical = canonical_json(&Value::Object(json));
            (
                o.address.to_string(),
                hex::encode(Sha256::digest(canonical.as_bytes())),
            )
        })
        .collect()
}

/// JSON with object keys sorted, so equal values hash (and compare) equally.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical_json(v))).collect();
            let parts: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// Display names for the ids a plan shows, and the names of what it creates (known after
/// apply).
pub fn names(planned: &Planned) -> Names {
    let pending = planned
        .plan
        .resources
        .iter()
        .filter(|r| r.action == crate::model::plan::Action::Create)
        .filter(|r| r.kind.as_ref_kind().is_some())
        .filter_map(|r| r.name.clone())
        .collect();
    Names::new(planned.names.clone())
        .with_pending(pending)
        .with_orphans(&planned.plan.orphans)
}

/// Prints a plan in `format`.
pub fn print(plan: &Plan, mode: Mode, format: Format, names: &Names) -> Result<(), CommandError> {
    match format {
        Format::Human => {
            let colour = crate::cli::output::colour_stdout();
            print!("{}", render::human(plan, mode, names, colour));
        }
        Format::Markdown => print!("{}", render::markdown(plan, mode, names)),
        Format::Json => {
            let doc: PlanDocument = render::document(plan, mode);
            let text = serde_json::to_string_pretty(&doc)
                .map_err(|e| CommandError::User(format!("cannot print the plan: {e}")))?;
            println!("{text}");
        }
    }
    Ok(())
}

/// Where a plan is made: the tenant's id and the Graph host.
pub struct Origin {
    /// The tenant (organization) id.
    pub tenant_id: String,
    /// The Graph host.
    pub graph_host: String,
}

/// Finds out which tenant and Graph host `client` works on.
pub async fn origin(client: &GraphClient) -> Result<Origin, CommandError> {
    let tenant_id = tenant::tenant_id(client).await.map_err(|e| {
        CommandError::User(format!(
            "cannot tell which tenant this is, which a saved plan records: {e}"
        ))
    })?;
    Ok(Origin {
        tenant_id,
        graph_host: tenant::graph_host(client),
    })
}

pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let loaded = planning::load(&args.paths)?;
    let options = PlanOptions {
        max_deletes: args.max_deletes,
    };
    let (planned, lockout, origin) = crate::cli::runtime()?.block_on(async {
        let target = args.target.connect().await?;
        let result = async {
            let mut planned = planning::compute(&target.client, &loaded, &options).await?;
            if args.stage {
                planning::stage(&mut planned);
            }
            let lockout =
                planning::guard(&target.client, &planned, &planned.plan, args.stage).await?;
            let origin = match &args.out {
                Some(_) => Some(origin(&target.client).await?),
                None => None,
            };
            Ok::<_, CommandError>((planned, lockout, origin))
        }
        .await;
        args.target.graph.print_stats(&target.client);
        if let Some(sandbox) = target.sandbox {
            sandbox.shutdown().await;
        }
        result
    })?;
    let names = names(&planned);
    let Planned { plan, live, .. } = planned;
    print(&plan, Mode::Plan, args.format, &names)?;
    // A plan apply would refuse is an error, shown after the plan and never saved.
    planning::check_lockout(
        &loaded,
        &lockout,
        &plan,
        "apply would refuse this plan (not saved)",
    )?;
    if let (Some(path), Some(origin)) = (&args.out, origin) {
        let saved = SavedPlan {
            format_version: SAVED_PLAN_FORMAT,
            tenant_id: origin.tenant_id,
            graph_host: origin.graph_host,
            files_hash: planning::files_hash(&loaded),
            fingerprints: fingerprints(&live),
            plan: plan.clone(),
        };
        let text = serde_json::to_string_pretty(&saved)
            .map_err(|e| CommandError::User(format!("cannot save the plan: {e}")))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| CommandError::User(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("Saved the plan to {}.", path.display());
    }
    Ok(if args.detailed_exitcode && !plan.summary.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
