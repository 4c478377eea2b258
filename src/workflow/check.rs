//! `steward check`: what is graded (the files, the tenant, or the tenant as the plan would
//! leave it), the grade located in the files, and the evidence pack.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::planning::{self, Planned};
use super::{Error, Result};
use crate::baseline::{self, Grade, GradeWithPlaces, Location, Source};
use crate::config::Loaded;
use crate::graph::read::{Live, ReadOptions, read_tenant_with};
use crate::graph::{GraphClient, Resolver};
use crate::model::plan::Action;
use crate::model::{Address, Desired, Kind};
use crate::reconcile::PlanOptions;

/// The kinds the baseline's rules read.
pub fn graded_kinds() -> BTreeSet<Kind> {
    baseline::KINDS.iter().copied().collect()
}

/// Steward's own declarations from the files that grading honours in any mode: the
/// exceptions and the emergency-access accounts.
fn with_declarations(mut config: Desired, loaded: &Loaded) -> Desired {
    config.check_exceptions = loaded.desired.check_exceptions.clone();
    if config.emergency_access.is_none() {
        config.emergency_access = loaded.desired.emergency_access.clone();
    }
    config
}

/// Reads what the baseline grades from the tenant; kinds the sign-in may not read are
/// listed instead of failing the read. `for_export` when the read is also exported (the
/// evidence pack): then names shared by several objects are found, one more round of look-ups.
pub async fn read_graded(client: &GraphClient, for_export: bool) -> Result<Live> {
    let resolver = Resolver::new(client.clone());
    let options = ReadOptions {
        skip_forbidden: true,
        // The evidence pack's export names shared names by id, as `export` does; a grade
        // alone does not need the look-ups.
        check_shared_names: for_export,
        // SharePoint's own settings (OneDrive, default links, Anyone links, verification
        // codes), when the sign-in can reach SharePoint's admin API; without it those rules
        // cannot be checked.
        sharepoint_admin: true,
        sharepoint_search: false,
        sharepoint_optional: true,
    };
    read_tenant_with(client, &resolver, &graded_kinds(), options)
        .await
        .map_err(Error::read)
}

/// Grades the files alone.
pub fn declared(loaded: &Loaded, today: NaiveDate) -> Grade {
    let graded = baseline::grade(&loaded.desired, Source::Declared, &[], today);
    locate(graded, loaded, None)
}

/// Grades the tenant as read (`live`), with the files' exceptions.
pub fn live(live: &Live, loaded: &Loaded, today: NaiveDate) -> Grade {
    let unreadable: Vec<Kind> = live.unreadable.iter().map(|(k, _)| *k).collect();
    let config = with_declarations(live.model.clone(), loaded);
    let graded = baseline::grade(&config, Source::Live, &unreadable, today);
    // Only the exceptions are in the files: an expired one is located there.
    locate(graded, loaded, Some(Kind::CheckException))
}

/// What `check --planned` computes: the plan, and the grades of the tenant before and after.
pub struct PlannedGrades {
    /// The plan the grade assumes applied.
    pub planned: Planned,
    /// The tenant as it is.
    pub before: Grade,
    /// The tenant as the plan would leave it, located in the files.
    pub after: Grade,
}

/// Reads the tenant, plans the files against it, and grades the tenant before and after.
pub async fn planned(
    client: &GraphClient,
    loaded: &Loaded,
    today: NaiveDate,
) -> Result<PlannedGrades> {
    let planned =
        planning::compute_reading(client, loaded, &PlanOptions::default(), &graded_kinds()).await?;
    let (before, after) = grades_around(&planned, loaded, today);
    Ok(PlannedGrades {
        planned,
        before,
        after,
    })
}

/// The grades of the tenant before and after `planned` (for the plan comment's delta too).
pub fn grades_around(planned: &Planned, loaded: &Loaded, today: NaiveDate) -> (Grade, Grade) {
    let deleted: Vec<Address> = planned
        .plan
        .resources
        .iter()
        .filter(|c| c.action == Action::Delete)
        .filter_map(|c| c.name.as_ref().map(|n| Address::named(c.kind, n.clone())))
        .collect();
    let unreadable: Vec<Kind> = planned.live.unreadable.iter().map(|(k, _)| *k).collect();
    let before_config = with_declarations(planned.live.model.clone(), loaded);
    let before = baseline::grade(&before_config, Source::Live, &unreadable, today);
    let after_config = with_declarations(
        baseline::planned(&planned.live.model, &loaded.desired, &deleted),
        loaded,
    );
    let after = baseline::grade(&after_config, Source::Planned, &unreadable, today);
    (
        locate(before, loaded, Some(Kind::CheckException)),
        locate(after, loaded, None),
    )
}

/// Fills each result's location from the files: the declaration (and setting) its verdict is
/// about, when the files declare it. `only` limits that to one kind.
fn locate(graded: GradeWithPlaces, loaded: &Loaded, only: Option<Kind>) -> Grade {
    let GradeWithPlaces { mut grade, places } = graded;
    for (result, place) in grade.results.iter_mut().zip(places) {
        let Some((address, pointer)) = place else {
            continue;
        };
        if only.is_some_and(|k| k != address.kind) {
            continue;
        }
        let origin = loaded.origins.get(&address).or_else(|| {
            // A declaration pinned by id is keyed with its pin; match on kind and name.
            loaded
                .origins
                .iter()
                .find(|(a, _)| a.kind == address.kind && a.name == address.name)
                .map(|(_, o)| o)
        });
        if let Some(origin) = origin {
            let span = origin.span_of(&pointer);
            let (line, column) = origin.file.line_column(span.offset());
            result.location = Some(Location {
                file: origin.file.name_at(span.offset()).to_string(),
                line,
                column,
                address: address.to_string(),
            });
        }
    }
    grade
}

/// A file of the evidence pack: its name and content.
pub type EvidenceFile = (String, Vec<u8>);

/// Writes the evidence pack into `dir/<date>/`: the grade (JSON, SARIF, Markdown), the
/// tenant's export, the apply journal and drift history when present, and `manifest.json`
/// with the SHA-256 of every file. Same tenant, same files: only the folder's date differs.
pub fn write_evidence(dir: &Path, date: &str, files: Vec<EvidenceFile>) -> Result<PathBuf> {
    let folder = dir.join(date);
    std::fs::create_dir_all(&folder)
        .map_err(Error::io(format!("cannot create {}", folder.display())))?;
    let mut manifest = Vec::new();
    for (name, content) in &files {
        let path = folder.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("cannot create {}", parent.display())))?;
        }
        std::fs::write(&path, content)
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
        manifest.push(serde_json::json!({
            "file": name,
            "bytes": content.len(),
            "sha256": hex(&Sha256::digest(content)),
        }));
    }
    manifest.sort_by(|a, b| a["file"].as_str().cmp(&b["file"].as_str()));
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "date": date,
        "baseline": baseline::BASELINE,
        "files": manifest,
    }))
    .map_err(|source| Error::Json {
        doing: "cannot write the evidence manifest",
        source,
    })?;
    let path = folder.join("manifest.json");
    std::fs::write(&path, text + "\n")
        .map_err(Error::io(format!("cannot write {}", path.display())))?;
    Ok(folder)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
