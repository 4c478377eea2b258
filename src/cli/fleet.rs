//! Fleet repositories on the command line: which tenants a command runs for, loading one
//! tenant's resolved files, and running a command for several tenants at once.
//!
//! One tenant runs in this process, exactly as a single-tenant repository does. Several run as
//! one child `steward` per tenant, at most `--parallel` at a time: each has its own sign-in, its
//! own Graph limits and its own failure, so one tenant's throttling or error never holds up
//! another, and their output is printed whole, tenant by tenant, in name order.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures::StreamExt;

use super::{CommandError, CommandErrorKind, Done, output};
use crate::config::Loaded;
use crate::fleet::{self, Fleet, Selection, TenantEntry};
use crate::workflow::planning::TargetArgs;

/// The flags that pick tenants in a fleet repository.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FleetArgs {
    /// In a fleet repository (a directory with tenants/): the tenants to run for: `all`,
    /// `group:NAME`, `index:N` (the N-th tenant in name order, from 0, as a Kubernetes Indexed
    /// Job's JOB_COMPLETION_INDEX) or names separated by commas. --tenant NAME picks one.
    #[arg(long, value_name = "TENANTS", help_heading = "Fleet")]
    pub tenants: Option<Selection>,
    /// How many tenants run at once when one run covers several. Each tenant has its own
    /// sign-in and its own Graph limits; writes within a tenant stay one at a time.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Fleet")]
    pub parallel: u16,
    /// When a run covers several tenants: write each tenant's JSON report to
    /// DIR/<tenant>.<command>.json (for `steward report merge`) instead of printing it.
    #[arg(long, value_name = "DIR", help_heading = "Fleet")]
    pub report_dir: Option<PathBuf>,
}

/// What a command runs on.
pub enum Scope {
    /// Policy files, not a fleet: one tenant, named by the sign-in flags.
    Files,
    /// One tenant of a fleet.
    One(Box<Fleet>, Box<TenantEntry>),
    /// Several tenants of a fleet.
    Many(Box<Fleet>, Vec<TenantEntry>),
}

/// Decides what a command runs on. `tenant` is `--tenant` (or AZURE_TENANT_ID); in a fleet it
/// names a tenant of the fleet. `default_all` runs every tenant when none is named (validate).
pub fn scope(
    paths: &[PathBuf],
    tenant: Option<&str>,
    args: &FleetArgs,
    default_all: bool,
) -> Result<Scope, CommandError> {
    let Some(root) = fleet::detect(paths) else {
        if args.tenants.is_some() {
            return Err(usage(format!(
                "--tenants picks tenants of a fleet repository, and {} is not one (it has no tenants/ directory)",
                shown_paths(paths)
            )));
        }
        return Ok(Scope::Files);
    };
    let fleet = match Fleet::open(&root) {
        Ok(fleet) => fleet,
        Err(diagnostics) => {
            output::print_diagnostics(&diagnostics);
            return Err(CommandError::reported(CommandErrorKind::User));
        }
    };
    let selection = match (&args.tenants, tenant) {
        (Some(selection), _) => selection.clone(),
        (None, Some(name)) => Selection::One(name.to_string()),
        (None, None) if default_all => Selection::All,
        (None, None) => {
            return Err(usage(format!(
                "{} is a fleet repository: name the tenant with --tenant NAME, or several with --tenants all|group:NAME|a,b (tenants: {})",
                root.display(),
                names(&fleet.tenants)
            )));
        }
    };
    let from_env = args.tenants.is_none()
        && tenant.is_some()
        && std::env::var("AZURE_TENANT_ID").ok().as_deref() == tenant;
    let chosen: Vec<TenantEntry> = fleet
        .select(&selection)
        .map_err(|e| {
            if from_env {
                // A workload identity or a CI variable sets AZURE_TENANT_ID for the app's own
                // tenant; in a fleet each tenant's id comes from its tenant.kdl.
                usage(format!(
                    "{e}; the name came from AZURE_TENANT_ID: in a fleet, pick tenants with --tenant NAME or --tenants"
                ))
            } else {
                usage(e)
            }
        })?
        .into_iter()
        .cloned()
        .collect();
    Ok(match <[TenantEntry; 1]>::try_from(chosen) {
        Ok([one]) => Scope::One(Box::new(fleet), Box::new(one)),
        Err(many) if many.is_empty() => {
            return Err(usage(format!(
                "--tenants {selection} names no tenant of the fleet at {}",
                root.display()
            )));
        }
        Err(many) => Scope::Many(Box::new(fleet), many),
    })
}

fn usage(message: String) -> CommandError {
    CommandError::new(CommandErrorKind::Usage, message)
}

