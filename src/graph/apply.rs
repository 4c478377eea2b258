//! Writing a plan to the tenant: the [`Executor`] that `reconcile::apply` drives.
//!
//! Names in the plan become ids through one batched round of look-ups before the first write;
//! objects created during the apply join the table as they are created. Every write is
//! journalled as it happens, and a created object is waited for (bounded) until Graph serves it,
//! since Entra replicates with delay.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::kinds::WELL_KNOWN_IDS;
use super::kinds::write::{self, Ids, WriteRequest};
use super::read::Live;
use super::{GraphClient, GraphError, GraphRequest, Resolver};
use crate::model::plan::{Action, Plan, ResourceChange};
use crate::model::reference::{RefKind, is_guid};
use crate::model::{Arity, Kind};
use crate::reconcile::apply::Executor;

/// How long to wait for a created object to become readable before going on anyway.
const VISIBLE_WITHIN: Duration = Duration::from_secs(30);

/// The apply journal: one JSON line per write, appended as it happens.
pub struct Journal {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl Journal {
    /// Opens (creating) the journal file for appending.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(Some(file)),
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. A journal that cannot be written is reported, never ignored.
    fn write(&self, entry: &Value) -> Result<(), String> {
        let mut guard = self
            .file
            .lock()
            .map_err(|_| "the journal is unusable".to_string())?;
        let Some(file) = guard.as_mut() else {
            return Err("the journal is closed".into());
        };
        let line = format!("{entry}\n");
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| format!("cannot write the journal {}: {e}", self.path.display()))
    }
}

/// Writes plan changes to Graph.
pub struct GraphExecutor<'a> {
    client: &'a GraphClient,
    ids: Mutex<HashMap<(RefKind, String), String>>,
    live_raw: HashMap<String, Value>,
    journal: &'a Journal,
    stage: bool,
}

impl Ids for GraphExecutor<'_> {
    fn id_of(&self, kind: RefKind, name: &str) -> Option<String> {
        let ids = self.ids.lock().ok()?;
        ids.get(&(kind, name.to_ascii_lowercase())).cloned()
    }
}

/// Why the plan's names could not all be turned into ids.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Graph failed, or a name did not resolve.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

fn ref_uses(plan: &Plan) -> BTreeSet<(RefKind, String)> {
    let mut out = BTreeSet::new();
    for change in plan
        .resources
        .iter()
        .filter(|r| matches!(r.action, Action::Create | Action::Update))
    {
        let Some(after) = &change.after else { continue };
        super::kinds::walk_refs(
            change.kind.root_shape(),
            after,
            &mut |kind, text, _| {
                let special = kind
                    .special_values()
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(text));
                if !special && !is_guid(text) && !WELL_KNOWN_IDS.contains(&text) {
                    out.insert((kind, text.to_string()));
                }
            },
            "",
        );
    }
    out
}

