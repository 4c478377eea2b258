//! Writing a plan to the tenant: the [`Executor`] that `reconcile::apply` drives.
//!
//! Names in the plan become ids through one batched round of look-ups before the first write;
//! objects created during the apply join the table as they are created. Every write is
//! journalled twice: `started` before it is sent, then its outcome.
//!
//! Creates are idempotent. Graph has no create-if-absent, and a POST can take effect though
//! its answer is lost (a 504 from the gateway, a timeout, a dropped connection, a crash), while
//! Entra shows a new object to reads only after a replication delay. So before every create,
//! and before trying a create again, steward looks the object up by display name, and adopts
//! what it finds instead of making a second one. When an earlier attempt may have created it
//! (this run's, or a `started` / unknown / created entry of an earlier run's journal), the
//! look-up is repeated, with backoff, until the replication delay is over.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::kinds::WELL_KNOWN_IDS;
use super::kinds::write::{self, Ids, WriteRequest};
use super::read::Live;
use super::sharepoint::CSOM_PATH;
use super::{GraphClient, GraphError, GraphRequest, Resolver, TransportKind};
use crate::model::plan::{Action, Plan, ResourceChange};
use crate::model::reference::{RefKind, is_guid};
use crate::model::{Arity, Desired, Kind};
use crate::reconcile::apply::{ApplyError, Executor, GraphFailure};
use crate::reconcile::{LiveIds, PlanOptions};

/// How long Graph is given, by default, to show a created object to reads.
pub const DEFAULT_REPLICATION_WAIT: Duration = Duration::from_secs(60);

/// Creates sent for one object whose outcome stays unknown before apply gives up on it.
const CREATE_ATTEMPTS: u32 = 3;

/// Longest pause between two look-ups of an object that may have been created.
const LOOK_UP_PAUSE: Duration = Duration::from_secs(2);

/// The most of an earlier journal read at start: the latest entries are the ones that matter.
const JOURNAL_TAIL: u64 = 16 * 1024 * 1024;

/// The apply journal: JSON lines appended as writes happen, and what earlier runs recorded.
pub struct Journal {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    /// By lower-case resource address: when an earlier run last may have created it.
    may_exist_since: HashMap<String, DateTime<Utc>>,
}

/// How a write ended, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Graph answered 2xx.
    Succeeded,
    /// Graph refused, or the request was never sent: nothing changed.
    Failed,
    /// No telling whether it took effect (5xx, timeout, dropped connection).
    Unknown,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Event::Succeeded => "succeeded",
            Event::Failed => "failed",
            Event::Unknown => "unknown",
        }
    }
}

impl Journal {
    /// Opens (creating) the journal file for appending, after reading what earlier runs
    /// recorded about creates.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let (may_exist_since, ends_cleanly) = read_earlier(&mut file)?;
        if !ends_cleanly {
            // A run killed mid-line left half a line: start on a fresh one.
            file.write_all(b"\n")?;
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(Some(file)),
            may_exist_since,
        })
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When an earlier run last may have created `address` (a create started without a
    /// recorded outcome, with an unknown outcome, or that succeeded), if any did.
    pub fn may_exist_since(&self, address: &str) -> Option<DateTime<Utc>> {
        self.may_exist_since
            .get(&address.to_ascii_lowercase())
            .copied()
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

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads the end of an earlier journal: when each resource may have been created, and whether
/// the file ends with a whole line.
fn read_earlier(
    file: &mut std::fs::File,
) -> std::io::Result<(HashMap<String, DateTime<Utc>>, bool)> {
    let len = file.metadata()?.len();
    let start = len.saturating_sub(JOURNAL_TAIL);
    file.seek(std::io::SeekFrom::Start(start))?;
    let mut reader = std::io::BufReader::new(file.take(len - start));
    if start > 0 {
        // The first line read from the middle is a fragment.
        reader.read_until(b'\n', &mut Vec::new())?;
    }
    // Create attempts without a recorded outcome yet: attempt id → (address, started).
    let mut pending: HashMap<String, (String, DateTime<Utc>)> = HashMap::new();
    let mut since: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut note = |address: &str, time: DateTime<Utc>| {
        let slot = since.entry(address.to_ascii_lowercase()).or_insert(time);
        if time > *slot {
            *slot = time;
        }
    };
    let mut line = Vec::new();
    let mut ends_cleanly = true;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        ends_cleanly = line.ends_with(b"\n");
        let Ok(entry) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default();
        let Ok(time) = DateTime::parse_from_rfc3339(text("time")) else {
            continue;
        };
        let time = time.with_timezone(&Utc);
        let attempt = text("attempt").to_string();
        match text("event") {
            "started"
                if matches!(text("action"), "create" | "replace") && text("method") == "POST" =>
            {
                pending.insert(attempt, (text("resource").to_string(), time));
            }
            "succeeded" | "unknown" => {
                if let Some((address, _)) = pending.remove(&attempt) {
                    note(&address, time);
                }
            }
            "failed" => {
                pending.remove(&attempt);
            }
            "adopted" => note(text("resource"), time),
            _ => {}
        }
    }
    for (address, time) in pending.into_values() {
        note(&address, time);
    }
    Ok((since, ends_cleanly))
}

/// How apply writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSettings {
    /// `--stage`: new Conditional Access policies start report-only.
    pub stage: bool,
    /// Longest time Graph is given to show a created object to reads.
    pub replication_wait: Duration,
}

