//! Documents → the desired model: one node at a time, each problem located.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use kdl::KdlNode;
use miette::SourceSpan;
use serde_json::Value;

use super::check::check_configuration;
use super::convert::Converter;
use super::convert::SpanMap;
use super::discover::{discover, over_total, read_file};
use super::parse::{parse, parse_in_order};
use super::{Diagnostic, Loaded, Origin, SourceFile, diagnostic};
use crate::model::{self, Address, Arity, Desired, Finding, Kind};

/// Loads and validates the policy files under `paths`.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let (files, diagnostics) = discover(paths);
    let mut loaded = Loaded {
        diagnostics,
        file_names: files.iter().map(|p| p.display().to_string()).collect(),
        ..Loaded::default()
    };
    if let Some(too_much) = over_total(&files) {
        loaded.diagnostics.push(too_much);
        return loaded;
    }
    for path in &files {
        match read_file(path) {
            Ok(file) => loaded.files.push(file),
            Err(d) => loaded.diagnostics.push(*d),
        }
    }
    // Parsing dominates loading, and files parse independently: spread them over the cores.
    // Conversion stays sequential and in file order, so diagnostics come out deterministic,
    // and overlaps with the parsing of the files after it.
    let mut declared = Declared::default();
    let files = loaded.files.clone();
    parse_in_order(&files, |index, document| match document {
        Ok(document) => {
            for node in document.nodes() {
                load_node(&files[index], node, &mut loaded, &mut declared);
            }
        }
        Err(diagnostics) => loaded.diagnostics.extend(diagnostics),
    });
    check_configuration(&mut loaded);
    loaded
}

/// Loads policy text (for tests and tools that hold text rather than files).
pub fn load_str(name: &str, text: &str) -> Loaded {
    let file = SourceFile::new(name, text);
    let mut loaded = Loaded {
        files: vec![file.clone()],
        file_names: vec![file.name.clone()],
        ..Loaded::default()
    };
    load_file(&file, &mut loaded, &mut Declared::default());
    check_configuration(&mut loaded);
    loaded
}

/// Loads nodes already parsed from `file` (a fleet tenant's layers, put together): what
/// [`load`] does with a file's document. `files` are the files the text came from.
pub fn load_nodes(
    file: &Arc<SourceFile>,
    nodes: &[KdlNode],
    files: Vec<Arc<SourceFile>>,
) -> Loaded {
    let mut loaded = Loaded {
        file_names: files.iter().map(|f| f.name.clone()).collect(),
        files,
        ..Loaded::default()
    };
    let mut declared = Declared::default();
    for node in nodes {
        load_node(file, node, &mut loaded, &mut declared);
    }
    check_configuration(&mut loaded);
    loaded
}

/// First declarations seen, to report duplicates with both places.
#[derive(Default)]
struct Declared {
    first: HashMap<Address, (Arc<SourceFile>, SourceSpan)>,
}

fn load_file(file: &Arc<SourceFile>, loaded: &mut Loaded, declared: &mut Declared) {
    let document = match parse(file) {
        Ok(document) => document,
        Err(diagnostics) => {
            loaded.diagnostics.extend(diagnostics);
            return;
        }
    };
    for node in document.nodes() {
        load_node(file, node, loaded, declared);
    }
}

