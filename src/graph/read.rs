//! Reading the live tenant into the model: every requested kind, with its references both as
//! Graph's ids and named, in as few requests as Graph allows (collections in pages, look-ups
//! in batches).
//!
//! A failed read of any kind fails the whole read: nothing downstream ever sees a partial
//! tenant as if it were whole. The content of what was read never fails it: orphaned ids,
//! shared names and types steward does not model are kept and listed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::kinds::{self, Directory, Unexpressed, authentication_strength};
use super::{GraphClient, GraphError, Lookup, ObjectKind, Resolver};
pub use crate::model::plan::Orphan;
use crate::model::reference::RefKind;
use crate::model::{Address, Arity, Desired, Kind, Severity};

/// One object as Graph returned it.
#[derive(Debug, Clone)]
pub struct LiveObject {
    /// Its kind and name.
    pub address: Address,
    /// Graph's id (fixed ids for singletons).
    pub id: String,
    /// Graph's JSON, as read.
    pub raw: Value,
}

/// An object of a kind steward reads whose type or content steward cannot model: listed,
/// never exported as something that does not validate, never planned against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unsupported {
    /// Its kind.
    pub kind: Kind,
    /// Its display name.
    pub name: String,
    /// Graph's id.
    pub id: String,
    /// Why steward cannot model it.
    pub reason: String,
}

/// One object of a named kind the read met (dependencies included), for resolving names
/// and ids in the files whatever they declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Its kind.
    pub kind: Kind,
    /// Graph's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// False for objects steward cannot model (still referable by id).
    pub supported: bool,
}

/// The tenant as read.
#[derive(Debug, Default)]
pub struct Live {
    /// The tenant in the model's terms, references named (what export writes). Collection
    /// objects carry their Graph `id`.
    pub model: Desired,
    /// The tenant in the model's terms, references as Graph's ids (what plans compare).
    /// Collection objects carry their Graph `id`.
    pub model_ids: Desired,
    /// The display name of every id the read met, for showing ids to people.
    pub names: HashMap<String, String>,
    /// Every managed object read, in kind order then by name.
    pub objects: Vec<LiveObject>,
    /// Every object of a named kind read, dependencies and unsupported ones included.
    pub catalog: Vec<CatalogEntry>,
    /// What the model cannot express yet, per object.
    pub unexpressed: Vec<(Address, Unexpressed)>,
    /// Names of the built-in authentication strengths, by id (they are Microsoft's, not
    /// managed, but policies refer to them).
    pub built_in_strengths: BTreeMap<String, String>,
    /// References to objects that no longer exist, for the admin's cleanup list.
    pub orphans: Vec<Orphan>,
    /// Objects steward cannot model.
    pub unsupported: Vec<Unsupported>,
    /// Lowercase ids of directory objects, locations and strengths whose display name another
    /// object of the same kind shares: a file must name them by id.
    pub shared_names: BTreeSet<String>,
    /// Kinds skipped because the sign-in cannot read them, with why (export only).
    pub unreadable: Vec<(Kind, String)>,
    /// Kinds read only in part because the sign-in cannot read the rest, with why (export
    /// only): SharePoint's own settings without a SharePoint sign-in.
    pub partly_unreadable: Vec<(Kind, String)>,
}

impl Live {
    /// The catalog entries of `kind` whose display name is `name` (case-insensitively).
    pub fn named(&self, kind: Kind, name: &str) -> Vec<&CatalogEntry> {
        self.catalog
            .iter()
            .filter(|e| e.kind == kind && e.name.to_lowercase() == name.to_lowercase())
            .collect()
    }

    /// The catalog entry of `kind` with the id `id`.
    pub fn by_id(&self, kind: Kind, id: &str) -> Option<&CatalogEntry> {
        self.catalog
            .iter()
            .find(|e| e.kind == kind && e.id.eq_ignore_ascii_case(id))
    }
}

/// Why the tenant could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadTenantError {
    /// A Graph request failed (after retries).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A kind could not be read (after retries); other kinds were.
    #[error("{kind}: {source}")]
    Kind {
        /// The kind.
        kind: Kind,
        /// Why.
        source: GraphError,
    },
}

