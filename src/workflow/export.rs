//! Export: today's tenant as canonical KDL, so a team starts from what it has.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

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
        sharepoint_admin: true,
        sharepoint_search: true,
        // A sign-in that cannot reach SharePoint still exports Graph's half.
        sharepoint_optional: true,
    };
    read_tenant_with(client, &resolver, kinds, options)
        .await
        .map_err(Error::read)
}

/// Writes the export into `out`, all files or none: they are written into a temporary
/// directory beside `out`, which then takes `out`'s place. Whatever `out` held that export does
/// not write (other files, subdirectories) is carried over unchanged (hard-linked, or copied
/// where links are not possible); a file export writes replaces the one of that name.
///
/// An export interrupted while writing leaves `out` as it was. The switch is two renames (`out`
/// aside, the new directory in); interrupted between them, the old directory is kept beside
/// `out` as `.NAME.steward-old-…`. `out` may not be the current directory or one above it, which
/// cannot be replaced.
pub fn write_files(out: &Path, files: &[(String, String)]) -> Result<()> {
    write_files_with(out, files, &|path, text| std::fs::write(path, text))
}

/// [`write_files`], writing each file with `write` (tests make it fail).
fn write_files_with(
    out: &Path,
    files: &[(String, String)],
    write: &dyn Fn(&Path, &str) -> std::io::Result<()>,
) -> Result<()> {
    let refuse =
        |why: String| Error::Destination(format!("cannot export to {}: {why}", out.display()));
    // A symbolic link to a directory: the directory it names is replaced, the link stays.
    let out = match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(out)
            .map_err(Error::io(format!("cannot follow {}", out.display())))?,
        _ => out.to_path_buf(),
    };
    let existing = match std::fs::metadata(&out) {
        Ok(m) if m.is_dir() => Some(m),
        Ok(_) => return Err(refuse("it is a file, not a directory".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(format!("cannot read {}", out.display()))(e)),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|_| existing.is_none() || !is_current_or_above(&out));
    let Some(name) = name else {
        return Err(refuse(
            "export replaces the directory it writes, and this is the current directory or one above it; give a subdirectory, e.g. --out exported".into(),
        ));
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(Error::io(format!("cannot create {}", parent.display())))?;
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let staging = Staging(
        parent.join(format!(".{name}.steward-export-{}", &unique[..12])),
        false,
    );
    std::fs::create_dir(&staging.0)
        .map_err(Error::io(format!("cannot create {}", staging.0.display())))?;
    let owned: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    if let Some(meta) = &existing {
        let entries =
            std::fs::read_dir(&out).map_err(Error::io(format!("cannot read {}", out.display())))?;
        for entry in entries {
            let entry = entry.map_err(Error::io(format!("cannot read {}", out.display())))?;
            let file = entry.file_name();
            let text = file.to_string_lossy();
            let from = entry.path();
            if owned.contains(text.as_ref()) {
                if !std::fs::symlink_metadata(&from).is_ok_and(|m| m.is_file()) {
                    return Err(refuse(format!(
                        "{} is in the way: export writes a file of that name; move it away",
                        from.display()
                    )));
                }
                continue;
            }
            // What an export before this way of writing left when interrupted.
            if text.starts_with('.')
                && text.ends_with(".tmp")
                && owned.contains(&text[1..text.len() - 4])
            {
                continue;
            }
            carry_over(&from, &staging.0.join(&file))
                .map_err(Error::io(format!("cannot carry {} over", from.display())))?;
        }
        std::fs::set_permissions(&staging.0, meta.permissions()).map_err(Error::io(format!(
            "cannot set the permissions of {}",
            staging.0.display()
        )))?;
    }
    for (file, text) in files {
        write(&staging.0.join(file), text).map_err(Error::io(format!(
            "cannot write {}",
            out.join(file).display()
        )))?;
    }
    if existing.is_none() {
        std::fs::rename(&staging.0, &out)
            .map_err(Error::io(format!("cannot create {}", out.display())))?;
        staging.keep();
        return Ok(());
    }
    let old = parent.join(format!(".{name}.steward-old-{}", &unique[..12]));
    std::fs::rename(&out, &old).map_err(Error::io(format!("cannot replace {}", out.display())))?;
    if let Err(e) = std::fs::rename(&staging.0, &out) {
        // Put the old directory back: nothing changed.
        let _ = std::fs::rename(&old, &out);
        return Err(Error::io(format!("cannot replace {}", out.display()))(e));
    }
    staging.keep();
    // The new directory holds everything that is kept; what is left is the replaced files.
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// True when `dir` is the current directory or one of its ancestors.
fn is_current_or_above(dir: &Path) -> bool {
    let here = std::env::current_dir().and_then(|d| d.canonicalize());
    let dir = dir.canonicalize();
    matches!((here, dir), (Ok(here), Ok(dir)) if here.starts_with(&dir))
}

/// Puts `from` at `to` without changing it: files hard-linked (copied where a link cannot be
/// made), directories recreated with their contents, symbolic links recreated.
fn carry_over(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from)?;
        #[cfg(unix)]
        return std::os::unix::fs::symlink(target, to);
        #[cfg(not(unix))]
        {
            // Without Unix symbolic links: a copy of what the link names.
            let _ = target;
            return std::fs::copy(from, to).map(|_| ());
        }
    }
    if meta.is_dir() {
        std::fs::create_dir(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            carry_over(&entry.path(), &to.join(entry.file_name()))?;
        }
        return std::fs::set_permissions(to, meta.permissions());
    }
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)?;
    }
    Ok(())
}

