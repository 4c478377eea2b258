//! Field-level comparison of a declared object with the tenant's, guided by the kind's shape.
//!
//! A collection object (a policy, a location, …) is owned whole: every property of its kind is
//! compared, and one the declaration leaves out must hold Graph's empty or default value. A
//! singleton is managed partially: only what the declaration says is compared, but a declared
//! list is compared whole, and inside a declared block an exclusion list left out must be
//! empty. Lists of values are sets; lists of blocks are compared as multisets
//! of what the declaration says of each element. Paths named in `ignore-changes` are skipped.

use serde_json::{Map, Value};

use super::normalise::{declared_default_matches_unset, is_nothing, scalar};
use crate::model::plan::FieldChange;
use crate::model::shape::{ObjectShape, Shape};

/// Properties that identify a resource or steer steward; never compared as settings.
const META: &[&str] = &[
    "displayName",
    "id",
    "renamedFrom",
    "lockoutWaiver",
    "ignoreChanges",
];

/// The result of comparing one object.
#[derive(Debug, Default)]
pub struct Diff {
    /// Settings that differ.
    pub changes: Vec<FieldChange>,
    /// Settings compared and equal.
    pub unchanged: usize,
    /// Settings named in `ignore-changes` that differ (not changed, shown as ignored).
    pub ignored: Vec<String>,
}

/// How to compare.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// The object is owned whole: what the declaration leaves out must be empty or default.
    pub owned: bool,
    /// The kind, for Graph's defaults of properties left unset.
    pub kind: Option<crate::model::Kind>,
    /// Dotted paths never compared (`ignore-changes`).
    pub ignored: &'a [String],
}

/// Compares the declared `desired` with `live` (both in the model's JSON form), comparing only
/// what the declaration says.
pub fn object(
    shape: &ObjectShape,
    desired: &Map<String, Value>,
    live: &Map<String, Value>,
) -> Diff {
    object_with(shape, desired, live, Options::default())
}

/// Compares the declared `desired` with `live` as `options` say.
pub fn object_with(
    shape: &ObjectShape,
    desired: &Map<String, Value>,
    live: &Map<String, Value>,
    options: Options<'_>,
) -> Diff {
    let mut diff = Diff::default();
    walk(
        shape,
        desired,
        Some(live),
        "",
        "",
        &mut diff,
        true,
        &options,
    );
    diff
}

