//! One tenant's configuration from its layers: baseline, its groups, its own files.
//!
//! The layers' files are read and parsed one by one (so a syntax error names its file), then
//! put together into one text that still locates everything in the file it came from
//! ([`SourceFile::combined`]). Resources merge by address, parameters take the tenant's values,
//! deviations are checked, and the result is loaded as any repository is.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kdl::KdlNode;

use super::deviation::{self, Recorded};
use super::layers::{self, Context};
use super::params::{self, Param, Values};
use super::tenant::{META_NODES, TENANT_FILE};
use super::{BASELINE_DIR, Fleet, GROUPS_DIR, TenantEntry};
use crate::config::{self, Diagnostic, Loaded, SourceFile};
use crate::model::{Arity, Deviation, Kind};

/// A tenant's configuration, resolved from its layers.
#[derive(Debug)]
pub struct Resolved {
    /// The tenant.
    pub tenant: TenantEntry,
    /// What every command works on: the files' model, their origins and every diagnostic.
    pub loaded: Loaded,
    /// The resolved declarations, in order, each with the places it was put together from:
    /// what `steward render` prints.
    pub nodes: Vec<(KdlNode, Vec<String>)>,
    /// Deviations that expired (no longer accepted: what they covered shows as drift again).
    pub expired: Vec<Deviation>,
    /// The layers, top first: a label and its files.
    pub layers: Vec<(String, Vec<String>)>,
}

/// One layer: a label (`baseline`, `groups/eu`, `tenants/contoso`) and its directory.
struct Layer {
    label: String,
    dir: PathBuf,
}

fn layers_of(fleet: &Fleet, tenant: &TenantEntry) -> Vec<Layer> {
    let mut out = vec![Layer {
        label: BASELINE_DIR.to_string(),
        dir: fleet.root.join(BASELINE_DIR),
    }];
    for group in tenant.group_names() {
        out.push(Layer {
            label: format!("{GROUPS_DIR}/{group}"),
            dir: fleet.root.join(GROUPS_DIR).join(group),
        });
    }
    out.push(Layer {
        label: format!("{}/{}", super::TENANTS_DIR, tenant.name),
        dir: tenant.dir.clone(),
    });
    out
}

