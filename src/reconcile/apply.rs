//! Carrying out a plan: what depends on what, what runs at once, and what happened to each
//! resource. Writing to the tenant is the [`Executor`]'s job (the `graph` layer implements it);
//! this module only orders the work and keeps the account.

use std::collections::BTreeSet;
use std::future::Future;

use serde::Serialize;
use serde_json::Value;

use crate::model::Kind;
use crate::model::plan::{Action, Plan, ResourceChange};

/// Carries out one resource change.
pub trait Executor: Sync {
    /// Applies `change`; returns the object's id (new for a create), or why it failed.
    fn execute(
        &self,
        change: &ResourceChange,
    ) -> impl Future<Output = Result<Option<String>, ApplyError>> + Send;
}

/// Why a change was not applied: the message the admin reads, and Graph's answer when Graph
/// refused or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// What went wrong and what to do, in words.
    pub message: String,
    /// Graph's error answer behind it, when there was one.
    pub graph: Option<GraphFailure>,
}

impl ApplyError {
    /// A failure Graph had no part in (or whose answer is not known).
    pub fn new(message: impl Into<String>) -> ApplyError {
        ApplyError {
            message: message.into(),
            graph: None,
        }
    }

    /// The same failure, told as `message` (which should include the old one).
    pub fn reworded(self, message: impl Into<String>) -> ApplyError {
        ApplyError {
            message: message.into(),
            graph: self.graph,
        }
    }
}

impl From<String> for ApplyError {
    fn from(message: String) -> ApplyError {
        ApplyError::new(message)
    }
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApplyError {}

/// Graph's error answer to a write, as the apply report and the journal record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphFailure {
    /// The HTTP status.
    pub status: u16,
    /// Graph's `error.code`, when the answer had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Graph's `error.message`, when the answer had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The answer's `request-id`, for Microsoft support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The answer's `client-request-id`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
}

/// What happened to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Outcome {
    /// Written.
    Applied {
        /// The object's id.
        id: Option<String>,
    },
    /// Graph refused or failed.
    Failed {
        /// What went wrong, in words (with Graph's status, code, message and request-id).
        error: String,
        /// Graph's error answer, when there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        graph: Option<GraphFailure>,
    },
    /// Not attempted, because something it depends on did not succeed.
    Skipped {
        /// The resource it waited for.
        because: String,
    },
}

/// One resource's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceOutcome {
    /// The resource.
    pub address: String,
    /// What the plan meant to do.
    pub action: Action,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The account of an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Every resource the plan changes, in plan order.
    pub resources: Vec<ResourceOutcome>,
}

impl ApplyReport {
    /// True when every change was applied.
    pub fn succeeded(&self) -> bool {
        self.resources
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Applied { .. }))
    }

    /// How many resources were applied with each action.
    pub fn count(&self, action: Action) -> usize {
        self.resources
            .iter()
            .filter(|r| r.action == action && matches!(r.outcome, Outcome::Applied { .. }))
            .count()
    }
}

/// The names a policy refers to that another step of the plan creates.
fn references(after: &Value) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    let locations = after.pointer("/conditions/locations");
    for side in ["includeLocations", "excludeLocations"] {
        for name in locations
            .and_then(|l| l.get(side))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            out.push((Kind::NamedLocation, name.to_ascii_lowercase()));
        }
    }
    if let Some(name) = after
        .pointer("/grantControls/authenticationStrength")
        .and_then(Value::as_str)
    {
        out.push((Kind::AuthenticationStrength, name.to_ascii_lowercase()));
    }
    out
}

