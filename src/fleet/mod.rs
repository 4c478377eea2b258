//! Many tenants from one repository.
//!
//! A fleet repository holds `baseline/` (what every tenant gets), optional `groups/<name>/`,
//! and `tenants/<name>/` (a `tenant.kdl` saying which tenant it is, its groups and its
//! parameter values, plus any files of its own). A tenant's configuration is its layers put
//! together — baseline, then each of its groups in the order it lists them, then its own
//! files — where a lower layer's declaration of the same resource overrides the one above it
//! setting by setting ([`layers`]), parameters take the tenant's typed values ([`params`]), and
//! recorded deviations are accepted differences ([`deviation`]). [`resolve`] produces what
//! every command then works on: the same [`crate::config::Loaded`] a plain repository gives.

pub mod deviation;
mod layers;
mod params;
mod resolve;
mod tenant;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::{self, Diagnostic};

pub use deviation::{Accepted, Deviation};
pub use resolve::{Resolved, render, resolve, resolve_all, today};
pub use tenant::{SignIn, TENANT_FILE, TenantEntry, is_domain};

/// The directory of the baseline layer.
pub const BASELINE_DIR: &str = "baseline";
/// The directory holding one directory per group.
pub const GROUPS_DIR: &str = "groups";
/// The directory holding one directory per tenant.
pub const TENANTS_DIR: &str = "tenants";

/// A fleet repository: its root and its tenants.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The repository's root (the directory holding `tenants/`).
    pub root: PathBuf,
    /// Every tenant, by directory name.
    pub tenants: Vec<TenantEntry>,
    /// The groups that have a directory under `groups/`.
    pub groups: BTreeSet<String>,
}

/// Which tenants a command runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One tenant, by directory name, tenant id or domain.
    One(String),
    /// Every tenant.
    All,
    /// The tenants of a group.
    Group(String),
    /// Several tenants, by name.
    Some(Vec<String>),
    /// The tenant at this place (from 0) in name order: what a Kubernetes Indexed Job's
    /// `JOB_COMPLETION_INDEX` picks.
    Index(usize),
}

impl std::fmt::Display for Selection {
    /// As `--tenants` takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selection::One(name) => f.write_str(name),
            Selection::All => f.write_str("all"),
            Selection::Group(group) => write!(f, "group:{group}"),
            Selection::Some(names) => f.write_str(&names.join(",")),
            Selection::Index(index) => write!(f, "index:{index}"),
        }
    }
}

impl std::str::FromStr for Selection {
    type Err = String;

    /// `all`, `group:NAME`, `index:N`, or tenant names separated by commas.
    fn from_str(text: &str) -> Result<Selection, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Ok(Selection::All);
        }
        if let Some(index) = text.strip_prefix("index:") {
            return index.trim().parse().map(Selection::Index).map_err(|_| {
                format!("`{text}`: write index:N, N a whole number from 0 (the tenant's place in name order)")
            });
        }
        if let Some(group) = text.strip_prefix("group:") {
            if group.trim().is_empty() {
                return Err("write group:NAME, NAME a directory under groups/".into());
            }
            return Ok(Selection::Group(group.trim().to_string()));
        }
        let names: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect();
        if names.is_empty() {
            return Err("write all, group:NAME, or tenant names separated by commas".into());
        }
        Ok(Selection::Some(names))
    }
}

/// The fleet root `paths` point at, if they point at one: a single path holding `tenants/`,
/// or, for the default `policies` when it does not exist, the current directory holding it.
pub fn detect(paths: &[PathBuf]) -> Option<PathBuf> {
    match paths {
        [one] if is_fleet(one) => Some(one.clone()),
        [one] if one == Path::new("policies") && !one.exists() && is_fleet(Path::new(".")) => {
            Some(PathBuf::from("."))
        }
        _ => None,
    }
}

/// True when `dir` holds a `tenants/` directory.
pub fn is_fleet(dir: &Path) -> bool {
    dir.join(TENANTS_DIR).is_dir()
}

