//! The machine form: a versioned document with a published schema.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{Mode, changed_paths};
use crate::model::Kind;
use crate::model::plan::{
    Action, FieldChange, Orphan, Plan, ResourceChange, Risk, Summary, Unmanaged,
};

/// The version of [`PlanDocument`]'s layout; raised only when a field changes meaning or goes.
const FORMAT_VERSION: u32 = 1;

/// `steward plan --format json` and `steward drift --format json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlanDocument<'a> {
    /// The layout's version (1).
    pub format_version: u32,
    /// `plan` (what apply will do) or `drift` (what changed outside steward).
    pub mode: Mode,
    /// Every declared resource and every deletion, in apply order (no-ops included).
    pub resource_changes: Vec<ResourceChangeDocument<'a>>,
    /// Objects in the tenant nothing declares; left alone.
    pub unmanaged: &'a [Unmanaged],
    /// Changes that weaken security.
    pub risks: &'a [Risk],
    /// References in the tenant's objects to objects that no longer exist (a cleanup list;
    /// empty when none).
    pub orphans: &'a [Orphan],
    /// Differences a recorded deviation accepts on purpose, until it expires: not changes,
    /// not drift (absent when none).
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub accepted: &'a [crate::model::Accepted],
    /// Counts of resources to add, change and destroy.
    pub summary: Summary,
}

/// One resource in a [`PlanDocument`].
#[derive(Debug, Serialize, JsonSchema)]
pub struct ResourceChangeDocument<'a> {
    /// `kind "name"`, or `kind` for singletons.
    pub address: &'a str,
    /// The resource kind.
    pub kind: Kind,
    /// The display name, for collection kinds.
    pub name: Option<&'a str>,
    /// The tenant's id, when the object exists.
    pub id: Option<&'a str>,
    /// What happens: one of `create`, `update`, `delete` or `no-op`, or `delete` then
    /// `create` for a replacement.
    pub actions: Vec<Action>,
    /// The tenant's object (declared settings only for updates); null for creates.
    pub before: Option<&'a Value>,
    /// The object as declared; null for deletes.
    pub after: Option<&'a Value>,
    /// The settings the change writes (dotted kebab-case paths): every declared one for a
    /// create, the differing ones for an update, none for a delete or a no-op.
    pub changed_paths: Vec<String>,
    /// The field-level changes of an update.
    pub changes: &'a [FieldChange],
    /// How many declared settings were compared and found equal.
    pub unchanged: usize,
    /// Settings that differ but that `ignore-changes` leaves to others (dotted paths).
    pub ignored: &'a [String],
    /// For a replacement, the changed settings that force it (dotted paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<&'a str>,
}

impl<'a> ResourceChangeDocument<'a> {
    fn from_change(change: &'a ResourceChange) -> Self {
        ResourceChangeDocument {
            address: &change.address,
            kind: change.kind,
            name: change.name.as_deref(),
            id: change.id.as_deref(),
            // A replacement is a delete then a create, as Terraform lists it.
            actions: match change.action {
                Action::Replace => vec![Action::Delete, Action::Create],
                other => vec![other],
            },
            before: change.before.as_ref(),
            after: change.after.as_ref(),
            changed_paths: changed_paths(change),
            changes: &change.changes,
            unchanged: change.unchanged,
            ignored: &change.ignored,
            replace_paths: change.forcing_replacement(),
        }
    }
}

/// The plan as a [`PlanDocument`].
pub fn document(plan: &Plan, mode: Mode) -> PlanDocument<'_> {
    PlanDocument {
        format_version: FORMAT_VERSION,
        mode,
        resource_changes: plan
            .resources
            .iter()
            .map(ResourceChangeDocument::from_change)
            .collect(),
        unmanaged: &plan.unmanaged,
        risks: &plan.risks,
        orphans: &plan.orphans,
        accepted: &plan.accepted,
        summary: plan.summary,
    }
}

/// The plan as JSON, in the layout of [`plan_schema`].
pub fn json(plan: &Plan, mode: Mode) -> Value {
    // Serialising these plain data types cannot fail; Null would only ever signal a bug.
    serde_json::to_value(document(plan, mode)).unwrap_or(Value::Null)
}

/// The JSON Schema of [`PlanDocument`], published as `schemas/plan.schema.json`.
pub fn plan_schema() -> schemars::Schema {
    schemars::schema_for!(PlanDocument)
}
