//! Grading a configuration against a security baseline (CISA SCuBA for Microsoft 365): a pure
//! function from a configuration — the files, the tenant, or the tenant as a plan would leave
//! it — to one result per baseline policy id.
//!
//! The rules follow ScubaGear's Rego (what passes), not the baseline's prose, where they
//! differ. Each rule reads the model's JSON form, so the same rule grades files and tenants.

mod aad;
mod exceptions;
mod sharepoint;
mod state;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

use crate::model::{Address, Desired, Kind};

pub use exceptions::Allowed;
pub use state::planned;

/// How strongly the baseline asks for a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Requirement {
    /// A requirement.
    Shall,
    /// A recommendation.
    Should,
}

/// A baseline policy's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not met.
    Fail,
    /// Not met, and accepted by a `check-exception` until its expiry.
    Accepted,
    /// Cannot be decided from what steward reads (licence, permission, or not checkable
    /// through an API: ScubaGear's manual checks).
    CannotCheck,
    /// Does not apply to this configuration.
    NotApplicable,
    /// Met.
    Pass,
}

impl Status {
    /// The word shown for it.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Accepted => "accepted",
            Status::CannotCheck => "cannot check",
            Status::NotApplicable => "not applicable",
        }
    }
}

/// What was graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The policy files alone.
    Declared,
    /// The tenant as it is.
    Live,
    /// The tenant as applying the files would leave it.
    Planned,
}

/// Where in the policy files a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Location {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The resource (`kind "name"`).
    pub address: String,
}

/// One baseline policy's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PolicyResult {
    /// The policy id (`MS.AAD.3.1v1`).
    pub id: String,
    /// SHALL or SHOULD.
    pub requirement: Requirement,
    /// The product (`AAD`, `SHAREPOINT`).
    pub product: String,
    /// The baseline section the id is in.
    pub section: String,
    /// The policy's text in the baseline.
    pub title: String,
    /// The id's place in the published baseline.
    pub url: String,
    /// The verdict.
    pub status: Status,
    /// Why: what satisfies it, what is missing, or why it cannot be checked.
    pub detail: String,
    /// The objects the verdict rests on (`kind "name"`), satisfying ones for a pass.
    pub evidence: Vec<String>,
    /// What to write in the files to meet it (failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where in the files to change (failures graded from the files or a plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The exception that accepts a failure, or an expired one that no longer does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionNote>,
}

/// A `check-exception` as a result shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ExceptionNote {
    /// Its reason.
    pub reason: String,
    /// Its last day.
    pub expires: String,
    /// True when that day has passed: the exception no longer accepts anything.
    pub expired: bool,
}

/// Counts per product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProductSummary {
    /// The product (`AAD`, `SHAREPOINT`).
    pub product: String,
    /// Policy ids graded.
    pub total: usize,
    /// Met.
    pub pass: usize,
    /// Not met.
    pub fail: usize,
    /// Accepted by an exception.
    pub accepted: usize,
    /// Could not be decided.
    pub cannot_check: usize,
    /// Did not apply.
    pub not_applicable: usize,
}

/// `steward check --format json`: the grade of one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Grade {
    /// The layout's version (1).
    pub format_version: u32,
    /// The baseline graded against.
    pub baseline: String,
    /// What was graded.
    pub source: Source,
    /// The day the grade holds for (exceptions expire by it).
    pub date: String,
    /// One result per policy id, in baseline order.
    pub results: Vec<PolicyResult>,
    /// Counts per product.
    pub summary: Vec<ProductSummary>,
}

/// The JSON Schema of [`Grade`], published as `schemas/check.schema.json`.
pub fn grade_schema() -> schemars::Schema {
    schemars::schema_for!(Grade)
}

/// The baseline's name, as outputs show it.
pub const BASELINE: &str = "CISA SCuBA Microsoft 365 baseline (Entra ID, SharePoint)";

/// One baseline policy and the rule that grades it.
pub(crate) struct Rule {
    pub id: &'static str,
    pub requirement: Requirement,
    pub section: &'static str,
    pub title: &'static str,
    pub grade: fn(&Context) -> Verdict,
}

/// What a rule decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub status: Status,
    pub detail: String,
    pub evidence: Vec<String>,
    pub help: Option<String>,
    /// The resource (and JSON pointer in it) a failure is about (boxed: verdicts travel in
    /// `Result`s).
    pub at: Option<Box<(Address, String)>>,
}

impl Verdict {
    pub fn pass(detail: impl Into<String>, evidence: Vec<String>) -> Verdict {
        Verdict {
            status: Status::Pass,
            detail: detail.into(),
            evidence,
            help: None,
            at: None,
        }
    }

    pub fn fail(detail: impl Into<String>, help: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Fail,
            detail: detail.into(),
            evidence: Vec::new(),
            help: Some(help.into()),
            at: None,
        }
    }

    pub fn cannot(detail: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::CannotCheck,
            detail: detail.into(),
            evidence: Vec::new(),
            help: None,
            at: None,
        }
    }

    pub fn not_applicable(detail: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::NotApplicable,
            detail: detail.into(),
            evidence: Vec::new(),
            help: None,
            at: None,
        }
    }

    /// Points the verdict at a resource's setting.
    pub fn at(mut self, address: Address, pointer: &str) -> Verdict {
        self.at = Some(Box::new((address, pointer.to_string())));
        self
    }

    /// Adds the objects it rests on.
    pub fn with_evidence(mut self, evidence: Vec<String>) -> Verdict {
        self.evidence = evidence;
        self
    }
}

