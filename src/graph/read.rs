//! Reading the live tenant into the model: every requested kind, with its references both as
//! Graph's ids and named, in as few requests as Graph allows (collections in pages, look-ups
//! in batches).
//!
//! A failed read of any kind fails the whole read: nothing downstream ever sees a partial
//! tenant as if it were whole.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::kinds::{self, Directory, ReadError, Unexpressed, authentication_strength};
use super::{GraphClient, GraphError, Resolver};
use crate::model::reference::RefKind;
use crate::model::{Address, Arity, Desired, Kind};

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

/// The tenant as read.
#[derive(Debug, Default)]
pub struct Live {
    /// The tenant in the model's terms, references named (what export writes).
    pub model: Desired,
    /// The tenant in the model's terms, references as Graph's ids (what plans compare).
    pub model_ids: Desired,
    /// The display name of every id the read met, for showing ids to people.
    pub names: HashMap<String, String>,
    /// Every managed object read, in kind order then by name.
    pub objects: Vec<LiveObject>,
    /// What the model cannot express yet, per object.
    pub unexpressed: Vec<(Address, Unexpressed)>,
    /// Names of the built-in authentication strengths, by id (they are Microsoft's, not
    /// managed, but policies refer to them).
    pub built_in_strengths: BTreeMap<String, String>,
}

/// Why the tenant could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadTenantError {
    /// A Graph request failed (after retries).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// An object refers to something that does not exist.
    #[error("{address}: {source}")]
    Unresolved {
        /// The object holding the reference.
        address: Address,
        /// The reference.
        source: kinds::Unresolved,
    },
    /// Two objects of one kind share a display name.
    #[error("{kind} name {name:?} is used by {} objects in the tenant (ids: {}); steward identifies objects by name - rename one in the portal, or pin the declared one with id=\"…\"", .ids.len(), .ids.join(", "))]
    Duplicate {
        /// The kind.
        kind: Kind,
        /// The shared name.
        name: String,
        /// Every id carrying it.
        ids: Vec<String>,
    },
    /// Graph's JSON did not have the shape its documentation gives.
    #[error("{address} (id {id}): {message}")]
    Shape {
        /// The object.
        address: Address,
        /// Its id.
        id: String,
        /// What was wrong.
        message: String,
    },
}

/// The kinds that must be read to read `kinds` (policies need the locations and strengths
/// they refer to, to name them).
pub fn kinds_to_read(kinds: &BTreeSet<Kind>) -> BTreeSet<Kind> {
    let mut out: BTreeSet<Kind> = kinds.iter().copied().filter(|k| k.is_resource()).collect();
    if out.contains(&Kind::ConditionalAccessPolicy) {
        out.insert(Kind::NamedLocation);
        out.insert(Kind::AuthenticationStrength);
    }
    out
}

async fn fetch(client: &GraphClient, kind: Kind) -> Result<(Kind, Vec<Value>), GraphError> {
    let Some(path) = kind.graph_path() else {
        return Ok((kind, Vec::new()));
    };
    if kind == Kind::RetentionLabel {
        client.require_signed_in_admin(kind.node_name()).await?;
    }
    let items = match kind.arity() {
        Arity::Named => client.list(path).await?,
        _ => vec![client.get(path).await?],
    };
    Ok((kind, items))
}

/// Reads `kinds` (and what they depend on) from the tenant.
pub async fn read_tenant(
    client: &GraphClient,
    resolver: &Resolver,
    kinds: &BTreeSet<Kind>,
) -> Result<Live, ReadTenantError> {
    let wanted = kinds_to_read(kinds);
    // Policies name roles by template id: read the role catalogue alongside the collections
    // rather than after them, so it costs no extra round trip on the critical path.
    let roles = async {
        if kinds.contains(&Kind::ConditionalAccessPolicy) {
            resolver.roles().await.map(|_| ())
        } else {
            Ok(())
        }
    };
    let (fetched, roles) = futures::future::join(
        futures::future::try_join_all(wanted.iter().map(|k| fetch(client, *k))),
        roles,
    )
    .await;
    let fetched = fetched?;
    roles?;

    let mut live = Live::default();
    // Graph JSON → model JSON for every object, collecting the references to name.
    let mut pending: Vec<(Kind, String, serde_json::Map<String, Value>, Value)> = Vec::new();
    let mut references: BTreeSet<(RefKind, String)> = BTreeSet::new();
    let mut location_names: HashMap<String, String> = HashMap::new();
    let mut strength_names: HashMap<String, String> = HashMap::new();
    for (kind, items) in fetched {
        for raw in items {
            let id = raw
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let name = raw
                .get("displayName")
                .and_then(Value::as_str)
                .map(String::from);
            match kind {
                Kind::NamedLocation => {
                    location_names
                        .insert(id.to_ascii_lowercase(), name.clone().unwrap_or_default());
                }
                Kind::AuthenticationStrength => {
                    strength_names
                        .insert(id.to_ascii_lowercase(), name.clone().unwrap_or_default());
                    if authentication_strength::is_built_in(&raw) {
                        live.built_in_strengths
                            .insert(id.clone(), name.unwrap_or_default());
                        continue;
                    }
                }
                _ => {}
            }
            let (json, unexpressed) = kinds::to_model_json(kind, &raw);
            let address = Address {
                kind,
                name: if kind.arity() == Arity::Named {
                    json.get("displayName")
                        .and_then(Value::as_str)
                        .map(String::from)
                } else {
                    None
                },
            };
            for u in unexpressed {
                live.unexpressed.push((address.clone(), u));
            }
            if kinds.contains(&kind) {
                references.extend(kinds::references(kind, &json));
                pending.push((kind, id, json, raw));
            }
        }
    }

    let directory = resolve(resolver, &references, location_names, strength_names).await?;

    let mut seen: BTreeMap<Address, Vec<String>> = BTreeMap::new();
    for (kind, id, mut json, raw) in pending {
        let address = Address {
            kind,
            name: if kind.arity() == Arity::Named {
                json.get("displayName")
                    .and_then(Value::as_str)
                    .map(String::from)
            } else {
                None
            },
        };
        add(&mut live.model_ids, kind, Value::Object(json.clone())).map_err(|e| {
            ReadTenantError::Shape {
                address: address.clone(),
                id: id.clone(),
                message: e.to_string(),
            }
        })?;
        kinds::name_references(kind, &mut json, &directory).map_err(|source| {
            ReadTenantError::Unresolved {
                address: address.clone(),
                source,
            }
        })?;
        add(&mut live.model, kind, Value::Object(json)).map_err(|e| ReadTenantError::Shape {
            address: address.clone(),
            id: id.clone(),
            message: e.to_string(),
        })?;
        seen.entry(address.clone()).or_default().push(id.clone());
        live.objects.push(LiveObject { address, id, raw });
    }
    for (address, ids) in seen {
        if ids.len() > 1
            && let Some(name) = address.name
        {
            let mut ids = ids;
            ids.sort();
            return Err(ReadTenantError::Duplicate {
                kind: address.kind,
                name,
                ids,
            });
        }
    }
    sort(&mut live.model);
    sort(&mut live.model_ids);
    live.names = directory.all();
    for object in &live.objects {
        if let Some(name) = &object.address.name {
            live.names
                .insert(object.id.to_ascii_lowercase(), name.clone());
        }
    }
    live.objects
        .sort_by(|a, b| a.address.cmp(&b.address).then_with(|| a.id.cmp(&b.id)));
    Ok(live)
}