/// For each change (by index in `changes`), the indexes that must succeed before it: policies
/// wait for the locations and strengths they use that the plan creates; deleting a location or
/// strength waits for every policy change (policies stop using an object before it goes).
/// Independently of these, deletions run last.
pub fn dependencies(changes: &[&ResourceChange]) -> Vec<BTreeSet<usize>> {
    let created: Vec<(usize, Kind, String)> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.action == Action::Create)
        .filter_map(|(i, c)| Some((i, c.kind, c.name.clone()?.to_ascii_lowercase())))
        .collect();
    changes
        .iter()
        .map(|change| {
            let mut deps = BTreeSet::new();
            if change.action == Action::Delete {
                // Objects that other kinds refer to go after every change of those kinds.
                if change.kind.as_ref_kind().is_some() {
                    deps.extend((0..changes.len()).filter(|j| {
                        changes[*j].kind.depends_on().any(|k| k == change.kind)
                            && changes[*j].action != Action::Delete
                    }));
                }
                return deps;
            }
            if change.kind == Kind::ConditionalAccessPolicy
                && let Some(after) = &change.after
            {
                for (kind, name) in references(after) {
                    deps.extend(
                        created
                            .iter()
                            .filter(|(_, k, n)| *k == kind && *n == name)
                            .map(|(j, _, _)| *j),
                    );
                }
            }
            deps
        })
        .collect()
}

