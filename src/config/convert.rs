//! KDL nodes → the JSON form of a model value, guided by its [`Shape`].
//!
//! Conventions (the same for every kind, so the Graph reference stays the manual):
//! - a property of the object is a child node named in kebab-case, or a `key=value` entry on
//!   the object's node when it holds one value;
//! - a single value is the node's one argument (`state enabled`);
//! - a list is the node's arguments (`include-roles "A" "B"`); repeating the node appends;
//! - a block is a node with children (`conditions { … }`); a list of blocks repeats the node.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;
use serde_json::{Map, Value};

use super::diagnostic::{Diagnostic, SourceFile, suggest};
use crate::model::authentication_strength::Combination;
use crate::model::named_location::is_cidr;
use crate::model::reference::is_guid;
use crate::model::shape::{Field, ObjectShape, Shape};

/// Where each JSON pointer of a converted value came from.
pub type SpanMap = BTreeMap<String, SourceSpan>;

/// Converts nodes of one file, collecting diagnostics.
pub struct Converter<'a> {
    /// The file being read.
    pub file: &'a Arc<SourceFile>,
    /// Problems found so far.
    pub diagnostics: &'a mut Vec<Diagnostic>,
    /// Spans of what was converted.
    pub spans: SpanMap,
}

impl Converter<'_> {
    fn error(
        &mut self,
        code: &'static str,
        span: SourceSpan,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::error(code, self.file, span, message, label);
        d.help = help;
        self.diagnostics.push(d);
    }

    /// Converts `node` as an object of `shape`; the first `positional` arguments belong to the
    /// caller (a resource's name). Returns `None` when it found errors.
    pub fn object(
        &mut self,
        node: &KdlNode,
        shape: &ObjectShape,
        pointer: &str,
        positional: usize,
    ) -> Option<Map<String, Value>> {
        let (out, clean) = self.object_partial(node, shape, pointer, positional);
        clean.then_some(out)
    }

    /// Like [`Converter::object`], but returns what converted even when some settings did
    /// not (without them), with `true` when nothing failed: whole-resource checks then still
    /// run on the rest, so one run reports every problem.
    pub fn object_partial(
        &mut self,
        node: &KdlNode,
        shape: &ObjectShape,
        pointer: &str,
        positional: usize,
    ) -> (Map<String, Value>, bool) {
        let errors_before = self.error_count();
        let mut out = Map::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut first_span: BTreeMap<String, SourceSpan> = BTreeMap::new();
        let node_name = node.name().value();
        let mut args = 0usize;
        for entry in node.entries() {
            self.refuse_type_annotation(entry);
            let Some(key) = entry.name() else {
                args += 1;
                if args > positional {
                    self.error(
                        "steward::unexpected-argument",
                        entry.span(),
                        format!("`{node_name}` takes no value here"),
                        "unexpected value",
                        Some(format!(
                            "settings of `{node_name}` go in a block: {node_name} {{ … }}, or as key=value"
                        )),
                    );
                }
                continue;
            };
            let key = key.value();
            let Some(field) = shape.field(key) else {
                self.unknown(key, entry.span(), shape, node_name);
                continue;
            };
            if let Some(previous) = first_span.get(key).copied() {
                self.duplicate(key, entry.span(), previous);
                continue;
            }
            first_span.insert(key.to_string(), entry.span());
            let here = format!("{pointer}/{}", field.json);
            if !field.shape.is_scalar() {
                self.error(
                    "steward::wrong-type",
                    entry.span(),
                    format!(
                        "`{key}` takes {}, not a single value",
                        field.shape.expected()
                    ),
                    "written as key=value",
                    Some(format!(
                        "write it as a child node: {node_name} {{ {key} … }}"
                    )),
                );
                continue;
            }
            self.spans.insert(here.clone(), entry.span());
            if let Some(value) = self.scalar(entry.value(), entry.span(), &field.shape, key) {
                seen.insert(field.json.as_str());
                out.insert(field.json.clone(), value);
            }
        }
        for child in node.children().map(|d| d.nodes()).unwrap_or_default() {
            let key = child.name().value();
            let name_span = child.name().span();
            let Some(field) = shape.field(key) else {
                self.unknown(key, name_span, shape, node_name);
                continue;
            };
            let here = format!("{pointer}/{}", field.json);
            let repeatable = matches!(&field.shape, Shape::Array(_));
            if let Some(previous) = first_span.get(key).copied() {
                if !repeatable {
                    self.duplicate(key, name_span, previous);
                    continue;
                }
            } else {
                first_span.insert(key.to_string(), name_span);
                // Blocks are pointed at by name (a multi-line span reads badly); single-line
                // settings by their whole line.
                let span = match &field.shape {
                    Shape::Object(_) => name_span,
                    Shape::Array(item) if matches!(item.as_ref(), Shape::Object(_)) => name_span,
                    _ => child.span(),
                };
                self.spans.insert(here.clone(), span);
            }
            if let Some(value) = self.field_node(child, field, &here, out.get(&field.json)) {
                seen.insert(field.json.as_str());
                out.insert(field.json.clone(), value);
            }
        }
        for field in &shape.fields {
            if field.required
                && !seen.contains(field.json.as_str())
                && !first_span.contains_key(&field.kdl)
            {
                if pointer.is_empty() && field.json == "displayName" {
                    continue; // a resource's name is its first argument, checked by the caller
                }
                self.error(
                    "steward::missing-required",
                    node.name().span(),
                    format!("`{node_name}` needs `{}`", field.kdl),
                    &format!("missing `{}`", field.kdl),
                    Some(format!(
                        "add {} ({}): {}",
                        field.kdl,
                        field.shape.expected(),
                        field.description
                    )),
                );
            }
        }
        let clean = self.error_count() == errors_before;
        (out, clean)
    }

    fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Converts a child node holding one field; `existing` is what earlier repetitions gave.
    fn field_node(
        &mut self,
        node: &KdlNode,
        field: &Field,
        pointer: &str,
        existing: Option<&Value>,
    ) -> Option<Value> {
        let key = node.name().value();
        match &field.shape {
            Shape::Object(object) => {
                self.refuse_args(node, 0, key);
                // What converted is kept: the enclosing resource counts the errors, and its
                // checks see the rest of the block rather than no block at all.
                let (out, _) = self.object_partial(node, object, pointer, 0);
                Some(Value::Object(out))
            }
            Shape::Array(item) if matches!(item.as_ref(), Shape::Object(_)) => {
                let Shape::Object(object) = item.as_ref() else {
                    return None;
                };
                let mut list = existing
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let element = format!("{pointer}/{}", list.len());
                self.spans.insert(element.clone(), node.name().span());
                let value = self.object(node, object, &element, 0)?;
                list.push(Value::Object(value));
                Some(Value::Array(list))
            }
            Shape::Array(item) => {
                self.refuse_props_and_children(node, key, "list");
                let mut list = existing
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut ok = true;
                for entry in node.entries().iter().filter(|e| e.name().is_none()) {
                    self.refuse_type_annotation(entry);
                    self.spans
                        .insert(format!("{pointer}/{}", list.len()), entry.span());
                    match self.scalar(entry.value(), entry.span(), item, key) {
                        Some(value) => list.push(value),
                        None => ok = false,
                    }
                }
                ok.then_some(Value::Array(list))
            }
            scalar => {
                self.refuse_props_and_children(node, key, "value");
                let args: Vec<&KdlEntry> = node
                    .entries()
                    .iter()
                    .filter(|e| e.name().is_none())
                    .collect();
                match args.as_slice() {
                    [] => {
                        self.error(
                            "steward::missing-value",
                            node.name().span(),
                            format!("`{key}` needs a value"),
                            "no value given",
                            Some(format!("write {key} followed by {}", scalar.expected())),
                        );
                        None
                    }
                    [entry] => {
                        self.refuse_type_annotation(entry);
                        self.scalar(entry.value(), entry.span(), scalar, key)
                    }
                    [_, extra, ..] => {
                        self.error(
                            "steward::too-many-values",
                            extra.span(),
                            format!("`{key}` takes one value"),
                            "extra value",
                            Some(format!("keep one: {}", scalar.expected())),
                        );
                        None
                    }
                }
            }
        }
    }

    fn refuse_args(&mut self, node: &KdlNode, allowed: usize, key: &str) {
        if let Some(entry) = node
            .entries()
            .iter()
            .filter(|e| e.name().is_none())
            .nth(allowed)
        {
            self.error(
                "steward::unexpected-argument",
                entry.span(),
                format!("`{key}` is a block and takes no value"),
                "unexpected value",
                Some(format!("put its settings inside: {key} {{ … }}")),
            );
        }
    }

    fn refuse_props_and_children(&mut self, node: &KdlNode, key: &str, what: &str) {
        if let Some(entry) = node.entries().iter().find(|e| e.name().is_some()) {
            let name = entry.name().map(|n| n.value()).unwrap_or_default();
            self.error(
                "steward::unexpected-property",
                entry.span(),
                format!("`{key}` is a {what} and has no property `{name}`"),
                "unexpected property",
                Some(format!("write {key} with its {what} only")),
            );
        }
        if let Some(children) = node.children() {
            self.error(
                "steward::unexpected-block",
                children.span(),
                format!("`{key}` is a {what} and takes no block"),
                "unexpected block",
                Some(format!("write {key} with its {what} only, without {{ … }}")),
            );
        }
    }

    fn refuse_type_annotation(&mut self, entry: &KdlEntry) {
        if let Some(ty) = entry.ty() {
            self.error(
                "steward::type-annotation",
                ty.span(),
                format!(
                    "type annotations such as ({}) are not used by steward",
                    ty.value()
                ),
                "type annotation",
                Some("remove the parenthesised annotation".into()),
            );
        }
    }

    fn unknown(&mut self, key: &str, span: SourceSpan, shape: &ObjectShape, parent: &str) {
        let names = shape.fields.iter().map(|f| f.kdl.as_str());
        let help = match suggest(key, names) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "`{parent}` accepts: {}",
                shape
                    .fields
                    .iter()
                    .filter(|f| f.json != "displayName")
                    .map(|f| f.kdl.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.error(
            "steward::unknown-property",
            span,
            format!("`{parent}` has no setting `{key}`"),
            "unknown setting",
            Some(help),
        );
    }

    fn duplicate(&mut self, key: &str, span: SourceSpan, previous: SourceSpan) {
        let first = Diagnostic::error(
            "steward::duplicate-setting",
            self.file,
            previous,
            format!("`{key}` first set here"),
            "first set here",
        );
        let d = Diagnostic::error(
            "steward::duplicate-setting",
            self.file,
            span,
            format!("`{key}` is set twice"),
            "set again here",
        )
        .with_help("keep one of them")
        .with_related(first);
        self.diagnostics.push(d);
    }

    /// Converts one KDL value to the JSON a scalar shape wants.
    fn scalar(
        &mut self,
        value: &KdlValue,
        span: SourceSpan,
        shape: &Shape,
        key: &str,
    ) -> Option<Value> {
        if value.is_null() {
            self.error(
                "steward::null",
                span,
                format!("`{key}` cannot be #null"),
                "null value",
                Some("leave the setting out to leave it unmanaged".into()),
            );
            return None;
        }
        match shape {
            Shape::Bool => match value {
                KdlValue::Bool(b) => Some(Value::Bool(*b)),
                other => {
                    let hint = match other.as_string() {
                        Some(s)
                            if s.eq_ignore_ascii_case("true")
                                || s.eq_ignore_ascii_case("false") =>
                        {
                            format!("KDL writes booleans as #{}", s.to_ascii_lowercase())
                        }
                        _ => "write #true or #false".into(),
                    };
                    self.error(
                        "steward::wrong-type",
                        span,
                        format!("`{key}` takes #true or #false"),
                        "not a boolean",
                        Some(hint),
                    );
                    None
                }
            },
            Shape::Integer { min, max } => match value {
                KdlValue::Integer(n) if n >= min && n <= max => Some(Value::from(*n as i64)),
                KdlValue::Integer(_) => {
                    self.error(
                        "steward::out-of-range",
                        span,
                        format!("`{key}` must be from {min} to {max}"),
                        "out of range",
                        Some(format!("use a whole number from {min} to {max}")),
                    );
                    None
                }
                _ => {
                    self.error(
                        "steward::wrong-type",
                        span,
                        format!("`{key}` takes a whole number"),
                        "not a whole number",
                        Some(format!(
                            "write a number from {min} to {max}, without quotes"
                        )),
                    );
                    None
                }
            },
            Shape::String {
                members,
                format,
                reference,
            } => {
                let Some(text) = value.as_string() else {
                    let help = match members {
                        Some(m) => format!("allowed values: {}", m.join(", ")),
                        None => "put the value in quotes".into(),
                    };
                    self.error(
                        "steward::wrong-type",
                        span,
                        format!("`{key}` takes a string"),
                        "not a string",
                        Some(help),
                    );
                    return None;
                };
                if let Some(members) = members {
                    if let Some(canonical) = members.iter().find(|m| m.eq_ignore_ascii_case(text)) {
                        return Some(Value::String(canonical.clone()));
                    }
                    let help = match suggest(text, members.iter().map(String::as_str)) {
                        Some(close) => format!(
                            "did you mean `{close}`? allowed values: {}",
                            members.join(", ")
                        ),
                        None => format!("allowed values: {}", members.join(", ")),
                    };
                    self.error(
                        "steward::not-allowed",
                        span,
                        format!("`{text}` is not an allowed value of `{key}`"),
                        "not allowed",
                        Some(help),
                    );
                    return None;
                }
                if reference.is_some() && text.trim().is_empty() {
                    self.error(
                        "steward::empty-reference",
                        span,
                        format!("`{key}` names nothing"),
                        "empty name",
                        Some("write a name or an id, or leave the value out".into()),
                    );
                    return None;
                }
                let problem = match format.as_deref() {
                    Some("cidr") if !is_cidr(text) => Some((
                        "is not an IP range in CIDR notation",
                        "write it like 203.0.113.0/24 or 2001:db8::/48".to_string(),
                    )),
                    Some("country")
                        if !(text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic())) =>
                    {
                        Some((
                            "is not a two-letter country code",
                            "use ISO 3166-1 alpha-2 codes such as FR, US or JP".to_string(),
                        ))
                    }
                    Some("uuid") if !is_guid(text) => Some((
                        "is not a GUID",
                        "write it as 8-4-4-4-12 hexadecimal digits".to_string(),
                    )),
                    Some("method-combination") => match Combination::parse(text) {
                        Ok(_) => None,
                        Err(e) => Some(("is not a combination of authentication method modes", e)),
                    },
                    _ => None,
                };
                if let Some((what, help)) = problem {
                    self.error(
                        "steward::bad-format",
                        span,
                        format!("`{text}` {what}"),
                        "invalid value",
                        Some(help),
                    );
                    return None;
                }
                if format.as_deref() == Some("country") {
                    return Some(Value::String(text.to_ascii_uppercase()));
                }
                Some(Value::String(text.to_string()))
            }
            Shape::Object(_) | Shape::Array(_) => None,
        }
    }
}
