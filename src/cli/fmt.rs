//! `steward fmt`: rewrite policy files in the canonical layout.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CommandError;
use super::output::print_diagnostics;
use crate::config;

/// Rewrite policy files in the canonical layout (4-space indents, no trailing spaces, single
/// blank lines), keeping every comment.
///
/// With --check, changes nothing and exits 1 listing the files that are not formatted.
/// Files with syntax errors are never rewritten.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Only report files that are not formatted; exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

/// The canonical layout of KDL text, or the syntax errors that prevent it.
pub fn format_text(
    file: &std::sync::Arc<config::SourceFile>,
) -> Result<String, Vec<config::Diagnostic>> {
    config::parse(file)?;
    Ok(config::format::canonical(&file.text))
}

pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let (paths, problems) = config::discover(&args.paths);
    print_diagnostics(&problems);
    let mut failed = !problems.is_empty();
    let mut unformatted = Vec::new();
    for path in paths {
        let file = match config::read_file(&path) {
            Ok(file) => file,
            Err(d) => {
                print_diagnostics(&[*d]);
                failed = true;
                continue;
            }
        };
        let formatted = match format_text(&file) {
            Ok(text) => text,
            Err(diagnostics) => {
                print_diagnostics(&diagnostics);
                failed = true;
                continue;
            }
        };
        if formatted == file.text {
            continue;
        }
        if args.check {
            println!("{}", path.display());
            unformatted.push(path);
        } else {
            write_atomically(&path, &formatted)?;
            println!("formatted {}", path.display());
        }
    }
    if args.check && !unformatted.is_empty() {
        eprintln!(
            "{} not formatted; run `steward fmt` to fix.",
            super::output::count(unformatted.len(), "file")
        );
        failed = true;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes through a temporary file and a rename, so an interrupted run never leaves a
/// half-written policy file.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), CommandError> {
    let tmp = path.with_extension("kdl.steward-tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CommandError::User(format!("cannot write {}: {e}", path.display())))
}