/// Resolves `tenant` of `fleet` as of `today` (deviations expire at the end of their day).
pub fn resolve(fleet: &Fleet, tenant: &TenantEntry, today: chrono::NaiveDate) -> Resolved {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let layers = layers_of(fleet, tenant);
    // Every file, with the index of its layer.
    let mut files: Vec<(usize, Arc<SourceFile>)> = Vec::new();
    let mut listed = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let paths: Vec<PathBuf> = if layer.dir.is_dir() {
            let (paths, found) = config::walk_kdl(&layer.dir);
            diagnostics.extend(found);
            paths
        } else {
            Vec::new()
        };
        listed.push((
            layer.label.clone(),
            paths.iter().map(|p| p.display().to_string()).collect(),
        ));
        for path in paths {
            match config::read_file(&path) {
                Ok(file) => files.push((index, file)),
                Err(d) => diagnostics.push(*d),
            }
        }
    }
    let empty = |diagnostics: Vec<Diagnostic>, files: Vec<Arc<SourceFile>>| Resolved {
        tenant: tenant.clone(),
        loaded: Loaded {
            file_names: files.iter().map(|f| f.name.clone()).collect(),
            files,
            diagnostics,
            ..Loaded::default()
        },
        nodes: Vec::new(),
        expired: Vec::new(),
        layers: listed.clone(),
    };
    let total: u64 = files.iter().map(|(_, f)| f.text.len() as u64).sum();
    if total > config::MAX_TOTAL_BYTES {
        diagnostics.push(Diagnostic::unlocated(
            "steward::too-large",
            format!(
                "tenant `{}`'s layers add up to more than {} MiB, the most steward reads in one run",
                tenant.name,
                config::MAX_TOTAL_BYTES / (1024 * 1024)
            ),
        ));
        return empty(diagnostics, files.into_iter().map(|(_, f)| f).collect());
    }
    // Each file parses on its own first, so a syntax error names its own file.
    for (_, file) in &files {
        if let Err(found) = config::parse(file) {
            diagnostics.extend(found);
        }
    }
    let parts: Vec<Arc<SourceFile>> = files.iter().map(|(_, f)| f.clone()).collect();
    if diagnostics.iter().any(Diagnostic::is_error) {
        return empty(diagnostics, parts);
    }
    let combined = SourceFile::combined(format!("tenants/{}", tenant.name), &parts);
    let document = match config::parse(&combined) {
        Ok(document) => document,
        Err(found) => {
            diagnostics.extend(found);
            return empty(diagnostics, parts);
        }
    };
    // Where each file starts in the combined text, to tell a node's layer and file.
    let mut starts = Vec::with_capacity(files.len());
    let mut offset = 0;
    for (layer, file) in &files {
        starts.push((offset, *layer, file.name.clone()));
        offset += file.text.len() + 1;
    }
    let origin_of = |node: &KdlNode| {
        let at = node.span().offset();
        starts
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= at)
            .map(|(_, layer, name)| (*layer, name.clone()))
            .unwrap_or((0, String::new()))
    };
    let tenant_layer = layers.len() - 1;
    let tenant_file = tenant.dir.join(TENANT_FILE).display().to_string();

    // Parameters first: any layer's resources may use any parameter.
    let mut params: BTreeMap<String, Param> = BTreeMap::new();
    for node in document
        .nodes()
        .iter()
        .filter(|n| n.name().value() == "param")
    {
        let (layer, _) = origin_of(node);
        if layer == tenant_layer {
            diagnostics.push(
                Diagnostic::error(
                    "steward::param",
                    &combined,
                    node.span(),
                    "parameters are declared in baseline/ or a group, and given values in tenant.kdl",
                    "here",
                )
                .with_help(format!("give the value in the values block of {tenant_file}")),
            );
            continue;
        }
        if let Some(param) = params::declare(node, &combined, &mut diagnostics) {
            if let Some(first) = params.get(&param.name) {
                diagnostics.push(
                    Diagnostic::error(
                        "steward::param",
                        &combined,
                        param.span,
                        format!("parameter `{}` is declared twice", param.name),
                        "declared again here",
                    )
                    .with_related(Diagnostic::error(
                        "steward::param",
                        &first.file,
                        first.span,
                        "first declared here",
                        "first declared here",
                    )),
                );
                continue;
            }
            params.insert(param.name.clone(), param);
        }
    }
    let values = Values::check(&params, tenant, &mut diagnostics);

    let mut merged: Vec<(KdlNode, Vec<String>, usize)> = Vec::new();
    let mut by_address: HashMap<(Kind, Option<String>), usize> = HashMap::new();
    let mut recorded: Vec<Recorded> = Vec::new();
    for node in document.nodes() {
        let (layer, file_name) = origin_of(node);
        let name = node.name().value();
        if name == "param" {
            continue;
        }
        if META_NODES.contains(&name) {
            if file_name != tenant_file {
                diagnostics.push(
                    Diagnostic::error(
                        "steward::tenant",
                        &combined,
                        node.name().span(),
                        format!("`{name}` describes a tenant and belongs in its tenant.kdl"),
                        "here",
                    )
                    .with_help(format!("move it to {tenant_file}")),
                );
            }
            continue;
        }
        if name == "deviation" {
            if layer == 0 {
                diagnostics.push(
                    Diagnostic::error(
                        "steward::deviation",
                        &combined,
                        node.name().span(),
                        "the baseline cannot deviate from itself: a deviation is recorded in a tenant's (or a group's) files",
                        "here",
                    )
                    .with_help("change the baseline instead, or move the deviation to tenants/<name>/"),
                );
            } else if let Some(r) = deviation::parse(node, &combined, &mut diagnostics) {
                recorded.push(r);
            }
            continue;
        }
        let key = Kind::from_node_name(name).and_then(|kind| match kind.arity() {
            Arity::Named => node
                .entries()
                .iter()
                .find(|e| e.name().is_none())
                .and_then(|e| e.value().as_string())
                .map(|n| (kind, Some(n.to_lowercase()))),
            Arity::Singleton => Some((kind, None)),
            Arity::Repeated => None,
        });
        let place = combined.location(node.span().offset());
        match key.as_ref().and_then(|k| by_address.get(k)) {
            // Overridden by a lower layer; the same layer declaring it twice is a duplicate,
            // reported by loading.
            Some(&i) if merged[i].2 < layer => {
                let address = match &key {
                    Some((kind, Some(_))) => format!(
                        "{kind} {:?}",
                        node.entries()
                            .iter()
                            .find(|e| e.name().is_none())
                            .and_then(|e| e.value().as_string())
                            .unwrap_or_default()
                    ),
                    Some((kind, None)) => format!("`{kind}`"),
                    None => name.to_string(),
                };
                let cx = Context {
                    file: &combined,
                    tenant: &tenant.name,
                    address: &address,
                };
                let (upper, sources, upper_layer) = &mut merged[i];
                layers::merge(upper, node.clone(), &cx, &mut diagnostics);
                sources.push(place);
                *upper_layer = layer;
            }
            _ => {
                if let Some(key) = key {
                    by_address.entry(key).or_insert(merged.len());
                }
                merged.push((node.clone(), vec![place], layer));
            }
        }
    }
    let mut nodes: Vec<(KdlNode, Vec<String>)> = Vec::with_capacity(merged.len());
    let mut broken: Vec<miette::SourceSpan> = Vec::new();
    for (mut node, sources, _) in merged {
        if values.substitute(&mut node, &combined, &mut diagnostics) {
            broken.push(node.span());
        }
        layers::strip_locks(&mut node);
        nodes.push((node, sources));
    }
    let plain: Vec<KdlNode> = nodes.iter().map(|(n, _)| n.clone()).collect();
    let mut loaded = config::load_nodes(&combined, &plain, parts);
    // A parameter that could not be filled in is reported where it is wrong; what the model
    // then finds in that declaration only repeats it.
    loaded.diagnostics.retain(|d| {
        d.span.is_none_or(|span| {
            !broken
                .iter()
                .any(|b| span.offset() >= b.offset() && span.offset() < b.offset() + b.len().max(1))
        })
    });
    // The layers' own problems come first: they often explain the model's.
    diagnostics.append(&mut loaded.diagnostics);
    loaded.diagnostics = diagnostics;

    let mut expired = Vec::new();
    for r in recorded {
        let d = &r.deviation;
        let declared = loaded
            .origins
            .keys()
            .any(|a| d.covers(a.kind, a.name.as_deref()));
        if !declared {
            loaded.diagnostics.push(
                Diagnostic::error(
                    "steward::deviation",
                    &combined,
                    r.span,
                    format!(
                        "the deviation is about {}, which tenant `{}`'s files do not declare",
                        match &d.name {
                            Some(n) => format!("{} {n:?}", d.kind),
                            None => format!("`{}`", d.kind),
                        },
                        tenant.name
                    ),
                    "no such resource",
                )
                .with_help("name the resource as the files declare it: its kind and display name"),
            );
            continue;
        }
        let shape = d.kind.shape();
        let mut bad = false;
        for (path, span) in d.ignore.iter().zip(&r.ignore_spans) {
            if !shape.has_path(path) {
                bad = true;
                loaded.diagnostics.push(
                    Diagnostic::error(
                        "steward::deviation",
                        &combined,
                        *span,
                        format!("{path:?} is not a setting of `{}`", d.kind),
                        "not a setting",
                    )
                    .with_help("write the setting's path as the file writes it, dotted: conditions.users.exclude-groups"),
                );
            }
        }
        if bad {
            continue;
        }
        if deviation::in_force(d, today) {
            loaded.deviations.push(r.deviation);
        } else {
            loaded.diagnostics.push(
                Diagnostic::error(
                    "steward::deviation-expired",
                    &combined,
                    r.expires_span,
                    format!(
                        "the deviation for {} expired on {}: what it accepted is drift again",
                        d.kind, d.expires
                    ),
                    "expired",
                )
                .with_help(
                    "review it: fix the tenant, or renew the deviation with a new expires date",
                )
                .warning(),
            );
            expired.push(r.deviation);
        }
    }
    Resolved {
        tenant: tenant.clone(),
        loaded,
        nodes,
        expired,
        layers: listed,
    }
}