fn names(tenants: &[TenantEntry]) -> String {
    tenants
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn shown_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Loads what a command compares with the tenant: the files, or one fleet tenant's resolved
/// files; for a fleet tenant, points `target` at that tenant (its authority, its app and
/// credential, its own sandbox state). Prints the diagnostics; errors stop the command.
pub fn load(
    scope: &Scope,
    paths: &[PathBuf],
    target: &mut TargetArgs,
) -> Result<Loaded, CommandError> {
    match scope {
        Scope::Files => output::load(paths),
        Scope::One(fleet, tenant) => {
            crate::workflow::fleet::point_at(target, tenant).map_err(CommandError::user)?;
            let resolved = fleet::resolve(fleet, tenant, fleet::today());
            let loaded = resolved.loaded;
            output::print_diagnostics(&crate::workflow::planning::shown(&loaded));
            if loaded.has_errors() {
                return Err(CommandError::reported(CommandErrorKind::User));
            }
            Ok(loaded)
        }
        Scope::Many(..) => Err(CommandError::internal(
            "several tenants run one child process each",
        )),
    }
}

/// How a command's run for one tenant is told apart in a fan-out.
pub struct FanOut<'a> {
    /// The subcommand (`plan`, `drift`, `check`, `apply`): also the report files' suffix.
    pub command: &'a str,
    /// The command prints JSON (`--format json`): only into --report-dir files.
    pub json: bool,
    /// The command can write a JSON report per tenant (`--format json` exists).
    pub reports: bool,
    /// What a tenant whose run exits 0 is called in the closing line (`unchanged`, `passing`).
    pub clean: &'a str,
    /// What a tenant whose run exits 2 is called in the closing line (`with changes`, `drifted`).
    pub changed: &'a str,
    /// Flags each tenant's run gets besides the command's own (plan: --detailed-exitcode, so
    /// that the closing line can count the tenants with changes).
    pub child_flags: &'a [&'a str],
    /// Why several tenants cannot run this way (a usage error), if they cannot.
    pub refuse: Option<&'a str>,
    /// The run exits 2 when a tenant does (plan: only with --detailed-exitcode).
    pub exit_changes: bool,
}

/// Where a command goes on after [`enter`].
pub enum Entered {
    /// It ran for several tenants, each in its own process: this is how it ended.
    Ran(Done),
    /// It runs here, on this scope.
    Here(Scope),
}

/// The start of every command that reads a tenant: decides the scope from the paths and
/// flags, and runs several tenants as child processes.
pub fn enter(
    paths: &[PathBuf],
    target: &TargetArgs,
    args: &FleetArgs,
    how: FanOut<'_>,
) -> Result<Entered, CommandError> {
    let scope = scope(paths, target.graph.tenant.as_deref(), args, false)?;
    if let (Scope::Many(..), Some(why)) = (&scope, how.refuse) {
        return Err(usage(why.to_string()));
    }
    Ok(match fan_out(&scope, args, how)? {
        Some(done) => Entered::Ran(done),
        None => Entered::Here(scope),
    })
}

/// Runs the command once per tenant of a `Scope::Many`, as child processes, and reports.
/// `None` when the scope is not several tenants (the command runs here).
fn fan_out(scope: &Scope, args: &FleetArgs, how: FanOut<'_>) -> Result<Option<Done>, CommandError> {
    let Scope::Many(_, tenants) = scope else {
        return Ok(None);
    };
    if let Some(dir) = &args.report_dir {
        if !how.reports {
            return Err(usage(format!(
                "--report-dir: `steward {}` has no JSON report to write",
                how.command
            )));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| CommandError::io(format!("cannot create {}: {e}", dir.display())))?;
    } else if how.json {
        return Err(usage(format!(
            "--format json prints one tenant's report; for {} tenants add --report-dir DIR (one DIR/<tenant>.{}.json each, for `steward report merge`), or pick one with --tenant NAME",
            tenants.len(),
            how.command
        )));
    }
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::internal(format!("cannot find steward's own program: {e}")))?;
    let base = child_args(
        std::env::args_os().skip(1).collect(),
        report_dir_flags(args.report_dir.is_some()),
    );
    let report_dir = args.report_dir.clone();
    let parallel = usize::from(args.parallel);
    let runs: Vec<TenantRun> = super::runtime()?.block_on(async {
        futures::stream::iter(tenants.iter().map(|tenant| {
            let mut argv = base.clone();
            for flag in how.child_flags {
                if !argv.iter().any(|a| a == *flag) {
                    argv.push(flag.into());
                }
            }
            argv.push("--tenant".into());
            argv.push(tenant.name.clone().into());
            if report_dir.is_some() {
                argv.push("--format".into());
                argv.push("json".into());
            }
            let exe = exe.clone();
            let name = tenant.name.clone();
            tokio::spawn(async move { run_child(&exe, argv, name).await })
        }))
        .buffered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|joined| joined.unwrap_or_else(|e| TenantRun::failed_to_start(format!("{e}"))))
        .collect()
    });
    let mut failed = Vec::new();
    let mut changed = Vec::new();
    for (tenant, run) in tenants.iter().zip(&runs) {
        let heading = format!(
            "── tenant {}{} ──",
            tenant.name,
            tenant
                .authority()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        );
        if !run.stderr.is_empty() || report_dir.is_some() {
            eprintln!("{heading}");
        }
        match &report_dir {
            Some(dir) => {
                // A tenant that failed still gets its file, saying why, so that the merged
                // report lists it as failed instead of leaving it out.
                let text = if matches!(run.code, Some(0 | 2)) && !run.stdout.is_empty() {
                    run.stdout.clone()
                } else {
                    failure_report(run).into_bytes()
                };
                let path = dir.join(format!("{}.{}.json", tenant.name, how.command));
                std::fs::write(&path, text).map_err(|e| {
                    CommandError::io(format!("cannot write {}: {e}", path.display()))
                })?;
                eprintln!("wrote {}", path.display());
            }
            _ => {
                println!("{heading}");
                print!("{}", String::from_utf8_lossy(&run.stdout));
            }
        }
        eprint!("{}", String::from_utf8_lossy(&run.stderr));
        match run.code {
            Some(0) => {}
            Some(2) => changed.push(tenant.name.as_str()),
            _ => failed.push(tenant.name.as_str()),
        }
    }
    let clean = tenants.len() - failed.len() - changed.len();
    eprintln!(
        "Fleet: {} tenants: {clean} {}, {} {}{}, {} failed{}.",
        tenants.len(),
        how.clean,
        changed.len(),
        how.changed,
        list(&changed),
        failed.len(),
        list(&failed)
    );
    if !failed.is_empty() {
        return Err(CommandError::reported(CommandErrorKind::Incomplete));
    }
    Ok(Some(if changed.is_empty() || !how.exit_changes {
        Done::Clean
    } else {
        Done::Changes
    }))
}

