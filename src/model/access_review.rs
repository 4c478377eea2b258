//! Access reviews of guests (`/identityGovernance/accessReviews/definitions`): a recurring
//! review of the guests in Microsoft 365 groups and Teams, in named groups, or with access to
//! named applications.
//!
//! The file names what is reviewed and who reviews by name; steward builds the Graph queries
//! (`/groups?$filter=…`, `./members/microsoft.graph.user/?$filter=(userType eq 'Guest')`,
//! `./owners`, `/users/{id}`) and reads them back into names. Graph cannot change what a
//! review covers once it exists: a change to `scope` replaces the review.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::macros::graph_enum;
use super::reference::{GroupRef, ServicePrincipalRef, UserRef};

graph_enum!(
    /// Which groups a review enumerates, one review instance per group.
    GuestsIn {
        AllMicrosoft365Groups = "allMicrosoft365Groups",
        AllTeams = "allTeams",
    }
);

graph_enum!(
    /// The decision applied when reviewers do not answer.
    DefaultDecision {
        None = "None",
        Approve = "Approve",
        Deny = "Deny",
        Recommendation = "Recommendation",
    }
);

graph_enum!(
    /// What happens to denied guests once decisions are applied.
    ApplyAction {
        RemoveAccess = "removeAccessApplyAction",
        DisableAndDeleteUser = "disableAndDeleteUserApplyAction",
    }
);

graph_enum!(
    /// How a review recurs.
    RecurrenceType {
        Weekly = "weekly",
        AbsoluteMonthly = "absoluteMonthly",
    }
);

/// What the review covers: the guests of every Microsoft 365 group or team, or the guests of
/// named groups and applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewScope {
    /// `allMicrosoft365Groups` or `allTeams`: one review instance per group, reviewing its
    /// guest members (dynamic and role-assignable groups are not included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guests_in: Option<GuestsIn>,
    /// Review the guests who are members (direct or nested) of these groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRef>>,
    /// Review the guests with access to these applications (service principals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applications: Option<Vec<ServicePrincipalRef>>,
}

/// Who reviews.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reviewers {
    /// The owners of each reviewed group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_owners: Option<bool>,
    /// Each reviewed guest's manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managers: Option<bool>,
    /// Each guest reviews their own access (no other reviewer may be named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_review: Option<bool>,
    /// Named users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRef>>,
    /// The members of named groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRef>>,
}

/// Who reviews when the reviewers cannot be found (a group without owners, a guest without a
/// manager).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FallbackReviewers {
    /// Named users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRef>>,
    /// The members of named groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRef>>,
}

/// When the review runs: `type=absoluteMonthly interval=3` is quarterly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Recurrence {
    /// `weekly` or `absoluteMonthly`.
    #[serde(rename = "type")]
    pub recurrence_type: RecurrenceType,
    /// Weeks or months between two reviews (3 months: quarterly).
    #[schemars(range(min = 1))]
    pub interval: i32,
    /// With `absoluteMonthly`: the day of the month reviews start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 31))]
    pub day_of_month: Option<i32>,
    /// The day the first review starts (`YYYY-MM-DD`).
    pub start_date: String,
    /// The day recurrence ends (`YYYY-MM-DD`); absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
}

/// How a review is run and what its decisions do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewSettings {
    /// How often the review runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    /// How many days each review stays open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub instance_duration_in_days: Option<i32>,
    /// Decisions are applied when the review ends, without an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_apply_decisions_enabled: Option<bool>,
    /// What applying a deny does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_actions: Option<Vec<ApplyAction>>,
    /// Whether `default-decision` applies to guests nobody reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_decision_enabled: Option<bool>,
    /// The decision for guests nobody reviewed: `Deny`, `Approve`, `Recommendation`, `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_decision: Option<DefaultDecision>,
    /// Reviewers must say why they approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification_required_on_approval: Option<bool>,
    /// Reviewers see recommendations (based on sign-in activity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendations_enabled: Option<bool>,
    /// Reviewers are emailed when a review starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_notifications_enabled: Option<bool>,
    /// Reviewers are reminded before a review ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_notifications_enabled: Option<bool>,
}

/// A recurring access review of guests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessReview {
    /// The review's display name: its identity in steward.
    pub display_name: String,
    /// Pins the review to one definition id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A previous display name: a rename is an update, not a replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Settings someone else manages (dotted paths): never compared, never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_changes: Option<Vec<String>>,
    /// Description shown to admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_for_admins: Option<String>,
    /// Description shown to reviewers in the review and its emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_for_reviewers: Option<String>,
    /// What is reviewed. Graph cannot change it: a change replaces the review.
    pub scope: ReviewScope,
    /// Who reviews.
    pub reviewers: Reviewers,
    /// Who reviews when the reviewers cannot be found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reviewers: Option<FallbackReviewers>,
    /// How the review runs and what its decisions do.
    pub settings: ReviewSettings,
}

impl super::Resource for AccessReview {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }

    fn checks(&self) -> Vec<super::Finding> {
        super::checks::access_review(self)
    }

    fn forces_replacement() -> &'static [&'static str] {
        // Graph's update takes neither the scope nor the instance enumeration scope.
        &["/scope"]
    }
}
