//! KDL text → documents: in parallel, and refusing nesting that would threaten the parser.

use std::sync::Arc;

use kdl::KdlDocument;
use miette::SourceSpan;

use super::{Diagnostic, MAX_FILE_BYTES, MAX_NESTING, SourceFile};

/// Consecutive runs of files holding together at most [`MAX_FILE_BYTES`] of text (a larger
/// file alone), to be parsed at once.
pub(super) fn parse_windows(files: &[Arc<SourceFile>]) -> Vec<&[Arc<SourceFile>]> {
    let mut windows = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, file) in files.iter().enumerate() {
        let size = file.text.len() as u64;
        if i > start && bytes + size > MAX_FILE_BYTES {
            windows.push(&files[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < files.len() {
        windows.push(&files[start..]);
    }
    windows
}

pub(super) fn parse_all(files: &[Arc<SourceFile>]) -> Vec<Result<KdlDocument, Vec<Diagnostic>>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    if threads <= 1 {
        return files.iter().map(parse).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(parse).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .zip(files.chunks(chunk))
            .flat_map(|(handle, part)| {
                // A panicking parser thread must not lose its files: parse them again here.
                handle
                    .join()
                    .unwrap_or_else(|_| part.iter().map(parse).collect())
            })
            .collect()
    })
}

/// Parses KDL text, refusing nesting deep enough to threaten the parser's stack.
pub fn parse(file: &Arc<SourceFile>) -> Result<KdlDocument, Vec<Diagnostic>> {
    if let Some(offset) = too_deep(&file.text) {
        return Err(vec![
            Diagnostic::error(
                "steward::too-deep",
                file,
                SourceSpan::from((offset, 1)),
                format!("blocks are nested more than {MAX_NESTING} deep"),
                "too deep",
            )
            .with_help("policy files nest a few levels at most; check for unbalanced braces"),
        ]);
    }
    KdlDocument::parse_v2(&file.text).map_err(|e| {
        let mut out: Vec<Diagnostic> = e
            .diagnostics
            .iter()
            .map(|d| {
                let message = d.message.clone().unwrap_or_else(|| "invalid KDL".to_string());
                let mut diag = Diagnostic::error(
                    "steward::syntax",
                    file,
                    d.span,
                    format!("syntax error: {message}"),
                    d.label.clone().unwrap_or_else(|| "here".into()),
                );
                diag.help = Some(d.help.clone().unwrap_or_else(|| {
                    "steward reads KDL v2: strings in double quotes, booleans as #true/#false, blocks in { }".into()
                }));
                diag
            })
            .collect();
        if out.is_empty() {
            out.push(Diagnostic::error(
                "steward::syntax",
                file,
                SourceSpan::from((0, 0)),
                "syntax error: invalid KDL",
                "here",
            ));
        }
        out
    })
}

/// Returns the offset of the first `{` nested deeper than [`MAX_NESTING`], skipping strings
/// and comments roughly (enough to never under-count real nesting).
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod loading_limits {
    use super::*;

    fn file(name: &str, bytes: usize) -> Arc<SourceFile> {
        SourceFile::new(name, " ".repeat(bytes))
    }

    #[test]
    fn parse_windows_hold_at_most_one_large_file_of_text() {
        let mib = 1024 * 1024;
        let files = vec![
            file("a", 10),
            file("b", 20),
            file("c", 3 * mib),
            file("d", 3 * mib),
            file("e", 5),
        ];
        let names: Vec<Vec<&str>> = parse_windows(&files)
            .iter()
            .map(|w| w.iter().map(|f| f.name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["a", "b", "c"], vec!["d", "e"]]);
        assert!(parse_windows(&[]).is_empty());
        let big = vec![file("big", 5 * mib), file("small", 1)];
        assert_eq!(
            parse_windows(&big).len(),
            2,
            "a file past the window is alone"
        );
    }
}
