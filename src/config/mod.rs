//! The policy language: KDL files → the validated desired model, with diagnostics.
//!
//! Loading happens in two phases, like cargo-deny's config: every file is parsed and converted
//! (collecting every problem, each located), then the configuration as a whole is checked
//! (duplicates across files, references, the lockout guard). Nothing downstream sees KDL.

pub mod convert;
pub mod diagnostic;
pub mod format;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kdl::{KdlDocument, KdlNode};
use miette::SourceSpan;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use diagnostic::{Diagnostic, SourceFile};

use crate::model::reference::RefTarget;
use crate::model::{self, Address, Arity, Desired, Finding, Kind, checks};
use convert::{Converter, SpanMap};

/// Policy files larger than this are refused rather than parsed: parsing KDL takes up to ~100
/// bytes of memory per byte of text, and real policy files are kilobytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// All policy files of one run together may hold at most this much.
pub const MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024;

const MIB: f64 = 1024.0 * 1024.0;
/// Blocks nested deeper than this are refused before parsing (no real policy nests past 8).
pub const MAX_NESTING: usize = 64;

/// Where a declared resource came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The resource's node.
    pub span: SourceSpan,
    /// Spans of its properties, by JSON pointer.
    pub spans: SpanMap,
}

impl Origin {
    /// The span of the property at `pointer`, or of the closest enclosing one.
    pub fn span_of(&self, pointer: &str) -> SourceSpan {
        let mut p = pointer;
        loop {
            if let Some(span) = self.spans.get(p) {
                return *span;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return self.span,
            }
        }
    }

    /// `file:line:column` of the resource.
    pub fn location(&self) -> String {
        let (line, column) = self.file.line_column(self.span.offset());
        format!("{}:{line}:{column}", self.file.name)
    }
}

/// The result of loading policy files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The desired configuration (complete only when there are no errors).
    pub desired: Desired,
    /// Where each resource was declared.
    pub origins: BTreeMap<Address, Origin>,
    /// Every problem found, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The files read, in the order read, with their text.
    pub files: Vec<Arc<SourceFile>>,
    /// Every policy file found, in the order read, including those refused (too large, not
    /// UTF-8, unreadable): what a summary counts.
    pub file_names: Vec<String>,
}

impl Loaded {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Lists the policy files under `paths`: directories are searched recursively for `*.kdl`
/// (sorted, so loading is deterministic); files are taken as given.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let before = files.len();
                walk(path, &mut files, &mut diagnostics);
                if files.len() == before {
                    diagnostics.push(
                        Diagnostic::unlocated(
                            "steward::no-files",
                            format!("no .kdl policy files under {}", path.display()),
                        )
                        .with_help("policy files end in .kdl; pass the directory that holds them"),
                    );
                }
            }
            Ok(_) => files.push(path.clone()),
            Err(e) => diagnostics.push(
                Diagnostic::unlocated(
                    "steward::unreadable",
                    format!("cannot read {}: {e}", path.display()),
                )
                .with_help(
                    "check the path; by default steward reads policies/ in the current directory",
                ),
            ),
        }
    }
    (files, diagnostics)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diagnostics.push(Diagnostic::unlocated(
                "steward::unreadable",
                format!("cannot read directory {}: {e}", dir.display()),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, diagnostics);
        } else if path.extension().is_some_and(|e| e == "kdl") {
            files.push(path);
        }
    }
}

/// Reads one file's text, refusing what cannot be a policy file.
pub fn read_file(path: &Path) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let name = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| {
            Diagnostic::unlocated("steward::unreadable", format!("cannot read {name}: {e}"))
        })?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Box::new(
            Diagnostic::unlocated(
                "steward::too-large",
                format!(
                    "{name} is {:.1} MiB; a policy file may hold at most {} MiB",
                    size as f64 / MIB,
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            )
            .with_help("split the policies into several files"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::unlocated("steward::unreadable", format!("cannot read {name}: {e}"))
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(name.clone(), text);
            Err(Box::new(
                Diagnostic::error(
                    "steward::not-utf8",
                    &file,
                    SourceSpan::from((valid, 1)),
                    format!("{name} is not UTF-8 text"),
                    "invalid byte",
                )
                .with_help("policy files are UTF-8 KDL; re-save the file as UTF-8"),
            ))
        }
    }
}

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
    // Conversion stays sequential and in file order, so diagnostics come out deterministic.
    // Parsed documents take far more memory than their text, so at most MAX_FILE_BYTES of
    // text is parsed at a time, and each document is dropped once converted.
    let mut declared = Declared::default();
    let files = loaded.files.clone();
    for window in parse_windows(&files) {
        for (file, document) in window.iter().zip(parse_all(window)) {
            match document {
                Ok(document) => {
                    for node in document.nodes() {
                        load_node(file, node, &mut loaded, &mut declared);
                    }
                }
                Err(diagnostics) => loaded.diagnostics.extend(diagnostics),
            }
        }
    }
    check_configuration(&mut loaded);
    loaded
}