impl Default for WriteSettings {
    fn default() -> Self {
        WriteSettings {
            stage: false,
            replication_wait: DEFAULT_REPLICATION_WAIT,
        }
    }
}

/// Why a write did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WriteFailure {
    /// Nothing changed: Graph refused, or the request never left.
    Refused(ApplyError),
    /// It may or may not have taken effect.
    Unknown(ApplyError),
}

impl From<WriteFailure> for ApplyError {
    fn from(failure: WriteFailure) -> ApplyError {
        match failure {
            WriteFailure::Refused(e) | WriteFailure::Unknown(e) => e,
        }
    }
}

/// Graph's error answer behind `error`, when Graph answered with one.
fn graph_failure(error: &GraphError) -> Option<GraphFailure> {
    let http = match error {
        GraphError::Http(http) => http,
        GraphError::RetryExhausted { last, .. } => last,
        _ => return None,
    };
    Some(GraphFailure {
        status: http.status,
        code: http.code.clone(),
        message: http.message.clone(),
        request_id: http.request_id.clone(),
        client_request_id: http.client_request_id.clone(),
    })
}

/// `error` as an apply failure told as `message`, keeping Graph's answer.
fn failure(message: String, error: &GraphError) -> ApplyError {
    ApplyError {
        message,
        graph: graph_failure(error),
    }
}

/// Whether a failed request may have taken effect.
fn outcome_of(error: &GraphError) -> Event {
    match error {
        GraphError::Http(h) if h.status >= 500 => Event::Unknown,
        GraphError::RetryExhausted { server_errors, .. } if *server_errors > 0 => Event::Unknown,
        // Never connected: nothing was sent.
        GraphError::Transport {
            kind: TransportKind::Unreachable,
            ..
        } => Event::Failed,
        GraphError::Transport { .. } => Event::Unknown,
        // Graph answered 2xx, but with a body steward cannot use: it acted.
        GraphError::InvalidResponse { .. } | GraphError::Unusable { .. } => Event::Unknown,
        _ => Event::Failed,
    }
}

