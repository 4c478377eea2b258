//! Saved plans: what `plan --out` writes, and how `apply --plan` checks that it is still the
//! plan the files and the tenant give.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::planning::Planned;
use super::{Error, Result};
use crate::config::Loaded;
use crate::graph::read::Live;
use crate::graph::{GraphClient, kinds, tenant};
use crate::model::plan::{Action, Plan, ResourceChange};
use crate::render::Names;

/// The format of plans saved with `--out` that this steward writes and reads.
pub const SAVED_PLAN_FORMAT: u32 = 2;

/// A plan saved with `--out`: the plan, and what it was made from. `apply --plan` treats it as
/// a confirmation: it plans again and applies only if that plan is this one.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SavedPlan {
    /// The version of this file's format.
    pub format_version: u32,
    /// The tenant (organization) id the plan was made against.
    pub tenant_id: String,
    /// The Graph host the plan was made against (`graph.microsoft.com`; loopback hosts without
    /// their port).
    pub graph_host: String,
    /// SHA-256 of the policy files (names and contents) the plan was made from.
    pub files_hash: String,
    /// SHA-256 of the normalised Graph JSON of every object read, by address.
    pub fingerprints: BTreeMap<String, String>,
    /// The plan.
    pub plan: Plan,
}

/// The fingerprint of every live object: a hash of its normalised Graph JSON, so only changes
/// that matter (not timestamps) make a saved plan stale.
pub fn fingerprints(live: &Live) -> BTreeMap<String, String> {
    live.objects
        .iter()
        .map(|o| {
            let (json, _) = kinds::to_model_json(o.address.kind, &o.raw);
            let canonical = canonical_json(&Value::Object(json));
            (
                o.address.to_string(),
                hex::encode(Sha256::digest(canonical.as_bytes())),
            )
        })
        .collect()
}

/// JSON with object keys sorted, so equal values hash (and compare) equally.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical_json(v))).collect();
            let parts: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// Display names for the ids a plan shows, and the names of what it creates (known after
/// apply).
pub fn names(planned: &Planned) -> Names {
    let pending = planned
        .plan
        .resources
        .iter()
        .filter(|r| r.action == crate::model::plan::Action::Create)
        .filter(|r| r.kind.as_ref_kind().is_some())
        .filter_map(|r| r.name.clone())
        .collect();
    Names::new(planned.names.clone())
        .with_pending(pending)
        .with_orphans(&planned.plan.orphans)
}

/// Where a plan is made: the tenant's id and the Graph host.
pub struct Origin {
    /// The tenant (organization) id.
    pub tenant_id: String,
    /// The Graph host.
    pub graph_host: String,
}

/// Finds out which tenant and Graph host `client` works on.
pub async fn origin(client: &GraphClient) -> Result<Origin> {
    let tenant_id = tenant::tenant_id(client).await.map_err(Error::graph(
        "cannot tell which tenant this is, which a saved plan records",
    ))?;
    Ok(Origin {
        tenant_id,
        graph_host: tenant::graph_host(client),
    })
}

/// Saves `plan` to `path` with what it was made from, for `apply --plan`.
pub fn save(path: &Path, loaded: &Loaded, origin: Origin, live: &Live, plan: &Plan) -> Result<()> {
    let saved = SavedPlan {
        format_version: SAVED_PLAN_FORMAT,
        tenant_id: origin.tenant_id,
        graph_host: origin.graph_host,
        files_hash: super::planning::files_hash(loaded),
        fingerprints: fingerprints(live),
        plan: plan.clone(),
    };
    let text = serde_json::to_string_pretty(&saved).map_err(|source| Error::Json {
        doing: "cannot save the plan",
        source,
    })?;
    std::fs::write(path, text + "\n").map_err(Error::io(format!("cannot write {}", path.display())))
}

/// Reads a plan saved by `plan --out`; refuses another format version.
pub fn read(path: &Path) -> Result<SavedPlan> {
    let text = std::fs::read_to_string(path).map_err(Error::io(format!(
        "cannot read the saved plan {}",
        path.display()
    )))?;
    let not_a_plan = |e: serde_json::Error| {
        Error::SavedPlan(format!(
            "{} is not a plan saved by `steward plan --out`: {e}",
            path.display()
        ))
    };
    let value: Value = serde_json::from_str(&text).map_err(not_a_plan)?;
    // The version first: older formats lack fields this one requires.
    let version = value.get("format_version").and_then(Value::as_u64);
    if version != Some(u64::from(SAVED_PLAN_FORMAT)) {
        return Err(Error::SavedPlan(format!(
            "the saved plan is stale: {} has plan format {}, this steward reads format {SAVED_PLAN_FORMAT} (which records the tenant); run `steward plan --out` again with this steward and review the new plan",
            path.display(),
            version.map_or_else(|| "(none)".to_string(), |v| v.to_string())
        )));
    }
    serde_json::from_value(value).map_err(not_a_plan)
}