/// How to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip (and list in [`Live::unreadable`]) the kinds the sign-in is not allowed to read,
    /// instead of failing: for exporting "every kind the sign-in can read".
    pub skip_forbidden: bool,
    /// Find which referenced groups and applications share their display name with another,
    /// so that they are written by id (one more round of look-ups; export needs it, plans
    /// compare ids and do not).
    pub check_shared_names: bool,
    /// Read SharePoint's own settings too (from its admin API), with Graph's SharePoint
    /// settings: only when the files declare one, or for export.
    pub sharepoint_admin: bool,
    /// With `sharepoint_admin`, read the Restricted SharePoint Search mode too (a CSOM call of
    /// its own): when the files declare it, or for export.
    pub sharepoint_search: bool,
    /// When the sign-in cannot use SharePoint's admin API, read Graph's half of the SharePoint
    /// settings and list the rest in [`Live::partly_unreadable`] instead of failing (export).
    pub sharepoint_optional: bool,
}

/// The kinds that must be read to read `kinds` (policies need the locations and strengths
/// they refer to, to name them).
pub fn kinds_to_read(kinds: &BTreeSet<Kind>) -> BTreeSet<Kind> {
    let mut out: BTreeSet<Kind> = kinds.iter().copied().filter(|k| k.is_resource()).collect();
    let dependencies: Vec<Kind> = out.iter().flat_map(|k| k.depends_on()).collect();
    out.extend(dependencies);
    out
}