/// The text `steward render` prints: the tenant's resolved declarations, each headed by where
/// it was put together from, then its deviations in force.
pub fn render(resolved: &Resolved) -> String {
    let mut out = format!(
        "// tenant {}{}\n// layers: {}\n",
        resolved.tenant.name,
        resolved
            .tenant
            .authority()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default(),
        resolved
            .layers
            .iter()
            .map(|(label, _)| label.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    );
    for (node, sources) in &resolved.nodes {
        let mut node = node.clone();
        node.autoformat();
        out.push('\n');
        for (i, place) in sources.iter().enumerate() {
            let verb = if i == 0 { "from" } else { "overridden by" };
            out.push_str(&format!("// {verb} {place}\n"));
        }
        out.push_str(node.to_string().trim_end());
        out.push('\n');
    }
    for d in &resolved.loaded.deviations {
        out.push_str(&format!(
            "\n// deviation recorded at {}, accepted until {}\n",
            d.location, d.expires
        ));
        let mut node = KdlNode::new("deviation");
        node.push(d.kind.node_name());
        if let Some(name) = &d.name {
            node.push(name.as_str());
        }
        let children = node.ensure_children();
        let mut reason = KdlNode::new("reason");
        reason.push(d.reason.as_str());
        children.nodes_mut().push(reason);
        let mut expires = KdlNode::new("expires");
        expires.push(d.expires.as_str());
        children.nodes_mut().push(expires);
        for path in &d.ignore {
            let mut ignore = KdlNode::new("ignore");
            ignore.push(path.as_str());
            children.nodes_mut().push(ignore);
        }
        node.autoformat();
        out.push_str(node.to_string().trim_end());
        out.push('\n');
    }
    out
}

/// Today's date, UTC.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Used by tests and the bench: resolves every tenant of the fleet at `root`.
pub fn resolve_all(
    root: &Path,
    today: chrono::NaiveDate,
) -> Result<Vec<Resolved>, Vec<Diagnostic>> {
    let fleet = Fleet::open(root)?;
    Ok(fleet
        .tenants
        .iter()
        .map(|t| resolve(&fleet, t, today))
        .collect())
}
