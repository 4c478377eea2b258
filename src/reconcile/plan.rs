//! Building the plan: match declared resources with the tenant's, diff them, order the work.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::diff;
use super::risk;
use crate::model::plan::{Action, Plan, ResourceChange, Summary, Unmanaged};
use crate::model::{Address, Arity, Desired, Kind};

/// The tenant's ids of live singletons, by address (collection objects carry their `id` in
/// the live model).
pub type LiveIds = BTreeMap<Address, String>;

/// Knobs of a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// How many deletions the plan may contain (`--max-deletes`).
    pub max_deletes: usize,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The prune scopes would delete more objects than allowed.
    #[error("the plan would delete {} but --max-deletes is {max}: {}; if these deletes are intended, raise --max-deletes, else narrow the prune scope", objects(.names.len()), some_names(.names))]
    TooManyDeletes {
        /// The limit.
        max: usize,
        /// What would be deleted.
        names: Vec<String>,
    },
    /// A declaration's name matches several tenant objects (checked earlier, with file
    /// locations, by the graph layer; this guards library callers).
    #[error("{address} matches {} objects in the tenant (ids: {}); pin one with id=\"…\"", .ids.len(), .ids.join(", "))]
    Ambiguous {
        /// The declaration.
        address: String,
        /// The tenant's ids under that name.
        ids: Vec<String>,
    },
}

/// Names shown in an error before "and N more": enough to recognise, never megabytes.
const NAMES_SHOWN: usize = 20;
/// Longest name shown in an error; tenant display names can be long.
const NAME_CHARS: usize = 120;

/// The first [`NAMES_SHOWN`] names, each cut to [`NAME_CHARS`], then how many more.
/// "1 object", "2 objects".
fn objects(n: usize) -> String {
    if n == 1 {
        "1 object".to_string()
    } else {
        format!("{n} objects")
    }
}

fn some_names(names: &[String]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(NAMES_SHOWN)
        .map(|n| match n.char_indices().nth(NAME_CHARS) {
            Some((cut, _)) => format!("{}…", &n[..cut]),
            None => n.clone(),
        })
        .collect();
    if names.len() > NAMES_SHOWN {
        shown.push(format!("and {} more", names.len() - NAMES_SHOWN));
    }
    shown.join(", ")
}

/// One declared or live resource in the model's JSON form.
struct Entry {
    kind: Kind,
    name: Option<String>,
    json: Map<String, Value>,
}

impl Entry {
    /// The object id: Graph's for live objects, the pinned one for declarations.
    fn id(&self) -> Option<&str> {
        self.json.get("id").and_then(Value::as_str)
    }
}

/// Every resource `model` holds, in the registry's order (steward's own declarations are
/// not planned).
fn entries(model: &Desired) -> Vec<Entry> {
    Kind::ALL
        .iter()
        .filter(|kind| kind.is_resource())
        .flat_map(|kind| {
            model
                .resources(*kind)
                .into_iter()
                .map(|(name, json)| Entry {
                    kind: *kind,
                    name: name.map(String::from),
                    json,
                })
        })
        .collect()
}

fn address_text(kind: Kind, name: Option<&str>) -> String {
    Address {
        kind,
        name: name.map(String::from),
        pin: None,
    }
    .to_string()
}