/// The names of every referenced id, found in as few requests as possible: one
/// `getByIds` round for users, groups and service principals, one role catalogue read, one
/// filtered look-up round for applications by appId.
async fn resolve(
    resolver: &Resolver,
    references: &BTreeSet<(RefKind, String)>,
    locations: HashMap<String, String>,
    strengths: HashMap<String, String>,
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
                Ok(HashMap::new())
            } else {
                resolver.service_principals_by_name_or_app_id(&apps).await
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
        names.objects.insert(id.to_ascii_lowercase(), object.name);
    }
    for (app_id, object) in apps? {
        names
            .applications
            .insert(app_id.to_ascii_lowercase(), object.name);
    }
    if let Some(catalog) = roles? {
        for (_, id) in references.iter().filter(|(k, _)| *k == RefKind::Role) {
            if let Some(name) = catalog.name(id) {
                names.roles.insert(id.clone(), name.to_string());
            }
        }
    }
    names.locations = locations;
    names.strengths = strengths;
    Ok(names)
}

/// Everything the run has named, by lowercase id.
#[derive(Debug, Default)]
struct Names {
    objects: HashMap<String, String>,
    applications: HashMap<String, String>,
    roles: HashMap<String, String>,
    locations: HashMap<String, String>,
    strengths: HashMap<String, String>,
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
}

impl Directory for Names {
    fn name_of(&self, kind: RefKind, id: &str) -> Option<String> {
        let map = match kind {
            RefKind::User | RefKind::Group | RefKind::ServicePrincipal | RefKind::MethodTarget => {
                &self.objects
            }
            RefKind::Application => &self.applications,
            RefKind::Role => &self.roles,
            RefKind::NamedLocation => &self.locations,
            RefKind::AuthenticationStrength => &self.strengths,
        };
        map.get(id).cloned()
    }
}

fn from<T: DeserializeOwned>(json: Value) -> Result<T, ReadError> {
    serde_json::from_value(json).map_err(|e| ReadError::Shape(e.to_string()))
}

fn add(model: &mut Desired, kind: Kind, json: Value) -> Result<(), ReadError> {
    match kind {
        Kind::NamedLocation => model.named_locations.push(from(json)?),
        Kind::AuthenticationStrength => model.authentication_strengths.push(from(json)?),
        Kind::ConditionalAccessPolicy => model.conditional_access_policies.push(from(json)?),
        Kind::AuthenticationMethodsPolicy => {
            model.authentication_methods_policy = Some(from(json)?)
        }
        Kind::SecurityDefaults => model.security_defaults = Some(from(json)?),
        Kind::AuthorizationPolicy => model.authorization_policy = Some(from(json)?),
        Kind::SharepointSettings => model.sharepoint_settings = Some(from(json)?),
        Kind::RetentionLabel => model.retention_labels.push(from(json)?),
        Kind::EmergencyAccess | Kind::Prune => {}
    }
    Ok(())
}

/// Orders collections by name so that everything built from a read is deterministic.
fn sort(model: &mut Desired) {
    model
        .named_locations
        .sort_by(|a, b| a.display_name.cmp(&b.display_name));
    model
        .authentication_strengths
        .sort_by(|a, b| a.display_name.cmp(&b.display_name));
    model
        .conditional_access_policies
        .sort_by(|a, b| a.display_name.cmp(&b.display_name));
    model
        .retention_labels
        .sort_by(|a, b| a.display_name.cmp(&b.display_name));
}
