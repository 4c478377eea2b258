//! The declared side of a plan, checked against the tenant: every name must name exactly one
//! object and is replaced by that object's id, so declared and live references compare in
//! Graph's own form. A name that does not resolve is never sent anywhere.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::kinds::{WELL_KNOWN_IDS, map_refs, walk_refs};
use super::read::Live;
use super::{DirectoryObject, GraphError, Lookup, Resolver, RoleCatalog};
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

/// A declaration that names nothing, or more than one thing, in the tenant: a reference, or
/// the resource's own name or pinned id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BadReference {
    /// The declared resource.
    pub address: Address,
    /// JSON pointer of the offending value in the resource's model form.
    pub pointer: String,
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

/// Every declared resource's address and JSON form, in the registry's order.
fn declarations(desired: &Desired) -> Vec<(Address, Map<String, Value>)> {
    Kind::ALL
        .iter()
        .flat_map(|kind| {
            desired
                .resources(*kind)
                .into_iter()
                .map(|(_, map)| (Address::of(*kind, &map), map))
        })
        .collect()
}

/// Every reference a configuration makes.
pub fn uses(desired: &Desired) -> Vec<RefUse> {
    let mut out = Vec::new();
    for (address, resource) in declarations(desired) {
        walk_refs(
            address.kind.root_shape(),
            &Value::Object(resource),
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
    out
}

/// Checks that every declared resource names at most one tenant object: its pinned id exists,
/// its display name (case-insensitively) is not shared, and what it names can be modelled.
pub fn check_identities(desired: &Desired, live: &Live) -> Vec<BadReference> {
    let mut bad = Vec::new();
    let unsupported_reason = |kind: Kind, id: &str| {
        live.unsupported
            .iter()
            .find(|u| u.kind == kind && u.id.eq_ignore_ascii_case(id))
            .map(|u| u.reason.clone())
    };
    for (address, json) in declarations(desired) {
        let kind = address.kind;
        if !kind.is_resource() {
            continue;
        }
        let mut fail = |pointer: &str, message: String| {
            bad.push(BadReference {
                address: address.clone(),
                pointer: pointer.to_string(),
                message,
            })
        };
        if kind.arity() != Arity::Named {
            if let Some(u) = live.unsupported.iter().find(|u| u.kind == kind) {
                fail(
                    "",
                    format!(
                        "the tenant's {kind} cannot be managed: {}; nothing was planned",
                        u.reason
                    ),
                );
            }
            continue;
        }
        if let Some(pin) = &address.pin {
            match live.by_id(kind, pin) {
                None => fail(
                    "/id",
                    format!(
                        "no {kind} has id {pin} in the tenant; remove id=\"…\" to create the object, or pin an id the tenant has"
                    ),
                ),
                Some(entry) => {
                    if let Some(reason) = unsupported_reason(kind, &entry.id) {
                        fail(
                            "/id",
                            format!(
                                "{kind} {:?} ({}) cannot be managed: {reason}",
                                entry.name, entry.id
                            ),
                        );
                    }
                }
            }
            continue;
        }
        let names =
            std::iter::once(("/displayName", address.name.clone())).chain(std::iter::once((
                "/renamedFrom",
                json.get("renamedFrom")
                    .and_then(Value::as_str)
                    .map(String::from),
            )));
        for (pointer, name) in names {
            let Some(name) = name else { continue };
            let found = live.named(kind, &name);
            match found.as_slice() {
                [] => continue,
                [one] => {
                    if let Some(reason) = unsupported_reason(kind, &one.id) {
                        fail(
                            pointer,
                            format!(
                                "{kind} {:?} ({}) cannot be managed: {reason}",
                                one.name, one.id
                            ),
                        );
                    }
                }
                several => {
                    let mut ids: Vec<&str> = several.iter().map(|e| e.id.as_str()).collect();
                    ids.sort();
                    fail(
                        pointer,
                        format!(
                            "{kind} name {name:?} is used by {} objects in the tenant (ids: {}); pin the one this declaration means with id=\"…\", or rename the other in the portal",
                            ids.len(),
                            ids.join(", ")
                        ),
                    );
                }
            }
            // A declaration found under its own name is not looked up under its old one.
            break;
        }
    }
    bad
}

/// Looks up every directory name and id the files use, filling the resolver's cache, so that
/// [`canonicalise`] finds them there. It needs nothing from the tenant's read, so it runs
/// alongside it: a plan then costs the read's round trips, not the read's plus the look-ups'.
/// Failures are left for [`canonicalise`] to report where they belong.
pub async fn prefetch(resolver: &Resolver, desired: &Desired) {
    let _ = look_up(resolver, &Wanted::of(&uses(desired))).await;
}

/// The directory look-ups a configuration's references need, by kind of look-up.
struct Wanted {
    /// Directory object ids (users, groups, service principals, method targets).
    ids: Vec<String>,
    /// Users by UPN (and method targets written as UPNs).
    upns: Vec<String>,
    /// Groups by display name (and method targets written as names).
    groups: Vec<String>,
    /// Applications and service principals by name or appId.
    apps: Vec<String>,
    /// Whether any role is named.
    roles: bool,
}

const OBJECT_KINDS: [RefKind; 4] = [
    RefKind::User,
    RefKind::Group,
    RefKind::ServicePrincipal,
    RefKind::MethodTarget,
];

impl Wanted {
    fn of(uses: &[RefUse]) -> Wanted {
        let pick = |pred: &dyn Fn(&RefUse) -> bool| -> Vec<String> {
            let set: BTreeSet<String> = uses
                .iter()
                .filter(|u| pred(u))
                .map(|u| u.text.clone())
                .collect();
            set.into_iter().collect()
        };
        Wanted {
            ids: pick(&|u| OBJECT_KINDS.contains(&u.kind) && is_guid(&u.text)),
            upns: pick(&|u| {
                !is_guid(&u.text)
                    && (u.kind == RefKind::User
                        || (u.kind == RefKind::MethodTarget && u.text.contains('@')))
            }),
            groups: pick(&|u| {
                !is_guid(&u.text)
                    && (u.kind == RefKind::Group
                        || (u.kind == RefKind::MethodTarget && !u.text.contains('@')))
            }),
            apps: pick(&|u| {
                u.kind == RefKind::Application
                    || (u.kind == RefKind::ServicePrincipal && !is_guid(&u.text))
            }),
            roles: uses.iter().any(|u| u.kind == RefKind::Role),
        }
    }
}

/// What each look-up of [`Wanted`] came to.
type Found = (
    Result<(HashMap<String, DirectoryObject>, Vec<String>), GraphError>,
    Result<BTreeMap<String, Lookup<String>>, GraphError>,
    Result<BTreeMap<String, Lookup<String>>, GraphError>,
    Result<BTreeMap<String, Lookup<DirectoryObject>>, GraphError>,
    Result<Option<RoleCatalog>, GraphError>,
);

/// Every kind of look-up at once: they do not depend on each other.
async fn look_up(resolver: &Resolver, w: &Wanted) -> Found {
    futures::join!(
        async {
            if w.ids.is_empty() {
                Ok((HashMap::new(), Vec::new()))
            } else {
                resolver.try_names_for_ids(&w.ids).await
            }
        },
        async {
            if w.upns.is_empty() {
                Ok(Default::default())
            } else {
                resolver.users_by_upn_each(&w.upns).await
            }
        },
        async {
            if w.groups.is_empty() {
                Ok(Default::default())
            } else {
                resolver.groups_by_name_each(&w.groups).await
            }
        },
        async {
            if w.apps.is_empty() {
                Ok(Default::default())
            } else {
                resolver.service_principals_each(&w.apps).await
            }
        },
        async {
            if w.roles {
                resolver.roles().await.map(Some)
            } else {
                Ok(None)
            }
        },
    )
}

/// Checks every declared reference against the tenant and returns the configuration with every
/// name replaced by the id it names — the form the plan compares in, since the tenant reports
/// ids — and the display name of every id, for showing ids to people. Names of objects the
/// plan itself creates stay names (their ids are known only after apply).
///
/// Each failing reference is reported once, at its own place; a reference that fails does not
/// make the others fail. Ids of deleted objects that the tenant itself still holds (orphans)
/// are accepted as they are, so that an exported file plans clean.
pub async fn canonicalise(
    resolver: &Resolver,
    desired: &Desired,
    live: &Live,
) -> Result<(Desired, HashMap<String, String>), DesiredRefError> {
    let uses = uses(desired);
    let mut names: HashMap<String, String> = HashMap::new();
    let mut canonical: HashMap<(RefKind, String), String> = HashMap::new();
    let mut bad: Vec<BadReference> = check_identities(desired, live);
    let key = |k: RefKind, t: &str| (k, t.to_ascii_lowercase());
    let orphans: BTreeSet<String> = live
        .orphans
        .iter()
        .map(|o| o.id.to_ascii_lowercase())
        .collect();
    let fail = |bad: &mut Vec<BadReference>, kinds: &[RefKind], text: &str, message: &str| {
        for u in uses
            .iter()
            .filter(|u| kinds.contains(&u.kind) && u.text.eq_ignore_ascii_case(text))
        {
            bad.push(BadReference {
                address: u.address.clone(),
                pointer: u.pointer.clone(),
                message: message.to_string(),
            });
        }
    };

    let w = Wanted::of(&uses);
    let (by_id, by_upn, by_group, by_app, roles) = look_up(resolver, &w).await;
    let (upns, groups, apps) = (&w.upns, &w.groups, &w.apps);

    // Directory objects by id (users, groups, service principals, method targets).
    let (found, missing) = by_id?;
    for (id, object) in found {
        names.insert(id.to_ascii_lowercase(), object.name.clone());
    }
    for id in missing {
        if orphans.contains(&id.to_ascii_lowercase()) {
            continue;
        }
        for k in OBJECT_KINDS {
            fail(
                &mut bad,
                &[k],
                &id,
                &format!("no {} has the id {id} in the tenant", k.noun()),
            );
        }
    }

    // Users by UPN (and method targets of target-type user).
    for (upn, outcome) in by_upn? {
        match outcome {
            Lookup::Found(id) => {
                names.insert(id.to_ascii_lowercase(), spelled(upns, &upn));
                canonical.insert(key(RefKind::User, &upn), id.clone());
                canonical.insert(key(RefKind::MethodTarget, &upn), id);
            }
            _ => fail(
                &mut bad,
                &[RefKind::User, RefKind::MethodTarget],
                &upn,
                &format!(
                    "user {:?} does not exist in the tenant; check the user principal name, or reference the user by object id",
                    spelled(upns, &upn)
                ),
            ),
        }
    }

    // Groups by display name.
    for (name, outcome) in by_group? {
        let shown = spelled(groups, &name);
        match outcome {
            Lookup::Found(id) => {
                names.insert(id.to_ascii_lowercase(), shown);
                canonical.insert(key(RefKind::Group, &name), id.clone());
                canonical.insert(key(RefKind::MethodTarget, &name), id);
            }
            Lookup::Missing => fail(
                &mut bad,
                &[RefKind::Group, RefKind::MethodTarget],
                &name,
                &format!(
                    "group {shown:?} does not exist in the tenant; check the display name, or reference the group by object id"
                ),
            ),
            Lookup::Ambiguous(ids) => fail(
                &mut bad,
                &[RefKind::Group, RefKind::MethodTarget],
                &name,
                &ambiguous("group", &shown, &ids),
            ),
        }
    }

    // Applications and service principals by name or appId.
    for (text, outcome) in by_app? {
        let shown = spelled(apps, &text);
        match outcome {
            Lookup::Found(object) => {
                names.insert(object.id.to_ascii_lowercase(), object.name.clone());
                if let Some(app_id) = &object.app_id {
                    names.insert(app_id.to_ascii_lowercase(), object.name.clone());
                    canonical.insert(key(RefKind::Application, &text), app_id.clone());
                }
                canonical.insert(key(RefKind::ServicePrincipal, &text), object.id.clone());
            }
            Lookup::Missing if is_guid(&text) && orphans.contains(&text) => {}
            Lookup::Missing => fail(
                &mut bad,
                &[RefKind::Application, RefKind::ServicePrincipal],
                &text,
                &format!(
                    "application {shown:?} does not exist in the tenant (no service principal has that name or appId)"
                ),
            ),
            Lookup::Ambiguous(ids) => fail(
                &mut bad,
                &[RefKind::Application, RefKind::ServicePrincipal],
                &text,
                &ambiguous("application", &shown, &ids),
            ),
        }
    }

    // Roles by name or template id.
    if let Some(catalog) = roles? {
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
                None if is_guid(&u.text) && orphans.contains(&u.text.to_ascii_lowercase()) => {}
                None => bad.push(BadReference {
                    address: u.address.clone(),
                    pointer: u.pointer.clone(),
                    message: format!("no directory role is called {:?}; use the role's display name as the Entra admin center shows it, or its template id", u.text),
                }),
            }
        }
    }

    // Named locations and authentication strengths: in the tenant (whatever the files
    // declare), or declared in the files and created by this plan.
    let declared: BTreeSet<(Kind, String)> = Kind::ALL
        .iter()
        .filter(|kind| kind.as_ref_kind().is_some())
        .flat_map(|kind| {
            desired
                .resources(*kind)
                .into_iter()
                .filter_map(|(name, _)| Some((*kind, name?.to_lowercase())))
        })
        .collect();
    for u in &uses {
        let Some(kind) = u.kind.kind() else {
            continue;
        };
        let mut fail_here = |message: String| {
            bad.push(BadReference {
                address: u.address.clone(),
                pointer: u.pointer.clone(),
                message,
            })
        };
        if is_guid(&u.text) {
            let lower = u.text.to_ascii_lowercase();
            match live.by_id(kind, &u.text) {
                Some(entry) => {
                    names.insert(lower, entry.name.clone());
                }
                None if orphans.contains(&lower) => {}
                None => fail_here(format!(
                    "no {} has the id {} in the tenant",
                    u.kind.noun(),
                    u.text
                )),
            }
            continue;
        }
        let found = live.named(kind, &u.text);
        match found.as_slice() {
            [one] => {
                names.insert(one.id.to_ascii_lowercase(), one.name.clone());
                canonical.insert(key(u.kind, &u.text), one.id.clone());
            }
            [] if declared.contains(&(kind, u.text.to_lowercase())) => {}
            [] => fail_here(format!(
                "{} {:?} is neither declared in the files nor present in the tenant",
                u.kind.noun(),
                u.text
            )),
            several => {
                let ids: Vec<String> = several.iter().map(|e| e.id.clone()).collect();
                fail_here(ambiguous(u.kind.noun(), &u.text, &ids));
            }
        }
    }

    if !bad.is_empty() {
        bad.sort();
        bad.dedup();
        return Err(DesiredRefError::Unresolved(bad));
    }

    let mut canonical_desired = Desired::default();
    for kind in Kind::ALL {
        let shape = kind.root_shape();
        for (_, map) in desired.resources(*kind) {
            let mut value = Value::Object(map);
            map_refs(shape, &mut value, &|k, t| {
                canonical.get(&key(k, t)).cloned()
            });
            canonical_desired.insert(*kind, value).map_err(|e| {
                DesiredRefError::Graph(GraphError::InvalidResponse {
                    method: String::new(),
                    path: String::new(),
                    detail: format!(
                        "internal: the configuration did not survive canonicalisation: {e}"
                    ),
                })
            })?;
        }
    }
    Ok((canonical_desired, names))
}

/// The spelling the files used for a lowercase look-up key.
fn spelled(written: &[String], key: &str) -> String {
    written
        .iter()
        .find(|w| w.to_lowercase() == key)
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// The message for a name several objects answer to.
fn ambiguous(noun: &str, name: &str, ids: &[String]) -> String {
    let mut ids = ids.to_vec();
    ids.sort();
    format!(
        "{noun} name {name:?} matches {} objects in the tenant (ids: {}); reference the one you mean by id",
        ids.len(),
        ids.join(", ")
    )
}
