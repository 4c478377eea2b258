//! Name ⇄ id resolution with a per-run cache, batched: ids → names through
//! `POST /directoryObjects/getByIds` (≤ 1000 ids a call) and names → ids through `$batch`es of
//! `$filter=… in (…)` look-ups (≤ 15 values per filter, Graph's default cap on `in`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::batch::BatchItem;
use super::client::{GraphClient, GraphRequest};
use super::error::{GraphError, ResolveError};

/// Ids per `directoryObjects/getByIds` call (Graph's limit).
pub const GET_BY_IDS_MAX: usize = 1000;
/// Values per `$filter=… in (…)` (Graph's default limit of 15 expressions).
pub const IN_FILTER_MAX: usize = 15;

// Characters kept readable in a filter; everything else is percent-encoded.
pub(crate) const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b'\'');

/// What a directory object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A user (named by userPrincipalName).
    User,
    /// A group (named by displayName).
    Group,
    /// A service principal (named by its application's name).
    ServicePrincipal,
    /// A directory role (named by displayName; id is the role template id).
    Role,
    /// Any other directory object (named by displayName).
    Other,
}

/// A resolved directory object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryObject {
    /// Object id (for roles: the role template id).
    pub id: String,
    /// What it is.
    pub kind: ObjectKind,
    /// UPN for users, display name for groups and roles, application name for service principals.
    pub name: String,
    /// The application (client) id of a service principal.
    pub app_id: Option<String>,
}

/// Directory role definitions: display name ⇄ role template id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleCatalog {
    by_name: BTreeMap<String, String>,
    by_template: BTreeMap<String, String>,
}

impl RoleCatalog {
    /// The template id of a role display name (case-insensitive).
    pub fn template_id(&self, name: &str) -> Option<&str> {
        self.by_name.get(&name.to_lowercase()).map(String::as_str)
    }
    /// The display name of a role template id (case-insensitive).
    pub fn name(&self, template_id: &str) -> Option<&str> {
        self.by_template
            .get(&template_id.to_lowercase())
            .map(String::as_str)
    }
    /// Number of roles.
    pub fn len(&self) -> usize {
        self.by_template.len()
    }
    /// True when no role is known.
    pub fn is_empty(&self) -> bool {
        self.by_template.is_empty()
    }
}

/// What one name looked up in the directory came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// Exactly one object answers to it.
    Found(T),
    /// Nothing answers to it.
    Missing,
    /// Several objects answer to it (their ids, sorted).
    Ambiguous(Vec<String>),
}