/// What the rules read.
pub(crate) struct Context<'a> {
    /// The configuration graded.
    pub config: &'a Desired,
    /// What was graded: the files leave undeclared settings alone, so "not set" means
    /// "not guaranteed" there.
    pub source: Source,
    /// Kinds the sign-in could not read: their rules cannot be checked.
    pub unreadable: &'a [Kind],
    /// Accounts Conditional Access policies may exclude, per policy id.
    pub allowed: &'a Allowed,
    /// The id being graded (for its allowed exclusions).
    pub id: &'static str,
}

/// The kinds the rules read.
pub const KINDS: &[Kind] = &[
    Kind::ConditionalAccessPolicy,
    Kind::AuthenticationStrength,
    Kind::AuthenticationMethodsPolicy,
    Kind::AuthorizationPolicy,
    Kind::SecurityDefaults,
    Kind::SharepointSettings,
];

/// Grades `config` (read from `source`, without the `unreadable` kinds the sign-in may not
/// read) on `today`.
pub fn grade(
    config: &Desired,
    source: Source,
    unreadable: &[Kind],
    today: NaiveDate,
) -> GradeWithPlaces {
    let allowed = Allowed::from_config(config, today);
    let mut results = Vec::new();
    let mut places = Vec::new();
    for rule in aad::RULES.iter().chain(sharepoint::RULES) {
        let context = Context {
            config,
            source,
            unreadable,
            allowed: &allowed,
            id: rule.id,
        };
        let mut verdict = (rule.grade)(&context);
        let exception = allowed.exception(rule.id);
        if verdict.status == Status::Fail
            && let Some(e) = exception
            && !e.expired
            && !e.is_exclusion
        {
            verdict.status = Status::Accepted;
        }
        let product = rule.id.split('.').nth(1).unwrap_or_default().to_string();
        places.push(verdict.at.take().map(|at| *at));
        results.push(PolicyResult {
            id: rule.id.to_string(),
            requirement: rule.requirement,
            url: url_of(rule.id, &product),
            product,
            section: rule.section.to_string(),
            title: rule.title.to_string(),
            status: verdict.status,
            detail: verdict.detail,
            evidence: verdict.evidence,
            help: verdict.help,
            location: None,
            exception: exception.map(|e| ExceptionNote {
                reason: e.reason.clone(),
                expires: e.expires.clone(),
                expired: e.expired,
            }),
        });
    }
    // An expired exception is a failure of its own, whatever the policy's verdict.
    for (result, place) in results.iter_mut().zip(places.iter_mut()) {
        if let Some(note) = &result.exception
            && note.expired
        {
            result.detail = format!(
                "the exception for {} expired on {}; {}",
                result.id, note.expires, result.detail
            );
            result.status = Status::Fail;
            result.help = Some(format!(
                "renew the check-exception \"{}\" with a new expires date, or remove it and meet the policy",
                result.id
            ));
            *place = Some((
                Address::named(Kind::CheckException, &result.id),
                "/expires".to_string(),
            ));
        }
    }
    let summary = summarise(&results);
    GradeWithPlaces {
        grade: Grade {
            format_version: 1,
            baseline: BASELINE.to_string(),
            source,
            date: today.format("%Y-%m-%d").to_string(),
            results,
            summary,
        },
        places,
    }
}

/// A grade, and for each result the resource and setting it is about (to be located in the
/// files by the caller, who has them).
pub struct GradeWithPlaces {
    /// The grade.
    pub grade: Grade,
    /// Per result, in order: the resource and JSON pointer, when the verdict names one.
    pub places: Vec<Option<(Address, String)>>,
}

fn summarise(results: &[PolicyResult]) -> Vec<ProductSummary> {
    let mut out: Vec<ProductSummary> = Vec::new();
    for r in results {
        let index = match out.iter().position(|s| s.product == r.product) {
            Some(i) => i,
            None => {
                out.push(ProductSummary {
                    product: r.product.clone(),
                    total: 0,
                    pass: 0,
                    fail: 0,
                    accepted: 0,
                    cannot_check: 0,
                    not_applicable: 0,
                });
                out.len() - 1
            }
        };
        let s = &mut out[index];
        s.total += 1;
        match r.status {
            Status::Pass => s.pass += 1,
            Status::Fail => s.fail += 1,
            Status::Accepted => s.accepted += 1,
            Status::CannotCheck => s.cannot_check += 1,
            Status::NotApplicable => s.not_applicable += 1,
        }
    }
    out
}

/// The id's anchor in the baseline document ScubaGear publishes.
fn url_of(id: &str, product: &str) -> String {
    let doc = match product {
        "AAD" => "aad",
        "SHAREPOINT" => "sharepoint",
        other => {
            return format!(
                "https://github.com/cisagov/ScubaGear#{}",
                other.to_lowercase()
            );
        }
    };
    let anchor: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    format!(
        "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/{doc}.md#{anchor}"
    )
}

/// Every baseline policy id steward grades, in baseline order.
pub fn policy_ids() -> Vec<&'static str> {
    aad::RULES
        .iter()
        .chain(sharepoint::RULES)
        .map(|r| r.id)
        .collect()
}

/// True when a result at `requirement` and `status` fails a run with `--fail-on level`.
pub fn fails(result: &PolicyResult, level: FailOn) -> bool {
    result.status == Status::Fail
        && match level {
            FailOn::Shall => result.requirement == Requirement::Shall,
            FailOn::Should => true,
            FailOn::None => false,
        }
}

/// Which failures make `steward check` exit 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// A failed SHALL.
    Shall,
    /// A failed SHALL or SHOULD.
    Should,
    /// Never: report only.
    None,
}
