//! KDL text → documents: in parallel, and refusing nesting that would threaten the parser.

use std::sync::{Arc, Condvar, Mutex};

use kdl::KdlDocument;
use miette::SourceSpan;

use super::{Diagnostic, MAX_FILE_BYTES, MAX_NESTING, SourceFile};

/// Which files are parsed, and which parsed documents wait to be used.
struct Pipeline {
    /// Results by file index, taken in order by the consumer.
    results: Vec<Option<Parsed>>,
    /// The next file a worker may take.
    next: usize,
    /// Bytes of text parsed or being parsed and not yet consumed.
    in_flight: u64,
}

type Parsed = Result<KdlDocument, Vec<Diagnostic>>;

/// Parses `files` on every core and hands each result to `each` on the calling thread, in
/// file order, as soon as it and the files before it are parsed: converting one file overlaps
/// with parsing the next. Parsed documents take far more memory than their text, so workers
/// take files in order and only while at most [`MAX_FILE_BYTES`] of text is parsed and not yet
/// consumed (a larger file alone).
pub(super) fn parse_in_order(files: &[Arc<SourceFile>], mut each: impl FnMut(usize, Parsed)) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if threads <= 1 {
        for (i, file) in files.iter().enumerate() {
            each(i, parse(file));
        }
        return;
    }
    let state = Mutex::new(Pipeline {
        results: files.iter().map(|_| None).collect(),
        next: 0,
        in_flight: 0,
    });
    let changed = Condvar::new();
    // A poisoned lock only means another thread panicked; the state itself stays consistent.
    let lock = || {
        state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut st = lock();
                        loop {
                            let Some(file) = files.get(st.next) else {
                                return;
                            };
                            let size = file.text.len() as u64;
                            if st.in_flight == 0 || st.in_flight + size <= MAX_FILE_BYTES {
                                st.in_flight += size;
                                st.next += 1;
                                break st.next - 1;
                            }
                            st = changed.wait(st).unwrap_or_else(|p| p.into_inner());
                        }
                    };
                    let file = &files[index];
                    let result = std::panic::catch_unwind(|| parse(file))
                        .unwrap_or_else(|_| Err(vec![parser_failed(file)]));
                    lock().results[index] = Some(result);
                    changed.notify_all();
                }
            });
        }
        for (index, file) in files.iter().enumerate() {
            let result = {
                let mut st = lock();
                loop {
                    if let Some(result) = st.results[index].take() {
                        break result;
                    }
                    st = changed.wait(st).unwrap_or_else(|p| p.into_inner());
                }
            };
            each(index, result);
            lock().in_flight -= file.text.len() as u64;
            changed.notify_all();
        }
    });
}

/// The diagnostic for a file the KDL parser failed on without an answer.
fn parser_failed(file: &Arc<SourceFile>) -> Diagnostic {
    Diagnostic::error(
        "steward::parser-failed",
        file,
        SourceSpan::from((0, 0)),
        "the KDL parser failed on this file",
        "here",
    )
    .with_help("this is a bug in steward: please report it with the file attached")
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
    fn files_reach_the_consumer_in_order_whatever_their_sizes() {
        let mib = 1024 * 1024;
        let files: Vec<_> = [10, 3 * mib, 20, 5 * mib, 3 * mib, 5]
            .iter()
            .enumerate()
            .map(|(i, &n)| file(&format!("f{i}"), n))
            .collect();
        let mut seen = Vec::new();
        parse_in_order(&files, |i, parsed| {
            assert!(parsed.is_ok(), "blank text parses");
            seen.push(i);
        });
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
        parse_in_order(&[], |_, _| unreachable!("no files, no results"));
    }
}
