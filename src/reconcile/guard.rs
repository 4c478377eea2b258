//! The lockout guard on the tenant apply would leave.
//!
//! The files say only part of what a policy becomes: a PATCH keeps whatever the tenant holds
//! and the plan does not change, so judging the files alone misses a policy whose exclusions a
//! file replaces, or a disabled tenant policy a file turns on. Here every Conditional Access
//! policy is judged as it will stand after apply — the tenant's object with the plan's changes
//! merged in, a created policy as declared, every policy the plan does not touch as it is —
//! and so is the authentication methods policy. The rule itself is
//! [`crate::model::checks::lockout`]; this module only builds what it judges, as a pure
//! function of the plan and the tenant as read.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::plan::LiveIds;
use crate::model::checks::lockout::{JudgedPolicy, LockoutFinding, Provenance};
use crate::model::conditional_access::ConditionalAccessPolicy;
use crate::model::plan::{Action, Plan, ResourceChange};
use crate::model::reference::is_guid;
use crate::model::{Address, AuthenticationMethodsPolicy, Desired, EmergencyAccess, Finding, Kind};

/// The objects the guard judges, as apply would leave them.
#[derive(Debug, Clone, Default)]
pub struct Resulting {
    /// Every Conditional Access policy that exists after apply.
    pub policies: Vec<JudgedPolicy>,
    /// The authentication methods policy, when it was read or is declared.
    pub methods: Option<(AuthenticationMethodsPolicy, Provenance)>,
    /// Objects whose resulting form cannot be told (never judged safe).
    pub unknown: Vec<LockoutFinding>,
}

/// Builds the state apply would leave from `plan` and the tenant as read (`live`, references
/// as ids, with `ids` giving each live object's id). With `stage`, created policies are
/// report-only, as `apply --stage` creates them.
pub fn resulting_state(plan: &Plan, live: &Desired, ids: &LiveIds, stage: bool) -> Resulting {
    let mut out = Resulting::default();
    // Live objects carry their id; `ids` serves callers that keep ids beside the model.
    let live_id = |policy: &ConditionalAccessPolicy| {
        policy.id.clone().or_else(|| {
            ids.get(&Address::named(
                Kind::ConditionalAccessPolicy,
                policy.display_name.clone(),
            ))
            .cloned()
        })
    };
    let changes: Vec<&ResourceChange> = plan
        .resources
        .iter()
        .filter(|r| r.kind == Kind::ConditionalAccessPolicy)
        .collect();
    // The tenant's policies, each matched to the plan's change for it (by id, as apply
    // addresses it), or left as they are.
    let mut claimed = vec![false; changes.len()];
    for policy in &live.conditional_access_policies {
        let id = live_id(policy);
        let found = changes.iter().enumerate().find(|(i, c)| {
            !claimed[*i]
                && match (&c.id, &id) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => c.name.as_deref() == Some(policy.display_name.as_str()),
                }
                && c.action != Action::Create
        });
        let Some((i, change)) = found else {
            out.policies.push(JudgedPolicy {
                policy: without_waiver(policy.clone()),
                provenance: Provenance::TenantOnly,
                id,
            });
            continue;
        };
        claimed[i] = true;
        match change.action {
            Action::Delete => {}
            Action::NoOp | Action::Update | Action::Create | Action::Replace => {
                let base = to_map(policy);
                let merged = if change.action == Action::Update {
                    merge_change(base, change)
                } else {
                    base
                };
                push_policy(&mut out, merged, change, id);
            }
        }
    }
    for (i, change) in changes.iter().enumerate() {
        if claimed[i] || change.action == Action::Delete {
            continue;
        }
        // A creation, or an update of an object the read no longer shows: judged as sent.
        let mut after = change
            .after
            .as_ref()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if stage && change.action == Action::Create {
            after.insert(
                "state".into(),
                Value::String("enabledForReportingButNotEnforced".into()),
            );
        }
        push_policy(&mut out, after, change, change.id.clone());
    }

    let methods_change = plan
        .resources
        .iter()
        .find(|r| r.kind == Kind::AuthenticationMethodsPolicy);
    let live_methods = live.authentication_methods_policy.as_ref().map(to_map);
    let methods = match (methods_change, live_methods) {
        (Some(change), Some(base)) if change.action == Action::Update => {
            Some((merge_change(base, change), change, Provenance::Declared))
        }
        (Some(change), Some(base)) => Some((base, change, Provenance::Declared)),
        (Some(change), None) => Some((
            change
                .after
                .as_ref()
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            change,
            Provenance::Declared,
        )),
        (None, Some(_)) | (None, None) => None,
    };
    match methods {
        Some((json, change, provenance)) => match parse::<AuthenticationMethodsPolicy>(json) {
            Ok(m) => out.methods = Some((m, provenance)),
            Err(e) => out.unknown.push(unknown(change, None, e)),
        },
        None => {
            out.methods = live
                .authentication_methods_policy
                .clone()
                .map(|m| (m, Provenance::TenantOnly));
        }
    }
    out
}