/// A directory being written; removed when dropped, unless [`Staging::keep`] was called.
struct Staging(PathBuf, bool);

impl Staging {
    /// The directory was renamed into place: nothing to remove.
    fn keep(mut self) {
        self.1 = true;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const CA: &str = "conditional-access-policies.kdl";
    const NL: &str = "named-locations.kdl";

    /// Every file under `dir`: relative path → contents.
    fn tree(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path.strip_prefix(dir).unwrap().display().to_string();
                    out.insert(name, std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        out
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn files(ca: &str, nl: &str) -> Vec<(String, String)> {
        vec![(CA.into(), ca.into()), (NL.into(), nl.into())]
    }

    /// An earlier export, and a file and a directory of the team's own.
    fn earlier(root: &Path) -> PathBuf {
        let out = root.join("exported");
        std::fs::create_dir_all(out.join("notes")).unwrap();
        std::fs::write(out.join(CA), "old policies").unwrap();
        std::fs::write(out.join(NL), "old locations").unwrap();
        std::fs::write(out.join("README.md"), "ours").unwrap();
        std::fs::write(out.join("notes/why.txt"), "ours too").unwrap();
        out
    }

    #[test]
    fn a_write_failing_midway_leaves_the_earlier_export_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let out = earlier(tmp.path());
        let before = tree(&out);
        let failing = |path: &Path, text: &str| {
            if path.ends_with(NL) {
                Err(std::io::Error::other("disk full"))
            } else {
                std::fs::write(path, text)
            }
        };
        let err = write_files_with(&out, &files("new policies", "new locations"), &failing)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("cannot write {}: disk full", out.join(NL).display())
        );
        assert_eq!(tree(&out), before);
        // Nothing is left beside it either.
        assert_eq!(names_in(tmp.path()), ["exported"]);
    }

    #[test]
    fn something_in_the_way_of_a_later_file_stops_the_export_before_any_file_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("exported");
        std::fs::create_dir_all(out.join(NL)).unwrap();
        std::fs::write(out.join(CA), "old policies").unwrap();
        let err = write_files(&out, &files("new policies", "new locations"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "cannot export to {}: {} is in the way: export writes a file of that name; move it away",
                out.display(),
                out.join(NL).display()
            )
        );
        assert_eq!(
            std::fs::read_to_string(out.join(CA)).unwrap(),
            "old policies"
        );
        assert_eq!(names_in(tmp.path()), ["exported"]);
    }

    #[test]
    fn an_export_replaces_its_own_files_and_keeps_everything_else() {
        let tmp = tempfile::tempdir().unwrap();
        let out = earlier(tmp.path());
        std::fs::write(out.join("retention-labels.kdl"), "from an earlier export").unwrap();
        write_files(&out, &files("new policies", "new locations")).unwrap();
        let expected: BTreeMap<String, String> = [
            (CA, "new policies"),
            (NL, "new locations"),
            ("README.md", "ours"),
            ("notes/why.txt", "ours too"),
            ("retention-labels.kdl", "from an earlier export"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(tree(&out), expected);
        assert_eq!(names_in(tmp.path()), ["exported"]);
    }

    #[test]
    fn a_missing_directory_is_created_with_its_parents() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/b/exported");
        write_files(&out, &files("p", "l")).unwrap();
        assert_eq!(names_in(&out), [CA, NL]);
        assert_eq!(names_in(&tmp.path().join("a/b")), ["exported"]);
    }

    #[test]
    fn the_current_directory_is_refused_and_left_alone() {
        let here = std::env::current_dir().unwrap();
        let before = names_in(&here);
        for out in [here.clone(), PathBuf::from("."), PathBuf::from("..")] {
            let err = write_files(&out, &files("p", "l")).unwrap_err().to_string();
            assert!(
                err.ends_with("this is the current directory or one above it; give a subdirectory, e.g. --out exported"),
                "{err}"
            );
        }
        assert_eq!(names_in(&here), before);
    }
}
