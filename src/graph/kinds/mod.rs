//! Graph JSON ⇄ model, per resource kind.
//!
//! Reading is three steps, the same for every kind: the kind's own file reshapes Graph's JSON
//! where the model differs (polymorphic ranges, comma-joined flags, method configurations as
//! fields); [`project`] keeps what the model can express and reports the rest (never a silent
//! drop); [`references`] and [`name_references`] turn ids into the names a file would say.

pub mod access_review;
pub mod authentication_methods;
pub mod authentication_strength;
pub mod conditional_access;
pub mod cross_tenant;
pub mod named_location;
pub mod retention_label;
pub mod sharepoint;
pub mod write;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::model::Kind;
use crate::model::reference::{RefKind, is_guid};
use crate::model::shape::{ObjectShape, Shape};

/// What is particular about reading and writing one kind through Graph; the rest (projection
/// onto the model's shape, naming references, create/update/delete requests) is the same for
/// every kind. Each kind's file holds its adapter as `ADAPTER`, built over
/// [`KindAdapter::DEFAULT`]: a kind whose Graph JSON is its model JSON needs none.
#[derive(Clone, Copy)]
pub struct KindAdapter {
    /// Graph's JSON → the model's JSON form (before projection and naming), reporting what
    /// the model cannot express.
    pub from_graph: fn(&Value, &mut Vec<Unexpressed>) -> Value,
    /// The model's JSON form → Graph's request body, in place (after names became ids).
    pub to_graph: fn(&mut Value),
    /// A query appended to the read (navigation properties Graph returns only when expanded).
    pub read_query: Option<&'static str>,
    /// Requests of their own for an updated top-level property (`None`: the property goes in
    /// the object's PATCH, as usual).
    pub own_requests: fn(&write::Property) -> Option<Vec<write::WriteRequest>>,
    /// Properties every PATCH of the object must carry, changed or not.
    pub patch_carries: &'static [&'static str],
    /// Graph's key of objects that have neither `id` nor `displayName` (cross-tenant partners
    /// are keyed by `tenantId`): it stands in for both.
    pub identity_key: Option<&'static str>,
    /// Graph updates the object with PUT and the whole object (access reviews), not PATCH.
    pub put_whole: bool,
}

impl KindAdapter {
    /// The adapter of a kind whose Graph JSON is its model JSON.
    pub const DEFAULT: KindAdapter = KindAdapter {
        from_graph: |raw: &Value, _: &mut Vec<Unexpressed>| raw.clone(),
        to_graph: |_: &mut Value| {},
        read_query: None,
        own_requests: |_: &write::Property| None,
        patch_carries: &[],
        identity_key: None,
        put_whole: false,
    };
}

/// The adapter of `kind`.
pub fn adapter(kind: Kind) -> &'static KindAdapter {
    static DEFAULT: KindAdapter = KindAdapter::DEFAULT;
    match kind {
        Kind::NamedLocation => &named_location::ADAPTER,
        Kind::AuthenticationStrength => &authentication_strength::ADAPTER,
        Kind::ConditionalAccessPolicy => &conditional_access::ADAPTER,
        Kind::AuthenticationMethodsPolicy => &authentication_methods::ADAPTER,
        Kind::SharepointSettings => &sharepoint::ADAPTER,
        Kind::RetentionLabel => &retention_label::ADAPTER,
        Kind::CrossTenantAccess => &cross_tenant::DEFAULT_ADAPTER,
        Kind::CrossTenantPartner => &cross_tenant::PARTNER_ADAPTER,
        Kind::AccessReview => &access_review::ADAPTER,
        Kind::EmergencyAccess
        | Kind::Prune
        | Kind::CheckException
        | Kind::SecurityDefaults
        | Kind::AuthorizationPolicy => &DEFAULT,
    }
}

/// Gives a Graph object of `kind` the `id` and `displayName` the rest of steward identifies
/// objects by, from the kind's [`KindAdapter::identity_key`] when Graph has neither.
pub fn identify(kind: Kind, raw: &mut Value) {
    let Some(key) = adapter(kind).identity_key else {
        return;
    };
    let Some(map) = raw.as_object_mut() else {
        return;
    };
    let Some(Value::String(identity)) = map.get(key).cloned() else {
        return;
    };
    for name in ["id", "displayName"] {
        map.entry(name)
            .or_insert_with(|| Value::String(identity.clone()));
    }
}

/// Something the tenant has that steward's model cannot express yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Unexpressed {
    /// JSON pointer in Graph's form of the object.
    pub path: String,
    /// The value that was left out.
    pub value: Value,
}

/// Looks names up for ids, from what the run read or resolved.
pub trait Directory {
    /// The name a file would use for the object `id` of `kind`, if known.
    fn name_of(&self, kind: RefKind, id: &str) -> Option<String>;
}

/// A reference in a live object that no directory object answers to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{noun} {id} referenced at {path} does not exist in the tenant")]
pub struct Unresolved {
    /// What kind of object is referenced.
    pub kind: RefKind,
    /// What kind of object, in words.
    pub noun: &'static str,
    /// The id.
    pub id: String,
    /// JSON pointer of the reference.
    pub path: String,
}