fn subdirectories(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.is_dir() {
            out.push((entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    out.sort();
    Ok(out)
}

impl Fleet {
    /// Reads the fleet's layout and every `tenant.kdl`; `Err` holds every problem found.
    pub fn open(root: &Path) -> Result<Fleet, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        let unreadable = |what: &Path, e: std::io::Error| {
            Diagnostic::unlocated(
                "steward::unreadable",
                format!("cannot read {}: {e}", what.display()),
            )
        };
        let tenants_dir = root.join(TENANTS_DIR);
        let groups_dir = root.join(GROUPS_DIR);
        let groups: BTreeSet<String> = match subdirectories(&groups_dir) {
            Ok(dirs) => dirs.into_iter().map(|(n, _)| n).collect(),
            Err(e) => return Err(vec![unreadable(&groups_dir, e)]),
        };
        let dirs = subdirectories(&tenants_dir).map_err(|e| vec![unreadable(&tenants_dir, e)])?;
        let mut tenants = Vec::new();
        for (name, dir) in dirs {
            let path = dir.join(TENANT_FILE);
            if !path.is_file() {
                diagnostics.push(
                    Diagnostic::unlocated(
                        "steward::tenant",
                        format!("{} has no {TENANT_FILE}", dir.display()),
                    )
                    .with_help(format!(
                        "add {TENANT_FILE} with the tenant's id: tenant-id \"<GUID>\""
                    )),
                );
                continue;
            }
            let file = match config::read_file(&path) {
                Ok(file) => file,
                Err(d) => {
                    diagnostics.push(*d);
                    continue;
                }
            };
            let document = match config::parse(&file) {
                Ok(document) => document,
                Err(found) => {
                    diagnostics.extend(found);
                    continue;
                }
            };
            let entry = tenant::describe(&name, dir, &file, &document, &mut diagnostics);
            for (group, span) in &entry.groups {
                if !groups.contains(group) {
                    let help =
                        match config::diagnostic::suggest(group, groups.iter().map(String::as_str))
                        {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => {
                                format!("a group is a directory under {}", groups_dir.display())
                            }
                        };
                    diagnostics.push(
                        Diagnostic::error(
                            "steward::tenant",
                            &file,
                            *span,
                            format!(
                                "tenant `{name}` is in group `{group}`, which has no directory"
                            ),
                            "no such group",
                        )
                        .with_help(help),
                    );
                }
            }
            tenants.push(entry);
        }
        if tenants.is_empty() && diagnostics.is_empty() {
            diagnostics.push(
                Diagnostic::unlocated(
                    "steward::no-files",
                    format!("no tenants under {}", tenants_dir.display()),
                )
                .with_help("each tenant is a directory under tenants/ holding a tenant.kdl"),
            );
        }
        // Two directories for one tenant would plan it twice, each against the other's files.
        for (i, a) in tenants.iter().enumerate() {
            for b in &tenants[..i] {
                if let (Some(x), Some(y)) = (&a.tenant_id, &b.tenant_id)
                    && x == y
                {
                    diagnostics.push(
                        Diagnostic::unlocated(
                            "steward::tenant",
                            format!(
                                "tenants `{}` and `{}` have the same tenant id {x}",
                                b.name, a.name
                            ),
                        )
                        .with_help("each tenant of the fleet is one directory under tenants/"),
                    );
                }
            }
        }
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Err(diagnostics);
        }
        Ok(Fleet {
            root: root.to_path_buf(),
            tenants,
            groups,
        })
    }

    /// The names of the tenants whose resolved files `changed` (paths relative to the fleet's
    /// root) touch: baseline/ every tenant, groups/NAME/ the group's, tenants/NAME/ that one.
    pub fn touched(&self, changed: &[String]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for path in changed {
            let mut parts = path.split('/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(BASELINE_DIR), Some(_), _) => {
                    return self.tenants.iter().map(|t| t.name.clone()).collect();
                }
                (Some(GROUPS_DIR), Some(group), Some(_)) => out.extend(
                    self.tenants
                        .iter()
                        .filter(|t| t.group_names().any(|g| g == group))
                        .map(|t| t.name.clone()),
                ),
                (Some(TENANTS_DIR), Some(name), Some(_)) => {
                    if let Some(t) = self.tenants.iter().find(|t| t.name == name) {
                        out.insert(t.name.clone());
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The tenants `selection` names, in directory order; `Err` says which name matched none.
    pub fn select(&self, selection: &Selection) -> Result<Vec<&TenantEntry>, String> {
        let known = || {
            self.tenants
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let find = |name: &str| {
            self.tenants
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
                .or_else(|| self.tenants.iter().find(|t| t.answers_to(name)))
                .ok_or_else(|| format!("the fleet has no tenant `{name}` (tenants: {})", known()))
        };
        match selection {
            Selection::All => Ok(self.tenants.iter().collect()),
            Selection::One(name) => Ok(vec![find(name)?]),
            Selection::Some(names) => {
                let mut out: Vec<&TenantEntry> = Vec::new();
                for name in names {
                    let t = find(name)?;
                    if !out.iter().any(|o| o.name == t.name) {
                        out.push(t);
                    }
                }
                Ok(out)
            }
            Selection::Index(index) => match self.tenants.get(*index) {
                Some(t) => Ok(vec![t]),
                None => Err(format!(
                    "index:{index} is past the last tenant: the fleet has {} (index:0 to index:{})",
                    self.tenants.len(),
                    self.tenants.len().saturating_sub(1)
                )),
            },
            Selection::Group(group) => {
                if !self.groups.contains(group) {
                    return Err(format!(
                        "the fleet has no group `{group}` (groups: {})",
                        self.groups.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                Ok(self
                    .tenants
                    .iter()
                    .filter(|t| t.group_names().any(|g| g == group))
                    .collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_all_a_group_an_index_or_names() {
        assert_eq!("all".parse(), Ok(Selection::All));
        assert_eq!("group:eu".parse(), Ok(Selection::Group("eu".into())));
        assert_eq!("index:7".parse(), Ok(Selection::Index(7)));
        assert_eq!(
            " contoso, fabrikam ,".parse(),
            Ok(Selection::Some(vec!["contoso".into(), "fabrikam".into()]))
        );
        for text in ["all", "group:eu", "index:7", "contoso,fabrikam"] {
            let parsed: Selection = text.parse().expect("a selection");
            assert_eq!(parsed.to_string(), text, "shown as --tenants takes it");
        }
        assert!("index:-1".parse::<Selection>().is_err());
        assert!("group:".parse::<Selection>().is_err());
        assert!(",".parse::<Selection>().is_err());
    }

    fn fleet_of(tenants: &[(&str, &[&str])]) -> Fleet {
        let file = crate::config::SourceFile::new("tenant.kdl", String::new());
        Fleet {
            root: PathBuf::from("."),
            tenants: tenants
                .iter()
                .map(|(name, groups)| TenantEntry {
                    name: name.to_string(),
                    dir: PathBuf::from(TENANTS_DIR).join(name),
                    file: file.clone(),
                    tenant_id: None,
                    domain: None,
                    groups: groups
                        .iter()
                        .map(|g| (g.to_string(), (0, 0).into()))
                        .collect(),
                    values: Vec::new(),
                    sign_in: SignIn::default(),
                })
                .collect(),
            groups: ["eu".to_string()].into(),
        }
    }

    #[test]
    fn a_change_touches_the_tenants_whose_layers_hold_it() {
        let fleet = fleet_of(&[("a", &["eu"]), ("b", &[]), ("c", &["eu"])]);
        let touched = |paths: &[&str]| -> Vec<String> {
            let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            fleet.touched(&paths).into_iter().collect()
        };
        assert_eq!(touched(&["groups/eu/x.kdl"]), ["a", "c"]);
        assert_eq!(touched(&["tenants/b/tenant.kdl"]), ["b"]);
        assert_eq!(touched(&["baseline/ca/x.kdl"]), ["a", "b", "c"]);
        // Outside the layers, or a tenant the fleet does not have: nothing.
        assert!(touched(&["README.md", "tenants/zz/tenant.kdl", "groups/eu"]).is_empty());
    }
}