fn is_ignored(path: &str, ignored: &[String]) -> bool {
    ignored.iter().any(|i| {
        let i = i.trim();
        path == i
            || path
                .strip_prefix(i)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// True when `have` is what Graph holds for a property nobody set: nothing, `false`, or the
/// documented default.
fn is_unset(have: Option<&Value>, pointer: &str, options: &Options<'_>) -> bool {
    if is_nothing(have) || have == Some(&Value::Bool(false)) {
        return true;
    }
    let default = options
        .kind
        .and_then(|k| super::normalise::graph_default(k, pointer));
    match (have, default) {
        (Some(h), Some(d)) => {
            let norm = |v: &Value| match v {
                Value::String(s) => Value::String(s.to_ascii_lowercase()),
                Value::Array(items) => {
                    let mut list: Vec<String> = items
                        .iter()
                        .map(|x| x.to_string().to_ascii_lowercase())
                        .collect();
                    list.sort();
                    Value::from(list)
                }
                other => other.clone(),
            };
            norm(h) == norm(&d)
        }
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
fn walk(
    shape: &ObjectShape,
    desired: &Map<String, Value>,
    live: Option<&Map<String, Value>>,
    pointer: &str,
    path: &str,
    diff: &mut Diff,
    top: bool,
    options: &Options<'_>,
) {
    for field in &shape.fields {
        if top && META.contains(&field.json.as_str()) {
            continue;
        }
        let have = live.and_then(|l| l.get(&field.json));
        let here_pointer = format!("{pointer}/{}", field.json);
        let here_path = if path.is_empty() {
            field.kdl.clone()
        } else {
            format!("{path}.{}", field.kdl)
        };
        let want = desired.get(&field.json).filter(|v| !v.is_null());
        if is_ignored(&here_path, options.ignored) {
            let differs = match want {
                Some(w) => have != Some(w),
                None => options.owned && !is_unset(have, &here_pointer, options),
            };
            if differs {
                diff.ignored.push(here_path);
            }
            continue;
        }
        let Some(want) = want else {
            // Inside a block a singleton declares, an exclusion list the block leaves out is
            // owned too: an exclusion added in the portal (a group excused from a method or a
            // campaign) is drift. Other settings of the block keep Graph's own defaults, which
            // are not empty (method configurations default to `true` and `default`).
            let excluded_list =
                !top && field.json.starts_with("exclude") && matches!(field.shape, Shape::Array(_));
            if options.owned || excluded_list {
                left_out(field, have, &here_pointer, &here_path, diff, options);
            }
            continue;
        };
        match (&field.shape, want) {
            (Shape::Object(inner), Value::Object(want_map)) => {
                let have_map = have.and_then(Value::as_object);
                walk(
                    inner,
                    want_map,
                    have_map,
                    &here_pointer,
                    &here_path,
                    diff,
                    false,
                    options,
                );
            }
            (Shape::Array(item), Value::Array(want_items)) => {
                let have_items: Vec<Value> =
                    have.and_then(Value::as_array).cloned().unwrap_or_default();
                let change = match item.as_ref() {
                    Shape::Object(element) => blocks(element, want_items, &have_items),
                    scalar_shape => set(scalar_shape, want_items, &have_items),
                };
                match change {
                    Some((added, removed)) => diff.changes.push(FieldChange {
                        path: here_path,
                        pointer: here_pointer,
                        before: have.cloned().unwrap_or(Value::Null),
                        after: want.clone(),
                        added,
                        removed,
                    }),
                    None => diff.unchanged += 1,
                }
            }
            (scalar_shape, _) => {
                let equal = match have {
                    Some(h) if !h.is_null() => {
                        scalar(scalar_shape, want) == scalar(scalar_shape, h)
                    }
                    _ => declared_default_matches_unset(want, have),
                };
                if equal {
                    diff.unchanged += 1;
                } else {
                    diff.changes.push(FieldChange {
                        path: here_path,
                        pointer: here_pointer,
                        before: have.cloned().unwrap_or(Value::Null),
                        after: want.clone(),
                        added: Vec::new(),
                        removed: Vec::new(),
                    });
                }
            }
        }
    }
}

/// A property an owned declaration leaves out: the tenant must hold nothing there (or Graph's
/// default); anything else is a change to clear it, reported leaf by leaf.
fn left_out(
    field: &crate::model::shape::Field,
    have: Option<&Value>,
    pointer: &str,
    path: &str,
    diff: &mut Diff,
    options: &Options<'_>,
) {
    if is_unset(have, pointer, options) {
        return;
    }
    match (&field.shape, have) {
        (Shape::Object(inner), Some(Value::Object(map))) => {
            walk(
                inner,
                &Map::new(),
                Some(map),
                pointer,
                path,
                diff,
                false,
                options,
            );
        }
        (Shape::Array(_), Some(Value::Array(items))) => diff.changes.push(FieldChange {
            path: path.to_string(),
            pointer: pointer.to_string(),
            before: Value::Array(items.clone()),
            after: Value::Null,
            added: Vec::new(),
            removed: items.clone(),
        }),
        (_, Some(value)) => diff.changes.push(FieldChange {
            path: path.to_string(),
            pointer: pointer.to_string(),
            before: value.clone(),
            after: Value::Null,
            added: Vec::new(),
            removed: Vec::new(),
        }),
        (_, None) => {}
    }
}

/// Set comparison of value lists; `None` when equal, else (added, removed) in declared order.
fn set(shape: &Shape, want: &[Value], have: &[Value]) -> Option<(Vec<Value>, Vec<Value>)> {
    let norm_have: Vec<Value> = have.iter().map(|v| scalar(shape, v)).collect();
    let norm_want: Vec<Value> = want.iter().map(|v| scalar(shape, v)).collect();
    let added: Vec<Value> = want
        .iter()
        .zip(&norm_want)
        .filter(|(_, n)| !norm_have.contains(n))
        .map(|(v, _)| v.clone())
        .collect();
    let removed: Vec<Value> = have
        .iter()
        .zip(&norm_have)
        .filter(|(_, n)| !norm_want.contains(n))
        .map(|(v, _)| v.clone())
        .collect();
    if added.is_empty() && removed.is_empty() {
        None
    } else {
        Some((dedup(added), dedup(removed)))
    }
}

fn dedup(mut values: Vec<Value>) -> Vec<Value> {
    let mut seen = Vec::new();
    values.retain(|v| {
        if seen.contains(v) {
            false
        } else {
            seen.push(v.clone());
            true
        }
    });
    values
}

/// Multiset comparison of block lists, each tenant element seen only through the settings the
/// declaration gives its elements.
fn blocks(shape: &ObjectShape, want: &[Value], have: &[Value]) -> Option<(Vec<Value>, Vec<Value>)> {
    let keys: Vec<&str> = shape
        .fields
        .iter()
        .filter(|f| {
            want.iter()
                .any(|w| w.get(&f.json).is_some_and(|v| !v.is_null()))
        })
        .map(|f| f.json.as_str())
        .collect();
    let canon = |v: &Value| -> Value {
        let mut out = Map::new();
        for field in &shape.fields {
            if !keys.contains(&field.json.as_str()) {
                continue;
            }
            let value = v.get(&field.json);
            let normal = match (&field.shape, value) {
                (_, None) | (_, Some(Value::Null)) => Value::Null,
                (Shape::Array(item), Some(Value::Array(items))) => {
                    let mut list: Vec<String> =
                        items.iter().map(|x| scalar(item, x).to_string()).collect();
                    list.sort();
                    Value::from(list)
                }
                (s, Some(x)) => scalar(s, x),
            };
            // A declared `false` equals a tenant null (see normalise).
            let normal = if normal == Value::Bool(false) {
                Value::Null
            } else {
                normal
            };
            out.insert(field.json.clone(), normal);
        }
        Value::Object(out)
    };
    let mut have_left: Vec<Value> = have.iter().map(canon).collect();
    let mut added = Vec::new();
    for w in want {
        let c = canon(w);
        match have_left.iter().position(|h| *h == c) {
            Some(i) => {
                have_left.remove(i);
            }
            None => added.push(w.clone()),
        }
    }
    let removed: Vec<Value> = have
        .iter()
        .filter(|h| {
            let c = canon(h);
            !want.iter().any(|w| canon(w) == c)
        })
        .cloned()
        .collect();
    if added.is_empty() && removed.is_empty() && !is_nothing(Some(&Value::Array(have_left.clone())))
    {
        return Some((added, removed));
    }
    if added.is_empty() && removed.is_empty() {
        None
    } else {
        Some((added, removed))
    }
}
