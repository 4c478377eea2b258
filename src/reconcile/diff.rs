//! Field-level comparison of a declared object with the tenant's, guided by the kind's shape.
//!
//! Only what the declaration says is compared (partial management). Lists of values are sets;
//! lists of blocks are compared as multisets of what the declaration says of each element.

use serde_json::{Map, Value};

use super::normalise::{declared_default_matches_unset, is_nothing, scalar};
use crate::model::plan::FieldChange;
use crate::model::shape::{ObjectShape, Shape};

/// Properties that identify a resource or steer steward; never compared as settings.
const META: &[&str] = &["displayName", "id", "renamedFrom", "lockoutWaiver"];

/// The result of comparing one object.
#[derive(Debug, Default)]
pub struct Diff {
    /// Settings that differ.
    pub changes: Vec<FieldChange>,
    /// Settings compared and equal.
    pub unchanged: usize,
}

/// Compares the declared `desired` with `live` (both in the model's JSON form).
pub fn object(
    shape: &ObjectShape,
    desired: &Map<String, Value>,
    live: &Map<String, Value>,
) -> Diff {
    let mut diff = Diff::default();
    walk(shape, desired, Some(live), "", "", &mut diff, true);
    diff
}

fn walk(
    shape: &ObjectShape,
    desired: &Map<String, Value>,
    live: Option<&Map<String, Value>>,
    pointer: &str,
    path: &str,
    diff: &mut Diff,
    top: bool,
) {
    for field in &shape.fields {
        if top && META.contains(&field.json.as_str()) {
            continue;
        }
        let Some(want) = desired.get(&field.json).filter(|v| !v.is_null()) else {
            continue;
        };
        let have = live.and_then(|l| l.get(&field.json));
        let here_pointer = format!("{pointer}/{}", field.json);
        let here_path = if path.is_empty() {
            field.kdl.clone()
        } else {
            format!("{path}.{}", field.kdl)
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
