//! `steward check` output: a baseline grade for people, for pull-request comments, and as
//! SARIF 2.1.0 for code scanning. (The JSON form is the [`Grade`] itself.)

use std::fmt::Write;

use serde_json::{Value, json};

use crate::baseline::{Grade, PolicyResult, Requirement, Source, Status};

fn source_words(source: Source) -> &'static str {
    match source {
        Source::Declared => "the policy files",
        Source::Live => "the tenant",
        Source::Planned => "the tenant as the plan would leave it",
    }
}

/// One summary line per product: `SCuBA AAD: 27 of 34 pass, 3 fail, 4 cannot be checked`.
pub fn summary_lines(grade: &Grade) -> Vec<String> {
    grade
        .summary
        .iter()
        .map(|s| {
            let mut parts = vec![format!("{} of {} pass", s.pass, s.total)];
            for (n, word) in [
                (s.fail, "fail"),
                (s.accepted, "accepted by exception"),
                (s.cannot_check, "cannot be checked"),
                (s.not_applicable, "not applicable"),
            ] {
                if n > 0 {
                    parts.push(format!("{n} {word}"));
                }
            }
            format!("SCuBA {}: {}", s.product, parts.join(", "))
        })
        .collect()
}

fn failures(grade: &Grade) -> Vec<&PolicyResult> {
    grade
        .results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect()
}

fn location_text(r: &PolicyResult) -> Option<String> {
    r.location
        .as_ref()
        .map(|l| format!("{}:{}:{} ({})", l.file, l.line, l.column, l.address))
}

/// The grade for a terminal: failures first with why, where and what to write, then every
/// id by baseline section, then the summary lines.
pub fn human(grade: &Grade) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {}, {}\n",
        grade.baseline,
        source_words(grade.source),
        grade.date
    );
    let failed = failures(grade);
    if !failed.is_empty() {
        let _ = writeln!(out, "Failed ({}):", failed.len());
        for r in failed {
            let _ = writeln!(
                out,
                "  {} {}  {}",
                r.id,
                requirement_word(r.requirement),
                r.title
            );
            let _ = writeln!(out, "      why:  {}", r.detail);
            if let Some(at) = location_text(r) {
                let _ = writeln!(out, "      at:   {at}");
            }
            if let Some(help) = &r.help {
                let _ = writeln!(out, "      help: {help}");
            }
        }
        out.push('\n');
    }
    let mut section = "";
    for r in &grade.results {
        if r.section != section {
            section = &r.section;
            let _ = writeln!(out, "{} {}", r.product, section);
        }
        let _ = writeln!(
            out,
            "  {:<15} {:<20} {:<6} {}",
            r.status.word(),
            r.id,
            requirement_word(r.requirement),
            one_line(&r.detail)
        );
    }
    out.push('\n');
    for line in summary_lines(grade) {
        let _ = writeln!(out, "{line}");
    }
    out
}

fn requirement_word(r: Requirement) -> &'static str {
    match r {
        Requirement::Shall => "SHALL",
        Requirement::Should => "SHOULD",
    }
}

fn one_line(text: &str) -> String {
    const MAX: usize = 100;
    let text = text.replace('\n', " ");
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The grade as Markdown, for a pull-request comment or an issue.
pub fn markdown(grade: &Grade) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Baseline: {}\n\nGraded: {}, {}.\n",
        grade.baseline,
        source_words(grade.source),
        grade.date
    );
    for line in summary_lines(grade) {
        let _ = writeln!(out, "- **{line}**");
    }
    out.push('\n');
    let failed = failures(grade);
    if !failed.is_empty() {
        out.push_str("| Failed | | Why | Where |\n|---|---|---|---|\n");
        for r in failed {
            let _ = writeln!(
                out,
                "| [{}]({}) | {} | {} | {} |",
                r.id,
                r.url,
                requirement_word(r.requirement),
                cell(&r.detail),
                location_text(r)
                    .map(|l| format!("`{}`", cell(&l)))
                    .unwrap_or_default()
            );
        }
        out.push('\n');
    }
    out.push_str("<details><summary>Every policy id</summary>\n\n| Id | | Result | Why |\n|---|---|---|---|\n");
    for r in &grade.results {
        let _ = writeln!(
            out,
            "| [{}]({}) | {} | {} | {} |",
            r.id,
            r.url,
            requirement_word(r.requirement),
            r.status.word(),
            cell(&r.detail)
        );
    }
    out.push_str("\n</details>\n");
    out
}

