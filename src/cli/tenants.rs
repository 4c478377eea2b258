//! `steward tenants`: a fleet's tenants, for the engine that runs one job per tenant.

use std::path::PathBuf;

use serde_json::json;

use super::{CommandError, CommandErrorKind, Done};
use crate::fleet::{self, Fleet, Selection, TenantEntry};

/// The most jobs a GitHub Actions matrix may hold.
pub const GITHUB_MATRIX_LIMIT: usize = 256;

/// List a fleet's tenants: one line each, JSON, or a GitHub Actions matrix.
///
/// For fanning out on an engine you already run: a GitHub Actions matrix
/// (`fromJSON(needs.tenants.outputs.matrix)`, at most 256 jobs, so --batch beyond that), a
/// Kubernetes Indexed Job (completions = the number of lines; each pod runs
/// `--tenants index:$(JOB_COMPLETION_INDEX)`), or Argo's `withParam` (--format json). With
/// --changed-since, only the tenants a change touches: a change under baseline/ touches every
/// tenant, under groups/NAME/ the group's tenants, under tenants/NAME/ that tenant.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The fleet repository (the directory holding baseline/ and tenants/).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format: `lines` (one name per line), `json` (name, tenant id, domain, groups,
    /// index) or `github-matrix` ({"include":[{"tenant":…}]}).
    #[arg(long, value_enum, default_value_t = Format::Lines)]
    pub format: Format,
    /// Only these tenants: `all` (the default), `group:NAME`, `index:N` or names separated by
    /// commas.
    #[arg(long, value_name = "TENANTS")]
    pub tenants: Option<Selection>,
    /// Only the tenants whose files changed since this git revision (a branch, tag or commit,
    /// such as the pull request's base), including changes not yet committed.
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
    /// Only the N-th batch (from 0) of --batch-size tenants: one GitHub matrix per batch.
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Tenants per batch.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub batch_size: u16,
}

/// How the tenants are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One tenant name per line.
    Lines,
    /// A JSON array of tenants.
    Json,
    /// A GitHub Actions matrix: {"include":[{"tenant":…,"tenant-id":…,"domain":…}]}.
    GithubMatrix,
}

/// Runs `steward tenants`.
pub fn run(args: Args) -> Result<Done, CommandError> {
    if !fleet::is_fleet(&args.path) {
        return Err(CommandError::new(
            CommandErrorKind::Usage,
            format!(
                "{} is not a fleet repository (it has no tenants/ directory)",
                args.path.display()
            ),
        ));
    }
    let fleet = Fleet::open(&args.path)
        .map_err(|d| CommandError::reported(CommandErrorKind::User).with_diagnostics(d))?;
    let selection = args.tenants.clone().unwrap_or(Selection::All);
    let mut chosen: Vec<(usize, &TenantEntry)> = fleet
        .select(&selection)
        .map_err(|e| CommandError::new(CommandErrorKind::Usage, e))?
        .into_iter()
        .map(|t| (index_of(&fleet, t), t))
        .collect();
    if let Some(rev) = &args.changed_since {
        let touched = fleet.touched(&changed_files(&args.path, rev)?);
        chosen.retain(|(_, t)| touched.contains(&t.name));
    }
    let size = usize::from(args.batch_size);
    if let Some(batch) = args.batch {
        chosen = chosen
            .into_iter()
            .skip(batch.saturating_mul(size))
            .take(size)
            .collect();
    } else if args.format == Format::GithubMatrix && chosen.len() > GITHUB_MATRIX_LIMIT {
        return Err(CommandError::user(format!(
            "{} tenants: a GitHub Actions matrix holds at most {GITHUB_MATRIX_LIMIT} jobs; run one matrix per batch with --batch 0 to --batch {}",
            chosen.len(),
            (chosen.len() - 1) / size
        )));
    }
    let text = match args.format {
        Format::Lines => chosen
            .iter()
            .map(|(_, t)| format!("{}\n", t.name))
            .collect::<String>(),
        Format::Json => {
            let list: Vec<_> = chosen
                .iter()
                .map(|(index, t)| {
                    json!({
                        "name": t.name,
                        "tenant-id": t.tenant_id,
                        "domain": t.domain,
                        "groups": t.group_names().collect::<Vec<_>>(),
                        "index": index,
                    })
                })
                .collect();
            pretty(&json!(list))?
        }
        Format::GithubMatrix => {
            let include: Vec<_> = chosen
                .iter()
                .map(|(_, t)| json!({"tenant": t.name, "tenant-id": t.tenant_id, "domain": t.domain}))
                .collect();
            // One line: GitHub step outputs are written as `matrix=<json>`.
            let text = serde_json::to_string(&json!({ "include": include }))
                .map_err(|e| CommandError::internal(format!("cannot print the matrix: {e}")))?;
            text + "\n"
        }
    };
    print!("{text}");
    Ok(Done::Clean)
}

fn index_of(fleet: &Fleet, tenant: &TenantEntry) -> usize {
    fleet
        .tenants
        .iter()
        .position(|t| t.name == tenant.name)
        .unwrap_or_default()
}

fn pretty(value: &serde_json::Value) -> Result<String, CommandError> {
    serde_json::to_string_pretty(value)
        .map(|t| t + "\n")
        .map_err(|e| CommandError::internal(format!("cannot print the tenants: {e}")))
}

/// The files under `root` that differ from `rev`, relative to `root`: committed since, staged
/// or not, and new files git does not ignore.
fn changed_files(root: &std::path::Path, rev: &str) -> Result<Vec<String>, CommandError> {
    let git = |args: &[&str]| -> Result<String, CommandError> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .map_err(|e| CommandError::user(format!("--changed-since needs git: {e}")))?;
        if !out.status.success() {
            return Err(CommandError::user(format!(
                "--changed-since {rev}: git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let mut files: Vec<String> = git(&["diff", "--name-only", "--relative", rev, "--"])?
        .lines()
        .map(str::to_string)
        .collect();
    files.extend(
        git(&["ls-files", "--others", "--exclude-standard"])?
            .lines()
            .map(str::to_string),
    );
    Ok(files)
}
