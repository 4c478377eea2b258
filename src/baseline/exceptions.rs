//! `check-exception` and `emergency-access`: what a configuration accepts on purpose.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::model::Desired;

/// One `check-exception`, as grading uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exception {
    pub reason: String,
    pub expires: String,
    /// Its day has passed (or is not a date): it accepts nothing.
    pub expired: bool,
    /// It names accounts to allow as exclusions rather than accepting the whole id.
    pub is_exclusion: bool,
    /// Allowed excluded users and groups, lowercase.
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub applications: Vec<String>,
}

/// The exceptions of a configuration and its emergency-access accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    by_id: BTreeMap<String, Exception>,
    emergency_users: Vec<String>,
    emergency_groups: Vec<String>,
}

impl Allowed {
    /// Reads the exceptions and the emergency-access declaration of `config`, as of `today`.
    pub fn from_config(config: &Desired, today: NaiveDate) -> Allowed {
        let lower = |list: &Option<Vec<String>>| -> Vec<String> {
            list.iter().flatten().map(|s| s.to_lowercase()).collect()
        };
        let by_id = config
            .check_exceptions
            .iter()
            .map(|e| {
                let exception = Exception {
                    reason: e.reason.clone(),
                    expires: e.expires.clone(),
                    expired: e.expiry().is_none_or(|day| day < today),
                    is_exclusion: e.is_exclusion(),
                    users: lower(&e.exclude_users),
                    groups: lower(&e.exclude_groups),
                    applications: lower(&e.exclude_applications),
                };
                (e.display_name.clone(), exception)
            })
            .collect();
        let (emergency_users, emergency_groups) = match &config.emergency_access {
            Some(e) => (
                e.user.iter().map(|u| u.0.as_str().to_lowercase()).collect(),
                e.group
                    .iter()
                    .map(|g| g.0.as_str().to_lowercase())
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        Allowed {
            by_id,
            emergency_users,
            emergency_groups,
        }
    }

    /// The exception recorded for `id`.
    pub(crate) fn exception(&self, id: &str) -> Option<&Exception> {
        self.by_id.get(id)
    }

    /// The excluded users, groups and applications `id` does not allow: those neither an
    /// unexpired exception for `id` nor (users and groups) the emergency-access declaration
    /// names.
    pub(crate) fn disallowed<'a>(
        &self,
        id: &str,
        users: &'a [String],
        groups: &'a [String],
        applications: &'a [String],
    ) -> Vec<&'a str> {
        let exception = self.by_id.get(id).filter(|e| !e.expired);
        let user_ok = |u: &str| {
            let u = u.to_lowercase();
            self.emergency_users.contains(&u) || exception.is_some_and(|e| e.users.contains(&u))
        };
        let group_ok = |g: &str| {
            let g = g.to_lowercase();
            self.emergency_groups.contains(&g) || exception.is_some_and(|e| e.groups.contains(&g))
        };
        let app_ok =
            |a: &str| exception.is_some_and(|e| e.applications.contains(&a.to_lowercase()));
        users
            .iter()
            .filter(|u| !user_ok(u))
            .chain(groups.iter().filter(|g| !group_ok(g)))
            .chain(applications.iter().filter(|a| !app_ok(a)))
            .map(String::as_str)
            .collect()
    }
}