/// Writes plan changes to Graph.
pub struct GraphExecutor<'a> {
    client: &'a GraphClient,
    ids: Mutex<HashMap<(RefKind, String), String>>,
    live_raw: HashMap<String, Value>,
    journal: &'a Journal,
    settings: WriteSettings,
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
        settings: WriteSettings,
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
            let Some(kind) = object.address.kind.as_ref_kind() else {
                continue;
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
            settings,
        })
    }

    /// The declared object, as apply writes it (`--stage` makes new policies report-only).
    fn after(&self, change: &ResourceChange) -> Map<String, Value> {
        let mut after = change
            .after
            .as_ref()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if change.action == Action::Create
            && self.settings.stage
            && change.kind == Kind::ConditionalAccessPolicy
        {
            after.insert("state".into(), json!("enabledForReportingButNotEnforced"));
        }
        after
    }

    fn requests(&self, change: &ResourceChange) -> Result<Vec<WriteRequest>, String> {
        let id = change.id.clone().unwrap_or_default();
        let after = self.after(change);
        match change.action {
            Action::Create => write::create(change.kind, &after, self).map_err(|e| e.to_string()),
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
            // Delete first: the new object takes the old one's name.
            Action::Replace => {
                let mut requests: Vec<WriteRequest> =
                    write::delete(change.kind, &id).into_iter().collect();
                requests
                    .extend(write::create(change.kind, &after, self).map_err(|e| e.to_string())?);
                Ok(requests)
            }
            Action::NoOp => Ok(Vec::new()),
        }
    }

    /// Sends one write, journalling it before (`started`) and after (its outcome).
    async fn send(
        &self,
        change: &ResourceChange,
        request: &WriteRequest,
    ) -> Result<Option<Value>, WriteFailure> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|e| WriteFailure::Refused(ApplyError::new(e.to_string())))?;
        let is_create =
            request.method == "POST" && matches!(change.action, Action::Create | Action::Replace);
        let mut graph_request = GraphRequest::new(method, request.path.clone());
        if let Some(body) = &request.body {
            graph_request = graph_request.json(body.clone());
        }
        if is_create {
            graph_request = graph_request.not_repeatable();
        }
        let properties: Vec<String> = request
            .body
            .as_ref()
            .and_then(Value::as_object)
            .map(|b| b.keys().filter(|k| !k.starts_with('@')).cloned().collect())
            .unwrap_or_default();
        let attempt = uuid::Uuid::new_v4().to_string();
        self.journal
            .write(&json!({
                "time": now_text(),
                "attempt": attempt,
                "event": "started",
                "resource": change.address,
                "action": change.action,
                "method": request.method,
                "path": request.path,
                "properties": properties,
                "changes": change.changes.iter().map(|c| json!({"path": c.path, "before": c.before, "after": c.after})).collect::<Vec<_>>(),
            }))
            .map_err(|e| WriteFailure::Refused(ApplyError::new(format!("{e}; nothing was sent"))))?;
        let result = if request.path == CSOM_PATH {
            // A setting only SharePoint's admin API holds.
            let properties = request
                .body
                .as_ref()
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            match self.client.sharepoint().await {
                Ok(sharepoint) => sharepoint.write(&properties).await,
                Err(e) => Err(e),
            }
        } else {
            self.client.send(graph_request).await
        };
        let (event, status, request_id, error) = match &result {
            Ok(response) => (
                Event::Succeeded,
                Some(response.status),
                response.request_id.clone(),
                None,
            ),
            Err(e) => {
                let (status, request_id) = match e {
                    GraphError::Http(http) => (Some(http.status), http.request_id.clone()),
                    GraphError::RetryExhausted { last, .. } => {
                        (Some(last.status), last.request_id.clone())
                    }
                    _ => (None, None),
                };
                (outcome_of(e), status, request_id, Some(e.to_string()))
            }
        };
        let created = match &result {
            Ok(response) if is_create => response
                .body
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                .map(String::from),
            _ => None,
        };
        self.journal
            .write(&json!({
                "time": now_text(),
                "attempt": attempt,
                "event": event.name(),
                "resource": change.address,
                "action": change.action,
                "method": request.method,
                "path": request.path,
                "status": status,
                "request_id": request_id,
                "id": created,
                "error": error,
                "graph": result.as_ref().err().and_then(graph_failure),
            }))
            .map_err(|e| {
                let message = format!(
                    "{e}; the write was sent and Graph answered {}",
                    status.map_or_else(|| "nothing".to_string(), |s| s.to_string())
                );
                WriteFailure::Refused(match &result {
                    Err(graph) => failure(message, graph),
                    Ok(_) => ApplyError::new(message),
                })
            })?;
        match result {
            Ok(response) => Ok(response.body),
            Err(e) if event == Event::Unknown => {
                Err(WriteFailure::Unknown(failure(e.to_string(), &e)))
            }
            Err(e) => Err(WriteFailure::Refused(failure(e.to_string(), &e))),
        }
    }

    /// When the look-up for `address` may stop waiting for an object an earlier run may have
    /// created; `None` when no earlier run may have, or its replication window is over.
    fn earlier_window(&self, address: &str) -> Option<Instant> {
        let since = self.journal.may_exist_since(address)?;
        let wait = chrono::Duration::from_std(self.settings.replication_wait).ok()?;
        let left = (since + wait - Utc::now()).to_std().ok()?;
        Some(Instant::now() + left)
    }

    /// Finds the one object of the collection at `path` named `name`, looking again (with
    /// backoff) until `until` while it is not there.
    async fn look_up(
        &self,
        change: &ResourceChange,
        path: &str,
        name: &str,
        until: Option<Instant>,
    ) -> Result<Option<Value>, ApplyError> {
        let mut pause = Duration::from_millis(100);
        loop {
            let mut items = self.client.list(path).await.map_err(|e| {
                failure(
                    format!(
                        "cannot look for an existing {} before creating it: {e}",
                        change.address
                    ),
                    &e,
                )
            })?;
            items
                .iter_mut()
                .for_each(|raw| super::kinds::identify(change.kind, raw));
            // The object a replacement deleted may still be listed for a while: never adopt it.
            let replaced = (change.action == Action::Replace)
                .then_some(change.id.as_deref())
                .flatten();
            let found: Vec<&Value> = items
                .iter()
                .filter(|o| {
                    o.get("displayName")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                        && !replaced.is_some_and(|old| {
                            o.get("id")
                                .and_then(Value::as_str)
                                .is_some_and(|i| i.eq_ignore_ascii_case(old))
                        })
                })
                .collect();
            match found.as_slice() {
                [] => {}
                [one] => return Ok(Some((*one).clone())),
                many => {
                    let ids: Vec<&str> = many
                        .iter()
                        .filter_map(|o| o.get("id").and_then(Value::as_str))
                        .collect();
                    return Err(ApplyError::new(format!(
                        "{} objects named {name:?} already exist (ids {}): steward creates no other and picks none; delete the extra ones, or pin one with id=\"…\" in the file",
                        many.len(),
                        ids.join(", ")
                    )));
                }
            }
            let now = Instant::now();
            match until {
                Some(deadline) if now < deadline => {
                    tokio::time::sleep(pause.min(deadline - now)).await;
                    pause = (pause * 2).min(LOOK_UP_PAUSE);
                }
                _ => return Ok(None),
            }
        }
    }

    /// Creates a named object exactly once: looks it up first (waiting out replication when an
    /// attempt may have made it), adopts what it finds, and sends a create again only after an
    /// unknown outcome left nothing to find.
    async fn create(
        &self,
        change: &ResourceChange,
        request: &WriteRequest,
    ) -> Result<String, ApplyError> {
        let name = change.name.as_deref().ok_or_else(|| {
            ApplyError::new(format!(
                "{} has no display name to create it by",
                change.address
            ))
        })?;
        let wait = self.settings.replication_wait;
        // What earlier runs created under this address is the object a replacement deletes.
        let mut until = match change.action {
            Action::Replace => None,
            _ => self.earlier_window(&change.address),
        };
        let mut last_unknown: Option<ApplyError> = None;
        // A failed look-up after an unknown outcome must say that the object may exist.
        let may_exist = |e: ApplyError, unknown: &Option<ApplyError>| match unknown {
            Some(_) => {
                let message = format!(
                    "{e}; an earlier create got no clear answer, so {} may exist: run `steward apply` again, which looks for it first",
                    change.address
                );
                e.reworded(message)
            }
            None => e,
        };
        for _ in 0..CREATE_ATTEMPTS {
            let found = self
                .look_up(change, &request.path, name, until)
                .await
                .map_err(|e| may_exist(e, &last_unknown))?;
            if let Some(found) = found {
                return self.adopt(change, &request.path, found).await;
            }
            match self.send(change, request).await {
                Ok(mut body) => {
                    if let Some(raw) = body.as_mut() {
                        super::kinds::identify(change.kind, raw);
                    }
                    let id = body
                        .as_ref()
                        .and_then(|b| b.get("id"))
                        .and_then(Value::as_str)
                        .map(String::from)
                        .ok_or_else(|| {
                            ApplyError::new(format!(
                                "Graph created {} but returned no id",
                                change.address
                            ))
                        })?;
                    self.remember(change, &id);
                    self.wait_until_readable(&format!("{}/{id}", request.path))
                        .await;
                    return Ok(id);
                }
                Err(WriteFailure::Refused(e)) => return Err(e),
                Err(WriteFailure::Unknown(e)) => {
                    // It may exist: look for it until it would have replicated.
                    until = Some(Instant::now() + wait);
                    last_unknown = Some(e);
                }
            }
        }
        let found = self
            .look_up(change, &request.path, name, until)
            .await
            .map_err(|e| may_exist(e, &last_unknown))?;
        if let Some(found) = found {
            return self.adopt(change, &request.path, found).await;
        }
        let last = last_unknown.unwrap_or_else(|| ApplyError::new(String::new()));
        let message = format!(
            "{CREATE_ATTEMPTS} creates got no clear answer and the object did not appear within {}s after any of them (last: {last}); nothing more was sent. Run `steward apply` again once Graph answers: it looks for the object before creating it",
            wait.as_secs_f64(),
        );
        Err(last.reworded(message))
    }

    /// Takes an existing object as the one `change` creates: records its id and updates
    /// whatever it holds that the files do not say.
    async fn adopt(
        &self,
        change: &ResourceChange,
        path: &str,
        mut raw: Value,
    ) -> Result<String, ApplyError> {
        super::kinds::identify(change.kind, &mut raw);
        let id = raw
            .get("id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| {
                ApplyError::new(format!("Graph listed {} without an id", change.address))
            })?;
        self.journal.write(&json!({
            "time": now_text(),
            "event": "adopted",
            "resource": change.address,
            "action": change.action,
            "path": format!("{path}/{id}"),
            "id": id,
        }))?;
        self.remember(change, &id);
        let after = self.after(change);
        let changes = self.remaining_changes(change, &after, &raw, &id)?;
        if !changes.is_empty() {
            let requests = write::update(change.kind, &id, &after, &raw, Some(&changes), self)
                .map_err(|e| e.to_string())?;
            for request in &requests {
                self.send(change, request).await?;
            }
        }
        Ok(id)
    }

    /// What still differs between the declared object and `raw`, compared as a plan compares.
    fn remaining_changes(
        &self,
        change: &ResourceChange,
        after: &Map<String, Value>,
        raw: &Value,
        id: &str,
    ) -> Result<Vec<crate::model::plan::FieldChange>, String> {
        let kind = change.kind;
        // The declared side in the tenant's terms: names of objects as their ids.
        let mut declared = Value::Object(after.clone());
        super::kinds::map_refs(kind.root_shape(), &mut declared, &|k, text| {
            let special = k
                .special_values()
                .iter()
                .any(|s| s.eq_ignore_ascii_case(text));
            if special || is_guid(text) {
                None
            } else {
                self.id_of(k, text)
            }
        });
        let (mut live, _) = super::kinds::to_model_json(kind, raw);
        // Live collection objects carry their id, as the tenant read gives them.
        live.insert("id".into(), Value::String(id.to_string()));
        let bad = |e: serde_json::Error| {
            format!(
                "cannot compare {} with the tenant's object: {e}",
                change.address
            )
        };
        let desired = one(kind, declared).map_err(bad)?;
        let tenant = one(kind, Value::Object(live)).map_err(bad)?;
        let plan =
            crate::reconcile::plan(&desired, &tenant, &LiveIds::new(), &PlanOptions::default())
                .map_err(|e| e.to_string())?;
        Ok(plan
            .resources
            .into_iter()
            .find(|r| r.kind == kind)
            .map(|r| r.changes)
            .unwrap_or_default())
    }

    /// Puts a created or adopted object's id in the table, for the policies that use it.
    fn remember(&self, change: &ResourceChange, id: &str) {
        if let (Some(name), Some(kind)) = (&change.name, ref_kind(change.kind))
            && let Ok(mut ids) = self.ids.lock()
        {
            ids.insert((kind, name.to_ascii_lowercase()), id.to_string());
        }
    }

    /// Waits (bounded) until a created object can be read, as Entra replicates with delay.
    async fn wait_until_readable(&self, path: &str) {
        let deadline = Instant::now() + self.settings.replication_wait;
        let mut pause = Duration::from_millis(100);
        while Instant::now() < deadline {
            match self.client.get(path).await {
                Ok(_) => return,
                Err(GraphError::Http(h)) if h.status == 404 => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    tokio::time::sleep(pause.min(left)).await;
                    pause = (pause * 2).min(LOOK_UP_PAUSE);
                }
                Err(_) => return,
            }
        }
    }
}

