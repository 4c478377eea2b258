//! The tenant's state: one JSON object keyed by Graph path, persisted atomically.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Map, Value};

use super::{SandboxError, Seed, seed};

/// Reserved top-level key for the sandbox's own data (registered clients, signing key).
pub const RESERVED: &str = "_sandbox";

/// The tenant's data plus where it is persisted.
pub struct Store {
    pub data: Map<String, Value>,
    path: Option<PathBuf>,
    /// Objects created under `--consistency-delay-ms`: key `collection\nid` → visible from.
    hidden_until: HashMap<String, Instant>,
}

impl Store {
    /// Loads the state file, or seeds it (creating the file when a path is given); a seed is
    /// given `identity`'s (tenant id, domain) in place of Contoso's when there is one.
    pub fn open(
        path: Option<PathBuf>,
        seed: Seed,
        identity: Option<(&str, &str)>,
    ) -> Result<Store, SandboxError> {
        let mut created = false;
        let data = match &path {
            Some(p) if p.exists() => load(p)?,
            _ => {
                created = true;
                let data = match seed {
                    Seed::Demo => seed::demo(),
                    Seed::Messy => seed::messy(),
                    Seed::Empty => seed::empty(),
                };
                match identity {
                    Some((id, domain)) => seed::as_tenant(data, id, domain),
                    None => data,
                }
            }
        };
        let mut store = Store {
            data,
            path,
            hidden_until: HashMap::new(),
        };
        let added_key = store.ensure_signing_key();
        if created || added_key {
            store.persist().map_err(|source| SandboxError::WriteState {
                path: store.path.clone().unwrap_or_default(),
                source,
            })?;
        }
        Ok(store)
    }

    /// Generates the token signing key on first start so tokens survive restarts.
    fn ensure_signing_key(&mut self) -> bool {
        let reserved = self
            .data
            .entry(RESERVED.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !reserved.is_object() {
            *reserved = Value::Object(Map::new());
        }
        let Some(obj) = reserved.as_object_mut() else {
            return false;
        };
        if obj.get("signingKey").and_then(Value::as_str).is_some() {
            return false;
        }
        let bytes: [u8; 32] = rand::random();
        obj.insert("signingKey".into(), Value::String(hex::encode(bytes)));
        true
    }

    /// The tenant (organization) id in its data, if it has one.
    pub fn tenant_id(&self) -> Option<String> {
        self.data
            .get("organization")
            .and_then(Value::as_array)
            .and_then(|o| o.first())
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(String::from)
    }

    /// The tenant's initial verified domain (`contoso.onmicrosoft.com`), if its data has one.
    pub fn initial_domain(&self) -> Option<String> {
        self.data
            .get("organization")
            .and_then(Value::as_array)
            .and_then(|o| o.first())
            .and_then(|o| o.get("verifiedDomains"))
            .and_then(Value::as_array)
            .and_then(|d| {
                d.iter()
                    .find(|d| d.get("isInitial").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .map(String::from)
    }

    /// The HS256 key tokens are signed with.
    pub fn signing_key(&self) -> Vec<u8> {
        self.data
            .get(RESERVED)
            .and_then(|r| r.get("signingKey"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .as_bytes()
            .to_vec()
    }

    /// The registered clients (`_sandbox.clients`).
    pub fn clients(&self) -> Vec<Value> {
        self.data
            .get(RESERVED)
            .and_then(|r| r.get("clients"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Writes the whole state to a temporary file and renames it over the state file.
    pub fn persist(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = serde_json::to_vec_pretty(&Value::Object(self.data.clone()))
            .map_err(std::io::Error::other)?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state.json".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable where the platform allows it.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Hides a freshly created object from reads until `until`.
    pub fn hide_until(&mut self, collection: &str, id: &str, until: Instant) {
        self.hidden_until
            .insert(format!("{collection}\n{}", id.to_lowercase()), until);
    }

    /// Whether reads may see the object yet.
    pub fn visible(&self, collection: &str, id: &str) -> bool {
        if self.hidden_until.is_empty() {
            return true;
        }
        match self
            .hidden_until
            .get(&format!("{collection}\n{}", id.to_lowercase()))
        {
            Some(t) => Instant::now() >= *t,
            None => true,
        }
    }
}

fn load(path: &Path) -> Result<Map<String, Value>, SandboxError> {
    let text = std::fs::read(path).map_err(|source| SandboxError::ReadState {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| SandboxError::InvalidState {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let Value::Object(map) = value else {
        return Err(SandboxError::InvalidState {
            path: path.to_path_buf(),
            message: "the top level must be a JSON object keyed by Graph path".into(),
        });
    };
    for (key, value) in &map {
        if key.starts_with(RESERVED) {
            continue;
        }
        if !value.is_array() && !value.is_object() {
            return Err(SandboxError::InvalidState {
                path: path.to_path_buf(),
                message: format!(
                    "\"{key}\" must be an array (collection) or an object (singleton)"
                ),
            });
        }
    }
    Ok(map)
}