/// Properties the server sets or manages: never compared, never exported, never reported.
const SERVER_MANAGED: &[&str] = &[
    "id",
    "createdDateTime",
    "modifiedDateTime",
    "lastModifiedDateTime",
    "deletedDateTime",
    "templateId",
    "createdBy",
    "lastModifiedBy",
    "isInUse",
    "policyType",
    "requirementsSatisfied",
    "combinationConfigurations",
    "policyVersion",
    "authenticationMethodConfigurations@odata.context",
];

/// Properties a singleton carries that Microsoft fixes (its name and description).
const FIXED_ON_SINGLETONS: &[&str] = &["displayName", "description"];

/// Reshapes one Graph object of `kind` into the model's JSON form (before references are
/// named), with what could not be expressed.
pub fn to_model_json(kind: Kind, raw: &Value) -> (Map<String, Value>, Vec<Unexpressed>) {
    let mut unexpressed = Vec::new();
    let reshaped = (adapter(kind).from_graph)(raw, &mut unexpressed);
    let mut skip: Vec<&str> = SERVER_MANAGED.to_vec();
    if kind.arity() == crate::model::Arity::Singleton {
        skip.extend_from_slice(FIXED_ON_SINGLETONS);
    }
    let shape = kind.shape();
    let map = match &reshaped {
        Value::Object(map) => project_object(map, shape, "", &skip, &mut unexpressed),
        _ => Map::new(),
    };
    (map, unexpressed)
}

/// Keeps the keys `shape` knows, recursively; reports the others unless empty or managed.
pub fn project(
    value: &Value,
    shape: &Shape,
    path: &str,
    unexpressed: &mut Vec<Unexpressed>,
) -> Option<Value> {
    match (shape, value) {
        (_, Value::Null) => None,
        (Shape::Object(object), Value::Object(map)) => {
            // Nested objects keep `id` and friends: there they are references (method targets).
            Some(Value::Object(project_object(
                map,
                object,
                path,
                &[],
                unexpressed,
            )))
        }
        (Shape::Array(item), Value::Array(items)) => Some(Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| project(v, item, &format!("{path}/{i}"), unexpressed))
                .collect(),
        )),
        (
            Shape::String {
                members: Some(members),
                ..
            },
            Value::String(s),
        ) => match members.iter().find(|m| m.eq_ignore_ascii_case(s)) {
            Some(m) => Some(Value::String(m.clone())),
            None => {
                unexpressed.push(Unexpressed {
                    path: path.to_string(),
                    value: value.clone(),
                });
                None
            }
        },
        (Shape::String { .. }, Value::String(_))
        | (Shape::Bool, Value::Bool(_))
        | (Shape::Integer { .. }, Value::Number(_)) => Some(value.clone()),
        _ => {
            unexpressed.push(Unexpressed {
                path: path.to_string(),
                value: value.clone(),
            });
            None
        }
    }
}

fn project_object(
    map: &Map<String, Value>,
    shape: &ObjectShape,
    path: &str,
    skip: &[&str],
    unexpressed: &mut Vec<Unexpressed>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        if key.starts_with('@') || key.contains("@odata.") || skip.contains(&key.as_str()) {
            continue;
        }
        let here = format!("{path}/{key}");
        match shape.fields.iter().find(|f| f.json == *key) {
            Some(field) => {
                if let Some(v) = project(value, &field.shape, &here, unexpressed) {
                    out.insert(key.clone(), v);
                }
            }
            None if is_empty(value) => {}
            None => unexpressed.push(Unexpressed {
                path: here,
                value: value.clone(),
            }),
        }
    }
    out
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}

/// Every id a model-JSON object references, by kind (special values excluded).
pub fn references(kind: Kind, json: &Map<String, Value>) -> BTreeSet<(RefKind, String)> {
    let mut out = BTreeSet::new();
    walk_refs(
        kind.root_shape(),
        &Value::Object(json.clone()),
        &mut |k, id, _| {
            if is_guid(id) {
                out.insert((k, id.to_ascii_lowercase()));
            }
        },
        "",
    );
    out
}

/// Replaces referenced ids by the names a file would use. Ids the directory cannot name stay
/// GUIDs and are returned: the tenant as it is holds references to deleted objects, and reading
/// never fails on them.
pub fn name_references(
    kind: Kind,
    json: &mut Map<String, Value>,
    directory: &dyn Directory,
) -> Vec<Unresolved> {
    let mut value = Value::Object(std::mem::take(json));
    let mut unresolved = Vec::new();
    rewrite_refs(
        kind.root_shape(),
        &mut value,
        directory,
        "",
        &mut unresolved,
    );
    if let Value::Object(map) = value {
        *json = map;
    }
    unresolved
}

fn ref_kind(name: &str) -> Option<RefKind> {
    RefKind::from_name(name)
}

