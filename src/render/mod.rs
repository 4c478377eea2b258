//! Plan and drift output: pure functions from a [`Plan`] to text for people ([`human`]), for
//! pull-request comments ([`markdown`]) and for machines ([`json`]).

pub mod fleet;
pub mod grade;
mod human;
mod json;
mod markdown;

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::plan::{Action, Plan, ResourceChange};
use crate::model::shape::kebab_case;

pub use human::human;
pub use json::{PlanDocument, ResourceChangeDocument, document, json, plan_schema};
pub use markdown::{COMMENT_LIMIT, markdown};

/// What the comparison is for, which decides the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `steward plan`: what apply will do.
    Plan,
    /// `steward drift`: what changed outside steward (the tenant has X, the files say Y).
    Drift,
}

/// Display names of directory objects by id, to show GUID references as `"Finance (3f0c2a1b…)"`.
#[derive(Debug, Clone, Default)]
pub struct Names {
    by_id: HashMap<String, String>,
    pending: Vec<String>,
    /// Ids of deleted objects the tenant still references, with what they were.
    orphans: HashMap<String, String>,
}

impl Names {
    /// A lookup from ids (any case) to display names.
    pub fn new(map: HashMap<String, String>) -> Self {
        Names {
            by_id: map
                .into_iter()
                .map(|(id, name)| (id.to_ascii_lowercase(), name))
                .collect(),
            pending: Vec::new(),
            orphans: HashMap::new(),
        }
    }

    /// Marks ids of deleted objects: they print as `<deleted user 1a2b3c4d…>`.
    pub fn with_orphans(mut self, orphans: &[crate::model::plan::Orphan]) -> Self {
        self.orphans = orphans
            .iter()
            .map(|o| (o.id.to_ascii_lowercase(), o.refers_to.clone()))
            .collect();
        self
    }

    /// Marks the names of objects the plan creates: references to them print
    /// `"Name" (known after apply)`.
    pub fn with_pending(mut self, names: Vec<String>) -> Self {
        self.pending = names;
        self
    }

    /// No names known: references print as they are.
    pub fn empty() -> Self {
        Names::default()
    }

