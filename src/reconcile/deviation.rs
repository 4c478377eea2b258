//! Recorded deviations applied to a plan: the differences they accept leave the plan's changes
//! (and its risks, and drift) for its `accepted` list, and what apply writes leaves those
//! settings as the tenant has them. A pure function of the plan and the deviations.

use serde_json::Value;

use crate::model::plan::{Action, Plan, ResourceChange, Summary};
use crate::model::{Accepted, Deviation};

/// Moves every difference `deviations` accept from `plan`'s changes to `plan.accepted`, then
/// recounts the plan and judges its risks again.
pub fn accept(plan: &mut Plan, deviations: &[Deviation]) {
    if deviations.is_empty() {
        return;
    }
    let mut kept = Vec::with_capacity(plan.resources.len());
    for mut change in std::mem::take(&mut plan.resources) {
        let Some(deviation) = deviations
            .iter()
            .find(|d| d.covers(change.kind, change.name.as_deref()))
        else {
            kept.push(change);
            continue;
        };
        let record =
            |path: Option<String>, action: Action, tenant: Value, declared: Value| Accepted {
                address: change.address.clone(),
                path,
                action,
                tenant,
                declared,
                reason: deviation.reason.clone(),
                expires: deviation.expires.clone(),
                recorded_at: deviation.location.clone(),
            };
        match change.action {
            Action::NoOp | Action::Delete => kept.push(change),
            // The whole resource as the tenant has it: not created.
            Action::Create if deviation.ignore.is_empty() => {
                plan.accepted.push(record(
                    None,
                    Action::Create,
                    Value::Null,
                    change.after.clone().unwrap_or(Value::Null),
                ));
            }
            Action::Create => kept.push(change),
            Action::Update | Action::Replace => {
                let action = change.action;
                let (taken, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut change.changes)
                    .into_iter()
                    .partition(|c| deviation.accepts(&c.path));
                for c in &taken {
                    plan.accepted.push(record(
                        Some(c.path.clone()),
                        action,
                        c.before.clone(),
                        c.after.clone(),
                    ));
                    // Apply writes `after`: keep the tenant's value there.
                    if let Some(after) = &mut change.after {
                        set_pointer(after, &c.pointer, c.before.clone());
                    }
                }
                change.unchanged += taken.len();
                change.changes = rest;
                change.action = reclassify(&change, action);
                kept.push(change);
            }
        }
    }
    plan.resources = kept;
    plan.summary = Summary::of(&plan.resources);
    plan.risks = super::risk::assess(&plan.resources, crate::model::plan::Direction::Apply);
}

/// The action left once some changes are accepted: none left is a no-op; a replacement stays
/// one only while a setting that forces it still changes.
fn reclassify(change: &ResourceChange, was: Action) -> Action {
    if change.changes.is_empty() {
        return Action::NoOp;
    }
    if was != Action::Replace {
        return was;
    }
    let forced = change.kind.forces_replacement();
    let forces = change.changes.iter().any(|c| {
        forced
            .iter()
            .any(|p| c.pointer == *p || c.pointer.starts_with(&format!("{p}/")))
    });
    if forces {
        Action::Replace
    } else {
        Action::Update
    }
}

/// Sets (or, for `null`, removes) the value at a JSON pointer, creating objects on the way.
fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = parts.split_last() else {
        return;
    };
    let mut here = root;
    for part in path {
        let Some(map) = here.as_object_mut() else {
            return;
        };
        here = map
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    if let Some(map) = here.as_object_mut() {
        if value.is_null() {
            map.remove(last);
        } else {
            map.insert(last.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::model::plan::FieldChange;
    use serde_json::json;

    fn deviation(ignore: &[&str]) -> Deviation {
        Deviation {
            kind: Kind::ConditionalAccessPolicy,
            name: Some("ca004 block legacy".into()),
            reason: "legacy printer".into(),
            expires: "2027-06-30".into(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            location: "tenants/a/deviations.kdl:1:1".into(),
        }
    }

    fn update() -> ResourceChange {
        let change = |path: &str, pointer: &str, before: Value, after: Value| FieldChange {
            path: path.into(),
            pointer: pointer.into(),
            before,
            after,
            added: Vec::new(),
            removed: Vec::new(),
        };
        ResourceChange {
            address: "conditional-access-policy \"CA004 Block legacy\"".into(),
            kind: Kind::ConditionalAccessPolicy,
            name: Some("CA004 Block legacy".into()),
            id: Some("1".into()),
            action: Action::Update,
            before: None,
            after: Some(
                json!({"state": "enabled", "conditions": {"users": {"excludeGroups": ["g1"]}}}),
            ),
            changes: vec![
                change("state", "/state", json!("disabled"), json!("enabled")),
                change(
                    "conditions.users.exclude-groups",
                    "/conditions/users/excludeGroups",
                    json!(["g1", "g2"]),
                    json!(["g1"]),
                ),
            ],
            unchanged: 3,
            ignored: Vec::new(),
            staged: false,
        }
    }

    fn plan_of(resources: Vec<ResourceChange>) -> Plan {
        let mut plan = Plan {
            resources,
            ..Plan::default()
        };
        plan.summary = Summary::of(&plan.resources);
        plan
    }

    #[test]
    fn an_ignored_setting_leaves_the_changes_for_the_accepted_list_and_keeps_the_tenants_value() {
        let mut plan = plan_of(vec![update()]);
        accept(
            &mut plan,
            &[deviation(&["conditions.users.exclude-groups"])],
        );
        let change = &plan.resources[0];
        assert_eq!(change.action, Action::Update);
        assert_eq!(change.changes.len(), 1);
        assert_eq!(change.changes[0].path, "state");
        assert_eq!(
            change
                .after
                .as_ref()
                .map(|a| a["conditions"]["users"]["excludeGroups"].clone()),
            Some(json!(["g1", "g2"]))
        );
        assert_eq!(plan.accepted.len(), 1);
        assert_eq!(
            plan.accepted[0].path.as_deref(),
            Some("conditions.users.exclude-groups")
        );
        assert_eq!(plan.accepted[0].tenant, json!(["g1", "g2"]));
        assert_eq!(plan.summary.change, 1);
    }

    #[test]
    fn a_change_whose_every_difference_is_accepted_is_no_change_at_all() {
        let mut plan = plan_of(vec![update()]);
        accept(&mut plan, &[deviation(&["state", "conditions.users"])]);
        assert_eq!(plan.resources[0].action, Action::NoOp);
        assert!(plan.summary.is_empty());
        assert_eq!(plan.accepted.len(), 2);
    }

    #[test]
    fn a_deviation_without_ignore_accepts_the_whole_resource_even_its_absence() {
        let mut created = update();
        created.action = Action::Create;
        created.changes.clear();
        let mut plan = plan_of(vec![created, update()]);
        accept(&mut plan, &[deviation(&[])]);
        assert!(plan.resources.iter().all(|r| r.action == Action::NoOp));
        assert_eq!(plan.accepted.len(), 3);
        assert_eq!(plan.accepted[0].action, Action::Create);
        assert_eq!(plan.accepted[0].path, None);
    }

    #[test]
    fn a_deviation_for_another_resource_changes_nothing() {
        let mut plan = plan_of(vec![update()]);
        let mut other = deviation(&[]);
        other.name = Some("CA005".into());
        accept(&mut plan, &[other]);
        assert_eq!(plan.resources[0].changes.len(), 2);
        assert!(plan.accepted.is_empty());
    }
}