fn load_node(file: &Arc<SourceFile>, node: &KdlNode, loaded: &mut Loaded, declared: &mut Declared) {
    let name = node.name().value();
    let Some(kind) = Kind::from_node_name(name) else {
        let names = Kind::ALL.iter().map(|k| k.node_name());
        let help = match diagnostic::suggest(name, names) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "a policy file declares: {}",
                Kind::ALL
                    .iter()
                    .map(|k| k.node_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        loaded.diagnostics.push(
            Diagnostic::error(
                "steward::unknown-node",
                file,
                node.name().span(),
                format!("unknown declaration `{name}`"),
                "unknown",
            )
            .with_help(help),
        );
        return;
    };
    let shape = kind.shape();
    let errors_before = loaded.diagnostics.len();
    let mut converter = Converter {
        file,
        diagnostics: &mut loaded.diagnostics,
        spans: SpanMap::new(),
    };
    let display_name = match kind.arity() {
        Arity::Named => match node.entries().iter().find(|e| e.name().is_none()) {
            Some(entry) => match entry.value().as_string() {
                Some(text) if !text.trim().is_empty() => Some((text.to_string(), entry.span())),
                _ => {
                    converter.diagnostics.push(
                        Diagnostic::error(
                            "steward::missing-name",
                            file,
                            entry.span(),
                            format!("`{name}` needs its display name as a string"),
                            "not a name",
                        )
                        .with_help(format!("write {name} \"Display name\" {{ … }}")),
                    );
                    None
                }
            },
            None => {
                converter.diagnostics.push(
                    Diagnostic::error(
                        "steward::missing-name",
                        file,
                        node.name().span(),
                        format!("`{name}` needs its display name"),
                        "no name",
                    )
                    .with_help(format!("write {name} \"Display name\" {{ … }}")),
                );
                None
            }
        },
        _ => None,
    };
    let positional = usize::from(kind.arity() == Arity::Named);
    let (mut json, clean) = converter.object_partial(node, shape, "", positional);
    let mut spans = std::mem::take(&mut converter.spans);
    // Without its name a named resource has no identity to check duplicates or settings by.
    if kind.arity() == Arity::Named && display_name.is_none() {
        return;
    }
    if let Some((text, span)) = &display_name {
        json.insert("displayName".into(), Value::String(text.clone()));
        spans.insert("/displayName".into(), *span);
    }
    let address = Address::of(kind, &json);
    // Display names identify resources case-insensitively, as they match the tenant's.
    let identity = Address {
        name: address.name.as_deref().map(str::to_lowercase),
        ..address.clone()
    };
    let origin = Origin {
        file: file.clone(),
        span: node.span(),
        spans,
    };
    // Pointers of the settings that failed to convert: a check of the whole resource does not
    // report again what their own errors already say.
    let failed: Vec<String> = loaded.diagnostics[errors_before..]
        .iter()
        .filter(|d| d.is_error())
        .filter_map(|d| d.span)
        .flat_map(|span| {
            origin
                .spans
                .iter()
                .filter(move |(_, s)| {
                    s.offset() <= span.offset() && span.offset() < s.offset() + s.len().max(1)
                })
                .map(|(pointer, _)| pointer.clone())
        })
        .collect();
    let mut duplicate = false;
    if kind.arity() != Arity::Repeated {
        if let Some((first_file, first_span)) = declared.first.get(&identity) {
            let what = match &address.name {
                Some(n) => format!("{kind} {n:?}"),
                None => format!("`{kind}`"),
            };
            loaded.diagnostics.push(
                Diagnostic::error(
                    "steward::duplicate",
                    file,
                    node.name().span(),
                    format!("{what} is declared twice"),
                    "declared again here",
                )
                .with_help(match kind.arity() {
                    Arity::Named => "display names identify resources: rename one, or merge them",
                    _ => "declare it once, merging the settings",
                })
                .with_related(Diagnostic::error(
                    "steward::duplicate",
                    first_file,
                    *first_span,
                    format!("{what} first declared here"),
                    "first declared here",
                )),
            );
            duplicate = true;
        } else {
            declared
                .first
                .insert(identity, (file.clone(), node.name().span()));
        }
    }
    // `ignore-changes` names settings of the kind, or it would silently ignore nothing.
    let ignored = model::meta::ignored_paths(&json);
    for (i, path) in ignored.iter().enumerate() {
        if !shape.has_path(path) || path.split('.').any(|p| p == "display-name" || p == "id") {
            loaded.diagnostics.push(
                Diagnostic::error(
                    "steward::unknown-setting",
                    file,
                    origin.span_of(&format!("/ignoreChanges/{i}")),
                    format!("`ignore-changes` names {path:?}, which is not a setting of `{kind}`"),
                    "not a setting",
                )
                .with_help(
                    "write the setting's path as the file writes it, dotted: conditions.users.exclude-groups",
                ),
            );
        }
    }
    if !clean || duplicate {
        // Checked, not loaded: the resource's own checks still run on what converted, so
        // one run reports every problem; a declaration that did not convert cleanly says
        // nothing new by failing to deserialize.
        let checked = add_resource(&mut Desired::default(), kind, Value::Object(json));
        let findings = match checked {
            Ok(findings) => findings,
            Err(findings) if clean => findings,
            Err(_) => Vec::new(),
        };
        for finding in findings.iter().filter(|f| !covered(&f.pointer, &failed)) {
            loaded.diagnostics.push(origin.diagnostic(finding));
        }
        return;
    }
    let added = add_resource(&mut loaded.desired, kind, Value::Object(json));
    let (Ok(findings) | Err(findings)) = &added;
    for finding in findings {
        loaded.diagnostics.push(origin.diagnostic(finding));
    }
    // A resource with warnings only is loaded, counted, read and planned like any other.
    if added.is_ok() && kind.arity() != Arity::Repeated {
        loaded.origins.insert(address, origin);
    }
}

/// True when a finding at `pointer` is about a setting that failed to convert (at, inside
/// or around one of `failed`), and so is already reported.
fn covered(pointer: &str, failed: &[String]) -> bool {
    !pointer.is_empty()
        && failed.iter().any(|f| {
            f == pointer
                || f.strip_prefix(pointer)
                    .is_some_and(|rest| rest.starts_with('/'))
                || pointer
                    .strip_prefix(f.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

fn invalid(e: serde_json::Error) -> Vec<Finding> {
    vec![Finding {
        severity: model::Severity::Error,
        code: "steward::invalid",
        pointer: String::new(),
        message: format!("invalid declaration: {e}"),
        help: "check the values against `steward schema`".into(),
    }]
}

/// Adds a converted resource to the model, running the kind's own checks, and returns their
/// findings; `Err` when the resource could not be added at all.
fn add_resource(
    desired: &mut Desired,
    kind: Kind,
    json: Value,
) -> Result<Vec<Finding>, Vec<Finding>> {
    desired.insert_checked(kind, json).map_err(invalid)
}