/// Calls `f(kind, text, pointer)` for every reference in a model-JSON value of `shape`.
pub fn walk_refs(shape: &Shape, value: &Value, f: &mut dyn FnMut(RefKind, &str, &str), path: &str) {
    match (shape, value) {
        (Shape::Object(object), Value::Object(map)) => {
            for field in &object.fields {
                if let Some(v) = map.get(&field.json) {
                    walk_refs(&field.shape, v, f, &format!("{path}/{}", field.json));
                }
            }
        }
        (Shape::Array(item), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                walk_refs(item, v, f, &format!("{path}/{i}"));
            }
        }
        (
            Shape::String {
                reference: Some(kind),
                ..
            },
            Value::String(s),
        ) => {
            if let Some(kind) = ref_kind(kind) {
                f(kind, s, path);
            }
        }
        _ => {}
    }
}

/// Ids Graph uses that name no directory object and that files write as ids: the legacy "MFA
/// trusted IPs" location, and the "nobody" target of Authenticator feature settings.
pub const WELL_KNOWN_IDS: &[&str] = &["00000000-0000-0000-0000-000000000000"];

/// Replaces every reference in a model-JSON value by what `f` returns for it (unchanged when
/// `f` returns `None`).
pub fn map_refs(shape: &Shape, value: &mut Value, f: &dyn Fn(RefKind, &str) -> Option<String>) {
    match (shape, value) {
        (Shape::Object(object), Value::Object(map)) => {
            for field in &object.fields {
                if let Some(v) = map.get_mut(&field.json) {
                    map_refs(&field.shape, v, f);
                }
            }
        }
        (Shape::Array(item), Value::Array(items)) => {
            for v in items.iter_mut() {
                map_refs(item, v, f);
            }
        }
        (
            Shape::String {
                reference: Some(kind),
                ..
            },
            Value::String(s),
        ) => {
            if let Some(kind) = ref_kind(kind)
                && let Some(new) = f(kind, s)
            {
                *s = new;
            }
        }
        _ => {}
    }
}

fn rewrite_refs(
    shape: &Shape,
    value: &mut Value,
    directory: &dyn Directory,
    path: &str,
    unresolved: &mut Vec<Unresolved>,
) {
    match (shape, value) {
        (Shape::Object(object), Value::Object(map)) => {
            for field in &object.fields {
                if let Some(v) = map.get_mut(&field.json) {
                    let here = format!("{path}/{}", field.json);
                    rewrite_refs(&field.shape, v, directory, &here, unresolved);
                }
            }
        }
        (Shape::Array(item), Value::Array(items)) => {
            for (i, v) in items.iter_mut().enumerate() {
                rewrite_refs(item, v, directory, &format!("{path}/{i}"), unresolved);
            }
        }
        (
            Shape::String {
                reference: Some(kind),
                ..
            },
            Value::String(s),
        ) => {
            let Some(kind) = ref_kind(kind) else {
                return;
            };
            if !is_guid(s) || WELL_KNOWN_IDS.contains(&s.as_str()) {
                return;
            }
            match directory.name_of(kind, &s.to_ascii_lowercase()) {
                Some(name) => *s = name,
                None => unresolved.push(Unresolved {
                    kind,
                    noun: kind.noun(),
                    id: s.clone(),
                    path: path.to_string(),
                }),
            }
        }
        _ => {}
    }
}

/// Reads a whole Graph object of `kind` into its model type, naming references.
pub fn read<T: serde::de::DeserializeOwned>(
    kind: Kind,
    raw: &Value,
    directory: &dyn Directory,
) -> Result<(T, Vec<Unexpressed>), ReadError> {
    let (mut json, unexpressed) = to_model_json(kind, raw);
    if let Some(first) = name_references(kind, &mut json, directory)
        .into_iter()
        .next()
    {
        return Err(first.into());
    }
    let value =
        serde_json::from_value(Value::Object(json)).map_err(|e| ReadError::Shape(e.to_string()))?;
    Ok((value, unexpressed))
}

/// Why a live object could not be read into the model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// A reference names nothing in the tenant.
    #[error(transparent)]
    Unresolved(#[from] Unresolved),
    /// Graph's JSON lacks something the model requires.
    #[error("unexpected shape: {0}")]
    Shape(String),
}

/// Splits Graph's comma-joined flags (`"internalGuest,b2bCollaborationGuest"`) into a list.
fn split_flags(value: &mut Value) {
    if let Value::String(s) = value {
        let parts: Vec<Value> = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_string()))
            .collect();
        *value = Value::Array(parts);
    }
}

/// Joins a list of flags into Graph's comma-joined form.
fn join_flags(value: &mut Value) {
    if let Value::Array(items) = value {
        let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        *value = Value::String(joined.join(","));
    }
}

/// Mutable access to a nested object member by a path of keys.
fn at<'a>(value: &'a mut Value, keys: &[&str]) -> Option<&'a mut Value> {
    let mut current = value;
    for key in keys {
        current = current.as_object_mut()?.get_mut(*key)?;
    }
    Some(current)
}

#[cfg(test)]
mod tests;
