//! Finding policy files and reading their text, refusing what cannot be a policy file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::SourceSpan;

use super::{Diagnostic, MAX_FILE_BYTES, MAX_TOTAL_BYTES, MIB, SourceFile};

/// Lists the policy files under `paths`: directories are searched recursively for `*.kdl`
/// (sorted, so loading is deterministic); files are taken as given.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = files.len();
                walk(path, &mut files, &mut diagnostics);
                if files.len() == before {
                    diagnostics.push(
                        Diagnostic::unlocated(
                            "steward::no-files",
                            format!("no .kdl policy files under {}", path.display()),
                        )
                        .with_help("policy files end in .kdl; pass the directory that holds them"),
                    );
                }
            }
            Ok(_) => files.push(path.clone()),
            Err(e) => diagnostics.push(
                Diagnostic::unlocated(
                    "steward::unreadable",
                    format!("cannot read {}: {e}", path.display()),
                )
                .with_help(
                    "check the path; by default steward reads policies/ in the current directory",
                ),
            ),
        }
    }
    (files, diagnostics)
}

/// The `*.kdl` files under `dir`, sorted, with the problems met reading it.
pub(crate) fn walk_kdl(dir: &Path) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    walk(dir, &mut files, &mut diagnostics);
    (files, diagnostics)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diagnostics.push(Diagnostic::unlocated(
                "steward::unreadable",
                format!("cannot read directory {}: {e}", dir.display()),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, diagnostics);
        } else if path.extension().is_some_and(|e| e == "kdl") {
            files.push(path);
        }
    }
}

/// Reads one file's text, refusing what cannot be a policy file.
pub fn read_file(path: &Path) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let name = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| {
            Diagnostic::unlocated("steward::unreadable", format!("cannot read {name}: {e}"))
        })?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Box::new(
            Diagnostic::unlocated(
                "steward::too-large",
                format!(
                    "{name} is {:.1} MiB; a policy file may hold at most {} MiB",
                    size as f64 / MIB,
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )
            .with_help("split the policies into several files"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::unlocated("steward::unreadable", format!("cannot read {name}: {e}"))
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(name.clone(), text);
            Err(Box::new(
                Diagnostic::error(
                    "steward::not-utf8",
                    &file,
                    SourceSpan::from((valid, 1)),
                    format!("{name} is not UTF-8 text"),
                    "invalid byte",
                )
                .with_help("policy files are UTF-8 KDL; re-save the file as UTF-8"),
            ))
        }
    }
}

/// An error naming the file with which `files` pass [`MAX_TOTAL_BYTES`], if they do.
pub(super) fn over_total(files: &[PathBuf]) -> Option<Diagnostic> {
    let mut total = 0u64;
    for path in files {
        // An unreadable or oversized file is reported on its own when it is read.
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if size > MAX_FILE_BYTES {
            continue;
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL_BYTES {
            return Some(
                Diagnostic::unlocated(
                    "steward::too-large",
                    format!(
                        "with {} the policy files add up to more than {} MiB, the most steward \
                         reads in one run ({:.1} MiB so far, {} file(s))",
                        path.display(),
                        MAX_TOTAL_BYTES / (1024 * 1024),
                        total as f64 / MIB,
                        files.iter().position(|p| p == path).map_or(0, |i| i + 1)
                    ),
                )
                .with_help(
                    "pass only the policy directory; files that are not policies (exports, \
                     backups) do not belong under it",
                ),
            );
        }
    }
    None
}