/// Compares `desired` with `live` and orders the work: named locations and authentication
/// strengths before the policies that use them; deletions last.
pub fn plan(
    desired: &Desired,
    live: &Desired,
    ids: &LiveIds,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let mut live_entries = entries(live);
    // Callers that keep ids beside the model (rather than in it) are served too.
    for e in &mut live_entries {
        if e.json.contains_key("id") {
            continue;
        }
        let address = Address {
            kind: e.kind,
            name: e.name.clone(),
            pin: None,
        };
        if let Some(id) = ids.get(&address) {
            e.json.insert("id".into(), Value::String(id.clone()));
        }
    }
    let live_entries = live_entries;
    // Names compare case-insensitively; an index keeps matching linear in the tenant's size.
    let mut by_name: HashMap<(Kind, String), Vec<usize>> = HashMap::new();
    for (i, e) in live_entries.iter().enumerate() {
        if let Some(name) = &e.name {
            by_name
                .entry((e.kind, name.to_lowercase()))
                .or_default()
                .push(i);
        }
    }
    let wanted = entries(desired);
    let mut matched = vec![false; live_entries.len()];
    let mut found: Vec<Option<usize>> = vec![None; wanted.len()];

    // Pinned declarations claim their objects first, so that an unpinned one of the same name
    // is matched among the rest.
    for (w, want) in wanted.iter().enumerate() {
        let Some(pin) = (want.name.is_some()).then(|| want.id()).flatten() else {
            continue;
        };
        let hit = live_entries.iter().enumerate().position(|(i, e)| {
            !matched[i]
                && e.kind == want.kind
                && e.id().is_some_and(|id| id.eq_ignore_ascii_case(pin))
        });
        if let Some(i) = hit {
            matched[i] = true;
            found[w] = Some(i);
        }
    }
    for (w, want) in wanted.iter().enumerate() {
        if want.name.is_some() && want.id().is_some() {
            continue;
        }
        let candidates = |name: &str| -> Vec<usize> {
            by_name
                .get(&(want.kind, name.to_lowercase()))
                .map(|hits| hits.iter().copied().filter(|i| !matched[*i]).collect())
                .unwrap_or_default()
        };
        let hits = match &want.name {
            Some(name) => {
                let by_name = candidates(name);
                if by_name.is_empty() {
                    want.json
                        .get("renamedFrom")
                        .and_then(Value::as_str)
                        .map(candidates)
                        .unwrap_or_default()
                } else {
                    by_name
                }
            }
            None => live_entries
                .iter()
                .enumerate()
                .filter(|(i, e)| !matched[*i] && e.kind == want.kind)
                .map(|(i, _)| i)
                .take(1)
                .collect(),
        };
        match hits.as_slice() {
            [] => {}
            [i] => {
                matched[*i] = true;
                found[w] = Some(*i);
            }
            several => {
                let mut ids: Vec<String> = several
                    .iter()
                    .filter_map(|i| live_entries[*i].id().map(String::from))
                    .collect();
                ids.sort();
                return Err(PlanError::Ambiguous {
                    address: address_text(want.kind, want.name.as_deref()),
                    ids,
                });
            }
        }
    }

    let mut resources = Vec::new();
    for (want, found) in wanted.into_iter().zip(found) {
        let shape = want.kind.shape();
        let address = address_text(want.kind, want.name.as_deref());
        match found {
            Some(i) => {
                let have = &live_entries[i];
                let ignored = crate::model::meta::ignored_paths(&want.json);
                // Collection objects are owned whole; singletons manage what they declare.
                let options = diff::Options {
                    owned: want.kind.arity() == Arity::Named,
                    kind: Some(want.kind),
                    ignored: &ignored,
                };
                let mut d = diff::object_with(shape, &want.json, &have.json, options);
                if have.name != want.name {
                    d.changes.insert(
                        0,
                        crate::model::plan::FieldChange {
                            path: "display-name".into(),
                            pointer: "/displayName".into(),
                            before: have.name.clone().map(Value::String).unwrap_or(Value::Null),
                            after: want.name.clone().map(Value::String).unwrap_or(Value::Null),
                            added: Vec::new(),
                            removed: Vec::new(),
                        },
                    );
                }
                let id = have.id().map(String::from).or_else(|| {
                    ids.get(&Address {
                        kind: have.kind,
                        name: have.name.clone(),
                        pin: None,
                    })
                    .cloned()
                });
                let forced = want.kind.forces_replacement();
                let action = if d.changes.is_empty() {
                    Action::NoOp
                } else if d.changes.iter().any(|c| {
                    forced
                        .iter()
                        .any(|p| c.pointer == *p || c.pointer.starts_with(&format!("{p}/")))
                }) {
                    Action::Replace
                } else {
                    Action::Update
                };
                resources.push(ResourceChange {
                    address,
                    kind: want.kind,
                    name: want.name.clone(),
                    id,
                    action,
                    before: Some(Value::Object(declared_view(&want.json, &have.json))),
                    after: Some(Value::Object(want.json.clone())),
                    changes: d.changes,
                    unchanged: d.unchanged,
                    ignored: d.ignored,
                    staged: false,
                });
            }
            None => resources.push(ResourceChange {
                address,
                kind: want.kind,
                name: want.name.clone(),
                id: None,
                action: Action::Create,
                before: None,
                after: Some(Value::Object(want.json.clone())),
                changes: Vec::new(),
                unchanged: 0,
                ignored: Vec::new(),
                staged: false,
            }),
        }
    }

    let mut unmanaged = Vec::new();
    let mut deletes = Vec::new();
    for (i, have) in live_entries.iter().enumerate() {
        if matched[i] {
            continue;
        }
        let Some(name) = &have.name else { continue };
        let id = have.id().unwrap_or_default().to_string();
        let pruned = have.kind.prune_kind().is_some_and(|pk| {
            desired.prune.iter().any(|p| {
                p.kind == pk
                    && p.name_prefix
                        .as_deref()
                        .is_none_or(|prefix| name.starts_with(prefix))
            })
        });
        if pruned {
            deletes.push(ResourceChange {
                address: address_text(have.kind, Some(name)),
                kind: have.kind,
                name: Some(name.clone()),
                id: Some(id),
                action: Action::Delete,
                before: Some(Value::Object(have.json.clone())),
                after: None,
                changes: Vec::new(),
                unchanged: 0,
                ignored: Vec::new(),
                staged: false,
            });
        } else {
            unmanaged.push(Unmanaged {
                kind: have.kind,
                name: name.clone(),
                id,
                unsupported: None,
            });
        }
    }
    if deletes.len() > options.max_deletes {
        return Err(PlanError::TooManyDeletes {
            max: options.max_deletes,
            names: deletes.iter().map(|d| d.address.clone()).collect(),
        });
    }

    // Dependencies first: locations and strengths, then policies, then the rest; deletes last.
    resources.sort_by_key(|r| order(r.kind));
    resources.extend(deletes);
    let summary = Summary::of(&resources);
    let risks = risk::assess(&resources, crate::model::plan::Direction::Apply);
    Ok(Plan {
        resources,
        unmanaged,
        risks,
        orphans: Vec::new(),
        accepted: Vec::new(),
        summary,
    })
}

