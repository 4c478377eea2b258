//! The fleet summary of `steward report merge`: its document, and as Markdown for a pull-request
//! comment or the drift issue.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

/// The fleet summary: one entry per tenant, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FleetReport {
    /// The layout's version (1).
    pub format_version: u32,
    /// One entry per tenant.
    pub tenants: Vec<TenantReport>,
    /// How many tenants need attention: drifted, with changes, with a failed baseline SHALL, or
    /// without a readable report.
    pub attention: usize,
}

/// What the reports of one tenant say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TenantReport {
    /// The tenant: the report file's name up to its first dot (`contoso.drift.json` →
    /// `contoso`).
    pub tenant: String,
    /// From a `plan` or `drift` report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// From a `check` report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Reports that could not be read, with why: the tenant's job failed or wrote no report.
    pub errors: Vec<String>,
}

/// A plan's or drift's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Changes {
    /// `plan` or `drift`.
    pub mode: String,
    /// Resources to add (plan) or deleted outside steward (drift).
    pub add: u64,
    /// Resources that differ.
    pub change: u64,
    /// Resources to delete (plan) or created outside steward (drift).
    pub destroy: u64,
    /// The risk codes called out, with the resource (`ca-disabled: conditional-access-policy "…"`).
    pub risks: Vec<String>,
    /// Differences accepted by a recorded deviation (`address path (until DATE)`).
    #[serde(default)]
    pub accepted: Vec<String>,
}

/// A baseline grade's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Baseline {
    /// Policy ids met.
    pub pass: u64,
    /// Policy ids graded.
    pub total: u64,
    /// Failed SHALL ids.
    pub failed_shall: Vec<String>,
    /// Failed SHOULD ids.
    pub failed_should: Vec<String>,
    /// Ids accepted by an exception.
    pub accepted: Vec<String>,
}

impl TenantReport {
    /// True when the tenant drifted, has changes, fails a SHALL, or has no readable report.
    pub fn needs_attention(&self) -> bool {
        !self.errors.is_empty()
            || self
                .changes
                .as_ref()
                .is_some_and(|c| c.add + c.change + c.destroy > 0 || !c.risks.is_empty())
            || self
                .baseline
                .as_ref()
                .is_some_and(|b| !b.failed_shall.is_empty())
    }
}

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

fn accepted_cell(t: &TenantReport) -> String {
    match &t.changes {
        Some(c) if !c.accepted.is_empty() => c.accepted.join("<br>").replace('|', "\\|"),
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
    out.push_str(
        "| Tenant | Changes | Risks | Accepted deviations | Baseline | Errors |\n|---|---|---|---|---|---|\n",
    );
    let mut rows: Vec<&TenantReport> = report.tenants.iter().collect();
    rows.sort_by_key(|t| !t.needs_attention());
    for t in rows {
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} |",
            if t.needs_attention() { "⚠️ " } else { "" },
            t.tenant.replace('|', "\\|"),
            changes_cell(t),
            risks_cell(t),
            accepted_cell(t),
            baseline_cell(t),
            t.errors.join("<br>").replace('|', "\\|"),
        );
    }
    out
}
