//! The declared side of a plan, checked against the tenant: every name must name exactly one
//! object and is replaced by that object's id, so declared and live references compare in
//! Graph's own form. A name that does not resolve is never sent anywhere.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::kinds::{WELL_KNOWN_IDS, map_refs, walk_refs};
use super::read::Live;
use super::{GraphError, ResolveError, Resolver};
use crate::model::reference::{RefKind, is_guid};
use crate::model::{Address, Arity, Desired, Kind};

/// One place a declaration refers to something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUse {
    /// The resource holding the reference.
    pub address: Address,
    /// JSON pointer of the reference in the resource's model form.
    pub pointer: String,
    /// What it refers to.
    pub kind: RefKind,
    /// What the file wrote.
    pub text: String,
}

/// A declared reference that names nothing, or more than one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReference {
    /// Where it is used.
    pub at: RefUse,
    /// What is wrong and what to do.
    pub message: String,
}

/// Why the declared references could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum DesiredRefError {
    /// Graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Some references do not resolve.
    #[error("{} reference(s) do not resolve in the tenant", .0.len())]
    Unresolved(Vec<BadReference>),
}

/// The collections of `Desired`'s JSON form and their kinds.
const FIELDS: &[(&str, Kind)] = &[
    ("emergencyAccess", Kind::EmergencyAccess),
    ("namedLocations", Kind::NamedLocation),
    ("authenticationStrengths", Kind::AuthenticationStrength),
    ("conditionalAccessPolicies", Kind::ConditionalAccessPolicy),
    (
        "authenticationMethodsPolicy",
        Kind::AuthenticationMethodsPolicy,
    ),
    ("securityDefaults", Kind::SecurityDefaults),
    ("authorizationPolicy", Kind::AuthorizationPolicy),
    ("sharepointSettings", Kind::SharepointSettings),
    ("retentionLabels", Kind::RetentionLabel),
];

fn resources(json: &Value, field: &str) -> Vec<Value> {
    match json.get(field) {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![one.clone()],
    }
}

/// Every reference a configuration makes.
pub fn uses(desired: &Desired) -> Vec<RefUse> {
    let json = serde_json::to_value(desired).unwrap_or_default();
    let mut out = Vec::new();
    for (field, kind) in FIELDS {
        let shape = kind.root_shape();
        for resource in resources(&json, field) {
            let address = Address {
                kind: *kind,
                name: (kind.arity() == Arity::Named)
                    .then(|| {
                        resource
                            .get("displayName")
                            .and_then(Value::as_str)
                            .map(String::from)
                    })
                    .flatten(),
            };
            walk_refs(
                shape,
                &resource,
                &mut |k, text, pointer| {
                    let special = k
                        .special_values()
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(text));
                    if !special && !WELL_KNOWN_IDS.contains(&text) {
                        out.push(RefUse {
                            address: address.clone(),
                            pointer: pointer.to_string(),
                            kind: k,
                            text: text.to_string(),
                        });
                    }
                },
                "",
            );
        }
    }
    out
}