    /// The display name of `id`, if known.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.by_id.get(&id.to_ascii_lowercase()).map(String::as_str)
    }

    /// `text` with a known GUID shown as `Name (3f0c2a1b…)`; anything else unchanged.
    fn label(&self, text: &str) -> String {
        if self.pending.iter().any(|p| p == text) {
            return format!("{} (known after apply)", printable(text));
        }
        if is_guid(text)
            && let Some(noun) = self.orphans.get(&text.to_ascii_lowercase())
        {
            return format!("<deleted {} {}>", printable(noun), self.short(text));
        }
        match self.get(text).filter(|_| is_guid(text)) {
            Some(name) => format!("{} ({})", printable(name), self.short(text)),
            None => text.to_string(),
        }
    }

    /// `text` with every known GUID inside it labelled (for risk messages).
    fn label_within(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            let candidate = text.get(i..i + 36).filter(|c| {
                boundary
                    && is_guid(c)
                    && bytes.get(i + 36).is_none_or(|b| !b.is_ascii_alphanumeric())
            });
            match candidate {
                Some(guid) => {
                    out.push_str(&self.label(guid));
                    i += 36;
                }
                None => {
                    let ch = text[i..].chars().next().unwrap_or(' ');
                    out.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        out
    }
}

/// `text` with control characters escaped, so tenant data cannot drive the terminal.
fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// True for the 8-4-4-4-12 hexadecimal form of a GUID.
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

impl Names {
    /// The shortest prefix of `id`, eight characters at least, that no other id known here
    /// shares, with an ellipsis; the whole id when no shorter prefix tells it apart (two
    /// break-glass accounts created one after the other share long prefixes).
    fn short(&self, id: &str) -> String {
        let lower = id.to_ascii_lowercase();
        let others = self
            .by_id
            .keys()
            .chain(self.orphans.keys())
            .filter(|other| **other != lower);
        let shared = others
            .map(|other| {
                other
                    .bytes()
                    .zip(lower.bytes())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        let keep = (shared + 1).max(8);
        match id.char_indices().nth(keep) {
            Some((cut, _)) => format!("{}…", &id[..cut]),
            None => id.to_string(),
        }
    }
}

/// An id as `7a1c…9cf1`, for lists where the name is shown beside it.
fn abbreviated_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 9 {
        return printable(id);
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    printable(&format!("{head}…{tail}"))
}

/// The value of a setting at `path` as a literal: an object's own `id` plainly (labelled with
/// a name it would show the object's own name twice), anything else as [`literal`].
fn setting_literal(path: &str, value: &Value, names: &Names) -> String {
    match value {
        Value::String(id) if path == "id" => quote(id),
        _ => literal(value, names),
    }
}

/// A value as a literal in the files' terms: strings quoted, keys kebab-case, GUIDs named.
fn literal(value: &Value, names: &Names) -> String {
    match value {
        Value::String(s) => quote(&names.label(s)),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| literal(v, names)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{} = {}", kebab_case(k), literal(v, names)))
                .collect();
            if inner.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", inner.join(", "))
            }
        }
        other => other.to_string(),
    }
}

/// Strings at least this long (either side) show as a diff of lines, not `"old" -> "new"`.
const LONG_STRING: usize = 60;

/// A changed text that reads better as a diff: multi-line or long on either side. Each line of
/// the result is (`-` old, `+` new, ` ` unchanged, the line quoted), from `similar`'s line diff.
fn text_diff(before: &Value, after: &Value) -> Option<Vec<(char, String)>> {
    let (Value::String(before), Value::String(after)) = (before, after) else {
        return None;
    };
    let long = |s: &str| s.contains('\n') || s.chars().count() >= LONG_STRING;
    if !long(before) && !long(after) {
        return None;
    }
    let diff = similar::TextDiff::from_lines(before.as_str(), after.as_str());
    Some(
        diff.iter_all_changes()
            .map(|change| {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                let line = change.value();
                (sign, quote(line.strip_suffix('\n').unwrap_or(line)))
            })
            .collect(),
    )
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// Properties that identify a resource or steer steward rather than set anything.
const META: &[&str] = &["displayName", "id", "renamedFrom", "lockoutWaiver"];

/// Every declared setting of a created object, as (dotted kebab path, value).
fn flatten(after: Option<&Value>) -> Vec<(String, Value)> {
    fn walk(map: &Map<String, Value>, prefix: &str, top: bool, out: &mut Vec<(String, Value)>) {
        for (key, value) in map {
            if (top && META.contains(&key.as_str())) || value.is_null() {
                continue;
            }
            let path = if prefix.is_empty() {
                kebab_case(key)
            } else {
                format!("{prefix}.{}", kebab_case(key))
            };
            match value {
                Value::Object(inner) => walk(inner, &path, false, out),
                _ => out.push((path, value.clone())),
            }
        }
    }
    let mut out = Vec::new();
    if let Some(Value::Object(map)) = after {
        walk(map, "", true, &mut out);
    }
    out
}

/// The settings a change writes: every declared one for a create, the changed ones for an
/// update, none for a delete or a no-op.
fn changed_paths(change: &ResourceChange) -> Vec<String> {
    match change.action {
        Action::Create => flatten(change.after.as_ref())
            .into_iter()
            .map(|(path, _)| path)
            .collect(),
        Action::Update | Action::Replace => change.changes.iter().map(|c| c.path.clone()).collect(),
        Action::Delete | Action::NoOp => Vec::new(),
    }
}

/// One line (or list) of a resource's body, before formatting.
#[derive(Debug)]
enum Item {
    /// The tenant's id, shown unchanged for orientation.
    Id(String),
    /// A setting that appears (`+`) or goes (`-`).
    Set {
        sign: char,
        path: String,
        value: Value,
    },
    /// A setting whose value changes.
    Change {
        path: String,
        before: Value,
        after: Value,
    },
    /// A set that gains and loses members.
    Members {
        path: String,
        added: Vec<Value>,
        removed: Vec<Value>,
        kept: usize,
    },
    /// Settings compared and equal.
    Hidden(usize),
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The body of a resource's block.
fn items(change: &ResourceChange) -> Vec<Item> {
    match change.action {
        Action::NoOp => Vec::new(),
        Action::Create => flatten(change.after.as_ref())
            .into_iter()
            .map(|(path, value)| Item::Set {
                sign: '+',
                path,
                value,
            })
            .collect(),
        Action::Delete => {
            let mut out = Vec::new();
            if let Some(name) = &change.name {
                out.push(Item::Set {
                    sign: '-',
                    path: "display-name".into(),
                    value: Value::String(name.clone()),
                });
            }
            if let Some(id) = &change.id {
                out.push(Item::Set {
                    sign: '-',
                    path: "id".into(),
                    value: Value::String(id.clone()),
                });
            }
            out
        }
        Action::Update | Action::Replace => {
            let mut out = Vec::new();
            if let Some(id) = &change.id {
                out.push(Item::Id(id.clone()));
            }
            for f in &change.changes {
                let item = if is_empty_value(&f.before) && !is_empty_value(&f.after) {
                    Item::Set {
                        sign: '+',
                        path: f.path.clone(),
                        value: f.after.clone(),
                    }
                } else if is_empty_value(&f.after) && !is_empty_value(&f.before) {
                    Item::Set {
                        sign: '-',
                        path: f.path.clone(),
                        value: f.before.clone(),
                    }
                } else if f.added.is_empty() && f.removed.is_empty() {
                    Item::Change {
                        path: f.path.clone(),
                        before: f.before.clone(),
                        after: f.after.clone(),
                    }
                } else {
                    let total = f.after.as_array().map_or(0, Vec::len);
                    Item::Members {
                        path: f.path.clone(),
                        added: f.added.clone(),
                        removed: f.removed.clone(),
                        kept: total.saturating_sub(f.added.len()),
                    }
                };
                out.push(item);
            }
            if change.unchanged > 0 {
                out.push(Item::Hidden(change.unchanged));
            }
            out
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The counts in the mode's words, without a full stop (`1 to add, 0 to change, …`).
fn counts(plan: &Plan, mode: Mode) -> String {
    let s = plan.summary;
    match mode {
        Mode::Plan => format!(
            "{} to add, {} to change, {} to destroy",
            s.add, s.change, s.destroy
        ),
        Mode::Drift => format!(
            "{} missing from the tenant, {} changed outside steward, {} not in the files",
            s.add, s.change, s.destroy
        ),
    }
}

/// The one closing line.
fn closing_line(plan: &Plan, mode: Mode) -> String {
    match (mode, plan.summary.is_empty()) {
        (Mode::Plan, true) => "No changes. The tenant matches the configuration.".into(),
        (Mode::Drift, true) => "No drift. The tenant matches the configuration.".into(),
        (Mode::Plan, false) => format!("Plan: {}.", counts(plan, mode)),
        (Mode::Drift, false) => format!("Drift: {}.", counts(plan, mode)),
    }
}

/// What happens to a resource, after its address (`will be created`, …).
fn headline(action: Action, mode: Mode) -> &'static str {
    match (mode, action) {
        (Mode::Plan, Action::Create) => "will be created",
        (Mode::Plan, Action::Update) => "will be updated in place",
        (Mode::Plan, Action::Delete) => "will be destroyed",
        (Mode::Plan, Action::Replace) => "must be replaced (destroyed, then created)",
        (Mode::Drift, Action::Replace) => {
            "changed outside steward in a way only a replacement undoes"
        }
        (Mode::Drift, Action::Create) => "is declared in the files but missing from the tenant",
        (Mode::Drift, Action::Update) => "changed outside steward",
        (Mode::Drift, Action::Delete) => {
            "is in the tenant, inside a prune scope, but not in the files"
        }
        (_, Action::NoOp) => "is unchanged",
    }
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::Replace => "-/+",
        Action::NoOp => " ",
    }
}

/// The comment after a setting whose change replaces the object.
const FORCES_REPLACEMENT: &str = "  # forces replacement";

/// The title of the risk section.
fn risk_title(mode: Mode) -> &'static str {
    match mode {
        Mode::Plan => "Risky changes",
        Mode::Drift => "Risky changes made in the tenant outside steward",
    }
}

/// The heading of the accepted deviations, in every format.
const ACCEPTED_TITLE: &str = "Accepted deviations (recorded in the files; not changes, not drift)";

/// One accepted difference: what, the tenant's value against the declared one, why and until
/// when.
fn accepted_line(a: &crate::model::Accepted, names: &Names) -> String {
    let what = match &a.path {
        Some(path) => format!(
            "{} {path}: tenant {} (declared {})",
            printable(&a.address),
            names.label_within(&printable(&a.tenant.to_string())),
            names.label_within(&printable(&a.declared.to_string()))
        ),
        None => format!("{} as the tenant has it", printable(&a.address)),
    };
    format!(
        "{what}; until {}: {} ({})",
        a.expires,
        printable(&a.reason),
        a.recorded_at
    )
}

const UNMANAGED_TITLE: &str = "Unmanaged (in the tenant, not declared; left alone)";

/// `text` cut to at most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Tenant text on one line, control characters escaped, so a display name cannot break a
/// comment or drive the terminal.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_guid_is_labelled_with_its_name_and_short_id() {
        let names = Names::new(HashMap::from([(
            "3F0C2A1B-5D6E-4F70-8A9B-0C1D2E3F4A5B".to_string(),
            "Finance".to_string(),
        )]));
        assert_eq!(
            names.label("3f0c2a1b-5d6e-4f70-8a9b-0c1d2e3f4a5b"),
            "Finance (3f0c2a1b…)"
        );
        assert_eq!(
            names.label_within("exclusions added: 3f0c2a1b-5d6e-4f70-8a9b-0c1d2e3f4a5b, HR"),
            "exclusions added: Finance (3f0c2a1b…), HR"
        );
        assert_eq!(names.label("Finance"), "Finance");
    }

    #[test]
    fn ids_sharing_eight_leading_digits_are_shown_until_they_differ() {
        let names = Names::new(HashMap::from([
            (
                "5eed0001-0000-4000-8000-000000000001".to_string(),
                "breakglass1@contoso.onmicrosoft.com".to_string(),
            ),
            (
                "5eed0001-0000-4000-8000-000000000002".to_string(),
                "breakglass2@contoso.onmicrosoft.com".to_string(),
            ),
            (
                "5eed00aa-0000-4000-8000-000000000003".to_string(),
                "Finance".to_string(),
            ),
        ]));
        assert_eq!(
            names.label("5eed0001-0000-4000-8000-000000000001"),
            "breakglass1@contoso.onmicrosoft.com (5eed0001-0000-4000-8000-000000000001)"
        );
        assert_eq!(
            names.label("5eed00aa-0000-4000-8000-000000000003"),
            "Finance (5eed00aa…)"
        );
    }

    #[test]
    fn ids_are_abbreviated_at_both_ends() {
        assert_eq!(
            abbreviated_id("7a1c3e5f-0b2d-4c6e-8f10-a2b4c6d89cf1"),
            "7a1c…9cf1"
        );
        assert_eq!(abbreviated_id("ca-1"), "ca-1");
    }
}

#[cfg(test)]
mod text_diff_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_single_line_strings_are_not_diffed() {
        assert_eq!(text_diff(&json!("Block legacy"), &json!("Block old")), None);
        assert_eq!(text_diff(&json!(1), &json!("x\ny")), None);
    }

    #[test]
    fn multi_line_strings_diff_by_line_keeping_unchanged_lines() {
        let diff = text_diff(&json!("one\ntwo\nthree"), &json!("one\n2\nthree")).unwrap();
        assert_eq!(
            diff,
            vec![
                (' ', "\"one\"".to_string()),
                ('-', "\"two\"".to_string()),
                ('+', "\"2\"".to_string()),
                (' ', "\"three\"".to_string()),
            ]
        );
    }

    #[test]
    fn a_long_line_shows_old_and_new_on_lines_of_their_own_with_controls_escaped() {
        let old = "x".repeat(LONG_STRING);
        let diff = text_diff(&json!(old), &json!("short\u{1b}")).unwrap();
        assert_eq!(
            diff,
            vec![
                ('-', format!("\"{old}\"")),
                ('+', "\"short\\u001b\"".to_string())
            ]
        );
    }
}