/// Every group the judged objects and `emergency` refer to by id: what must be read.
pub fn groups_to_read(emergency: Option<&EmergencyAccess>, resulting: &Resulting) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for g in emergency.iter().flat_map(|e| e.group.iter()) {
        out.insert(g.0.as_str().to_ascii_lowercase());
    }
    for judged in &resulting.policies {
        if let Some(users) = &judged.policy.conditions.users {
            for g in users
                .include_groups
                .iter()
                .flatten()
                .chain(users.exclude_groups.iter().flatten())
            {
                out.insert(g.0.as_str().to_ascii_lowercase());
            }
        }
    }
    if let Some((methods, _)) = &resulting.methods {
        let json = serde_json::to_value(methods).unwrap_or_default();
        collect_target_ids(&json, &mut out);
    }
    out.into_iter().filter(|g| is_guid(g)).collect()
}

/// Method targets (`includeTargets`, `excludeTargets`) of target-type group.
fn collect_target_ids(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "includeTargets" || key == "excludeTargets" {
                    for t in v.as_array().into_iter().flatten() {
                        if t.get("targetType").and_then(Value::as_str) == Some("group")
                            && let Some(id) = t.get("id").and_then(Value::as_str)
                        {
                            out.insert(id.to_ascii_lowercase());
                        }
                    }
                } else {
                    collect_target_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_target_ids(v, out)),
        _ => {}
    }
}

/// The ids of the `emergency-access` entries, whose types must be read.
pub fn entries_to_type(emergency: Option<&EmergencyAccess>) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    if let Some(e) = emergency {
        for u in &e.user {
            out.insert(u.0.as_str().to_ascii_lowercase());
        }
        for g in &e.group {
            out.insert(g.0.as_str().to_ascii_lowercase());
        }
    }
    out.into_iter().filter(|id| is_guid(id)).collect()
}

fn to_map<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn parse<T: DeserializeOwned>(json: Map<String, Value>) -> Result<T, String> {
    serde_json::from_value(Value::Object(json)).map_err(|e| e.to_string())
}

/// A declared policy's resulting form, with the waiver the files give it.
fn push_policy(
    out: &mut Resulting,
    mut json: Map<String, Value>,
    change: &ResourceChange,
    id: Option<String>,
) {
    let waiver = change
        .after
        .as_ref()
        .and_then(|a| a.get("lockoutWaiver"))
        .cloned();
    match waiver {
        Some(w) => {
            json.insert("lockoutWaiver".into(), w);
        }
        None => {
            json.remove("lockoutWaiver");
        }
    }
    match parse::<ConditionalAccessPolicy>(json) {
        Ok(policy) => out.policies.push(JudgedPolicy {
            policy,
            provenance: Provenance::Declared,
            id,
        }),
        Err(e) => out.unknown.push(unknown(change, id, e)),
    }
}

fn without_waiver(mut policy: ConditionalAccessPolicy) -> ConditionalAccessPolicy {
    // A waiver is a statement in the files; the tenant cannot carry one.
    policy.lockout_waiver = None;
    policy
}