/// An error naming the file with which `files` pass [`MAX_TOTAL_BYTES`], if they do.
fn over_total(files: &[PathBuf]) -> Option<Diagnostic> {
    let mut total = 0u64;
    for path in files {
        // An unreadable or oversized file is reported on its own when it is read.
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if size > MAX_FILE_BYTES {
            continue;
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL_BYTES {
            return Some(
                Diagnostic::unlocated(
                    "steward::too-large",
                    format!(
                        "with {} the policy files add up to more than {} MiB, the most steward \
                         reads in one run ({:.1} MiB so far, {} file(s))",
                        path.display(),
                        MAX_TOTAL_BYTES / (1024 * 1024),
                        total as f64 / MIB,
                        files.iter().position(|p| p == path).map_or(0, |i| i + 1)
                    ),
                )
                .with_help(
                    "pass only the policy directory; files that are not policies (exports, \
                     backups) do not belong under it",
                ),
            );
        }
    }
    None
}

/// Consecutive runs of files holding together at most [`MAX_FILE_BYTES`] of text (a larger
/// file alone), to be parsed at once.
fn parse_windows(files: &[Arc<SourceFile>]) -> Vec<&[Arc<SourceFile>]> {
    let mut windows = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, file) in files.iter().enumerate() {
        let size = file.text.len() as u64;
        if i > start && bytes + size > MAX_FILE_BYTES {
            windows.push(&files[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < files.len() {
        windows.push(&files[start..]);
    }
    windows
}

fn parse_all(files: &[Arc<SourceFile>]) -> Vec<Result<KdlDocument, Vec<Diagnostic>>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    if threads <= 1 {
        return files.iter().map(parse).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(parse).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .zip(files.chunks(chunk))
            .flat_map(|(handle, part)| {
                // A panicking parser thread must not lose its files: parse them again here.
                handle
                    .join()
                    .unwrap_or_else(|_| part.iter().map(parse).collect())
            })
            .collect()
    })
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

/// First declarations seen, to report duplicates with both places.
#[derive(Default)]
struct Declared {
    first: HashMap<Address, (Arc<SourceFile>, SourceSpan)>,
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
    let ignored: Vec<String> = json
        .get("ignoreChanges")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
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
            loaded
                .diagnostics
                .push(finding_diagnostic(finding, &origin));
        }
        return;
    }
    let added = add_resource(&mut loaded.desired, kind, Value::Object(json));
    let (Ok(findings) | Err(findings)) = &added;
    for finding in findings {
        loaded
            .diagnostics
            .push(finding_diagnostic(finding, &origin));
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

fn from_json<T: DeserializeOwned>(json: Value) -> Result<T, Vec<Finding>> {
    serde_json::from_value(json).map_err(|e| {
        vec![Finding {
            severity: model::Severity::Error,
            code: "steward::invalid",
            pointer: String::new(),
            message: format!("invalid declaration: {e}"),
            help: "check the values against `steward schema`".into(),
        }]
    })
}

/// Adds a converted resource to the model, running the kind's own checks, and returns their
/// findings; `Err` when the resource could not be added at all.
fn add_resource(
    desired: &mut Desired,
    kind: Kind,
    json: Value,
) -> Result<Vec<Finding>, Vec<Finding>> {
    let findings = match kind {
        Kind::EmergencyAccess => {
            desired.emergency_access = Some(from_json(json)?);
            Vec::new()
        }
        Kind::Prune => {
            desired.prune.push(from_json(json)?);
            Vec::new()
        }
        Kind::NamedLocation => {
            let location: model::NamedLocation = from_json(json)?;
            let findings = checks::named_location(&location);
            desired.named_locations.push(location);
            findings
        }
        Kind::AuthenticationStrength => {
            desired.authentication_strengths.push(from_json(json)?);
            Vec::new()
        }
        Kind::ConditionalAccessPolicy => {
            let policy: model::ConditionalAccessPolicy = from_json(json)?;
            let findings = checks::conditional_access_policy(&policy);
            desired.conditional_access_policies.push(policy);
            findings
        }
        Kind::AuthenticationMethodsPolicy => {
            let policy: model::AuthenticationMethodsPolicy = from_json(json)?;
            let findings = checks::authentication_methods_policy(&policy);
            desired.authentication_methods_policy = Some(policy);
            findings
        }
        Kind::SecurityDefaults => {
            desired.security_defaults = Some(from_json(json)?);
            Vec::new()
        }
        Kind::AuthorizationPolicy => {
            desired.authorization_policy = Some(from_json(json)?);
            Vec::new()
        }
        Kind::SharepointSettings => {
            let settings: model::SharepointSettings = from_json(json)?;
            let findings = checks::sharepoint_settings(&settings);
            desired.sharepoint_settings = Some(settings);
            findings
        }
        Kind::RetentionLabel => {
            let label: model::RetentionLabel = from_json(json)?;
            let findings = checks::retention_label(&label);
            desired.retention_labels.push(label);
            findings
        }
    };
    Ok(findings)
}

fn finding_diagnostic(finding: &Finding, origin: &Origin) -> Diagnostic {
    let mut d = Diagnostic::error(
        finding.code,
        &origin.file,
        origin.span_of(&finding.pointer),
        finding.message.clone(),
        "here",
    )
    .with_help(finding.help.clone());
    d.severity = finding.severity;
    d
}

/// Checks that need the whole configuration: references to declared objects, the lockout guard.
fn check_configuration(loaded: &mut Loaded) {
    let mut diagnostics = Vec::new();
    let declared_locations: Vec<&str> = loaded
        .desired
        .named_locations
        .iter()
        .map(|l| l.display_name.as_str())
        .collect();
    let declared_strengths: Vec<&str> = loaded
        .desired
        .authentication_strengths
        .iter()
        .map(|s| s.display_name.as_str())
        .collect();
    for policy in &loaded.desired.conditional_access_policies {
        let address = Address {
            kind: Kind::ConditionalAccessPolicy,
            name: Some(policy.display_name.clone()),
            pin: policy.id.as_deref().map(str::to_ascii_lowercase),
        };
        let Some(origin) = loaded.origins.get(&address) else {
            continue;
        };
        let locations = policy.conditions.locations.as_ref();
        for (pointer, list) in [
            (
                "/conditions/locations/includeLocations",
                locations.and_then(|l| l.include_locations.as_ref()),
            ),
            (
                "/conditions/locations/excludeLocations",
                locations.and_then(|l| l.exclude_locations.as_ref()),
            ),
        ] {
            for (i, location) in list.into_iter().flatten().enumerate() {
                if let RefTarget::Name(name) = &location.0
                    && !declared_locations.contains(&name.as_str())
                {
                    diagnostics.push(undeclared_reference(
                        origin,
                        &format!("{pointer}/{i}"),
                        "named location",
                        name,
                        &declared_locations,
                    ));
                }
            }
        }
        if let Some(strength) = policy
            .grant_controls
            .as_ref()
            .and_then(|g| g.authentication_strength.as_ref())
            && let RefTarget::Name(name) = &strength.0
            && !declared_strengths.contains(&name.as_str())
            && !BUILT_IN_STRENGTHS
                .iter()
                .any(|b| b.eq_ignore_ascii_case(name))
        {
            diagnostics.push(undeclared_reference(
                origin,
                "/grantControls/authenticationStrength",
                "authentication strength",
                name,
                &declared_strengths,
            ));
        }
    }
    for (address, finding) in checks::configuration(&loaded.desired) {
        // By kind and name: a declaration's address also carries the id it pins.
        let origin = loaded
            .origins
            .iter()
            .find(|(a, _)| a.kind == address.kind && a.name == address.name);
        if let Some((_, origin)) = origin {
            diagnostics.push(finding_diagnostic(&finding, origin));
        }
    }
    loaded.diagnostics.extend(diagnostics);
}

/// Microsoft's built-in authentication strengths, which exist in every tenant.
pub const BUILT_IN_STRENGTHS: &[&str] = &[
    "Multifactor authentication",
    "Passwordless MFA",
    "Phishing-resistant MFA",
    "Phishing resistant MFA",
];

fn undeclared_reference(
    origin: &Origin,
    pointer: &str,
    noun: &str,
    name: &str,
    declared: &[&str],
) -> Diagnostic {
    let help = match diagnostic::suggest(name, declared.iter().copied()) {
        Some(close) => {
            format!("did you mean {close:?}? (if {name:?} exists in the tenant, this is fine)")
        }
        None => format!(
            "declare {noun} {name:?}, or make sure it exists in the tenant: the plan fails if it does not"
        ),
    };
    let mut d = Diagnostic::error(
        "steward::undeclared-reference",
        &origin.file,
        origin.span_of(pointer),
        format!("{noun} {name:?} is not declared in these files"),
        "not declared",
    )
    .with_help(help);
    d.severity = model::Severity::Warning;
    d
}

/// Canonical JSON of a converted value, for tests and `schema` examples.
pub fn to_map(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod loading_limits {
    use super::*;

    fn file(name: &str, bytes: usize) -> Arc<SourceFile> {
        SourceFile::new(name, " ".repeat(bytes))
    }

    #[test]
    fn parse_windows_hold_at_most_one_large_file_of_text() {
        let mib = 1024 * 1024;
        let files = vec![
            file("a", 10),
            file("b", 20),
            file("c", 3 * mib),
            file("d", 3 * mib),
            file("e", 5),
        ];
        let names: Vec<Vec<&str>> = parse_windows(&files)
            .iter()
            .map(|w| w.iter().map(|f| f.name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["a", "b", "c"], vec!["d", "e"]]);
        assert!(parse_windows(&[]).is_empty());
        let big = vec![file("big", 5 * mib), file("small", 1)];
        assert_eq!(
            parse_windows(&big).len(),
            2,
            "a file past the window is alone"
        );
    }
}