/// What a change does to the grade: the ids whose verdict differs between `before` (the
/// tenant) and `after` (the tenant as the plan leaves it), as a Markdown section for the plan
/// comment. Empty when nothing changes.
pub fn markdown_delta(before: &Grade, after: &Grade) -> String {
    let mut rows = Vec::new();
    for (b, a) in before.results.iter().zip(&after.results) {
        if b.id == a.id && b.status != a.status {
            rows.push(format!(
                "| [{}]({}) | {} | {} → **{}** | {} |",
                a.id,
                a.url,
                requirement_word(a.requirement),
                b.status.word(),
                a.status.word(),
                cell(&a.detail)
            ));
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "### Baseline\n\nThis change moves {} SCuBA polic{} ({}):\n\n| Id | | Verdict | Why |\n|---|---|---|---|\n{}\n",
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" },
        after.date,
        rows.join("\n")
    )
}

/// The grade as a SARIF 2.1.0 log: one rule per policy id (its baseline text and link,
/// severity from SHALL/SHOULD), one result per failure — and per failure accepted by an
/// exception, marked suppressed in source — located in the policy files. A result the files
/// cannot locate (a setting nothing declares) points at `fallback_file`, line 1.
pub fn sarif(grade: &Grade, fallback_file: &str) -> Value {
    let rules: Vec<Value> = grade
        .results
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id.replace('.', ""),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": format!("{} ({} {})", r.title, r.product, r.section) },
                "helpUri": r.url,
                "help": {
                    "text": format!("{}\n\n{}", r.title, r.url),
                    "markdown": format!("**{}** {}\n\n[{}]({})", requirement_word(r.requirement), r.title, r.id, r.url),
                },
                "defaultConfiguration": { "level": level(r.requirement) },
                "properties": {
                    "tags": ["security", "scuba", r.product.to_lowercase()],
                    "security-severity": match r.requirement { Requirement::Shall => "8.0", Requirement::Should => "5.0" },
                },
            })
        })
        .collect();
    let results: Vec<Value> = grade
        .results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.status, Status::Fail | Status::Accepted))
        .map(|(index, r)| {
            let (uri, line, column) = match &r.location {
                Some(l) => (l.file.replace('\\', "/"), l.line, l.column),
                None => (fallback_file.replace('\\', "/"), 1, 1),
            };
            let mut message = r.detail.clone();
            if let Some(help) = &r.help {
                message.push_str(". ");
                message.push_str(help);
            }
            let mut result = json!({
                "ruleId": r.id,
                "ruleIndex": index,
                "level": level(r.requirement),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": line.max(1), "startColumn": column.max(1) },
                    }
                }],
                "partialFingerprints": { "scubaPolicyId/v1": r.id },
            });
            if r.status == Status::Accepted
                && let (Some(note), Some(obj)) = (&r.exception, result.as_object_mut())
            {
                obj.insert(
                    "suppressions".into(),
                    json!([{
                        "kind": "inSource",
                        "justification": format!("{} (until {})", note.reason, note.expires),
                    }]),
                );
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "steward",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/cisagov/ScubaGear",
                    "rules": rules,
                }
            },
            "automationDetails": { "id": format!("steward/check/{}/", source_id(grade.source)) },
            "results": results,
        }]
    })
}

fn source_id(source: Source) -> &'static str {
    match source {
        Source::Declared => "declared",
        Source::Live => "live",
        Source::Planned => "planned",
    }
}

fn level(requirement: Requirement) -> &'static str {
    match requirement {
        Requirement::Shall => "error",
        Requirement::Should => "warning",
    }
}