/// Checks every declared reference against the tenant and returns the configuration with every
/// name replaced by the id it names — the form the plan compares in, since the tenant reports
/// ids — and the display name of every id, for showing ids to people. Names of objects the
/// plan itself creates stay names (their ids are known only after apply).
pub async fn canonicalise(
    resolver: &Resolver,
    desired: &Desired,
    live: &Live,
) -> Result<(Desired, HashMap<String, String>), DesiredRefError> {
    let uses = uses(desired);
    let mut names: HashMap<String, String> = HashMap::new();
    let mut canonical: HashMap<(RefKind, String), String> = HashMap::new();
    let mut bad: Vec<BadReference> = Vec::new();
    let key = |k: RefKind, t: &str| (k, t.to_ascii_lowercase());
    let wanted = |pred: &dyn Fn(&RefUse) -> bool| -> Vec<String> {
        let set: BTreeSet<String> = uses
            .iter()
            .filter(|u| pred(u))
            .map(|u| u.text.clone())
            .collect();
        set.into_iter().collect()
    };
    let fail = |bad: &mut Vec<BadReference>, kind: RefKind, text: &str, message: String| {
        for u in uses
            .iter()
            .filter(|u| u.kind == kind && u.text.eq_ignore_ascii_case(text))
        {
            bad.push(BadReference {
                at: u.clone(),
                message: message.clone(),
            });
        }
    };

    // Directory objects by id (users, groups, service principals, method targets).
    let object_kinds = [
        RefKind::User,
        RefKind::Group,
        RefKind::ServicePrincipal,
        RefKind::MethodTarget,
    ];
    let ids = wanted(&|u| object_kinds.contains(&u.kind) && is_guid(&u.text));
    if !ids.is_empty() {
        let (found, missing) = resolver.try_names_for_ids(&ids).await?;
        for (id, object) in found {
            names.insert(id.to_ascii_lowercase(), object.name.clone());
        }
        for id in missing {
            for k in object_kinds {
                fail(
                    &mut bad,
                    k,
                    &id,
                    format!("no {} has the id {id} in the tenant", k.noun()),
                );
            }
        }
    }

    // Users by UPN (and method targets of target-type user).
    let upns = wanted(&|u| {
        !is_guid(&u.text)
            && (u.kind == RefKind::User
                || (u.kind == RefKind::MethodTarget && u.text.contains('@')))
    });
    let found = if upns.is_empty() {
        Ok(HashMap::new())
    } else {
        resolver.users_by_upn(&upns).await
    };
    for (upn, outcome) in outcomes(&upns, found)? {
        match outcome {
            Ok(id) => {
                names.insert(id.to_ascii_lowercase(), upn.clone());
                canonical.insert(key(RefKind::User, &upn), id.clone());
                canonical.insert(key(RefKind::MethodTarget, &upn), id);
            }
            Err(message) => {
                fail(&mut bad, RefKind::User, &upn, message.clone());
                fail(&mut bad, RefKind::MethodTarget, &upn, message);
            }
        }
    }

    // Groups by display name.
    let groups = wanted(&|u| {
        !is_guid(&u.text)
            && (u.kind == RefKind::Group
                || (u.kind == RefKind::MethodTarget && !u.text.contains('@')))
    });
    let found = if groups.is_empty() {
        Ok(HashMap::new())
    } else {
        resolver.groups_by_name(&groups).await
    };
    for (name, outcome) in outcomes(&groups, found)? {
        match outcome {
            Ok(id) => {
                names.insert(id.to_ascii_lowercase(), name.clone());
                canonical.insert(key(RefKind::Group, &name), id.clone());
                canonical.insert(key(RefKind::MethodTarget, &name), id);
            }
            Err(message) => {
                fail(&mut bad, RefKind::Group, &name, message.clone());
                fail(&mut bad, RefKind::MethodTarget, &name, message);
            }
        }
    }

    // Applications and service principals by name or appId.
    let apps = wanted(&|u| {
        u.kind == RefKind::Application || (u.kind == RefKind::ServicePrincipal && !is_guid(&u.text))
    });
    if !apps.is_empty() {
        match resolver.service_principals_by_name_or_app_id(&apps).await {
            Ok(found) => {
                for (text, object) in found {
                    names.insert(object.id.to_ascii_lowercase(), object.name.clone());
                    if let Some(app_id) = &object.app_id {
                        names.insert(app_id.to_ascii_lowercase(), object.name.clone());
                        canonical.insert(key(RefKind::Application, &text), app_id.clone());
                    }
                    canonical.insert(key(RefKind::ServicePrincipal, &text), object.id.clone());
                }
            }
            Err(GraphError::Resolve(e)) => {
                for (text, message) in split(&e) {
                    fail(&mut bad, RefKind::Application, &text, message.clone());
                    fail(&mut bad, RefKind::ServicePrincipal, &text, message);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }

    // Roles by name or template id.
    if uses.iter().any(|u| u.kind == RefKind::Role) {
        let catalog = resolver.roles().await?;
        for u in uses.iter().filter(|u| u.kind == RefKind::Role) {
            let id = if is_guid(&u.text) {
                catalog.name(&u.text).map(|_| u.text.to_ascii_lowercase())
            } else {
                catalog.template_id(&u.text).map(str::to_ascii_lowercase)
            };
            match id {
                Some(id) => {
                    if let Some(name) = catalog.name(&id) {
                        names.insert(id.clone(), name.to_string());
                    }
                    canonical.insert(key(RefKind::Role, &u.text), id);
                }
                None => bad.push(BadReference {
                    at: u.clone(),
                    message: format!("no directory role is called {:?}; use the role's display name as the Entra admin center shows it, or its template id", u.text),
                }),
            }
        }
    }

    // Named locations and authentication strengths: declared here, or in the tenant.
    let live_ids: BTreeMap<(Kind, String), String> = live
        .objects
        .iter()
        .filter_map(|o| {
            Some((
                (o.address.kind, o.id.to_ascii_lowercase()),
                o.address.name.clone()?,
            ))
        })
        .chain(live.built_in_strengths.iter().map(|(id, n)| {
            (
                (Kind::AuthenticationStrength, id.to_ascii_lowercase()),
                n.clone(),
            )
        }))
        .collect();
    let live_by_name: BTreeMap<(Kind, String), String> = live_ids
        .iter()
        .map(|((k, id), n)| ((*k, n.to_ascii_lowercase()), id.clone()))
        .collect();
    let live_names: BTreeSet<(Kind, String)> = live_ids
        .iter()
        .map(|((k, _), n)| (*k, n.to_ascii_lowercase()))
        .collect();
    let declared: BTreeSet<(Kind, String)> = desired
        .named_locations
        .iter()
        .map(|l| (Kind::NamedLocation, l.display_name.to_ascii_lowercase()))
        .chain(desired.authentication_strengths.iter().map(|s| {
            (
                Kind::AuthenticationStrength,
                s.display_name.to_ascii_lowercase(),
            )
        }))
        .collect();
    for u in uses.iter().filter(|u| {
        matches!(
            u.kind,
            RefKind::NamedLocation | RefKind::AuthenticationStrength
        )
    }) {
        let kind = if u.kind == RefKind::NamedLocation {
            Kind::NamedLocation
        } else {
            Kind::AuthenticationStrength
        };
        let lower = u.text.to_ascii_lowercase();
        if is_guid(&u.text) {
            if u.text == "00000000-0000-0000-0000-000000000000" {
                continue;
            }
            match live_ids.get(&(kind, lower.clone())) {
                Some(name) => {
                    names.insert(lower, name.clone());
                }
                None => bad.push(BadReference {
                    at: u.clone(),
                    message: format!("no {} has the id {} in the tenant", u.kind.noun(), u.text),
                }),
            }
        } else if let Some(id) = live_by_name.get(&(kind, lower.clone())) {
            names.insert(id.to_ascii_lowercase(), u.text.clone());
            canonical.insert(key(u.kind, &u.text), id.clone());
        } else if !declared.contains(&(kind, lower.clone())) && !live_names.contains(&(kind, lower))
        {
            bad.push(BadReference {
                at: u.clone(),
                message: format!(
                    "{} {:?} is neither declared in the files nor present in the tenant",
                    u.kind.noun(),
                    u.text
                ),
            });
        }
    }

    if !bad.is_empty() {
        bad.sort_by(|a, b| (&a.at.address, &a.at.pointer).cmp(&(&b.at.address, &b.at.pointer)));
        bad.dedup();
        return Err(DesiredRefError::Unresolved(bad));
    }

    let mut json = serde_json::to_value(desired).unwrap_or_default();
    for (field, kind) in FIELDS {
        let shape = kind.root_shape();
        match json.get_mut(*field) {
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    map_refs(shape, item, &|k, t| canonical.get(&key(k, t)).cloned());
                }
            }
            Some(one @ Value::Object(_)) => {
                map_refs(shape, one, &|k, t| canonical.get(&key(k, t)).cloned())
            }
            _ => {}
        }
    }
    let canonical_desired = serde_json::from_value(json).map_err(|e| {
        DesiredRefError::Graph(GraphError::InvalidResponse {
            method: String::new(),
            path: String::new(),
            detail: format!("internal: the configuration did not survive canonicalisation: {e}"),
        })
    })?;
    Ok((canonical_desired, names))
}

/// The outcome of a strict look-up, per name: its id, or why not.
#[allow(clippy::type_complexity)]
fn outcomes(
    names: &[String],
    found: Result<HashMap<String, String>, GraphError>,
) -> Result<Vec<(String, Result<String, String>)>, GraphError> {
    match found {
        Ok(ids) => Ok(names
            .iter()
            .map(|n| match ids.get(&n.to_ascii_lowercase()) {
                Some(id) => (n.clone(), Ok(id.clone())),
                None => (n.clone(), Err(format!("{n:?} was not found in the tenant"))),
            })
            .collect()),
        Err(GraphError::Resolve(e)) => {
            let failures: HashMap<String, String> = split(&e)
                .into_iter()
                .map(|(n, m)| (n.to_ascii_lowercase(), m))
                .collect();
            Ok(names
                .iter()
                .map(|n| match failures.get(&n.to_ascii_lowercase()) {
                    Some(m) => (n.clone(), Err(m.clone())),
                    None => (n.clone(), Err(format!("{n:?} could not be checked: {e}"))),
                })
                .collect())
        }
        Err(e) => Err(e),
    }
}

/// Each failing reference of a resolve error, with a message for it alone.
fn split(error: &ResolveError) -> Vec<(String, String)> {
    match error {
        ResolveError::Ambiguous {
            kind, name, ids, ..
        } => vec![(
            name.clone(),
            format!(
                "{kind} name {name:?} matches {} objects (ids: {}); reference the one you mean by id",
                ids.len(),
                ids.join(", ")
            ),
        )],
        ResolveError::NotFound {
            kind, references, ..
        } => references
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    format!("{kind} {r:?} does not exist in the tenant"),
                )
            })
            .collect(),
    }
}
