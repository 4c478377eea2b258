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
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanDocument {
    /// The layout's version (1).
    pub format_version: u32,
    /// `plan` (what apply will do) or `drift` (what changed outside steward).
    pub mode: Mode,
    /// Every declared resource and every deletion, in apply order (no-ops included).
    pub resource_changes: Vec<ResourceChangeDocument>,
    /// Objects in the tenant nothing declares; left alone.
    pub unmanaged: Vec<Unmanaged>,
    /// Changes that weaken security.
    pub risks: Vec<Risk>,
    /// References in the tenant's objects to objects that no longer exist (a cleanup list;
    /// empty when none).
    pub orphans: Vec<Orphan>,
    /// Counts of resources to add, change and destroy.
    pub summary: Summary,
}

/// One resource in a [`PlanDocument`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResourceChangeDocument {
    /// `kind "name"`, or `kind` for singletons.
    pub address: String,
    /// The resource kind.
    pub kind: Kind,
    /// The display name, for collection kinds.
    pub name: Option<String>,
    /// The tenant's id, when the object exists.
    pub id: Option<String>,
    /// What happens, as a one-element list (`create`, `update`, `delete` or `no-op`).
    pub actions: Vec<Action>,
    /// The tenant's object (declared settings only for updates); null for creates.
    pub before: Option<Value>,
    /// The object as declared; null for deletes.
    pub after: Option<Value>,
    /// The settings the change writes (dotted kebab-case paths): every declared one for a
    /// create, the differing ones for an update, none for a delete or a no-op.
    pub changed_paths: Vec<String>,
    /// The field-level changes of an update.
    pub changes: Vec<FieldChange>,
    /// How many declared settings were compared and found equal.
    pub unchanged: usize,
    /// Settings that differ but that `ignore-changes` leaves to others (dotted paths).
    pub ignored: Vec<String>,
}

impl ResourceChangeDocument {
    fn from_change(change: &ResourceChange) -> Self {
        ResourceChangeDocument {
            address: change.address.clone(),
            kind: change.kind,
            name: change.name.clone(),
            id: change.id.clone(),
            actions: vec![change.action],
            before: change.before.clone(),
            after: change.after.clone(),
            changed_paths: changed_paths(change),
            changes: change.changes.clone(),
            unchanged: change.unchanged,
            ignored: change.ignored.clone(),
        }
    }
}

/// The plan as a [`PlanDocument`].
pub fn document(plan: &Plan, mode: Mode) -> PlanDocument {
    PlanDocument {
        format_version: FORMAT_VERSION,
        mode,
        resource_changes: plan
            .resources
            .iter()
            .map(ResourceChangeDocument::from_change)
            .collect(),
        unmanaged: plan.unmanaged.clone(),
        risks: plan.risks.clone(),
        orphans: plan.orphans.clone(),
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