fn unknown(change: &ResourceChange, id: Option<String>, error: String) -> LockoutFinding {
    LockoutFinding {
        address: match &change.name {
            Some(name) => Address::named(change.kind, name.clone()),
            None => Address::singleton(change.kind),
        },
        provenance: Provenance::Declared,
        id,
        finding: Finding {
            severity: crate::model::Severity::Error,
            code: "steward::lockout::unknown-result",
            pointer: String::new(),
            message: format!(
                "{}: steward cannot tell what the object becomes after apply ({error}), so it cannot check that the emergency-access accounts keep access",
                change.address
            ),
            help: "run `steward plan` again; if this persists, report it with the plan (`steward plan --format json`)".into(),
        },
    }
}

/// The tenant's object with a planned update merged in: first each changed setting as the
/// plan states it, then every setting the update touches as apply sends it (declared values
/// merged into the tenant's, objects recursively and lists replaced), so the result is what
/// Graph holds after the PATCH whichever of the two says more.
fn merge_change(base: Map<String, Value>, change: &ResourceChange) -> Map<String, Value> {
    let mut out = Value::Object(base);
    let mut touched: Vec<String> = Vec::new();
    let declared = change.after.as_ref().and_then(Value::as_object);
    for c in &change.changes {
        let top = c.pointer.trim_start_matches('/').split('/').next();
        if c.after.is_null()
            && let (Some(top), Some(declared)) = (top, declared)
            && !declared.contains_key(&unescape(top))
        {
            // The declaration leaves the whole block out: apply clears the block.
            set_pointer(&mut out, &format!("/{top}"), Value::Null);
        } else {
            set_pointer(&mut out, &c.pointer, c.after.clone());
        }
        if let Some(top) = c.pointer.trim_start_matches('/').split('/').next()
            && !top.is_empty()
            && !touched.iter().any(|t| t == top)
        {
            touched.push(unescape(top));
        }
    }
    if let (Value::Object(map), Some(Value::Object(after))) = (&mut out, &change.after) {
        for key in touched {
            if let Some(want) = after.get(&key) {
                let merged = match map.get(&key) {
                    Some(have) => merge(have, want),
                    None => want.clone(),
                };
                map.insert(key, merged);
            }
        }
    }
    match out {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `over` onto `base`: objects recursively, anything else replaced (as apply writes).
fn merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, over) => over.clone(),
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Sets the value at a JSON pointer, creating the objects on the way.
fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let segments: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(unescape)
        .collect();
    let Some((last, path)) = segments.split_last() else {
        return;
    };
    let mut here = root;
    for segment in path {
        if !here.is_object() {
            *here = Value::Object(Map::new());
        }
        let Value::Object(map) = here else { return };
        here = map
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !here.is_object() {
        *here = Value::Object(Map::new());
    }
    if let Value::Object(map) = here {
        map.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conditional_access::PolicyState;
    use crate::model::plan::FieldChange;
    use serde_json::json;

    const BG1: &str = "5eed0001-0000-4000-8000-000000000001";
    const BG2: &str = "5eed0001-0000-4000-8000-000000000002";
    const MEGAN: &str = "5eed0001-0000-4000-8000-000000000003";
    const FINANCE: &str = "5eed0002-0000-4000-8000-000000000002";
    const ID: &str = "7a1c3e5f-0b2d-4f6a-8c9e-1d3f5a7b9c77";

    fn live_policy(state: &str, exclude: &[&str]) -> ConditionalAccessPolicy {
        serde_json::from_value(json!({
            "displayName": "Block everyone except break-glass",
            "state": state,
            "conditions": {
                "users": { "includeUsers": ["All"], "excludeUsers": exclude },
                "applications": { "includeApplications": ["All"] },
                "clientAppTypes": ["all"]
            },
            "grantControls": { "operator": "OR", "builtInControls": ["block"] }
        }))
        .expect("policy")
    }

    fn tenant(policies: Vec<ConditionalAccessPolicy>) -> (Desired, LiveIds) {
        let ids = policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    Address::named(Kind::ConditionalAccessPolicy, p.display_name.clone()),
                    if i == 0 {
                        ID.to_string()
                    } else {
                        format!("{ID}-{i}")
                    },
                )
            })
            .collect();
        let live = Desired {
            conditional_access_policies: policies,
            ..Desired::default()
        };
        (live, ids)
    }

    fn change(action: Action, after: Value, changes: Vec<FieldChange>) -> ResourceChange {
        ResourceChange {
            address: "conditional-access-policy \"Block everyone except break-glass\"".into(),
            kind: Kind::ConditionalAccessPolicy,
            name: Some("Block everyone except break-glass".into()),
            id: (action != Action::Create).then(|| ID.to_string()),
            action,
            before: None,
            after: Some(after),
            changes,
            unchanged: 0,
            ignored: Vec::new(),
            staged: false,
        }
    }

    fn field(pointer: &str, before: Value, after: Value) -> FieldChange {
        FieldChange {
            path: String::new(),
            pointer: pointer.into(),
            before,
            after,
            added: Vec::new(),
            removed: Vec::new(),
        }
    }

    fn plan(resources: Vec<ResourceChange>) -> Plan {
        Plan {
            resources,
            ..Plan::default()
        }
    }

    fn users(p: &ConditionalAccessPolicy) -> Value {
        serde_json::to_value(&p.conditions.users).expect("users")
    }

    #[test]
    fn replacing_the_exclusions_leaves_everything_else_the_tenant_holds() {
        // Case (a): the file's users block holds only exclude-users megan.
        let (live, ids) = tenant(vec![live_policy("enabled", &[BG1, BG2])]);
        let after = json!({
            "displayName": "Block everyone except break-glass",
            "state": "enabled",
            "conditions": { "users": { "excludeUsers": [MEGAN] }, "applications": { "includeApplications": ["All"] } },
            "grantControls": { "builtInControls": ["block"] }
        });
        let update = change(
            Action::Update,
            after,
            vec![field(
                "/conditions/users/excludeUsers",
                json!([BG1, BG2]),
                json!([MEGAN]),
            )],
        );
        let resulting = resulting_state(&plan(vec![update]), &live, &ids, false);
        assert_eq!(resulting.policies.len(), 1);
        let judged = &resulting.policies[0];
        assert_eq!(judged.provenance, Provenance::Declared);
        assert_eq!(judged.id.as_deref(), Some(ID));
        assert_eq!(
            users(&judged.policy),
            json!({ "includeUsers": ["All"], "excludeUsers": [MEGAN] })
        );
    }

    #[test]
    fn enabling_a_disabled_tenant_policy_judges_its_whole_scope() {
        // Case (b): state and an exclusion declared, the rest from the tenant.
        let (live, ids) = tenant(vec![live_policy("disabled", &[])]);
        let after = json!({
            "displayName": "Block everyone except break-glass",
            "state": "enabled",
            "conditions": { "users": { "excludeGroups": [FINANCE] }, "applications": { "includeApplications": ["All"] } }
        });
        let update = change(
            Action::Update,
            after,
            vec![
                field("/state", json!("disabled"), json!("enabled")),
                field(
                    "/conditions/users/excludeGroups",
                    Value::Null,
                    json!([FINANCE]),
                ),
            ],
        );
        let resulting = resulting_state(&plan(vec![update]), &live, &ids, false);
        let policy = &resulting.policies[0].policy;
        assert_eq!(policy.state, PolicyState::Enabled);
        assert_eq!(
            users(policy),
            json!({ "includeUsers": ["All"], "excludeUsers": [], "excludeGroups": [FINANCE] })
        );
    }

    #[test]
    fn what_apply_sends_wins_over_what_the_changes_say() {
        // A plan whose change list and declared object disagree is judged by what the PATCH
        // would carry for the settings it touches.
        let (live, ids) = tenant(vec![live_policy("enabled", &[BG1, BG2])]);
        let after = json!({
            "displayName": "Block everyone except break-glass",
            "state": "enabled",
            "conditions": { "users": { "excludeUsers": [MEGAN] }, "applications": { "includeApplications": ["All"] } }
        });
        let update = change(
            Action::Update,
            after,
            vec![field(
                "/conditions/users/excludeUsers",
                json!([BG1]),
                json!([BG1, BG2]),
            )],
        );
        let resulting = resulting_state(&plan(vec![update]), &live, &ids, false);
        assert_eq!(
            users(&resulting.policies[0].policy)["excludeUsers"],
            json!([MEGAN])
        );
    }

    #[test]
    fn untouched_deleted_created_and_staged_policies() {
        let mut other = live_policy("enabled", &[]);
        other.display_name = "Someone else's".into();
        other.lockout_waiver = Some("not from the tenant".into());
        let (live, ids) = tenant(vec![live_policy("enabled", &[BG1]), other]);
        let delete = change(Action::Delete, Value::Null, Vec::new());
        let mut create = change(
            Action::Create,
            serde_json::to_value(live_policy("enabled", &[BG1, BG2])).expect("json"),
            Vec::new(),
        );
        create.name = Some("New".into());
        create.after.as_mut().expect("after")["displayName"] = json!("New");
        create.after.as_mut().expect("after")["lockoutWaiver"] = json!("CHG-9");
        let resulting = resulting_state(&plan(vec![delete, create.clone()]), &live, &ids, false);
        let names: Vec<(&str, Provenance)> = resulting
            .policies
            .iter()
            .map(|p| (p.policy.display_name.as_str(), p.provenance))
            .collect();
        assert_eq!(
            names,
            [
                ("Someone else's", Provenance::TenantOnly),
                ("New", Provenance::Declared)
            ]
        );
        assert_eq!(resulting.policies[0].policy.lockout_waiver, None);
        assert_eq!(
            resulting.policies[1].policy.lockout_waiver.as_deref(),
            Some("CHG-9")
        );
        assert_eq!(resulting.policies[1].policy.state, PolicyState::Enabled);
        let staged = resulting_state(&plan(vec![create]), &live, &ids, true);
        let new = staged
            .policies
            .iter()
            .find(|p| p.policy.display_name == "New")
            .expect("created");
        assert_eq!(
            new.policy.state,
            PolicyState::EnabledForReportingButNotEnforced
        );
    }

    #[test]
    fn an_unchanged_declared_policy_is_the_tenants_with_the_files_waiver() {
        let (live, ids) = tenant(vec![live_policy("enabled", &[])]);
        let mut after = serde_json::to_value(live_policy("enabled", &[])).expect("json");
        after["lockoutWaiver"] = json!("CHG-1");
        let noop = change(Action::NoOp, after, Vec::new());
        let resulting = resulting_state(&plan(vec![noop]), &live, &ids, false);
        assert_eq!(resulting.policies[0].provenance, Provenance::Declared);
        assert_eq!(
            resulting.policies[0].policy.lockout_waiver.as_deref(),
            Some("CHG-1")
        );
    }

    #[test]
    fn the_groups_and_entries_to_read_are_the_ids_referenced() {
        let (live, ids) = tenant(vec![serde_json::from_value(json!({
            "displayName": "P",
            "state": "enabled",
            "conditions": {
                "users": { "includeGroups": [FINANCE.to_uppercase()], "excludeGroups": ["not-a-guid"] },
                "applications": { "includeApplications": ["All"] }
            },
            "grantControls": { "builtInControls": ["mfa"] }
        }))
        .expect("policy")]);
        let resulting = resulting_state(&Plan::default(), &live, &ids, false);
        let emergency: EmergencyAccess =
            serde_json::from_value(json!({ "user": [BG1], "group": [BG2] })).expect("ea");
        assert_eq!(
            groups_to_read(Some(&emergency), &resulting),
            [BG2.to_string(), FINANCE.to_string()]
        );
        assert_eq!(entries_to_type(Some(&emergency)), [BG1, BG2]);
    }
}