impl<'a> GraphExecutor<'a> {
    /// Resolves every name the plan writes, in batches, and gets ready to write.
    pub async fn prepare(
        client: &'a GraphClient,
        resolver: &Resolver,
        plan: &Plan,
        live: &Live,
        journal: &'a Journal,
        stage: bool,
    ) -> Result<GraphExecutor<'a>, PrepareError> {
        let uses = ref_uses(plan);
        let names = |pred: &dyn Fn(RefKind, &str) -> bool| -> Vec<String> {
            let set: BTreeSet<String> = uses
                .iter()
                .filter(|(k, t)| pred(*k, t))
                .map(|(_, t)| t.clone())
                .collect();
            set.into_iter().collect()
        };
        let mut ids: HashMap<(RefKind, String), String> = HashMap::new();
        let users =
            names(&|k, t| k == RefKind::User || (k == RefKind::MethodTarget && t.contains('@')));
        if !users.is_empty() {
            for (upn, id) in resolver.users_by_upn(&users).await? {
                ids.insert((RefKind::User, upn.clone()), id.clone());
                ids.insert((RefKind::MethodTarget, upn), id);
            }
        }
        let groups =
            names(&|k, t| k == RefKind::Group || (k == RefKind::MethodTarget && !t.contains('@')));
        if !groups.is_empty() {
            for (name, id) in resolver.groups_by_name(&groups).await? {
                ids.insert((RefKind::Group, name.clone()), id.clone());
                ids.insert((RefKind::MethodTarget, name), id);
            }
        }
        let apps = names(&|k, _| matches!(k, RefKind::Application | RefKind::ServicePrincipal));
        if !apps.is_empty() {
            for (name, object) in resolver.service_principals_by_name_or_app_id(&apps).await? {
                if let Some(app_id) = &object.app_id {
                    ids.insert((RefKind::Application, name.clone()), app_id.clone());
                }
                ids.insert((RefKind::ServicePrincipal, name), object.id.clone());
            }
        }
        if uses.iter().any(|(k, _)| *k == RefKind::Role) {
            let catalog = resolver.roles().await?;
            for (_, name) in uses.iter().filter(|(k, _)| *k == RefKind::Role) {
                if let Some(id) = catalog.template_id(name) {
                    ids.insert((RefKind::Role, name.to_ascii_lowercase()), id.to_string());
                }
            }
        }
        for object in &live.objects {
            let Some(name) = &object.address.name else {
                continue;
            };
            let kind = match object.address.kind {
                Kind::NamedLocation => RefKind::NamedLocation,
                Kind::AuthenticationStrength => RefKind::AuthenticationStrength,
                _ => continue,
            };
            ids.insert((kind, name.to_ascii_lowercase()), object.id.clone());
        }
        for (id, name) in &live.built_in_strengths {
            ids.insert(
                (RefKind::AuthenticationStrength, name.to_ascii_lowercase()),
                id.clone(),
            );
        }
        // By id: two tenant objects may share an address (a display name).
        let live_raw = live
            .objects
            .iter()
            .map(|o| (o.id.to_ascii_lowercase(), o.raw.clone()))
            .collect();
        Ok(GraphExecutor {
            client,
            ids: Mutex::new(ids),
            live_raw,
            journal,
            stage,
        })
    }

    fn requests(&self, change: &ResourceChange) -> Result<Vec<WriteRequest>, String> {
        let id = change.id.clone().unwrap_or_default();
        let after = change
            .after
            .as_ref()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        match change.action {
            Action::Create => {
                let mut after = after;
                if self.stage && change.kind == Kind::ConditionalAccessPolicy {
                    // --stage: new policies start report-only, whatever the files say.
                    after.insert("state".into(), json!("enabledForReportingButNotEnforced"));
                }
                write::create(change.kind, &after, self).map_err(|e| e.to_string())
            }
            Action::Update => {
                let raw = self
                    .live_raw
                    .get(&id.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or(Value::Null);
                write::update(change.kind, &id, &after, &raw, Some(&change.changes), self)
                    .map_err(|e| e.to_string())
            }
            Action::Delete => Ok(write::delete(change.kind, &id).into_iter().collect()),
            Action::NoOp => Ok(Vec::new()),
        }
    }

    async fn send(
        &self,
        change: &ResourceChange,
        request: &WriteRequest,
    ) -> Result<Option<Value>, String> {
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut graph_request = GraphRequest::new(method, request.path.clone());
        if let Some(body) = &request.body {
            graph_request = graph_request.json(body.clone());
        }
        let result = self.client.send(graph_request).await;
        let (status, request_id, error) = match &result {
            Ok(response) => (Some(response.status), response.request_id.clone(), None),
            Err(GraphError::Http(http)) => (
                Some(http.status),
                http.request_id.clone(),
                Some(http.to_string()),
            ),
            Err(other) => (None, None, Some(other.to_string())),
        };
        let properties: Vec<String> = request
            .body
            .as_ref()
            .and_then(Value::as_object)
            .map(|b| b.keys().filter(|k| !k.starts_with('@')).cloned().collect())
            .unwrap_or_default();
        self.journal.write(&json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "resource": change.address,
            "action": change.action,
            "method": request.method,
            "path": request.path,
            "status": status,
            "request_id": request_id,
            "properties": properties,
            "changes": change.changes.iter().map(|c| json!({"path": c.path, "before": c.before, "after": c.after})).collect::<Vec<_>>(),
            "error": error,
        }))?;
        result.map(|r| r.body).map_err(|e| e.to_string())
    }

    /// Waits (bounded) until a created object can be read, as Entra replicates with delay.
    async fn wait_until_readable(&self, path: &str) {
        let deadline = Instant::now() + VISIBLE_WITHIN;
        let mut pause = Duration::from_millis(100);
        while Instant::now() < deadline {
            match self.client.get(path).await {
                Ok(_) => return,
                Err(GraphError::Http(h)) if h.status == 404 => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(_) => return,
            }
        }
    }
}

impl Executor for GraphExecutor<'_> {
    async fn execute(&self, change: &ResourceChange) -> Result<Option<String>, String> {
        let requests = self.requests(change)?;
        let mut id = change.id.clone();
        for request in &requests {
            let body = self.send(change, request).await?;
            if change.action == Action::Create
                && request.method == "POST"
                && change.kind.arity() == Arity::Named
            {
                let new_id = body
                    .as_ref()
                    .and_then(|b| b.get("id"))
                    .and_then(Value::as_str)
                    .map(String::from)
                    .ok_or_else(|| {
                        format!("Graph created {} but returned no id", change.address)
                    })?;
                if let (Some(name), Some(kind)) = (&change.name, ref_kind(change.kind))
                    && let Ok(mut ids) = self.ids.lock()
                {
                    ids.insert((kind, name.to_ascii_lowercase()), new_id.clone());
                }
                self.wait_until_readable(&format!("{}/{new_id}", request.path))
                    .await;
                id = Some(new_id);
            }
        }
        Ok(id)
    }
}

fn ref_kind(kind: Kind) -> Option<RefKind> {
    match kind {
        Kind::NamedLocation => Some(RefKind::NamedLocation),
        Kind::AuthenticationStrength => Some(RefKind::AuthenticationStrength),
        _ => None,
    }
}
