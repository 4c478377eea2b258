//! `steward check`: grade the files, the tenant, or the tenant after the plan against CISA's
//! SCuBA baseline.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::fleet::{self, Entered, FanOut, FleetArgs, Scope};
use super::{CommandError, CommandErrorKind, Done};
use crate::baseline::{self, FailOn, Grade, Source};
use crate::config::Loaded;
use crate::render::grade;
use crate::workflow::check as checking;
use crate::workflow::export as exporting;
use crate::workflow::planning::TargetArgs;

/// Grade the policy files or the tenant against CISA's SCuBA baseline for Entra ID and
/// SharePoint (the policy ids ScubaGear checks), with each failure on the file line to change.
///
/// With no tenant flag it grades the files alone (--declared): no sign-in, fit for a pull
/// request; a setting the files do not declare is not guaranteed, so it fails. --live grades
/// the tenant as it is (with --sandbox: the sandbox tenant, the default then); --planned grades
/// the tenant as applying the files would leave it. Each policy id is pass, fail, accepted (a
/// check-exception in the files accepts it until its expiry), not applicable, or cannot be
/// checked (with why: licence, permission, or not readable through Graph). Exits 0, or 2 when a
/// policy at --fail-on level fails (an expired exception is a failure); 1 on any error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories: what --declared and --planned grade, and where every mode
    /// finds check-exception and emergency-access declarations.
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Grade the policy files alone (the default without --sandbox).
    #[arg(long, conflicts_with_all = ["live", "planned"])]
    pub declared: bool,
    /// Grade the tenant as it is (the default with --sandbox).
    #[arg(long, conflicts_with = "planned")]
    pub live: bool,
    /// Grade the tenant as applying the files would leave it; with --format markdown, also
    /// which policy ids the change makes pass or fail.
    #[arg(long)]
    pub planned: bool,
    /// With --planned: print only which policy ids the change makes pass or fail, as the
    /// Markdown "Baseline" section of a plan comment (nothing when none changes).
    #[arg(long, requires = "planned")]
    pub delta: bool,
    /// Output format: `human`, `json` (schemas/check.schema.json), `sarif` (SARIF 2.1.0 for
    /// GitHub code scanning) or `markdown` (a pull-request comment).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Which failures make the exit code 2: `shall` (a failed SHALL), `should` (any failure)
    /// or `none` (report only).
    #[arg(long, value_enum, default_value_t = FailOn::Shall)]
    pub fail_on: FailOn,
    /// Grade as of this day (YYYY-MM-DD): exceptions expire by it. Default: today (UTC).
    #[arg(long, value_name = "DATE")]
    pub date: Option<NaiveDate>,
    /// Also write an evidence pack for an auditor into DIR/<date>/: the grade as JSON, SARIF
    /// and Markdown, the tenant's export, the apply journal when present, and manifest.json
    /// with the SHA-256 of every file. Needs --live (or --sandbox).
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// The apply journal the evidence pack includes.
    #[arg(long, value_name = "FILE", default_value = ".steward/journal.jsonl")]
    pub journal: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// How a grade is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Failures first with where and what to write, then every id by section.
    Human,
    /// The grade document.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning (`upload-sarif`).
    Sarif,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// Runs `steward check`.
