//! The plan: what would change in the tenant, resource by resource and field by field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Kind;

/// What happens to one resource.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing: the tenant matches.
    NoOp,
    /// Created.
    Create,
    /// Changed in place.
    Update,
    /// Deleted (only inside a prune scope).
    Delete,
    /// Deleted, then created again: a setting Graph cannot change on an existing object
    /// changed (Terraform's `-/+`, "forces replacement").
    Replace,
}

/// One changed setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    /// The setting as a file names it: kebab-case node names joined by dots
    /// (`conditions.users.exclude-users`).
    pub path: String,
    /// The JSON pointer of the setting in the model's (Graph's camelCase) form.
    pub pointer: String,
    /// The tenant's value (`null` when unset).
    pub before: Value,
    /// The declared value.
    pub after: Value,
    /// For sets: members the change adds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<Value>,
    /// For sets: members the change removes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Value>,
}

/// The change to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceChange {
    /// `kind "name"` or `kind` for singletons.
    pub address: String,
    /// The kind.
    pub kind: Kind,
    /// The display name, for collection kinds.
    pub name: Option<String>,
    /// The tenant's id, when the object exists.
    pub id: Option<String>,
    /// What happens.
    pub action: Action,
    /// The object in the tenant (model form, declared settings only for updates).
    pub before: Option<Value>,
    /// The object as declared.
    pub after: Option<Value>,
    /// The settings that change (empty for no-ops, creates and deletes).
    pub changes: Vec<FieldChange>,
    /// Settings compared and found equal.
    pub unchanged: usize,
    /// Settings that differ but that the declaration's `ignore-changes` leaves to others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// Created report-only by `--stage`, whatever the declared state (`after` shows the staged
    /// state).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
}

/// Which way a risky change runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// What apply would do to the tenant.
    Apply,
    /// What changed in the tenant outside steward.
    Drift,
}

/// A change a reviewer must not miss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    /// The resource's address.
    pub address: String,
    /// The rule's stable id (`ca-disabled`, `exclusion-added`, `weaker-grant`, …).
    pub code: String,
    /// What the change does, in plain words.
    pub message: String,
    /// `apply` (what apply would do) or `drift` (what changed outside steward).
    pub direction: Direction,
    /// The setting, as a dotted path, when the risk is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// An object in the tenant that nothing declares; left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unmanaged {
    /// Its kind.
    pub kind: Kind,
    /// Its display name.
    pub name: String,
    /// Its id.
    pub id: String,
    /// Why steward cannot model it, for objects of a type or content steward does not support
    /// (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
}

/// A reference, in an object the read met, to an object that no longer exists (Entra keeps
/// the ids of deleted users and groups in policies): kept as the id, listed for cleanup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Orphan {
    /// The object holding the reference, as `kind "name"`.
    pub resource: String,
    /// What it refers to (`user`, `group`, `directory role`, …).
    pub refers_to: String,
    /// The id that names nothing.
    pub id: String,
    /// JSON pointer of the reference in the resource's model form.
    pub pointer: String,
}

impl ResourceChange {
    /// The changed settings that force the replacement of the object (dotted paths).
    pub fn forcing_replacement(&self) -> Vec<&str> {
        let forced = self.kind.forces_replacement();
        self.changes
            .iter()
            .filter(|c| {
                forced
                    .iter()
                    .any(|p| c.pointer == *p || c.pointer.starts_with(&format!("{p}/")))
            })
            .map(|c| c.path.as_str())
            .collect()
    }
}

/// Counts, Terraform style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Resources to create.
    pub add: usize,
    /// Resources to update.
    pub change: usize,
    /// Resources to delete.
    pub destroy: usize,
}

impl Summary {
    /// The counts of `resources`; a replacement is one destroyed and one added, as Terraform
    /// counts it.
    pub fn of(resources: &[ResourceChange]) -> Summary {
        let count = |f: fn(Action) -> bool| resources.iter().filter(|r| f(r.action)).count();
        Summary {
            add: count(|a| matches!(a, Action::Create | Action::Replace)),
            change: count(|a| a == Action::Update),
            destroy: count(|a| matches!(a, Action::Delete | Action::Replace)),
        }
    }

    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.add == 0 && self.change == 0 && self.destroy == 0
    }
}

/// The whole plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Every declared resource (and every deletion), in the order apply would take them.
    pub resources: Vec<ResourceChange>,
    /// Objects in the tenant nothing declares.
    pub unmanaged: Vec<Unmanaged>,
    /// Changes that weaken security, first for reviewers.
    pub risks: Vec<Risk>,
    /// References in the tenant's objects to objects that no longer exist (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphans: Vec<Orphan>,
    /// Differences the tenant's recorded deviations accept: not changed, not drift (absent
    /// when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<super::Accepted>,
    /// Counts.
    pub summary: Summary,
}
