//! The fleet summary of `steward report merge` as Markdown, for a pull-request comment or the
//! drift issue.

use std::fmt::Write;

use crate::workflow::report::{FleetReport, TenantReport};

fn changes_cell(t: &TenantReport) -> String {
    match &t.changes {
        Some(c) if c.add + c.change + c.destroy == 0 && c.risks.is_empty() => match c.mode.as_str()
        {
            "drift" => "clean".into(),
            _ => "no changes".into(),
        },
        Some(c) => {
            let word = if c.mode == "drift" {
                "drifted"
            } else {
                "changes"
            };
            format!(
                "**{word}**: {} to add, {} to change, {} to destroy",
                c.add, c.change, c.destroy
            )
        }
        None => "—".into(),
    }
}

fn risks_cell(t: &TenantReport) -> String {
    match &t.changes {
        Some(c) if !c.risks.is_empty() => {
            // A comment stays readable: the first few, then how many more.
            const SHOWN: usize = 8;
            let mut shown: Vec<String> = c.risks.iter().take(SHOWN).cloned().collect();
            if c.risks.len() > SHOWN {
                shown.push(format!("and {} more", c.risks.len() - SHOWN));
            }
            shown.join("<br>").replace('|', "\\|")
        }
        Some(_) => "none".into(),
        None => "—".into(),
    }
}

fn baseline_cell(t: &TenantReport) -> String {
    let Some(b) = &t.baseline else {
        return "—".into();
    };
    let mut text = format!("{} of {} pass", b.pass, b.total);
    if !b.failed_shall.is_empty() {
        let _ = write!(text, "; **SHALL failed**: {}", b.failed_shall.join(", "));
    }
    if !b.failed_should.is_empty() {
        let _ = write!(text, "; SHOULD failed: {}", b.failed_should.join(", "));
    }
    if !b.accepted.is_empty() {
        let _ = write!(text, "; accepted: {}", b.accepted.join(", "));
    }
    text
}

/// One table row per tenant, those needing attention first, then a line of totals.
pub fn markdown(report: &FleetReport) -> String {
    let mut out = format!(
        "<!-- steward-fleet -->\n### steward: {} tenant{}, {} need{} attention\n\n",
        report.tenants.len(),
        if report.tenants.len() == 1 { "" } else { "s" },
        report.attention,
        if report.attention == 1 { "s" } else { "" },
    );
    out.push_str("| Tenant | Changes | Risks | Baseline | Errors |\n|---|---|---|---|---|\n");
    let mut rows: Vec<&TenantReport> = report.tenants.iter().collect();
    rows.sort_by_key(|t| !t.needs_attention());
    for t in rows {
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} |",
            if t.needs_attention() { "⚠️ " } else { "" },
            t.tenant.replace('|', "\\|"),
            changes_cell(t),
            risks_cell(t),
            baseline_cell(t),
            t.errors.join("<br>").replace('|', "\\|"),
        );
    }
    out
}