pub fn run(mut args: Args) -> Result<Done, CommandError> {
    let how = FanOut {
        command: "check",
        json: matches!(args.format, Format::Json | Format::Sarif),
        reports: true,
        clean: "passing",
        changed: "failing the baseline",
        child_flags: &[],
        refuse: None,
        exit_changes: true,
    };
    let scope = match fleet::enter(&args.paths, &args.target, &args.fleet, how)? {
        Entered::Ran(done) => return Ok(done),
        Entered::Here(scope) => scope,
    };
    // A fleet tenant's evidence pack goes into its own folder.
    if let (Scope::One(_, tenant), Some(dir)) = (&scope, &args.evidence) {
        args.evidence = Some(dir.join(&tenant.name));
    }
    let source = if args.planned {
        Source::Planned
    } else if args.live || (args.target.sandbox && !args.declared) {
        Source::Live
    } else {
        Source::Declared
    };
    if args.evidence.is_some() && source != Source::Live {
        return Err(CommandError::new(
            CommandErrorKind::Usage,
            "--evidence grades the tenant: add --live (or --sandbox)",
        ));
    }
    let today = args.date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let loaded = load_for(&mut args, source, &scope)?;
    let fallback = first_file(&loaded, &args.paths);
    let grade = match source {
        Source::Declared => checking::declared(&loaded, today),
        Source::Live => {
            let (grade, export) = super::runtime()?.block_on(async {
                let target = args.target.connect().await?;
                let result = checking::read_graded(&target.client, args.evidence.is_some()).await;
                args.target.finish(target).await;
                let live = result?;
                let grade = checking::live(&live, &loaded, today);
                let export = args
                    .evidence
                    .as_ref()
                    .map(|_| exporting::render(&live, &checking::graded_kinds()));
                Ok::<_, crate::workflow::Error>((grade, export))
            })?;
            if let (Some(dir), Some(export)) = (&args.evidence, export) {
                write_evidence(dir, &grade, export, &args.journal, &fallback)?;
            }
            grade
        }
        Source::Planned => {
            let grades = super::runtime()?.block_on(async {
                let target = args.target.connect().await?;
                let result = checking::planned(&target.client, &loaded, today).await;
                args.target.finish(target).await;
                result
            })?;
            let delta = grade::markdown_delta(&grades.before, &grades.after);
            if args.delta {
                print!("{delta}");
                return Ok(Done::Clean);
            }
            if args.format == Format::Markdown {
                print!("{delta}");
            }
            grades.after
        }
    };
    print(&grade, args.format, &fallback)?;
    if !matches!(args.format, Format::Human) {
        for line in grade::summary_lines(&grade) {
            eprintln!("{line}");
        }
    }
    Ok(
        if grade
            .results
            .iter()
            .any(|r| baseline::fails(r, args.fail_on))
        {
            Done::Changes
        } else {
            Done::Clean
        },
    )
}

/// The files to grade (declared, planned), or only their exceptions (live: the files are
/// optional then, and a missing default directory is no error).
fn load_for(args: &mut Args, source: Source, scope: &Scope) -> Result<Loaded, CommandError> {
    let default_missing =
        args.paths == [PathBuf::from("policies")] && !Path::new("policies").exists();
    if source == Source::Live && default_missing && matches!(scope, Scope::Files) {
        return Ok(Loaded::default());
    }
    fleet::load(scope, &args.paths, &mut args.target)
}

/// Where SARIF points a result the files cannot locate: the first policy file.
fn first_file(loaded: &Loaded, paths: &[PathBuf]) -> String {
    loaded
        .files
        .first()
        .map(|f| f.name.clone())
        .or_else(|| paths.first().map(|p| p.display().to_string()))
        .unwrap_or_else(|| "policies".to_string())
}

fn sarif_text(grade: &Grade, fallback: &str) -> Result<String, CommandError> {
    serde_json::to_string_pretty(&grade::sarif(grade, fallback))
        .map_err(|e| CommandError::internal(format!("cannot print SARIF: {e}")))
}

fn json_text(grade: &Grade) -> Result<String, CommandError> {
    serde_json::to_string_pretty(grade)
        .map_err(|e| CommandError::internal(format!("cannot print the grade: {e}")))
}

fn print(grade: &Grade, format: Format, fallback: &str) -> Result<(), CommandError> {
    match format {
        Format::Human => print!("{}", grade::human(grade)),
        Format::Markdown => print!("{}", grade::markdown(grade)),
        Format::Json => println!("{}", json_text(grade)?),
        Format::Sarif => println!("{}", sarif_text(grade, fallback)?),
    }
    Ok(())
}

fn write_evidence(
    dir: &Path,
    grade: &Grade,
    export: Vec<(String, String)>,
    journal: &Path,
    fallback: &str,
) -> Result<(), CommandError> {
    let mut files = vec![
        (
            "grade.json".to_string(),
            (json_text(grade)? + "\n").into_bytes(),
        ),
        (
            "grade.sarif".to_string(),
            (sarif_text(grade, fallback)? + "\n").into_bytes(),
        ),
        ("grade.md".to_string(), grade::markdown(grade).into_bytes()),
    ];
    files.extend(
        export
            .into_iter()
            .map(|(name, text)| (format!("export/{name}"), text.into_bytes())),
    );
    match std::fs::read(journal) {
        Ok(bytes) => files.push(("journal.jsonl".to_string(), bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(CommandError::new(
                CommandErrorKind::Io,
                format!("cannot read the apply journal {}: {e}", journal.display()),
            ));
        }
    }
    let folder = checking::write_evidence(dir, &grade.date, files)?;
    eprintln!("Wrote the evidence pack to {}.", folder.display());
    Ok(())
}
