//! The terminal form, in Terraform's shapes.

use super::{
    FORCES_REPLACEMENT, Item, Mode, Names, UNMANAGED_TITLE, abbreviated_id, closing_line, headline,
    items, literal, plural, risk_title, symbol, text_diff,
};
use crate::model::plan::{Action, Plan, ResourceChange};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

/// ANSI styling, or none at all.
struct Paint {
    on: bool,
}

impl Paint {
    fn sign(&self, sign: char) -> String {
        let code = match sign {
            '+' => "\x1b[32m",
            '~' => "\x1b[33m",
            '-' | '!' => "\x1b[31m",
            _ => "",
        };
        if self.on && !code.is_empty() {
            format!("{code}{sign}{RESET}")
        } else {
            sign.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        if self.on {
            format!("{BOLD}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// One body line: either `sign key = rest`, aligned on `=` with its neighbours, or free text.
enum Line {
    Aligned {
        sign: char,
        key: String,
        rest: String,
    },
    Raw(String),
}

/// The plan as a terminal shows it; ANSI colour only when `colour` is true.
pub fn human(plan: &Plan, mode: Mode, names: &Names, colour: bool) -> String {
    let paint = Paint { on: colour };
    let mut out = String::new();
    // Risky changes first: the part a reviewer must not miss.
    if !plan.risks.is_empty() {
        out.push_str(&paint.bold(&format!("{}:", risk_title(mode))));
        out.push('\n');
        for risk in &plan.risks {
            out.push_str(&format!(
                "  {} {}: {}\n",
                paint.sign('!'),
                risk.address,
                super::printable(&names.label_within(&risk.message))
            ));
        }
        out.push('\n');
    }
    let changed: Vec<&ResourceChange> = plan
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
        .collect();
    if !changed.is_empty() {
        out.push_str(match mode {
            Mode::Plan => "steward will perform the following actions:\n",
            Mode::Drift => {
                "The tenant has changed outside steward (what the tenant has vs what the files say):\n"
            }
        });
        for change in &changed {
            out.push('\n');
            resource(&mut out, change, mode, names, &paint);
        }
        out.push('\n');
    }
    if !plan.unmanaged.is_empty() {
        out.push_str(&format!("{UNMANAGED_TITLE}:\n"));
        for u in &plan.unmanaged {
            out.push_str(&format!(
                "  {} {} ({})",
                u.kind,
                super::quote(&u.name),
                abbreviated_id(&u.id)
            ));
            if let Some(reason) = &u.unsupported {
                out.push_str(&format!(" unsupported: {}", super::printable(reason)));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if !plan.accepted.is_empty() {
        out.push_str(&format!("{}:\n", super::ACCEPTED_TITLE));
        for a in &plan.accepted {
            out.push_str(&format!("  {}\n", super::accepted_line(a, names)));
        }
        out.push('\n');
    }
    if !plan.orphans.is_empty() {
        out.push_str(&paint.bold(&format!(
            "Warning: {} to deleted objects in the tenant (kept as ids; remove them in the portal to tidy up):",
            plural(plan.orphans.len(), "reference", "references")
        )));
        out.push('\n');
        for o in &plan.orphans {
            out.push_str(&format!(
                "  {} {}: deleted {} {}\n",
                super::printable(&o.resource),
                o.pointer,
                o.refers_to,
                o.id
            ));
        }
        out.push('\n');
    }
    out.push_str(&paint.bold(&closing_line(plan, mode)));
    out.push('\n');
    out
}

fn resource(out: &mut String, change: &ResourceChange, mode: Mode, names: &Names, paint: &Paint) {
    let sign = match change.action {
        Action::Replace => format!("{}/{}", paint.sign('-'), paint.sign('+')),
        other => symbol(other)
            .chars()
            .next()
            .map_or_else(String::new, |c| paint.sign(c)),
    };
    out.push_str(&format!(
        "  # {} {}\n",
        change.address,
        headline(change.action, mode)
    ));
    out.push_str(&format!("  {sign} {} {{\n", change.address));
    let lines = body(change, mode, names, paint);
    write_aligned(out, &lines, paint);
    for path in &change.ignored {
        out.push_str(&format!(
            "        # {path} differs in the tenant: ignored (ignore-changes)\n"
        ));
    }
    out.push_str("    }\n");
}

fn body(change: &ResourceChange, mode: Mode, names: &Names, paint: &Paint) -> Vec<Line> {
    let update = matches!(change.action, Action::Update | Action::Replace);
    let drift = mode == Mode::Drift;
    let forced = change.forcing_replacement();
    let note = |path: &str| {
        if forced.contains(&path) {
            FORCES_REPLACEMENT
        } else {
            ""
        }
    };
    let mut lines = Vec::new();
    for item in items(change) {
        match item {
            Item::Id(id) => lines.push(Line::Aligned {
                sign: ' ',
                key: "id".into(),
                rest: super::quote(&id),
            }),
            Item::Set { sign, path, value } if update && drift => {
                let (tenant, files) = if sign == '+' {
                    ("none".to_string(), literal(&value, names))
                } else {
                    (literal(&value, names), "none".to_string())
                };
                lines.push(Line::Raw(format!(
                    "      {} {path}: the tenant has {tenant}, the files say {files}{}",
                    paint.sign('~'),
                    note(&path)
                )));
            }
            Item::Set { sign, path, value } => {
                let mut rest = super::setting_literal(&path, &value, names);
                if sign == '-' && !drift {
                    rest.push_str(" -> null");
                }
                if change.staged && path == "state" {
                    rest.push_str("  # staged: created report-only by --stage");
                }
                rest.push_str(note(&path));
                lines.push(Line::Aligned {
                    sign,
                    key: path,
                    rest,
                });
            }
            Item::Change {
                path,
                before,
                after,
            } => {
                let note = note(&path);
                if let Some(diff) = text_diff(&before, &after) {
                    let head = if drift {
                        format!("{path}: the tenant has -, the files say +")
                    } else {
                        path
                    };
                    lines.push(Line::Raw(format!(
                        "      {} {head}:{note}",
                        paint.sign('~')
                    )));
                    for (sign, line) in diff {
                        lines.push(Line::Raw(format!("          {} {line}", paint.sign(sign))));
                    }
                    continue;
                }
                let (before, after) = (literal(&before, names), literal(&after, names));
                if drift {
                    lines.push(Line::Raw(format!(
                        "      {} {path}: the tenant has {before}, the files say {after}{note}",
                        paint.sign('~')
                    )));
                } else {
                    lines.push(Line::Aligned {
                        sign: '~',
                        key: path,
                        rest: format!("{before} -> {after}{note}"),
                    });
                }
            }
            Item::Members {
                path,
                added,
                removed,
                kept,
            } => {
                let show = |values: &[_]| -> String {
                    values
                        .iter()
                        .map(|v| literal(v, names))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if drift {
                    lines.push(Line::Raw(format!(
                        "      {} {path}:{}",
                        paint.sign('~'),
                        note(&path)
                    )));
                    if !added.is_empty() {
                        lines.push(Line::Raw(format!(
                            "          only in the files:  {}",
                            show(&added)
                        )));
                    }
                    if !removed.is_empty() {
                        lines.push(Line::Raw(format!(
                            "          only in the tenant: {}",
                            show(&removed)
                        )));
                    }
                    if kept > 0 {
                        lines.push(Line::Raw(format!(
                            "          # ({} hidden)",
                            plural(kept, "unchanged element", "unchanged elements")
                        )));
                    }
                } else {
                    lines.push(Line::Raw(format!(
                        "      {} {path} = [{}",
                        paint.sign('~'),
                        note(&path)
                    )));
                    for v in &added {
                        lines.push(Line::Raw(format!(
                            "          {} {},",
                            paint.sign('+'),
                            literal(v, names)
                        )));
                    }
                    for v in &removed {
                        lines.push(Line::Raw(format!(
                            "          {} {},",
                            paint.sign('-'),
                            literal(v, names)
                        )));
                    }
                    if kept > 0 {
                        lines.push(Line::Raw(format!(
                            "            # ({} hidden)",
                            plural(kept, "unchanged element", "unchanged elements")
                        )));
                    }
                    lines.push(Line::Raw("        ]".into()));
                }
            }
            Item::Hidden(n) => lines.push(Line::Raw(format!(
                "        # ({} hidden)",
                plural(n, "unchanged attribute", "unchanged attributes")
            ))),
        }
    }
    lines
}

/// Writes the lines, padding keys so that `=` lines up within each run of aligned lines.
fn write_aligned(out: &mut String, lines: &[Line], paint: &Paint) {
    let mut i = 0;
    while i < lines.len() {
        match &lines[i] {
            Line::Raw(text) => {
                out.push_str(text);
                out.push('\n');
                i += 1;
            }
            Line::Aligned { .. } => {
                let end = lines[i..]
                    .iter()
                    .position(|l| matches!(l, Line::Raw(_)))
                    .map_or(lines.len(), |p| i + p);
                let width = lines[i..end]
                    .iter()
                    .map(|l| match l {
                        Line::Aligned { key, .. } => key.chars().count(),
                        Line::Raw(_) => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for line in &lines[i..end] {
                    if let Line::Aligned { sign, key, rest } = line {
                        out.push_str(&format!(
                            "      {} {key:<width$} = {rest}\n",
                            paint.sign(*sign)
                        ));
                    }
                }
                i = end;
            }
        }
    }
}
