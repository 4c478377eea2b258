//! `steward fmt`: rewrite policy files in the canonical layout.

use std::path::PathBuf;

use super::output::{self, print_diagnostics};
use super::{CommandError, CommandErrorKind, Done};
use crate::config;

/// Rewrite policy files in the canonical layout (4-space indents, no trailing spaces, single
/// blank lines), keeping every comment.
///
/// With --check, changes nothing: prints what it would change as a unified diff and exits 1 if
/// any file is not formatted. Files with syntax errors are never rewritten.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a unified diff of each file that is not formatted; exit 1 if any.
    #[arg(long)]
    pub check: bool,
    /// With --check, print only the names of the files that are not formatted, not the diff.
    #[arg(long, requires = "check")]
    pub list: bool,
}

/// The canonical layout of KDL text, or the syntax errors that prevent it.
pub fn format_text(
    file: &std::sync::Arc<config::SourceFile>,
) -> Result<String, Vec<config::Diagnostic>> {
    config::parse(file)?;
    Ok(config::format::canonical(&file.text))
}

pub fn run(args: Args) -> Result<Done, CommandError> {
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
            if args.list {
                println!("{}", path.display());
            } else {
                print!(
                    "{}",
                    unified_diff(&path, &file.text, &formatted, output::colour_stdout())
                );
            }
            unformatted.push(path);
        } else {
            write_atomically(&path, &formatted)?;
            println!("formatted {}", path.display());
        }
    }
    if args.check && !unformatted.is_empty() {
        eprintln!(
            "{} not formatted; run `steward fmt` to fix.",
            output::count(unformatted.len(), "file")
        );
        failed = true;
    }
    if failed {
        return Err(CommandError::reported(CommandErrorKind::Incomplete));
    }
    Ok(Done::Clean)
}

/// What `fmt` would change in `path`, as a unified diff with three lines of context (the form
/// `rustfmt --check` and `git diff` print), coloured for a terminal.
fn unified_diff(path: &std::path::Path, before: &str, after: &str, colour: bool) -> String {
    let name = path.display().to_string();
    let diff = similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&name, &format!("{name} (formatted)"))
        .to_string();
    if !colour {
        return diff;
    }
    diff.lines()
        .map(|line| {
            let code = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => "32",
                Some(b'-') if !line.starts_with("---") => "31",
                Some(b'@') => "36",
                _ => return format!("{line}\n"),
            };
            format!("\x1b[{code}m{line}\x1b[0m\n")
        })
        .collect()
}

/// Writes through a temporary file and a rename, so an interrupted run never leaves a
/// half-written policy file.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), CommandError> {
    let tmp = path.with_extension("kdl.steward-tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CommandError::io(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_names_the_file_and_shows_removed_and_added_lines() {
        let diff = unified_diff(
            std::path::Path::new("policies/hq.kdl"),
            "a {\n  b 1   \n}\n",
            "a {\n    b 1\n}\n",
            false,
        );
        assert_eq!(
            diff,
            "--- policies/hq.kdl\n+++ policies/hq.kdl (formatted)\n@@ -1,3 +1,3 @@\n a {\n-  b 1   \n+    b 1\n }\n"
        );
    }
}