/// Applies every change of `plan` through `executor`: independent changes at once, each
/// after what it depends on; a failure skips its dependents and nothing else.
/// `on_done` hears of each resource as it finishes.
pub async fn run<E: Executor>(
    plan: &Plan,
    executor: &E,
    on_done: &(dyn Fn(&ResourceOutcome) + Sync),
) -> ApplyReport {
    let changes: Vec<&ResourceChange> = plan
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
        .collect();
    let deps = dependencies(&changes);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; changes.len()];
    loop {
        // Skip whatever waits for something that did not succeed.
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..changes.len() {
                if outcomes[i].is_some() {
                    continue;
                }
                if let Some(j) = deps[i].iter().find(|j| {
                    matches!(
                        outcomes[**j],
                        Some(Outcome::Failed { .. } | Outcome::Skipped { .. })
                    )
                }) {
                    let outcome = Outcome::Skipped {
                        because: changes[*j].address.clone(),
                    };
                    on_done(&ResourceOutcome {
                        address: changes[i].address.clone(),
                        action: changes[i].action,
                        outcome: outcome.clone(),
                    });
                    outcomes[i] = Some(outcome);
                    changed = true;
                }
            }
        }
        let others_done = (0..changes.len())
            .filter(|j| changes[*j].action != Action::Delete)
            .all(|j| outcomes[j].is_some());
        let ready: Vec<usize> = (0..changes.len())
            .filter(|i| outcomes[*i].is_none())
            .filter(|i| changes[*i].action != Action::Delete || others_done)
            .filter(|i| {
                deps[*i]
                    .iter()
                    .all(|j| matches!(outcomes[*j], Some(Outcome::Applied { .. })))
            })
            .collect();
        if ready.is_empty() {
            break;
        }
        let changes = &changes;
        let results = futures::future::join_all(ready.iter().map(|i| async move {
            let outcome = match executor.execute(changes[*i]).await {
                Ok(id) => Outcome::Applied { id },
                Err(error) => Outcome::Failed {
                    error: error.message,
                    graph: error.graph,
                },
            };
            on_done(&ResourceOutcome {
                address: changes[*i].address.clone(),
                action: changes[*i].action,
                outcome: outcome.clone(),
            });
            (*i, outcome)
        }))
        .await;
        for (i, outcome) in results {
            outcomes[i] = Some(outcome);
        }
    }
    ApplyReport {
        resources: changes
            .iter()
            .zip(outcomes)
            .map(|(c, o)| ResourceOutcome {
                address: c.address.clone(),
                action: c.action,
                outcome: o.unwrap_or(Outcome::Skipped {
                    because: "an unresolvable dependency".into(),
                }),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    fn change(kind: Kind, name: &str, action: Action, after: Value) -> ResourceChange {
        ResourceChange {
            address: format!("{kind} {name:?}"),
            kind,
            name: Some(name.into()),
            id: None,
            action,
            before: None,
            after: Some(after),
            changes: Vec::new(),
            unchanged: 0,
            ignored: Vec::new(),
            staged: false,
        }
    }

    fn plan() -> Plan {
        Plan {
            resources: vec![
                change(Kind::NamedLocation, "HQ", Action::Create, json!({})),
                change(Kind::NamedLocation, "Lab", Action::Create, json!({})),
                change(
                    Kind::ConditionalAccessPolicy,
                    "Uses HQ",
                    Action::Create,
                    json!({"conditions": {"locations": {"includeLocations": ["All"], "excludeLocations": ["HQ"]}}}),
                ),
                change(
                    Kind::ConditionalAccessPolicy,
                    "Independent",
                    Action::Update,
                    json!({}),
                ),
                change(
                    Kind::ConditionalAccessPolicy,
                    "Old",
                    Action::Delete,
                    json!({}),
                ),
            ],
            ..Plan::default()
        }
    }

    /// Fails the resources named, records the order of calls.
    struct Script {
        fail: Vec<&'static str>,
        calls: Mutex<Vec<String>>,
    }

    impl Executor for Script {
        async fn execute(&self, change: &ResourceChange) -> Result<Option<String>, ApplyError> {
            self.calls
                .lock()
                .map(|mut c| c.push(change.address.clone()))
                .ok();
            let name = change.name.as_deref().unwrap_or_default();
            if self.fail.contains(&name) {
                Err(ApplyError {
                    message: format!("{name} refused"),
                    graph: Some(GraphFailure {
                        status: 400,
                        code: Some("Request_BadRequest".into()),
                        message: Some("refused".into()),
                        request_id: Some(format!("rid-{name}")),
                        client_request_id: None,
                    }),
                })
            } else {
                Ok(Some(format!("id-{name}")))
            }
        }
    }

    fn run_script(fail: Vec<&'static str>) -> (ApplyReport, Vec<String>) {
        let script = Script {
            fail,
            calls: Mutex::new(Vec::new()),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let report = runtime.block_on(run(&plan(), &script, &|_| {}));
        let calls = script.calls.lock().map(|c| c.clone()).unwrap_or_default();
        (report, calls)
    }

    #[test]
    fn policies_wait_for_the_locations_they_use_and_deletes_come_last() {
        let (report, calls) = run_script(vec![]);
        assert!(report.succeeded());
        let position = |name: &str| {
            calls
                .iter()
                .position(|c| c.contains(name))
                .unwrap_or(usize::MAX)
        };
        assert!(position("\"HQ\"") < position("Uses HQ"));
        assert_eq!(
            calls.last().map(String::as_str),
            Some("conditional-access-policy \"Old\"")
        );
        assert_eq!(report.count(Action::Create), 3);
    }

    #[test]
    fn a_failure_skips_its_dependents_and_nothing_else() {
        let (report, _) = run_script(vec!["HQ"]);
        let outcome = |name: &str| {
            report
                .resources
                .iter()
                .find(|r| r.address.ends_with(&format!("{name:?}")))
                .map(|r| r.outcome.clone())
        };
        assert_eq!(
            outcome("HQ"),
            Some(Outcome::Failed {
                error: "HQ refused".into(),
                graph: Some(GraphFailure {
                    status: 400,
                    code: Some("Request_BadRequest".into()),
                    message: Some("refused".into()),
                    request_id: Some("rid-HQ".into()),
                    client_request_id: None,
                }),
            })
        );
        assert_eq!(
            outcome("Uses HQ"),
            Some(Outcome::Skipped {
                because: "named-location \"HQ\"".into()
            })
        );
        assert_eq!(
            outcome("Lab"),
            Some(Outcome::Applied {
                id: Some("id-Lab".into())
            })
        );
        assert_eq!(
            outcome("Independent"),
            Some(Outcome::Applied {
                id: Some("id-Independent".into())
            })
        );
        // Deletions run last, but an unrelated failure does not hold them back.
        assert_eq!(
            outcome("Old"),
            Some(Outcome::Applied {
                id: Some("id-Old".into())
            })
        );
        assert!(!report.succeeded());
    }

    #[test]
    fn a_failure_keeps_graphs_answer_in_the_report() {
        let (report, _) = run_script(vec!["Lab"]);
        let failed = report
            .resources
            .iter()
            .find(|r| r.address == "named-location \"Lab\"")
            .map(|r| serde_json::to_value(r).unwrap_or_default());
        assert_eq!(
            failed,
            Some(json!({
                "address": "named-location \"Lab\"",
                "action": "create",
                "status": "failed",
                "error": "Lab refused",
                "graph": {
                    "status": 400,
                    "code": "Request_BadRequest",
                    "message": "refused",
                    "request_id": "rid-Lab",
                },
            }))
        );
    }
}
