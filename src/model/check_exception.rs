//! `check-exception "MS.AAD.3.1v1"`: a baseline policy accepted as not (fully) met, on purpose,
//! until a date.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Finding, Severity};

/// A recorded exception to one baseline policy id, in the manner of ScubaGear's
/// `CapExclusions`: with `exclude-users`/`exclude-groups`, Conditional Access policies may
/// exclude those accounts and still count for the id; without, the id itself is accepted.
/// Either way it ends on `expires`, and an expired exception is a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckException {
    /// The baseline policy id (`MS.AAD.3.1v1`).
    pub display_name: String,
    /// Why the exception is accepted, for the auditor.
    pub reason: String,
    /// The last day the exception holds (`YYYY-MM-DD`).
    pub expires: String,
    /// Users (UPN or object id) Conditional Access policies may exclude for this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_users: Option<Vec<String>>,
    /// Groups (display name or object id) Conditional Access policies may exclude for this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_groups: Option<Vec<String>>,
    /// Applications (name or application id) Conditional Access policies may exclude for
    /// this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_applications: Option<Vec<String>>,
}

impl CheckException {
    /// The expiry date, when it is one.
    pub fn expiry(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.expires, "%Y-%m-%d").ok()
    }

    /// True when the exception names accounts to allow rather than accepting the whole id.
    pub fn is_exclusion(&self) -> bool {
        self.exclude_users.as_ref().is_some_and(|l| !l.is_empty())
            || self.exclude_groups.as_ref().is_some_and(|l| !l.is_empty())
            || self
                .exclude_applications
                .as_ref()
                .is_some_and(|l| !l.is_empty())
    }
}

impl super::Resource for CheckException {
    fn display_name(&self) -> Option<&str> {
        Some(&self.display_name)
    }

    fn checks(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if !is_policy_id(&self.display_name) {
            out.push(Finding {
                severity: Severity::Error,
                code: "steward::check-exception-id",
                pointer: String::new(),
                message: format!(
                    "{:?} is not a baseline policy id",
                    self.display_name
                ),
                help: "name the policy as the baseline does, for example \"MS.AAD.3.1v1\" (`steward check` lists them)".into(),
            });
        }
        if self.expiry().is_none() {
            out.push(Finding {
                severity: Severity::Error,
                code: "steward::check-exception-expires",
                pointer: "/expires".into(),
                message: format!("expires {:?} is not a date", self.expires),
                help: "write the last day the exception holds as YYYY-MM-DD, for example \"2027-03-31\"".into(),
            });
        }
        if self.reason.trim().is_empty() {
            out.push(Finding {
                severity: Severity::Error,
                code: "steward::check-exception-reason",
                pointer: "/reason".into(),
                message: "an exception needs a reason".into(),
                help: "say why the baseline is not met, for the auditor who reads the evidence"
                    .into(),
            });
        }
        out
    }
}

/// `MS.<PRODUCT>.<n>.<m>v<k>`, as SCuBA numbers its policies.
pub fn is_policy_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    let [ms, product, section, last] = parts.as_slice() else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some((item, version)) = last.split_once('v') else {
        return false;
    };
    *ms == "MS"
        && !product.is_empty()
        && product.bytes().all(|b| b.is_ascii_uppercase())
        && digits(section)
        && digits(item)
        && digits(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Resource;

    fn exception(id: &str, expires: &str, reason: &str) -> CheckException {
        CheckException {
            display_name: id.into(),
            reason: reason.into(),
            expires: expires.into(),
            exclude_users: None,
            exclude_groups: None,
            exclude_applications: None,
        }
    }

    #[test]
    fn policy_ids_are_scuba_shaped() {
        assert!(is_policy_id("MS.AAD.3.1v1"));
        assert!(is_policy_id("MS.SHAREPOINT.1.2v1"));
        for bad in [
            "MS.AAD.3.1",
            "ms.aad.3.1v1",
            "MS.AAD.x.1v1",
            "MS.AAD.3.1v",
            "MS..3.1v1",
        ] {
            assert!(!is_policy_id(bad), "{bad}");
        }
    }

    #[test]
    fn an_exception_needs_an_id_a_date_and_a_reason() {
        assert!(
            exception("MS.AAD.3.1v1", "2027-03-31", "r")
                .checks()
                .is_empty()
        );
        let codes: Vec<&str> = exception("MS.AAD.3.1", "31/03/2027", " ")
            .checks()
            .iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(
            codes,
            vec![
                "steward::check-exception-id",
                "steward::check-exception-expires",
                "steward::check-exception-reason"
            ]
        );
    }
}
