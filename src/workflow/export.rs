//! `steward export`: today's tenant as canonical KDL, so a team starts from what it has.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::planning::TargetArgs;
use crate::cli::CommandError;
use crate::config::write;
use crate::graph::read::{Live, ReadOptions, read_tenant_with};
use crate::graph::{GraphClient, Resolver};
use crate::model::{Address, Kind};

/// Write the live tenant's settings as policy files (one per kind), ready to commit.
///
/// Output is deterministic: two exports of an unchanged tenant are byte-identical. Settings
/// steward cannot express yet are listed on stderr and as comments in the files; nothing is
/// dropped silently. A failed read writes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the policy files into (created if missing).
    #[arg(long, default_value = "exported")]
    pub out: PathBuf,
    /// Kinds to export, comma-separated node names (default: every kind the sign-in can read;
    /// a kind it cannot read is skipped with a note, unless named here).
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kinds: Vec<Kind>,
    #[command(flatten)]
    pub target: TargetArgs,
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::from_node_name(text)
        .filter(|k| k.is_resource())
        .ok_or_else(|| {
            format!(
                "unknown kind `{text}`; kinds: {}",
                Kind::ALL
                    .iter()
                    .filter(|k| k.is_resource())
                    .map(|k| k.node_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

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
                    crate::cli::output::one_line(&u.name),
                    u.id,
                    crate::cli::output::one_line(&u.reason)
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
                    crate::cli::output::one_line(name)
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
                crate::cli::output::one_line(&u.name)
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

pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let asked = !args.kinds.is_empty();
    let kinds: BTreeSet<Kind> = if asked {
        args.kinds.iter().copied().collect()
    } else {
        Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_resource())
            .collect()
    };
    let runtime = crate::cli::runtime()?;
    let live = runtime.block_on(async {
        let target = args.target.connect().await?;
        let live = read(&target.client, &kinds, !asked).await;
        args.target.graph.print_stats(&target.client);
        if let Some(sandbox) = target.sandbox {
            sandbox.shutdown().await;
        }
        live
    })?;
    let exported: BTreeSet<Kind> = kinds
        .iter()
        .copied()
        .filter(|k| !live.unreadable.iter().any(|(u, _)| u == k))
        .collect();
    let files = render(&live, &exported);
    write_files(&args.out, &files)?;
    for (address, u) in &live.unexpressed {
        eprintln!(
            "warning: {address}: {} cannot be expressed by steward yet and was not exported",
            u.path
        );
    }
    for u in &live.unsupported {
        eprintln!(
            "warning: {} {:?} (id {}) was not exported: {}",
            u.kind,
            crate::cli::output::one_line(&u.name),
            u.id,
            crate::cli::output::one_line(&u.reason)
        );
    }
    if !live.orphans.is_empty() {
        eprintln!(
            "warning: {} to deleted objects kept as ids (remove them in the portal to tidy up):",
            crate::cli::output::count(live.orphans.len(), "reference")
        );
        for o in &live.orphans {
            eprintln!("  {} {}: {} {}", o.resource, o.pointer, o.refers_to, o.id);
        }
    }
    for (kind, why) in &live.unreadable {
        eprintln!("note: {kind} was not exported: the sign-in cannot read it ({why})");
    }
    let skipped = if live.unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; skipped, the sign-in cannot read: {}",
            live.unreadable
                .iter()
                .map(|(k, _)| k.node_name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    println!(
        "Exported {} to {} ({}){skipped}.",
        crate::cli::output::count(live.objects.len(), "object"),
        args.out.display(),
        files
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

async fn read(
    client: &GraphClient,
    kinds: &BTreeSet<Kind>,
    skip_forbidden: bool,
) -> Result<Live, CommandError> {
    let resolver = Resolver::new(client.clone());
    let options = ReadOptions {
        skip_forbidden,
        check_shared_names: true,
    };
    read_tenant_with(client, &resolver, kinds, options)
        .await
        .map_err(|e| CommandError::User(format!("cannot read the tenant: {e}")))
}

/// Writes every file or none: into a temporary directory beside `out`, then renamed in.
fn write_files(out: &Path, files: &[(String, String)]) -> Result<(), CommandError> {
    std::fs::create_dir_all(out)
        .map_err(|e| CommandError::User(format!("cannot create {}: {e}", out.display())))?;
    for (name, text) in files {
        let path = out.join(name);
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| CommandError::User(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
