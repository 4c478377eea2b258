//! A recorded deviation: a difference between a tenant and its files accepted on purpose, with
//! a reason and an expiry, written in the tenant's own files of a fleet repository.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Kind;

/// One `deviation "kind" "name" { reason; expires; ignore … }`, still in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    /// The resource's kind.
    pub kind: Kind,
    /// Its display name, for collection kinds (matched case-insensitively).
    pub name: Option<String>,
    /// Why the difference is accepted.
    pub reason: String,
    /// The last day it is accepted (`YYYY-MM-DD`).
    pub expires: String,
    /// The settings accepted as they are in the tenant, dotted as files write them; empty
    /// accepts every difference of the resource, its creation included.
    pub ignore: Vec<String>,
    /// `file:line:column` of the deviation.
    pub location: String,
}

impl Deviation {
    /// True when it is about the resource `kind`/`name`.
    pub fn covers(&self, kind: Kind, name: Option<&str>) -> bool {
        self.kind == kind
            && match (&self.name, name) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
    }

    /// True when it accepts a difference at the dotted `path` (at or under an ignored one).
    pub fn accepts(&self, path: &str) -> bool {
        self.ignore.is_empty()
            || self.ignore.iter().any(|i| {
                path == i
                    || path
                        .strip_prefix(i.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
    }
}

/// A difference the plan leaves alone because a deviation accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Accepted {
    /// `kind "name"` of the resource.
    pub address: String,
    /// The setting, dotted; absent when the whole resource is accepted as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What the plan would otherwise have done (`create`, `update`, `replace`).
    pub action: super::plan::Action,
    /// The tenant's value (`null` when unset or absent).
    pub tenant: serde_json::Value,
    /// The declared value.
    pub declared: serde_json::Value,
    /// Why it is accepted.
    pub reason: String,
    /// The last day it is accepted.
    pub expires: String,
    /// Where the deviation is recorded (`file:line:column`).
    pub recorded_at: String,
}
