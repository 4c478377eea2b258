//! The README and the pages in `docs/` stay true: every link resolves, every `steward` command
//! line in a code block parses with today's flags, every KDL example loads, and the outputs they
//! quote are what steward prints.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Parser;
use steward::sandbox::SandboxConfig;

use common::{Scratch, repo, steward};

/// README.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn name(path: &Path) -> String {
    path.strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A fenced code block: its info string, first line number and lines.
struct Block {
    info: String,
    line: usize,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, String, Vec<String>)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some((
                        info.trim().to_string(),
                        i + 2,
                        " ".repeat(indent),
                        Vec::new(),
                    ));
                }
            }
            Some((info, line, margin, lines)) => {
                if trimmed.starts_with("```") {
                    out.push(Block {
                        info: std::mem::take(info),
                        line: *line,
                        lines: std::mem::take(lines),
                    });
                    open = None;
                } else {
                    lines.push(raw.strip_prefix(margin.as_str()).unwrap_or(raw).to_string());
                }
            }
        }
    }
    out
}

/// The text outside code blocks.
fn prose(text: &str) -> String {
    let mut fence = false;
    text.lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                fence = !fence;
                return false;
            }
            !fence
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| slug(h.trim_start_matches('#')))
        .collect()
}

/// Every `](target)` in the prose.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut out = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&page);
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().expect("a directory").join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", name(&page)));
                continue;
            }
            if !anchor.is_empty()
                && target.extension().is_some_and(|e| e == "md")
                && !anchors(&read(&target)).contains(anchor)
            {
                broken.push(format!("{}: {link} (no such heading)", name(&page)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_index_lists_every_page_and_the_readme_links_the_index() {
    let index = read(&repo().join("docs/README.md"));
    for page in pages() {
        let file = page.file_name().and_then(|f| f.to_str()).expect("a name");
        if page.parent() == Some(&repo().join("docs")) && file != "README.md" {
            assert!(
                index.contains(&format!("]({file})")),
                "docs/README.md lacks {file}"
            );
        }
    }
    assert!(read(&repo().join("README.md")).contains("](docs/README.md)"));
}

/// The `steward` command lines of a shell block: continuation lines joined, comments, pipes,
/// redirections and `$ ` prompts taken off; lines using command substitution are skipped.
fn command_lines(block: &Block) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in block.lines.iter().enumerate() {
        let (start, mut text) = match pending.take() {
            Some((start, text)) => (start, format!("{text} {}", line.trim())),
            None => (block.line + i, line.trim().to_string()),
        };
        if let Some(joined) = text.strip_suffix('\\') {
            pending = Some((start, joined.trim_end().to_string()));
            continue;
        }
        text = text.trim_start_matches("$ ").to_string();
        for segment in text.split(['|', ';', '<']).flat_map(|s| s.split("&&")) {
            let segment = segment.split(" #").next().unwrap_or("");
            let segment = segment.split('>').next().unwrap_or("").trim();
            let command = segment
                .strip_prefix("cargo run --release -- ")
                .map(|rest| format!("steward {rest}"))
                .or_else(|| segment.starts_with("steward ").then(|| segment.to_string()));
            if let Some(command) = command
                && !command.contains("$(")
            {
                out.push((start, command));
            }
        }
    }
    out
}

/// Splits a command line into words, honouring single and double quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn every_steward_command_line_in_the_docs_parses_with_todays_flags() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for page in pages() {
        for block in blocks(&read(&page)) {
            if !["sh", "bash", "console", ""].contains(&block.info.as_str()) {
                continue;
            }
            for (line, command) in command_lines(&block) {
                checked += 1;
                if let Err(e) = steward::cli::Cli::try_parse_from(words(&command)) {
                    use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
                    if !matches!(e.kind(), DisplayHelp | DisplayVersion) {
                        let why = e.to_string();
                        let why = why.lines().next().unwrap_or_default();
                        failures.push(format!("{}:{line}: `{command}`: {why}", name(&page)));
                    }
                }
            }
        }
    }
    assert!(
        checked >= 15,
        "only {checked} command lines found: is the block scan broken?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_kdl_example_in_the_docs_loads_without_errors() {
    let mut checked = 0;
    for page in pages() {
        for block in blocks(&read(&page)) {
            if block.info != "kdl" {
                continue;
            }
            checked += 1;
            let where_ = format!("{}:{}", name(&page), block.line);
            let text = block.lines.join("\n");
            let loaded = steward::config::load_str(&where_, &text);
            let fragment = !loaded.diagnostics.is_empty()
                && loaded
                    .diagnostics
                    .iter()
                    .all(|d| d.code == "steward::unknown-node");
            if fragment || text.contains('…') {
                // A fragment of a declaration, or one with settings elided: syntax only.
                if let Err(e) = text.parse::<kdl::KdlDocument>() {
                    panic!("{where_}: {e}");
                }
                continue;
            }
            let errors: Vec<_> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.message.clone())
                .collect();
            assert!(errors.is_empty(), "{where_}: {errors:?}");
        }
    }
    assert!(checked >= 3, "only {checked} KDL examples found");
}

#[test]
fn the_permissions_output_quoted_in_the_gitops_page_is_what_steward_prints() {
    let page = read(&repo().join("docs/gitops.md"));
    let block = blocks(&page)
        .into_iter()
        .find(|b| {
            b.lines
                .first()
                .is_some_and(|l| l == "$ steward permissions policies/")
        })
        .expect("the permissions example");
    let run = steward(&repo(), &["permissions", "policies/"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in block.lines.iter().skip(1).filter(|l| l.as_str() != "…") {
        assert!(
            run.stdout.lines().any(|out| out == line),
            "docs/gitops.md quotes a line steward no longer prints:\n{line}\n\nsteward prints:\n{}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_names_the_closing_line_the_sandbox_plan_prints() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let scratch = Scratch::new();
    let policies = repo().join("policies").display().to_string();
    let run = common::run(scratch.path(), &["plan", &policies], &sandbox.url()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let closing = run.stdout.lines().last().expect("a closing line");
    let readme = read(&repo().join("README.md"));
    assert!(
        readme.contains(&format!("It ends with `{closing}`")),
        "the README's quick start should say the plan ends with `{closing}`"
    );
}
