//! `steward validate`: check policy files without touching a tenant.

use std::path::PathBuf;

use super::output::{count, print_diagnostics};
use super::{CommandError, CommandErrorKind, Done};
use crate::config::{self, diagnostic::JsonDiagnostic};
use crate::model::checks;

/// Check policy files: syntax, settings, values, duplicates and references.
///
/// Reports every problem in one run, each with its file, line and column. Also runs the
/// lockout guard on the files alone: what could lock the emergency-access accounts out is a
/// warning, and what only the tenant can tell (an id for a UPN, group membership) is a note;
/// `plan` and `apply` judge the tenant. Exits 1 when there are errors, 0 otherwise (warnings
/// alone do not fail).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Output format: `human` (snippets on stderr) or `json` (on stdout).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets for people.
    Human,
    /// One JSON document for scripts.
    Json,
}

/// The JSON document `validate --format json` prints.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ValidateReport {
    /// The version of this document's format.
    pub format_version: u32,
    /// True when there is no error.
    pub valid: bool,
    /// Every policy file found, including those refused (too large, not UTF-8).
    pub files: Vec<String>,
    /// Every problem found.
    pub diagnostics: Vec<JsonDiagnostic>,
    /// What validate cannot decide from the files alone (the lockout guard judges the
    /// tenant at plan and apply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What the lockout guard could not decide from the files, and — when it found or left
/// anything — that the tenant was not known.
fn lockout_notes(loaded: &config::Loaded) -> Vec<String> {
    let report = checks::lockout_from_files(&loaded.desired);
    let mut notes = report.undecided;
    let judged = !notes.is_empty()
        || loaded
            .diagnostics
            .iter()
            .any(|d| d.code.starts_with("steward::lockout"));
    if judged {
        notes.push("the lockout guard saw the files only (the tenant is not known here); `steward plan` and `apply` judge each policy as apply would leave it in the tenant".into());
    }
    notes
}

pub fn run(args: Args) -> Result<Done, CommandError> {
    let loaded = config::load(&args.paths);
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    let notes = lockout_notes(&loaded);
    match args.format {
        Format::Json => {
            let report = ValidateReport {
                format_version: 1,
                valid: errors == 0,
                files: loaded.file_names.clone(),
                diagnostics: loaded.diagnostics.iter().map(|d| d.to_json()).collect(),
                notes,
            };
            let text = serde_json::to_string_pretty(&report)
                .map_err(|e| CommandError::internal(format!("cannot print the report: {e}")))?;
            println!("{text}");
        }
        Format::Human => {
            print_diagnostics(&loaded.diagnostics);
            for note in &notes {
                eprintln!("note: {note}");
            }
            let resources = loaded.origins.len();
            let files = count(loaded.file_names.len(), "file");
            if errors == 0 {
                let tail = if warnings > 0 {
                    format!(", {}", count(warnings, "warning"))
                } else {
                    String::new()
                };
                println!("Valid: {} in {files}{tail}.", count(resources, "resource"));
            } else {
                eprintln!(
                    "Invalid: {} and {} in {files}.",
                    count(errors, "error"),
                    count(warnings, "warning")
                );
            }
        }
    }
    if errors > 0 {
        return Err(CommandError::reported(CommandErrorKind::User));
    }
    Ok(Done::Clean)
}