impl<T> Lookup<T> {
    /// The one object, if there is exactly one.
    pub fn found(self) -> Option<T> {
        match self {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// Per-run, cached name ⇄ id look-ups over a [`GraphClient`].
#[derive(Debug)]
pub struct Resolver {
    client: GraphClient,
    by_id: Mutex<HashMap<String, DirectoryObject>>,
    /// Ids `getByIds` and the role catalogue answered with nothing (deleted objects still
    /// referenced): asked once per run, like the ones found.
    absent: Mutex<std::collections::HashSet<String>>,
    users: Mutex<HashMap<String, String>>,
    groups: Mutex<HashMap<String, Vec<String>>>,
    sps: Mutex<HashMap<String, Vec<DirectoryObject>>>,
    roles: tokio::sync::OnceCell<RoleCatalog>,
}

impl Resolver {
    /// A resolver with an empty cache.
    pub fn new(client: GraphClient) -> Self {
        Resolver {
            client,
            by_id: Mutex::default(),
            absent: Mutex::default(),
            users: Mutex::default(),
            groups: Mutex::default(),
            sps: Mutex::default(),
            roles: tokio::sync::OnceCell::new(),
        }
    }

    /// Names for object ids (users, groups, service principals, then role template ids);
    /// any id that resolves to nothing is an error listing them all.
    pub async fn names_for_ids(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, DirectoryObject>, GraphError> {
        let (found, missing) = self.try_names_for_ids(ids).await?;
        if !missing.is_empty() {
            return Err(ResolveError::NotFound {
                kind: "directory object".to_string(),
                references: missing,
                referenced_by: None,
            }
            .into());
        }
        Ok(found)
    }

    /// Like [`Resolver::names_for_ids`] but returns the unresolved ids (sorted) instead of
    /// failing, so the caller can name the object that refers to them.
    pub async fn try_names_for_ids(
        &self,
        ids: &[String],
    ) -> Result<(HashMap<String, DirectoryObject>, Vec<String>), GraphError> {
        let wanted = dedup(ids.iter().map(|s| s.to_lowercase()));
        let unknown: Vec<String> = {
            let cache = lock(&self.by_id);
            let absent = lock(&self.absent);
            wanted
                .iter()
                .filter(|id| !cache.contains_key(*id) && !absent.contains(*id) && is_guid(id))
                .cloned()
                .collect()
        };
        let calls = unknown.chunks(GET_BY_IDS_MAX).map(|chunk| {
            self.client.send(GraphRequest::post(
                "directoryObjects/getByIds",
                json!({ "ids": chunk, "types": ["user", "group", "servicePrincipal"] }),
            ))
        });
        for answer in futures::future::join_all(calls).await {
            let body = answer?.body.unwrap_or(Value::Null);
            let items = self
                .client
                .list_rest("/v1.0/directoryObjects/getByIds", body)
                .await?;
            let mut cache = lock(&self.by_id);
            for obj in items.iter().filter_map(directory_object) {
                cache.insert(obj.id.to_lowercase(), obj);
            }
        }
        // Ids that are no user, group or app may be role template ids (CA `includeRoles`).
        let still: Vec<String> = {
            let cache = lock(&self.by_id);
            wanted
                .iter()
                .filter(|id| !cache.contains_key(*id))
                .cloned()
                .collect()
        };
        if still.iter().any(|id| is_guid(id)) {
            let roles = self.roles().await?;
            let mut cache = lock(&self.by_id);
            for id in &still {
                if let Some(name) = roles.name(id) {
                    cache.insert(
                        id.clone(),
                        DirectoryObject {
                            id: id.clone(),
                            kind: ObjectKind::Role,
                            name: name.to_string(),
                            app_id: None,
                        },
                    );
                }
            }
        }
        let cache = lock(&self.by_id);
        let mut absent = lock(&self.absent);
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match cache.get(&id.to_lowercase()) {
                Some(o) => {
                    found.insert(id.clone(), o.clone());
                }
                None => {
                    absent.insert(id.to_lowercase());
                    missing.push(id.clone());
                }
            }
        }
        Ok((found, dedup(missing)))
    }

    /// User ids by UPN; keys are lowercase UPNs. An unknown UPN is an error listing them all.
    pub async fn users_by_upn(
        &self,
        upns: &[String],
    ) -> Result<HashMap<String, String>, GraphError> {
        let each = self.users_by_upn_each(upns).await?;
        unique(each, "user", &spelling(upns))
    }

    /// What each UPN names, one outcome per UPN (keys lowercase): an unknown UPN fails only
    /// itself.
    pub async fn users_by_upn_each(
        &self,
        upns: &[String],
    ) -> Result<BTreeMap<String, Lookup<String>>, GraphError> {
        let wanted = dedup(upns.iter().map(|s| s.to_lowercase()));
        let unknown: Vec<String> = {
            let cache = lock(&self.users);
            wanted
                .iter()
                .filter(|u| !cache.contains_key(*u))
                .cloned()
                .collect()
        };
        let found = self
            .filter_lookup(
                "users",
                "userPrincipalName",
                "id,userPrincipalName",
                &unknown,
            )
            .await?;
        let mut cache = lock(&self.users);
        for obj in &found {
            if let (Some(id), Some(upn)) = (str_of(obj, "id"), str_of(obj, "userPrincipalName")) {
                cache.insert(upn.to_lowercase(), id.clone());
                self.remember(id, ObjectKind::User, upn, None);
            }
        }
        Ok(outcomes(&wanted, |u| {
            cache.get(u).cloned().map(|id| vec![id])
        }))
    }

    /// Group ids by display name; keys are lowercase names. A name shared by several groups
    /// is [`ResolveError::Ambiguous`] listing every id; an unknown name is an error.
    pub async fn groups_by_name(
        &self,
        names: &[String],
    ) -> Result<HashMap<String, String>, GraphError> {
        let each = self.groups_by_name_each(names).await?;
        unique(each, "group", &spelling(names))
    }

    /// What each group name names, one outcome per name (keys lowercase; names compare
    /// case-insensitively, as Graph's `$filter` does).
    pub async fn groups_by_name_each(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, Lookup<String>>, GraphError> {
        let wanted = dedup(names.iter().map(|s| s.to_lowercase()));
        let unknown: Vec<String> = {
            let cache = lock(&self.groups);
            wanted
                .iter()
                .filter(|n| !cache.contains_key(*n))
                .cloned()
                .collect()
        };
        let found = self
            .filter_lookup("groups", "displayName", "id,displayName", &unknown)
            .await?;
        let mut cache = lock(&self.groups);
        for n in &unknown {
            cache.insert(n.clone(), Vec::new());
        }
        for obj in &found {
            if let (Some(id), Some(name)) = (str_of(obj, "id"), str_of(obj, "displayName"))
                && let Some(ids) = cache.get_mut(&name.to_lowercase())
                && !ids.contains(&id)
            {
                ids.push(id.clone());
                self.remember(id, ObjectKind::Group, name, None);
            }
        }
        Ok(outcomes(&wanted, |n| {
            cache.get(n).cloned().filter(|v| !v.is_empty())
        }))
    }

    /// Service principals by application name or application (client) id; keys are the
    /// references lowercased. Ambiguous names and unknown references are errors.
    pub async fn service_principals_by_name_or_app_id(
        &self,
        refs: &[String],
    ) -> Result<HashMap<String, DirectoryObject>, GraphError> {
        let each = self.service_principals_each(refs).await?;
        let ids = unique(
            each.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Lookup::Found(o) => Lookup::Found(o.id.clone()),
                        Lookup::Missing => Lookup::Missing,
                        Lookup::Ambiguous(ids) => Lookup::Ambiguous(ids.clone()),
                    };
                    (k.clone(), v)
                })
                .collect(),
            "service principal",
            &spelling(refs),
        )?;
        Ok(ids
            .into_keys()
            .filter_map(|r| {
                let obj = each.get(&r)?.clone().found()?;
                Some((r, obj))
            })
            .collect())
    }

    /// What each application name or appId names, one outcome per reference (keys lowercase).
    pub async fn service_principals_each(
        &self,
        refs: &[String],
    ) -> Result<BTreeMap<String, Lookup<DirectoryObject>>, GraphError> {
        let wanted = dedup(refs.iter().map(|s| s.to_lowercase()));
        let unknown: Vec<String> = {
            let cache = lock(&self.sps);
            wanted
                .iter()
                .filter(|r| !cache.contains_key(*r))
                .cloned()
                .collect()
        };
        let (app_ids, names): (Vec<String>, Vec<String>) =
            unknown.iter().cloned().partition(|r| is_guid(r));
        let select = "id,appId,displayName,appDisplayName";
        let (by_app, by_name) = futures::future::join(
            self.filter_lookup("servicePrincipals", "appId", select, &app_ids),
            self.filter_lookup("servicePrincipals", "displayName", select, &names),
        )
        .await;
        let mut cache = lock(&self.sps);
        for r in &unknown {
            cache.insert(r.clone(), Vec::new());
        }
        for obj in by_app?.iter().chain(by_name?.iter()) {
            let Some(sp) = service_principal(obj) else {
                continue;
            };
            self.remember(sp.id.clone(), sp.kind, sp.name.clone(), sp.app_id.clone());
            for key in [sp.app_id.clone(), str_of(obj, "displayName")]
                .into_iter()
                .flatten()
            {
                if let Some(list) = cache.get_mut(&key.to_lowercase())
                    && !list.iter().any(|o| o.id == sp.id)
                {
                    list.push(sp.clone());
                }
            }
        }
        Ok(wanted
            .iter()
            .map(|r| {
                let list = cache.get(r).cloned().unwrap_or_default();
                let outcome = match list.len() {
                    0 => Lookup::Missing,
                    1 => list
                        .into_iter()
                        .next()
                        .map_or(Lookup::Missing, Lookup::Found),
                    _ => {
                        let mut ids: Vec<String> = list.into_iter().map(|o| o.id).collect();
                        ids.sort();
                        Lookup::Ambiguous(ids)
                    }
                };
                (r.clone(), outcome)
            })
            .collect())
    }

    /// Keeps an object a name look-up found, so the id the tenant's objects carry for it is
    /// not looked up again in the same run.
    fn remember(&self, id: String, kind: ObjectKind, name: String, app_id: Option<String>) {
        lock(&self.by_id).insert(
            id.to_lowercase(),
            DirectoryObject {
                id,
                kind,
                name,
                app_id,
            },
        );
    }

    /// Directory role definitions (one read per run): name ⇄ template id.
    pub async fn roles(&self) -> Result<RoleCatalog, GraphError> {
        self.roles
            .get_or_try_init(|| async {
                let items = self
                    .client
                    .list("roleManagement/directory/roleDefinitions?$select=id,displayName,templateId")
                    .await?;
                let mut cat = RoleCatalog::default();
                for r in &items {
                    let Some(name) = str_of(r, "displayName") else { continue };
                    // Built-in roles have id == templateId; CA conditions use the template id.
                    let Some(tid) = str_of(r, "templateId").or_else(|| str_of(r, "id")) else {
                        continue;
                    };
                    cat.by_name.entry(name.to_lowercase()).or_insert(tid.clone());
                    cat.by_template.insert(tid.to_lowercase(), name);
                }
                Ok(cat)
            })
            .await
            .cloned()
    }

    /// Objects of `collection` whose `property` is one of `values`: `$filter=property in (…)`
    /// with ≤ 15 values each, sent as `$batch`es of 20, every result paged to its end.
    async fn filter_lookup(
        &self,
        collection: &str,
        property: &str,
        select: &str,
        values: &[String],
    ) -> Result<Vec<Value>, GraphError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<BatchItem> = values
            .chunks(IN_FILTER_MAX)
            .map(|chunk| {
                let list = chunk
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(",");
                let filter = format!("{property} in ({list})");
                BatchItem::get(format!(
                    "{collection}?$filter={}&$select={select}&$top=999",
                    utf8_percent_encode(&filter, QUERY_VALUE)
                ))
            })
            .collect();
        let mut out = Vec::new();
        for result in self.client.batch(items).await? {
            let url = result.url.clone();
            let body = result.into_result()?;
            out.extend(self.client.list_rest(&url, body).await?);
        }
        Ok(out)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned cache only means another task panicked; the data is still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// True for a GUID-shaped string (object and application ids).
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Lowercase key → the reference as the caller wrote it (for error messages).
fn spelling(refs: &[String]) -> HashMap<String, String> {
    refs.iter().map(|r| (r.to_lowercase(), r.clone())).collect()
}

/// One outcome per wanted key, from the ids each key answers to.
fn outcomes(
    wanted: &[String],
    get: impl Fn(&str) -> Option<Vec<String>>,
) -> BTreeMap<String, Lookup<String>> {
    wanted
        .iter()
        .map(|key| {
            let outcome = match get(key) {
                Some(mut ids) if ids.len() > 1 => {
                    ids.sort();
                    Lookup::Ambiguous(ids)
                }
                Some(ids) => ids
                    .into_iter()
                    .next()
                    .map_or(Lookup::Missing, Lookup::Found),
                None => Lookup::Missing,
            };
            (key.clone(), outcome)
        })
        .collect()
}

/// Each key's single id; ambiguity first, then every missing key, as one error.
fn unique(
    each: BTreeMap<String, Lookup<String>>,
    kind: &str,
    written: &HashMap<String, String>,
) -> Result<HashMap<String, String>, GraphError> {
    let shown = |k: &String| written.get(k).cloned().unwrap_or_else(|| k.clone());
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for (key, outcome) in each {
        match outcome {
            Lookup::Ambiguous(ids) => {
                return Err(ResolveError::Ambiguous {
                    kind: kind.to_string(),
                    name: shown(&key),
                    ids,
                    referenced_by: None,
                }
                .into());
            }
            Lookup::Found(id) => {
                out.insert(key, id);
            }
            Lookup::Missing => missing.push(shown(&key)),
        }
    }
    if !missing.is_empty() {
        return Err(ResolveError::NotFound {
            kind: kind.to_string(),
            references: missing,
            referenced_by: None,
        }
        .into());
    }
    Ok(out)
}

fn service_principal(v: &Value) -> Option<DirectoryObject> {
    Some(DirectoryObject {
        id: str_of(v, "id")?,
        kind: ObjectKind::ServicePrincipal,
        name: str_of(v, "appDisplayName")
            .or_else(|| str_of(v, "displayName"))
            .unwrap_or_default(),
        app_id: str_of(v, "appId"),
    })
}

/// A getByIds item, typed by its `@odata.type`.
fn directory_object(v: &Value) -> Option<DirectoryObject> {
    let ty = v.get("@odata.type").and_then(Value::as_str).unwrap_or("");
    let ty = ty
        .trim_start_matches('#')
        .trim_start_matches("microsoft.graph.");
    let id = str_of(v, "id")?;
    let (kind, name) = match ty.to_ascii_lowercase().as_str() {
        "user" => (ObjectKind::User, str_of(v, "userPrincipalName")),
        "group" => (ObjectKind::Group, str_of(v, "displayName")),
        "serviceprincipal" => return service_principal(v),
        "directoryrole" | "directoryroletemplate" => (ObjectKind::Role, str_of(v, "displayName")),
        _ => (ObjectKind::Other, str_of(v, "displayName")),
    };
    Some(DirectoryObject {
        name: name
            .or_else(|| str_of(v, "displayName"))
            .unwrap_or_else(|| id.clone()),
        id,
        kind,
        app_id: None,
    })
}