/// What a failed tenant's report file holds: `{"error": …, "exit_code": …}`, the error being
/// the last `error:` line the tenant's run printed, else its first diagnostic.
fn failure_report(run: &TenantRun) -> String {
    let stderr = String::from_utf8_lossy(&run.stderr);
    // The files' problems are printed as diagnostics (`× message`), the rest as `error: …`.
    let problems: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("× "))
        .collect();
    let error = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(str::to_string)
        .or_else(|| {
            problems.first().map(|first| match problems.len() {
                1 => first.to_string(),
                n => format!("{first} (and {} more problems)", n - 1),
            })
        })
        .unwrap_or_else(|| match run.code {
            Some(code) => format!("steward exited {code} without a report"),
            None => "steward was stopped without a report".to_string(),
        });
    serde_json::json!({ "error": error, "exit_code": run.code }).to_string() + "\n"
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    }
}

/// One tenant's child run.
struct TenantRun {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl TenantRun {
    fn failed_to_start(why: String) -> TenantRun {
        TenantRun {
            code: None,
            stdout: Vec::new(),
            stderr: format!("error: cannot run steward for this tenant: {why}\n").into_bytes(),
        }
    }
}

async fn run_child(exe: &Path, argv: Vec<OsString>, tenant: String) -> TenantRun {
    let output = tokio::process::Command::new(exe)
        .args(&argv)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    match output {
        Ok(out) => TenantRun {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        },
        Err(e) => TenantRun::failed_to_start(format!("{tenant}: {e}")),
    }
}

/// The flags that choose tenants and a run's fan-out, which each child must not see again.
const FAN_OUT_FLAGS: &[&str] = &["--tenants", "--parallel", "--report-dir", "--tenant"];

/// The flags a child does not get: with --report-dir, its --format too (it prints JSON).
fn report_dir_flags(report_dir: bool) -> &'static [&'static str] {
    if report_dir {
        &[
            "--tenants",
            "--parallel",
            "--report-dir",
            "--tenant",
            "--format",
        ]
    } else {
        FAN_OUT_FLAGS
    }
}

/// This run's arguments without `flags`: what each tenant's child runs, before its
/// `--tenant NAME` is added. Arguments after `--` are kept as they are.
fn child_args(args: Vec<OsString>, flags: &[&str]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            out.push(arg);
            out.extend(iter);
            break;
        }
        if flags.contains(&text.as_ref()) {
            iter.next();
            continue;
        }
        if flags
            .iter()
            .any(|flag| text.starts_with(&format!("{flag}=")))
        {
            continue;
        }
        out.push(arg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_child_runs_the_same_command_without_the_fan_out_flags() {
        let args = os(&[
            "plan",
            "fleet",
            "--tenants",
            "all",
            "--parallel=8",
            "--sandbox",
            "--report-dir",
            "out",
            "--tenant=x",
            "--detailed-exitcode",
        ]);
        assert_eq!(
            child_args(args.clone(), FAN_OUT_FLAGS),
            os(&["plan", "fleet", "--sandbox", "--detailed-exitcode"])
        );
        let with_format = os(&["drift", "--format", "markdown", "--report-dir", "r"]);
        assert_eq!(
            child_args(with_format, report_dir_flags(true)),
            os(&["drift"])
        );
    }

    #[test]
    fn arguments_after_a_double_dash_are_kept() {
        let args = os(&["validate", "--", "--tenants"]);
        assert_eq!(
            child_args(args, FAN_OUT_FLAGS),
            os(&["validate", "--", "--tenants"])
        );
    }
}
