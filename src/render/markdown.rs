//! The pull-request comment form: a marker a bot can find, a summary read in seconds, risks
//! first, one collapsible diff per resource, and always within GitHub's comment limit.

use super::{
    FORCES_REPLACEMENT, Item, Mode, Names, abbreviated_id, closing_line, counts, items, literal,
    plural, risk_title, shorten, symbol,
};
use crate::model::plan::{Action, Plan, ResourceChange};

/// GitHub's limit on a comment's length; the output never exceeds it (counted in bytes, which
/// is never fewer than characters).
pub const COMMENT_LIMIT: usize = 65_536;

/// Longest risk message shown, so risks stay complete however long the values they quote.
const RISK_CHARS: usize = 300;

/// The plan as a Markdown pull-request comment of at most [`COMMENT_LIMIT`] bytes.
pub fn markdown(plan: &Plan, mode: Mode, names: &Names) -> String {
    let changed: Vec<&ResourceChange> = plan
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
        .collect();
    let head = head(plan, mode, names, &changed);
    let details: Vec<String> = changed.iter().map(|c| detail(c, names)).collect();
    let unmanaged = accepted(plan, names) + &unmanaged(plan);
    fit(head, &details, unmanaged, mode)
}

/// Marker, heading, risks and the per-resource table: the part a reviewer must always see.
fn head(plan: &Plan, mode: Mode, names: &Names, changed: &[&ResourceChange]) -> String {
    let (marker, command) = match mode {
        Mode::Plan => ("<!-- steward-plan -->", "steward plan"),
        Mode::Drift => ("<!-- steward-drift -->", "steward drift"),
    };
    let mut out = format!("{marker}\n");
    if plan.summary.is_empty() {
        let none = match mode {
            Mode::Plan => "no changes",
            Mode::Drift => "no drift",
        };
        out.push_str(&format!("### {command}: {none}\n\n"));
        out.push_str(&closing_line(plan, mode));
        out.push('\n');
        return out;
    }
    out.push_str(&format!("### {command}: {}\n\n", counts(plan, mode)));
    if !plan.risks.is_empty() {
        out.push_str(&format!("**{}**\n\n", risk_title(mode)));
        for risk in &plan.risks {
            out.push_str(&format!(
                "- <code>{}</code>: {}\n",
                html(&risk.address),
                text(&shorten(&names.label_within(&risk.message), RISK_CHARS))
            ));
        }
        out.push('\n');
    }
    out.push_str("| | Resource | What happens |\n|:-:|---|---|\n");
    for change in changed {
        out.push_str(&format!(
            "| `{}` | <code>{}</code> | {} |\n",
            symbol(change.action),
            html(&change.address).replace('|', "&#124;"),
            what(change, mode)
        ));
    }
    out.push('\n');
    if mode == Mode::Drift {
        out.push_str(
            "In the diffs below, `-` is what the tenant has and `+` what the files say.\n\n",
        );
    }
    out
}

/// A table cell on what happens to a resource.
fn what(change: &ResourceChange, mode: Mode) -> String {
    let settings = plural(change.changes.len(), "setting", "settings");
    match (mode, change.action) {
        (Mode::Plan, Action::Create) => "create".into(),
        (Mode::Plan, Action::Update) => format!("update {settings}"),
        (Mode::Plan, Action::Delete) => "destroy".into(),
        (Mode::Plan, Action::Replace) => format!(
            "replace (destroy, then create): {} forces replacement",
            change.forcing_replacement().join(", ")
        ),
        (Mode::Drift, Action::Replace) => format!(
            "{settings} changed outside steward; only a replacement undoes {}",
            change.forcing_replacement().join(", ")
        ),
        (Mode::Drift, Action::Create) => "missing from the tenant".into(),
        (Mode::Drift, Action::Update) => format!("{settings} changed outside steward"),
        (Mode::Drift, Action::Delete) => "not in the files".into(),
        (_, Action::NoOp) => "no change".into(),
    }
}

/// One resource's collapsible diff.
fn detail(change: &ResourceChange, names: &Names) -> String {
    let forced = change.forcing_replacement();
    let note = |path: &str| {
        if forced.contains(&path) {
            FORCES_REPLACEMENT
        } else {
            ""
        }
    };
    let mut body = String::new();
    for item in items(change) {
        match item {
            Item::Id(id) => body.push_str(&format!("  id = {}\n", super::quote(&id))),
            Item::Set { sign, path, value } => body.push_str(&format!(
                "{sign} {path} = {}{}\n",
                super::setting_literal(&path, &value, names),
                note(&path)
            )),
            Item::Change {
                path,
                before,
                after,
            } => {
                body.push_str(&format!("- {path} = {}\n", literal(&before, names)));
                body.push_str(&format!(
                    "+ {path} = {}{}\n",
                    literal(&after, names),
                    note(&path)
                ));
            }
            Item::Members {
                path,
                added,
                removed,
                kept,
            } => {
                body.push_str(&format!("  {path} = [{}\n", note(&path)));
                for v in &added {
                    body.push_str(&format!("+   {},\n", literal(v, names)));
                }
                for v in &removed {
                    body.push_str(&format!("-   {},\n", literal(v, names)));
                }
                if kept > 0 {
                    body.push_str(&format!(
                        "    # ({} hidden)\n",
                        plural(kept, "unchanged element", "unchanged elements")
                    ));
                }
                body.push_str("  ]\n");
            }
            Item::Hidden(n) => body.push_str(&format!(
                "  # ({} hidden)\n",
                plural(n, "unchanged attribute", "unchanged attributes")
            )),
        }
    }
    let fence = fence_for(&body);
    format!(
        "<details><summary><code>{} {}</code></summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n",
        symbol(change.action),
        html(&change.address)
    )
}

