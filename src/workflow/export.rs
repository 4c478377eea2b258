//! Export: today's tenant as canonical KDL, so a team starts from what it has.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::{Error, Result};
use crate::config::write;
use crate::graph::read::{Live, ReadOptions, read_tenant_with};
use crate::graph::{GraphClient, Resolver};
use crate::model::{Address, Kind};

/// The file each kind is exported to.
pub fn file_name(kind: Kind) -> String {
    kind.spec().export_file.to_string()
}

/// Renders the export: file name → text, for the kinds asked.
///
/// Every file validates and plans clean against the tenant it came from: objects whose display
/// name is shared are pinned by `id="…"`; references that cannot be written as a unique name
/// (deleted objects, shared names, objects steward does not model) are written as ids with a
/// comment saying what they are; objects steward cannot model are listed as comments only.
pub fn render(live: &Live, kinds: &BTreeSet<Kind>) -> Vec<(String, String)> {
    let notes = id_notes(live);
    let mut files = Vec::new();
    for kind in kinds {
        let mut text = format!(
            "// {} exported by `steward export`. Review, then commit.\n",
            kind.description().trim_end_matches('.')
        );
        let mut any = false;
        for (address, mut json) in resources(live, *kind) {
            any = true;
            text.push('\n');
            for (_, u) in live.unexpressed.iter().filter(|(a, _)| *a == address) {
                text.push_str(&format!(
                    "// not exported (steward cannot express it yet): {} = {}\n",
                    u.path, u.value
                ));
            }
            let id = json
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_ascii_lowercase);
            match id {
                Some(id) if live.shared_names.contains(&id) => text.push_str(
                    "// Another object in the tenant has this display name: pinned by id.\n",
                ),
                _ => {
                    json.remove("id");
                }
            }
            text.push_str(&annotate_ids(&write::resource(*kind, &json), &notes));
        }
        let unsupported: Vec<_> = live
            .unsupported
            .iter()
            .filter(|u| u.kind == *kind)
            .collect();
        if !unsupported.is_empty() {
            any = true;
            text.push('\n');
            for u in unsupported {
                text.push_str(&format!(
                    "// not exported: {} {:?} (id {}): {}\n",
                    u.kind,
                    crate::render::one_line(&u.name),
                    u.id,
                    crate::render::one_line(&u.reason)
                ));
            }
        }
        if any {
            files.push((file_name(*kind), text));
        }
    }
    files
}

/// What each id written as an id (not a name) is, for a comment beside it.
fn id_notes(live: &Live) -> HashMap<String, String> {
    let mut notes = HashMap::new();
    for orphan in &live.orphans {
        notes.insert(
            orphan.id.to_ascii_lowercase(),
            format!("deleted {}", orphan.refers_to),
        );
    }
    for id in &live.shared_names {
        if let Some(name) = live.names.get(id) {
            notes.insert(
                id.clone(),
                format!(
                    "{:?}, a name other objects share",
                    crate::render::one_line(name)
                ),
            );
        }
    }
    for u in &live.unsupported {
        notes.insert(
            u.id.to_ascii_lowercase(),
            format!(
                "{} {:?}, which steward does not model",
                u.kind,
                crate::render::one_line(&u.name)
            ),
        );
    }
    notes
}

/// `text` with a comment at the end of each line naming the ids in it that `notes` explains.
fn annotate_ids(text: &str, notes: &HashMap<String, String>) -> String {
    if notes.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line);
        // A node's own pin needs no note; its comment line above says why it is there.
        if !line.starts_with(' ') {
            out.push('\n');
            continue;
        }
        let said: Vec<String> = guids_in(line)
            .into_iter()
            .filter_map(|id| {
                notes
                    .get(&id.to_ascii_lowercase())
                    .map(|note| format!("{id}: {note}"))
            })
            .collect();
        if !said.is_empty() {
            out.push_str(" // ");
            out.push_str(&said.join("; "));
        }
        out.push('\n');
    }
    out
}

/// The quoted GUIDs in a line, in order.
fn guids_in(line: &str) -> Vec<&str> {
    line.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| crate::model::reference::is_guid(s))
        .collect()
}

fn resources(
    live: &Live,
    kind: Kind,
) -> Vec<(Address, serde_json::Map<String, serde_json::Value>)> {
    live.model
        .resources(kind)
        .into_iter()
        .map(|(name, json)| match name {
            Some(name) => (Address::named(kind, name), json),
            None => (Address::singleton(kind), json),
        })
        .collect()
}

/// Reads `kinds` from the tenant for export; with `skip_forbidden`, a kind the sign-in cannot
/// read is left out (listed in [`Live::unreadable`]) instead of failing the read.
pub async fn read(
    client: &GraphClient,
    kinds: &BTreeSet<Kind>,
    skip_forbidden: bool,
) -> Result<Live> {
    let resolver = Resolver::new(client.clone());
    let options = ReadOptions {
        skip_forbidden,
        check_shared_names: true,
    };
    read_tenant_with(client, &resolver, kinds, options)
        .await
        .map_err(Error::read)
}

/// Writes every file or none: into a temporary directory beside `out`, then renamed in.
pub fn write_files(out: &Path, files: &[(String, String)]) -> Result<()> {
    std::fs::create_dir_all(out).map_err(Error::io(format!("cannot create {}", out.display())))?;
    for (name, text) in files {
        let path = out.join(name);
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    Ok(())
}