/// Refuses a saved plan whose policy files changed since it was made; `paths` are the policy
/// paths as given, for the message.
pub fn check_files(saved: &SavedPlan, loaded: &Loaded, paths: &[std::path::PathBuf]) -> Result<()> {
    if saved.files_hash == super::planning::files_hash(loaded) {
        return Ok(());
    }
    Err(Error::SavedPlan(format!(
        "the saved plan is stale: the policy files changed since it was made ({}); run `steward plan --out` again and review the new plan",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Refuses a saved plan (read from `path`) made against another tenant or Graph host.
pub async fn check_origin(saved: &SavedPlan, path: &Path, client: &GraphClient) -> Result<()> {
    let here = origin(client).await?;
    if !saved.tenant_id.eq_ignore_ascii_case(&here.tenant_id)
        || !saved.graph_host.eq_ignore_ascii_case(&here.graph_host)
    {
        return Err(Error::SavedPlan(format!(
            "the saved plan {} was made for tenant {} on {}, but this apply works on tenant {} on {}: a plan only applies where it was made. Run `steward plan --out` against this tenant and review that plan",
            path.display(),
            saved.tenant_id,
            saved.graph_host,
            here.tenant_id,
            here.graph_host
        )));
    }
    Ok(())
}

/// Accepts the saved plan (read from `path`) only if it is the plan made now: made against
/// the tenant as it still is, and the same change for change.
pub fn confirm(saved: &SavedPlan, path: &Path, planned: &Planned) -> Result<()> {
    let stale = stale_objects(saved, planned);
    if !stale.is_empty() {
        return Err(Error::SavedPlan(format!(
            "the saved plan is stale: {}; run `steward plan --out` again and review the new plan",
            stale.join("; ")
        )));
    }
    let differ = differences(&saved.plan, &planned.plan);
    if !differ.is_empty() {
        const SHOWN: usize = 5;
        let more = differ.len().saturating_sub(SHOWN);
        return Err(Error::SavedPlan(format!(
            "refusing the saved plan {}: it is not the plan the files and the tenant give now, so it is not what was reviewed or it was edited since: {}{}. Nothing was written. A saved plan only confirms the plan steward makes again; run `steward plan --out` again and review the new plan",
            path.display(),
            differ
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

/// How the saved plan differs from the plan made now, resource by resource; empty when it is
/// the same plan.
pub fn differences(saved: &Plan, now: &Plan) -> Vec<String> {
    let canonical = |r: &ResourceChange| {
        serde_json::to_value(r)
            .map(|v| canonical_json(&v))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in &saved.resources {
        if !seen.insert(s.address.as_str()) {
            out.push(format!("{}: the saved plan lists it twice", s.address));
        }
    }
    for n in &now.resources {
        match saved.resources.iter().find(|s| s.address == n.address) {
            None => out.push(format!(
                "{}: the saved plan leaves it out; the files and the tenant call for {}",
                n.address,
                action_text(n.action)
            )),
            Some(s) if canonical(s) != canonical(n) => {
                out.push(format!("{}: {}", n.address, difference(s, n)))
            }
            Some(_) => {}
        }
    }
    for s in &saved.resources {
        if !now.resources.iter().any(|n| n.address == s.address) {
            out.push(format!(
                "{}: the saved plan would {} it, which the files do not call for",
                s.address,
                verb(s.action)
            ));
        }
    }
    if out.is_empty()
        && saved
            .resources
            .iter()
            .map(|r| &r.address)
            .ne(now.resources.iter().map(|r| &r.address))
    {
        out.push("the saved plan orders the changes differently".into());
    }
    out
}

/// What differs in one resource's change, in words.
fn difference(saved: &ResourceChange, now: &ResourceChange) -> String {
    if saved.action != now.action {
        return format!(
            "the saved plan would {} it; the files and the tenant call for {}",
            verb(saved.action),
            action_text(now.action)
        );
    }
    if saved.id != now.id {
        return format!(
            "the saved plan targets the object with id {}; the tenant's object of that name has id {}",
            saved.id.as_deref().unwrap_or("(none)"),
            now.id.as_deref().unwrap_or("(none)")
        );
    }
    if saved.kind != now.kind || saved.name != now.name {
        return "the saved plan gives it another kind or name".into();
    }
    let field = |c: &crate::model::plan::FieldChange| {
        serde_json::to_value(c)
            .map(|v| canonical_json(&v))
            .unwrap_or_default()
    };
    let mut paths: Vec<&str> = Vec::new();
    for c in saved.changes.iter().chain(&now.changes) {
        let in_both = saved.changes.iter().any(|s| field(s) == field(c))
            && now.changes.iter().any(|n| field(n) == field(c));
        if !in_both && !paths.contains(&c.path.as_str()) {
            paths.push(&c.path);
        }
    }
    if !paths.is_empty() {
        return format!(
            "the saved plan's change to {} is not what the files and the tenant call for",
            paths.join(", ")
        );
    }
    if saved.after != now.after {
        return "the saved plan's declared settings are not the files'".into();
    }
    if saved.before != now.before {
        return "the saved plan's view of the tenant's object is not the tenant's".into();
    }
    "the saved plan's entry is not the one planned now".into()
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::NoOp => "leave",
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::Replace => "replace",
    }
}

fn action_text(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no change",
        Action::Create => "a create",
        Action::Update => "an update",
        Action::Delete => "a delete",
        Action::Replace => "a replacement",
    }
}

/// The changes a saved plan was made against that the tenant no longer matches.
fn stale_objects(saved: &SavedPlan, planned: &Planned) -> Vec<String> {
    let now = fingerprints(&planned.live);
    let mut stale = Vec::new();
    for change in saved
        .plan
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
    {
        let before = saved.fingerprints.get(&change.address);
        let after = now.get(&change.address);
        if before != after {
            stale.push(match (before, after) {
                (None, Some(_)) => format!("{} now exists in the tenant", change.address),
                (Some(_), None) => format!("{} no longer exists in the tenant", change.address),
                _ => format!("{} changed in the tenant", change.address),
            });
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Kind;

    fn change(name: &str, action: Action, state: &str) -> ResourceChange {
        ResourceChange {
            address: format!("conditional-access-policy {name:?}"),
            kind: Kind::ConditionalAccessPolicy,
            name: Some(name.into()),
            id: Some(format!("id-{name}")),
            action,
            before: None,
            after: Some(json!({"displayName": name, "state": state})),
            changes: Vec::new(),
            unchanged: 0,
            ignored: Vec::new(),
            staged: false,
        }
    }

    fn plan(resources: Vec<ResourceChange>) -> Plan {
        Plan {
            resources,
            ..Plan::default()
        }
    }

    #[test]
    fn the_same_plan_has_no_differences_whatever_its_key_order() {
        let now = plan(vec![change("A", Action::Update, "enabled")]);
        let text = serde_json::to_string(&now).unwrap_or_default();
        let again: Plan = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(differences(&again, &now), Vec::<String>::new());
    }

    #[test]
    fn a_reordered_or_repeated_change_is_a_difference() {
        let a = change("A", Action::Update, "enabled");
        let b = change("B", Action::Create, "enabled");
        let now = plan(vec![a.clone(), b.clone()]);
        assert_eq!(
            differences(&plan(vec![b.clone(), a.clone()]), &now),
            ["the saved plan orders the changes differently"]
        );
        assert_eq!(
            differences(&plan(vec![a.clone(), b.clone(), b]), &now),
            ["conditional-access-policy \"B\": the saved plan lists it twice"]
        );
        assert_eq!(
            differences(&plan(vec![a]), &now),
            [
                "conditional-access-policy \"B\": the saved plan leaves it out; the files and the tenant call for a create"
            ]
        );
    }

    #[test]
    fn a_changed_setting_is_named_by_its_path() {
        let mut saved = change("A", Action::Update, "disabled");
        let mut now = change("A", Action::Update, "enabled");
        let field = |after: &str| crate::model::plan::FieldChange {
            path: "state".into(),
            pointer: "/state".into(),
            before: json!("enabledForReportingButNotEnforced"),
            after: json!(after),
            added: Vec::new(),
            removed: Vec::new(),
        };
        saved.changes.push(field("disabled"));
        now.changes.push(field("enabled"));
        assert_eq!(
            differences(&plan(vec![saved]), &plan(vec![now])),
            [
                "conditional-access-policy \"A\": the saved plan's change to state is not what the files and the tenant call for"
            ]
        );
    }
}