/// The differences the tenant's recorded deviations accept, if any.
fn accepted(plan: &Plan, names: &Names) -> String {
    if plan.accepted.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n<details><summary>{}: {}</summary>\n\n",
        super::ACCEPTED_TITLE,
        plan.accepted.len()
    );
    for a in &plan.accepted {
        out.push_str(&format!("- {}\n", html(&super::accepted_line(a, names))));
    }
    out.push_str("\n</details>\n");
    out
}

/// The final collapsible list of unmanaged objects, if any.
fn unmanaged(plan: &Plan) -> String {
    if plan.unmanaged.is_empty() && plan.orphans.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n<details><summary>Unmanaged: {} in the tenant, not declared; left alone</summary>\n\n",
        plural(plan.unmanaged.len(), "object", "objects")
    );
    for u in &plan.unmanaged {
        out.push_str(&format!(
            "- <code>{} {}</code> ({})",
            u.kind,
            html(&super::quote(&u.name)),
            html(&abbreviated_id(&u.id))
        ));
        if let Some(reason) = &u.unsupported {
            out.push_str(&format!(" — unsupported: {}", html(reason)));
        }
        out.push('\n');
    }
    out.push_str("\n</details>\n");
    if !plan.orphans.is_empty() {
        out.push_str(&format!(
            "\n<details><summary>Warning: {} to deleted objects in the tenant</summary>\n\n",
            plural(plan.orphans.len(), "reference", "references")
        ));
        for o in &plan.orphans {
            out.push_str(&format!(
                "- <code>{}</code> {}: deleted {} <code>{}</code>\n",
                html(&o.resource),
                html(&o.pointer),
                html(&o.refers_to),
                html(&o.id)
            ));
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// Joins the parts, dropping per-resource details from the end (then the unmanaged list, then
/// the tail of the summary itself) until the comment fits, with a note saying so.
fn fit(head: String, details: &[String], unmanaged: String, mode: Mode) -> String {
    let full = head.len() + details.iter().map(String::len).sum::<usize>() + unmanaged.len();
    if full <= COMMENT_LIMIT {
        return [head, details.concat(), unmanaged].concat();
    }
    let (command, artifact, whole) = match mode {
        Mode::Plan => ("steward plan", "plan", "the full plan"),
        Mode::Drift => ("steward drift", "drift report", "the full report"),
    };
    let note = |hidden: usize, unmanaged_left_out: bool| {
        let unmanaged = if unmanaged_left_out {
            " (nor the unmanaged objects)"
        } else {
            ""
        };
        format!(
            "\n> … {} not shown{unmanaged}: the comment limit was reached. Run {command} locally or download the {artifact} artifact for {whole}.\n",
            plural(hidden, "resource", "resources")
        )
    };
    // The longest note this can produce, so the budget holds whatever it ends up saying.
    let budget = COMMENT_LIMIT.saturating_sub(note(details.len(), true).len());
    let mut out = head;
    if out.len() > budget {
        out = cut(&out, budget);
        out.push_str(&note(details.len(), !unmanaged.is_empty()));
        return out;
    }
    let keep_unmanaged = out.len() + unmanaged.len() <= budget;
    let room = if keep_unmanaged {
        budget - unmanaged.len()
    } else {
        budget
    };
    let mut shown = 0;
    for d in details {
        if out.len() + d.len() > room {
            break;
        }
        out.push_str(d);
        shown += 1;
    }
    out.push_str(&note(
        details.len() - shown,
        !keep_unmanaged && !unmanaged.is_empty(),
    ));
    if keep_unmanaged {
        out.push_str(&unmanaged);
    }
    out
}

/// `text` cut at the last line break within `max` bytes.
fn cut(text: &str, max: usize) -> String {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |i| i + 1);
    text[..end].to_string()
}

/// A code fence longer than any run of backticks in `body`, so values cannot close it.
fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text for HTML context.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Plain words in Markdown: HTML escaped and Markdown's markup characters neutralised.
fn text(words: &str) -> String {
    let mut out = String::with_capacity(words.len());
    for ch in html(words).chars() {
        if matches!(ch, '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