/// A configuration holding only `json`, an object of `kind`, the way plans see one.
fn one(kind: Kind, json: Value) -> Result<Desired, serde_json::Error> {
    let mut desired = Desired::default();
    desired.insert(kind, json)?;
    Ok(desired)
}

impl Executor for GraphExecutor<'_> {
    async fn execute(&self, change: &ResourceChange) -> Result<Option<String>, ApplyError> {
        let requests = self.requests(change)?;
        let mut id = change.id.clone();
        for request in &requests {
            let creates = match change.action {
                Action::Create => id.is_none(),
                Action::Replace => true,
                _ => false,
            };
            if creates && request.method == "POST" && change.kind.arity() == Arity::Named {
                id = Some(self.create(change, request).await?);
            } else {
                self.send(change, request).await?;
            }
        }
        Ok(id)
    }
}

fn ref_kind(kind: Kind) -> Option<RefKind> {
    kind.as_ref_kind()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal_with(text: &str) -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, text).expect("write the journal");
        let journal = Journal::open(&path).expect("the journal opens");
        (dir, journal)
    }

    fn line(attempt: &str, event: &str, time: &str, resource: &str) -> String {
        format!(
            "{}\n",
            json!({"time": time, "attempt": attempt, "event": event, "resource": resource,
                   "action": "create", "method": "POST", "path": "identity/conditionalAccess/namedLocations"})
        )
    }

    #[test]
    fn a_create_started_without_an_outcome_or_with_an_unknown_one_may_exist() {
        let text = [
            line(
                "a",
                "started",
                "2030-01-01T00:00:00.000Z",
                "named-location \"HQ\"",
            ),
            line(
                "b",
                "started",
                "2030-01-01T00:00:01.000Z",
                "named-location \"Lab\"",
            ),
            line(
                "b",
                "unknown",
                "2030-01-01T00:00:05.000Z",
                "named-location \"Lab\"",
            ),
            line(
                "c",
                "started",
                "2030-01-01T00:00:02.000Z",
                "named-location \"Gone\"",
            ),
            line(
                "c",
                "failed",
                "2030-01-01T00:00:03.000Z",
                "named-location \"Gone\"",
            ),
        ]
        .concat();
        let (_dir, journal) = journal_with(&text);
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .ok()
        };
        assert_eq!(
            journal.may_exist_since("named-location \"hq\""),
            at("2030-01-01T00:00:00.000Z")
        );
        assert_eq!(
            journal.may_exist_since("named-location \"Lab\""),
            at("2030-01-01T00:00:05.000Z")
        );
        assert_eq!(journal.may_exist_since("named-location \"Gone\""), None);
    }

    #[test]
    fn a_half_written_last_line_is_skipped_and_the_next_entry_starts_a_new_line() {
        let text = format!(
            "{}{{\"time\": \"2030-01-01T00:00:09.000Z\", \"attempt\": \"a\", \"ev",
            line(
                "a",
                "started",
                "2030-01-01T00:00:00.000Z",
                "named-location \"HQ\""
            )
        );
        let (dir, journal) = journal_with(&text);
        assert!(journal.may_exist_since("named-location \"HQ\"").is_some());
        journal
            .write(&json!({"event": "adopted"}))
            .expect("the journal is writable");
        let written = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap_or_default();
        assert!(
            written.ends_with("\"ev\n{\"event\":\"adopted\"}\n"),
            "{written}"
        );
    }

    #[test]
    fn unknown_outcomes_are_server_errors_timeouts_broken_connections_and_unusable_answers() {
        let http = |status| {
            GraphError::from(super::super::HttpError {
                method: "POST".into(),
                path: "/v1.0/x".into(),
                status,
                code: None,
                message: None,
                request_id: None,
                client_request_id: None,
            })
        };
        let transport = |kind| GraphError::Transport {
            method: "POST".into(),
            path: "/v1.0/x".into(),
            host: "h".into(),
            kind,
            attempts: 1,
            detail: String::new(),
        };
        assert_eq!(outcome_of(&http(504)), Event::Unknown);
        assert_eq!(outcome_of(&http(500)), Event::Unknown);
        assert_eq!(outcome_of(&http(400)), Event::Failed);
        assert_eq!(outcome_of(&http(409)), Event::Failed);
        assert_eq!(
            outcome_of(&transport(TransportKind::Timeout)),
            Event::Unknown
        );
        assert_eq!(outcome_of(&transport(TransportKind::Other)), Event::Unknown);
        assert_eq!(
            outcome_of(&transport(TransportKind::Unreachable)),
            Event::Failed
        );
        let unusable = GraphError::Unusable {
            method: "POST".into(),
            path: "/v1.0/x".into(),
            request_id: None,
            detail: "too large".into(),
            advice: String::new(),
        };
        assert_eq!(outcome_of(&unusable), Event::Unknown);
    }
}
