//! Retention labels (`/security/labels/retentionLabels`). Graph offers no application
//! permission for them: managing them needs a signed-in admin.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;

graph_enum!(
    /// What happens to content during the retention period.
    BehaviorDuringRetentionPeriod {
        DoNotRetain = "doNotRetain",
        Retain = "retain",
        RetainAsRecord = "retainAsRecord",
        RetainAsRegulatoryRecord = "retainAsRegulatoryRecord",
    }
);

graph_enum!(
    /// What happens when the retention period ends.
    ActionAfterRetentionPeriod {
        None = "none",
        Delete = "delete",
        StartDispositionReview = "startDispositionReview",
        Relabel = "relabel",
    }
);

graph_enum!(
    /// When the retention period starts.
    RetentionTrigger {
        DateLabeled = "dateLabeled",
        DateCreated = "dateCreated",
        DateModified = "dateModified",
        DateOfEvent = "dateOfEvent",
    }
);

graph_enum!(
    /// Whether a record starts locked.
    DefaultRecordBehavior {
        StartLocked = "startLocked",
        StartUnlocked = "startUnlocked",
    }
);

/// A retention label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionLabel {
    /// The label's display name: its identity in steward (Graph does not let it change).
    pub display_name: String,
    /// Pins the label to one object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Settings someone else manages (dotted paths such as
    /// `conditions.users.exclude-groups`): never compared, never written, shown as ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_changes: Option<Vec<String>>,
    /// What happens to content during the retention period.
    pub behavior_during_retention_period: BehaviorDuringRetentionPeriod,
    /// What happens when the retention period ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_after_retention_period: Option<ActionAfterRetentionPeriod>,
    /// When the retention period starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_trigger: Option<RetentionTrigger>,
    /// How long content is retained: `days=N` or `forever=#true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_duration: Option<RetentionDuration>,
    /// Description shown to admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_for_admins: Option<String>,
    /// Description shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_for_users: Option<String>,
    /// The label applied when the period ends, with `relabel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_to_be_applied: Option<String>,
    /// Whether records start locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_record_behavior: Option<DefaultRecordBehavior>,
    /// With `retention-trigger dateOfEvent`: the id of the retention event type whose events
    /// start the period (see `/security/triggerTypes/retentionEventTypes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_event_type: Option<String>,
    /// With `action-after-retention-period startDispositionReview`: who reviews, stage by stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition_review_stages: Option<Vec<DispositionReviewStage>>,
}

/// One stage of a disposition review: its reviewers decide, then the next stage starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DispositionReviewStage {
    /// The stage's position: 1 for the first, 2 for the next, and so on.
    #[schemars(range(min = 1, max = 5))]
    pub stage_number: i32,
    /// The stage's name, shown to reviewers.
    pub name: String,
    /// The email addresses of the stage's reviewers (users or mail-enabled security groups).
    pub reviewers_email_addresses: Vec<String>,
}

/// A retention duration: a number of days, or forever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionDuration {
    /// Days of retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub days: Option<i32>,
    /// Retain forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forever: Option<bool>,
}

impl super::Resource for RetentionLabel {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }

    fn checks(&self) -> Vec<super::Finding> {
        super::checks::retention_label(self)
    }
}
