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
    /// In a fleet repository: validate this tenant's resolved files only (by directory name,
    /// tenant id or domain). Default: every tenant.
    #[arg(long, value_name = "NAME", help_heading = "Fleet")]
    pub tenant: Option<String>,
    /// In a fleet repository: the tenants to validate: `all` (the default), `group:NAME`,
    /// `index:N` or names separated by commas.
    #[arg(long, value_name = "TENANTS", help_heading = "Fleet")]
    pub tenants: Option<crate::fleet::Selection>,
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
    /// In a fleet repository: each tenant validated, with its own counts (a problem of a file
    /// several tenants share is listed once in `diagnostics`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantValidity>,
}

/// One fleet tenant's result in a [`ValidateReport`].
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct TenantValidity {
    /// The tenant's directory name under tenants/.
    pub tenant: String,
    /// True when its resolved files have no error.
    pub valid: bool,
    /// Its errors.
    pub errors: usize,
    /// Its warnings.
    pub warnings: usize,
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
    let fleet_args = super::fleet::FleetArgs {
        tenants: args.tenants.clone(),
        ..Default::default()
    };
    let tenants = match super::fleet::scope(&args.paths, args.tenant.as_deref(), &fleet_args, true)?
    {
        super::fleet::Scope::Files => None,
        super::fleet::Scope::One(fleet, tenant) => Some((fleet, vec![*tenant])),
        super::fleet::Scope::Many(fleet, tenants) => Some((fleet, tenants)),
    };
    let Some((fleet, tenants)) = tenants else {
        return report(&config::load(&args.paths), args.format, Vec::new());
    };
    // Each tenant as plan would see it; a problem of a shared file is shown once.
    let today = crate::fleet::today();
    let mut failed = Vec::new();
    let mut merged = config::Loaded::default();
    let mut rows = Vec::new();
    for tenant in &tenants {
        let loaded = crate::fleet::resolve(&fleet, tenant, today).loaded;
        let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        rows.push(TenantValidity {
            tenant: tenant.name.clone(),
            valid: errors == 0,
            errors,
            warnings: loaded.diagnostics.len() - errors,
        });
        if args.format == Format::Human {
            eprintln!("── tenant {} ──", tenant.name);
        }
        let outcome = match args.format {
            Format::Human => report(&loaded, Format::Human, Vec::new()),
            Format::Json => Ok(Done::Clean),
        };
        if outcome.is_err() || loaded.has_errors() {
            failed.push(tenant.name.clone());
        }
        for name in loaded.file_names {
            if !merged.file_names.contains(&name) {
                merged.file_names.push(name);
            }
        }
        for d in loaded.diagnostics {
            let same = |m: &crate::config::Diagnostic| {
                serde_json::to_value(m.to_json()).ok() == serde_json::to_value(d.to_json()).ok()
            };
            if !merged.diagnostics.iter().any(same) {
                merged.diagnostics.push(d);
            }
        }
        merged.origins.extend(loaded.origins);
        merged.desired = loaded.desired;
    }
    match args.format {
        Format::Json => report(&merged, Format::Json, rows),
        Format::Human if failed.is_empty() => {
            println!("Fleet: {} tenants valid.", tenants.len());
            Ok(Done::Clean)
        }
        Format::Human => {
            eprintln!(
                "Fleet: {} of {} tenants invalid ({}).",
                failed.len(),
                tenants.len(),
                failed.join(", ")
            );
            Err(CommandError::reported(CommandErrorKind::User))
        }
    }
}

/// Prints what validate found in `loaded`.
fn report(
    loaded: &config::Loaded,
    format: Format,
    tenants: Vec<TenantValidity>,
) -> Result<Done, CommandError> {
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    let notes = lockout_notes(loaded);
    match format {
        Format::Json => {
            let report = ValidateReport {
                format_version: 1,
                valid: errors == 0,
                files: loaded.file_names.clone(),
                diagnostics: loaded.diagnostics.iter().map(|d| d.to_json()).collect(),
                notes,
                tenants,
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
