//! `steward report merge`: one fleet summary from the JSON reports each tenant's job wrote
//! (`plan`, `drift` or `check` with `--format json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use crate::render::fleet::{Baseline, Changes, FleetReport, TenantReport};

/// The tenant a report file is about: its name up to the first dot.
fn tenant_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.split('.').next().unwrap_or_default().to_string()
}

fn count(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Reads one report into `into`; `Err` says why it is not one.
fn read_into(path: &Path, into: &mut TenantReport) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let document: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not JSON ({e})", path.display()))?;
    // What a fleet run writes for a tenant whose run failed.
    if let Some(error) = document.get("error").and_then(Value::as_str) {
        return Err(format!("{}: {error}", path.display()));
    }
    if let Some(results) = document.get("results").and_then(Value::as_array) {
        let ids = |status: &str, requirement: Option<&str>| -> Vec<String> {
            results
                .iter()
                .filter(|r| r["status"] == status)
                .filter(|r| requirement.is_none_or(|q| r["requirement"] == q))
                .map(|r| text(r, "id"))
                .collect()
        };
        into.baseline = Some(Baseline {
            pass: results.iter().filter(|r| r["status"] == "pass").count() as u64,
            total: results.len() as u64,
            failed_shall: ids("fail", Some("SHALL")),
            failed_should: ids("fail", Some("SHOULD")),
            accepted: ids("accepted", None),
        });
        return Ok(());
    }
    if let (Some(mode), Some(summary)) = (
        document.get("mode").and_then(Value::as_str),
        document.get("summary"),
    ) {
        let risks = document
            .get("risks")
            .and_then(Value::as_array)
            .map(|risks| {
                risks
                    .iter()
                    .map(|r| format!("{}: {}", text(r, "code"), text(r, "address")))
                    .collect()
            })
            .unwrap_or_default();
        let accepted = document
            .get("accepted")
            .and_then(Value::as_array)
            .map(|accepted| {
                accepted
                    .iter()
                    .map(|a| {
                        let path = a
                            .get("path")
                            .and_then(Value::as_str)
                            .unwrap_or("(whole resource)");
                        format!(
                            "{} {path} (until {})",
                            text(a, "address"),
                            text(a, "expires")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        into.changes = Some(Changes {
            mode: mode.to_string(),
            add: count(summary, "add"),
            change: count(summary, "change"),
            destroy: count(summary, "destroy"),
            risks,
            accepted,
        });
        return Ok(());
    }
    Err(format!(
        "{}: neither a plan or drift report nor a check report (write them with --format json)",
        path.display()
    ))
}

/// Merges the reports in `files` into one summary. A report that cannot be read is an error
/// of its tenant, never a missing row.
pub fn merge(files: &[PathBuf]) -> FleetReport {
    let mut tenants: BTreeMap<String, TenantReport> = BTreeMap::new();
    for path in files {
        let tenant = tenant_of(path);
        let entry = tenants
            .entry(tenant.clone())
            .or_insert_with(|| TenantReport {
                tenant,
                ..TenantReport::default()
            });
        if let Err(why) = read_into(path, entry) {
            entry.errors.push(why);
        }
    }
    let tenants: Vec<TenantReport> = tenants.into_values().collect();
    let attention = tenants.iter().filter(|t| t.needs_attention()).count();
    FleetReport {
        format_version: 1,
        tenants,
        attention,
    }
}

/// The JSON Schema of [`FleetReport`], published as `schemas/fleet-report.schema.json`.
pub fn fleet_report_schema() -> schemars::Schema {
    schemars::schema_for!(FleetReport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reports_tenant_is_its_file_name_up_to_the_first_dot() {
        assert_eq!(
            tenant_of(Path::new("reports/contoso.drift.json")),
            "contoso"
        );
        assert_eq!(tenant_of(Path::new("fabrikam.json")), "fabrikam");
        assert_eq!(tenant_of(Path::new("dir.d/tailspin")), "tailspin");
    }

    #[test]
    fn a_missing_report_is_its_tenants_error_and_needs_attention() {
        let merged = merge(&[PathBuf::from("/nonexistent/northwind.json")]);
        assert_eq!(merged.attention, 1);
        assert_eq!(merged.tenants[0].tenant, "northwind");
        assert!(
            merged.tenants[0].errors[0].starts_with("/nonexistent/northwind.json: cannot read")
        );
    }
}