/// The state `--stage` gives new Conditional Access policies.
pub const STAGED_STATE: &str = "enabledForReportingButNotEnforced";

/// `--stage`: every Conditional Access policy the plan creates is created report-only, so that
/// its effect can be watched before it is enforced. The plan then shows (and the guards judge)
/// what apply will really write.
pub fn stage(plan: &mut Plan, desired: &mut Desired) {
    let mut staged_names = Vec::new();
    for change in &mut plan.resources {
        if change.kind != Kind::ConditionalAccessPolicy || change.action != Action::Create {
            continue;
        }
        if let Some(Value::Object(after)) = &mut change.after {
            after.insert("state".into(), Value::String(STAGED_STATE.into()));
        }
        change.staged = true;
        staged_names.extend(change.name.clone());
    }
    for policy in &mut desired.conditional_access_policies {
        if staged_names.contains(&policy.display_name) {
            policy.state =
                crate::model::conditional_access::PolicyState::EnabledForReportingButNotEnforced;
        }
    }
    plan.risks = risk::assess(&plan.resources, crate::model::plan::Direction::Apply);
}

fn order(kind: Kind) -> usize {
    Kind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(usize::MAX)
}

/// The tenant's object seen only through what the declaration manages.
fn declared_view(desired: &Map<String, Value>, live: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, want) in desired {
        match (want, live.get(key)) {
            (Value::Object(w), Some(Value::Object(l))) => {
                out.insert(key.clone(), Value::Object(declared_view(w, l)));
            }
            (_, Some(v)) => {
                out.insert(key.clone(), v.clone());
            }
            (_, None) => {}
        }
    }
    out
}

#[cfg(test)]
mod limits {
    use super::*;

    #[test]
    fn too_many_deletes_lists_twenty_names_then_how_many_more() {
        let names: Vec<String> = (0..100_000)
            .map(|i| format!("named-location \"{}{i}\"", "x".repeat(200)))
            .collect();
        let message = PlanError::TooManyDeletes { max: 0, names }.to_string();
        assert!(message.len() < 4_000, "{} bytes", message.len());
        assert!(
            message.starts_with("the plan would delete 100000 objects but --max-deletes is 0: "),
            "{message}"
        );
        assert!(message.contains(", and 99980 more; "), "{message}");
        assert_eq!(message.matches("named-location").count(), 20);
        assert!(message.contains("xxx…"), "long names are cut: {message}");
    }

    #[test]
    fn one_delete_is_one_object() {
        let names = vec!["a".to_string()];
        assert!(
            PlanError::TooManyDeletes { max: 0, names }
                .to_string()
                .starts_with("the plan would delete 1 object but --max-deletes is 0: a; ")
        );
    }

    #[test]
    fn a_few_deletes_are_all_listed() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            PlanError::TooManyDeletes { max: 1, names }.to_string(),
            "the plan would delete 2 objects but --max-deletes is 1: a, b; if these deletes are \
             intended, raise --max-deletes, else narrow the prune scope"
        );
    }
}