async fn fetch(
    client: &GraphClient,
    kind: Kind,
    options: ReadOptions,
    partly: &std::sync::Mutex<Vec<(Kind, String)>>,
) -> Result<(Kind, Vec<Value>), GraphError> {
    use super::expect::expected;
    let Some(path) = kind.graph_path() else {
        return Ok((kind, Vec::new()));
    };
    if kind.spec().permissions.is_some_and(|p| !p.application) {
        client.require_signed_in_admin(kind.node_name()).await?;
    }
    // A 200 that is not the kind's object (HTML, empty, `{}`, another type) is a read error
    // with the request id, never an empty object.
    let Some(expected) = expected(kind) else {
        return Ok((kind, Vec::new()));
    };
    let expanded;
    let path = match kinds::adapter(kind).read_query {
        Some(query) => {
            expanded = format!("{path}?{query}");
            expanded.as_str()
        }
        None => path,
    };
    let mut items = match kind.arity() {
        Arity::Named => client.list_expected(path, &expected).await?,
        _ => vec![client.get_expected(path, &expected).await?],
    };
    items.iter_mut().for_each(|raw| kinds::identify(kind, raw));
    if kind == Kind::SharepointSettings && options.sharepoint_admin {
        let own = async {
            client
                .sharepoint()
                .await?
                .read_settings(options.sharepoint_search)
                .await
        };
        match own.await {
            Ok(own) => {
                if let Some(Value::Object(graph)) = items.first_mut() {
                    graph.extend(own);
                    super::sharepoint::effective(graph);
                }
            }
            // Export takes what the sign-in can read: Graph's half.
            Err(e) if options.sharepoint_optional && sharepoint_refused(&e) => {
                if let Ok(mut partly) = partly.lock() {
                    partly.push((kind, format!("SharePoint's own settings: {e}")));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((kind, items))
}

/// True when `error` says this sign-in cannot use SharePoint's admin API.
fn sharepoint_refused(error: &GraphError) -> bool {
    match error {
        GraphError::SignIn { .. } | GraphError::TokenEndpoint { .. } => true,
        GraphError::Http(e) => matches!(e.status, 401 | 403),
        _ => false,
    }
}

/// True when `error` says the sign-in may not read this (not that Graph failed).
fn is_forbidden(error: &GraphError) -> bool {
    match error {
        GraphError::NeedsSignedInAdmin { .. } => true,
        GraphError::Http(e) => e.status == 403,
        _ => false,
    }
}

/// Reads `kinds` (and what they depend on) from the tenant.
pub async fn read_tenant(
    client: &GraphClient,
    resolver: &Resolver,
    kinds: &BTreeSet<Kind>,
) -> Result<Live, ReadTenantError> {
    read_tenant_with(client, resolver, kinds, ReadOptions::default()).await
}

/// Reads `kinds` (and what they depend on) from the tenant, as `options` say.
///
/// Nothing in the content of an object fails the read: references to deleted objects stay ids
/// (listed in [`Live::orphans`]), objects steward cannot model are listed in
/// [`Live::unsupported`], and display names shared by several objects are kept (the files must
/// pin such objects by id).
pub async fn read_tenant_with(
    client: &GraphClient,
    resolver: &Resolver,
    kinds: &BTreeSet<Kind>,
    options: ReadOptions,
) -> Result<Live, ReadTenantError> {
    let wanted = kinds_to_read(kinds);
    // Policies name roles by template id: read the role catalogue alongside the collections
    // rather than after them, so it costs no extra round trip on the critical path.
    let roles = async {
        if kinds
            .iter()
            .any(|k| k.spec().references.contains(&RefKind::Role))
        {
            resolver.roles().await.map(|_| ())
        } else {
            Ok(())
        }
    };
    let partly = std::sync::Mutex::new(Vec::new());
    let (fetched, roles) = futures::future::join(
        futures::future::join_all(wanted.iter().map(|k| fetch(client, *k, options, &partly))),
        roles,
    )
    .await;
    roles?;

    let mut live = Live {
        partly_unreadable: partly.into_inner().unwrap_or_default(),
        ..Live::default()
    };
    let mut read: Vec<(Kind, Vec<Value>)> = Vec::new();
    for (kind, result) in wanted.iter().copied().zip(fetched) {
        match result {
            Ok(found) => read.push(found),
            Err(e) if options.skip_forbidden && is_forbidden(&e) => {
                live.unreadable.push((kind, e.to_string()));
            }
            Err(source) => return Err(ReadTenantError::Kind { kind, source }),
        }
    }

    // Graph JSON → model JSON for every object, collecting the references to name.
    let mut pending: Vec<(Kind, String, Map<String, Value>, Value)> = Vec::new();
    let mut references: BTreeSet<(RefKind, String)> = BTreeSet::new();
    for (kind, items) in read {
        for raw in items {
            let id = raw
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let display = raw
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if kind == Kind::AuthenticationStrength && authentication_strength::is_built_in(&raw) {
                live.built_in_strengths.insert(id.clone(), display.clone());
                live.catalog.push(CatalogEntry {
                    kind,
                    id,
                    name: display,
                    supported: true,
                });
                continue;
            }
            let (mut json, unexpressed) = kinds::to_model_json(kind, &raw);
            let named = kind.arity() == Arity::Named;
            if named && !id.is_empty() {
                json.insert("id".into(), Value::String(id.clone()));
            }
            let address = if named {
                Address::named(kind, display.clone())
            } else {
                Address::singleton(kind)
            };
            let supported = match unsupported_reason(kind, &raw, &json) {
                Some(reason) => {
                    live.unsupported.push(Unsupported {
                        kind,
                        name: display.clone(),
                        id: id.clone(),
                        reason,
                    });
                    false
                }
                None => true,
            };
            if named {
                live.catalog.push(CatalogEntry {
                    kind,
                    id: id.clone(),
                    name: display,
                    supported,
                });
            }
            if !supported {
                continue;
            }
            for u in unexpressed {
                live.unexpressed.push((address.clone(), u));
            }
            if kinds.contains(&kind) {
                references.extend(kinds::references(kind, &json));
                pending.push((kind, id, json, raw));
            }
        }
    }
    live.shared_names = shared_catalog_names(&live.catalog);

    let mut directory = resolve(resolver, &references, &live).await?;
    if options.check_shared_names {
        let shared = shared_directory_names(resolver, &directory).await?;
        directory.shared.extend(shared.iter().cloned());
        live.shared_names.extend(shared);
    }

    for (kind, id, mut json, raw) in pending {
        let address = if kind.arity() == Arity::Named {
            Address::named(
                kind,
                json.get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
        } else {
            Address::singleton(kind)
        };
        add(&mut live.model_ids, kind, Value::Object(json.clone()));
        for unresolved in kinds::name_references(kind, &mut json, &directory) {
            // An id named by a shared name stays an id on purpose: it is no orphan.
            if directory.knows(unresolved.kind, &unresolved.id) {
                continue;
            }
            live.orphans.push(Orphan {
                resource: address.to_string(),
                refers_to: unresolved.noun.to_string(),
                id: unresolved.id,
                pointer: unresolved.path,
            });
        }
        add(&mut live.model, kind, Value::Object(json));
        live.objects.push(LiveObject { address, id, raw });
    }
    live.orphans.sort();
    live.orphans.dedup();
    live.model.sort();
    live.model_ids.sort();
    live.names = directory.all();
    for entry in &live.catalog {
        live.names
            .insert(entry.id.to_ascii_lowercase(), entry.name.clone());
    }
    live.objects
        .sort_by(|a, b| a.address.cmp(&b.address).then_with(|| a.id.cmp(&b.id)));
    Ok(live)
}

/// Why steward cannot model `raw`, if it cannot: a type it does not know, a shape the model
/// rejects, or content its own checks refuse (so that export never writes a file that does
/// not validate).
fn unsupported_reason(kind: Kind, raw: &Value, json: &Map<String, Value>) -> Option<String> {
    let odata_type = raw.get("@odata.type").and_then(Value::as_str);
    if kind == Kind::NamedLocation
        && let Some(t) = odata_type
        && !matches!(
            t.trim_start_matches('#'),
            "microsoft.graph.ipNamedLocation" | "microsoft.graph.countryNamedLocation"
        )
    {
        return Some(format!(
            "steward does not model named locations of type {t}"
        ));
    }
    let findings = match kind.check(Value::Object(json.clone())) {
        Ok(findings) => findings,
        Err(e) => return Some(format!("steward cannot model this object: {e}")),
    };
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.clone())
        .collect();
    if errors.is_empty() {
        None
    } else {
        Some(format!(
            "steward cannot express it as a valid declaration: {}",
            errors.join("; ")
        ))
    }
}

/// Lowercase ids of catalog objects whose display name another object of the same kind
/// shares, case-insensitively.
fn shared_catalog_names(catalog: &[CatalogEntry]) -> BTreeSet<String> {
    let mut by_name: HashMap<(Kind, String), Vec<&str>> = HashMap::new();
    for e in catalog {
        by_name
            .entry((e.kind, e.name.to_lowercase()))
            .or_default()
            .push(&e.id);
    }
    by_name
        .into_values()
        .filter(|ids| ids.len() > 1)
        .flatten()
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Lowercase ids of referenced groups and service principals whose display name is shared.
async fn shared_directory_names(
    resolver: &Resolver,
    names: &Names,
) -> Result<BTreeSet<String>, GraphError> {
    let group_names: Vec<String> = names
        .groups
        .iter()
        .filter_map(|id| names.objects.get(id).cloned())
        .collect();
    let app_names: Vec<String> = names.applications.values().cloned().collect();
    let (groups, apps) = futures::future::join(
        async {
            if group_names.is_empty() {
                Ok(Default::default())
            } else {
                resolver.groups_by_name_each(&group_names).await
            }
        },
        async {
            if app_names.is_empty() {
                Ok(Default::default())
            } else {
                resolver.service_principals_each(&app_names).await
            }
        },
    )
    .await;
    let mut shared = BTreeSet::new();
    for outcome in groups?.into_values() {
        if let Lookup::Ambiguous(ids) = outcome {
            shared.extend(ids.into_iter().map(|i| i.to_ascii_lowercase()));
        }
    }
    let apps = apps?;
    for (app_id, name) in &names.applications {
        if matches!(apps.get(&name.to_lowercase()), Some(Lookup::Ambiguous(_))) {
            shared.insert(app_id.clone());
        }
    }
    Ok(shared)
}

/// The names of every referenced id, found in as few requests as possible: one
/// `getByIds` round for users, groups and service principals, one role catalogue read, one
/// filtered look-up round for applications by appId.
async fn resolve(
    resolver: &Resolver,
    references: &BTreeSet<(RefKind, String)>,
    live: &Live,
) -> Result<Names, GraphError> {
    let ids_of = |kinds: &[RefKind]| -> Vec<String> {
        references
            .iter()
            .filter(|(k, _)| kinds.contains(k))
            .map(|(_, id)| id.clone())
            .collect()
    };
    let objects = ids_of(&[
        RefKind::User,
        RefKind::Group,
        RefKind::ServicePrincipal,
        RefKind::MethodTarget,
    ]);
    let apps = ids_of(&[RefKind::Application]);
    let needs_roles = references.iter().any(|(k, _)| *k == RefKind::Role);
    let (objects, apps, roles) = futures::future::join3(
        async {
            if objects.is_empty() {
                Ok((HashMap::new(), Vec::new()))
            } else {
                resolver.try_names_for_ids(&objects).await
            }
        },
        async {
            if apps.is_empty() {
                Ok(Default::default())
            } else {
                resolver.service_principals_each(&apps).await
            }
        },
        async {
            if needs_roles {
                resolver.roles().await.map(Some)
            } else {
                Ok(None)
            }
        },
    )
    .await;
    let (objects, _missing) = objects?;
    let mut names = Names::default();
    for (id, object) in objects {
        let id = id.to_ascii_lowercase();
        if object.kind == ObjectKind::Group {
            names.groups.insert(id.clone());
        }
        names.objects.insert(id, object.name);
    }
    for (app_id, outcome) in apps? {
        // An appId names one application; anything else is an orphan.
        if let Lookup::Found(object) = outcome {
            names
                .applications
                .insert(app_id.to_ascii_lowercase(), object.name);
        }
    }
    if let Some(catalog) = roles? {
        for (_, id) in references.iter().filter(|(k, _)| *k == RefKind::Role) {
            if let Some(name) = catalog.name(id) {
                names.roles.insert(id.clone(), name.to_string());
            }
        }
    }
    // Objects steward cannot model are referenced by id, never by a name no file can declare.
    for entry in live.catalog.iter().filter(|e| e.supported) {
        let map = match entry.kind.as_ref_kind() {
            Some(RefKind::NamedLocation) => &mut names.locations,
            Some(RefKind::AuthenticationStrength) => &mut names.strengths,
            Some(
                RefKind::User
                | RefKind::Group
                | RefKind::Role
                | RefKind::Application
                | RefKind::ServicePrincipal
                | RefKind::MethodTarget,
            )
            | None => continue,
        };
        map.insert(entry.id.to_ascii_lowercase(), entry.name.clone());
    }
    names.shared = live.shared_names.clone();
    names.known_ids = live
        .catalog
        .iter()
        .map(|e| e.id.to_ascii_lowercase())
        .collect();
    Ok(names)
}

/// Everything the run has named, by lowercase id.
#[derive(Debug, Default)]
struct Names {
    objects: HashMap<String, String>,
    groups: BTreeSet<String>,
    applications: HashMap<String, String>,
    roles: HashMap<String, String>,
    locations: HashMap<String, String>,
    strengths: HashMap<String, String>,
    /// Ids whose name is shared: known, but written as ids.
    shared: BTreeSet<String>,
    /// Ids of every catalog object, modelled or not: known, so never orphans.
    known_ids: BTreeSet<String>,
}

impl Names {
    /// Every id → name known, whatever its kind.
    fn all(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for map in [
            &self.objects,
            &self.applications,
            &self.roles,
            &self.locations,
            &self.strengths,
        ] {
            out.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }

    /// True when `id` names an existing object, even one written by id.
    fn knows(&self, kind: RefKind, id: &str) -> bool {
        let id = id.to_ascii_lowercase();
        self.known_ids.contains(&id) || self.lookup(kind, &id).is_some()
    }

    fn lookup(&self, kind: RefKind, id: &str) -> Option<&String> {
        let map = match kind {
            RefKind::User | RefKind::Group | RefKind::ServicePrincipal | RefKind::MethodTarget => {
                &self.objects
            }
            RefKind::Application => &self.applications,
            RefKind::Role => &self.roles,
            RefKind::NamedLocation => &self.locations,
            RefKind::AuthenticationStrength => &self.strengths,
        };
        map.get(id)
    }
}

impl Directory for Names {
    fn name_of(&self, kind: RefKind, id: &str) -> Option<String> {
        if self.shared.contains(id) {
            return None;
        }
        self.lookup(kind, id).cloned()
    }
}

fn add(model: &mut Desired, kind: Kind, json: Value) {
    // Objects that do not fit the model were set aside as unsupported before this point.
    let _ = model.insert(kind, json);
}
