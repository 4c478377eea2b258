//! `steward schema`: the JSON Schemas of the policy model and of steward's JSON outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{CommandError, CommandErrorKind, Done};
use crate::model::{Arity, Kind};

/// Write JSON Schemas for every resource kind (one file each, plus index.json) and for
/// steward's JSON outputs.
///
/// With --check, writes nothing and exits 1 when the files in the directory are stale.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the schemas into.
    #[arg(long, default_value = "schemas")]
    pub out: PathBuf,
    /// Only check that the directory is up to date; exit 1 if not.
    #[arg(long)]
    pub check: bool,
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Every schema file steward publishes, by file name.
pub fn schema_files() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut index = Vec::new();
    for kind in Kind::ALL {
        let name = format!("{}.schema.json", kind.node_name());
        let mut schema = serde_json::to_value(kind.schema()).unwrap_or_default();
        if let Value::Object(map) = &mut schema {
            map.insert("$id".into(), Value::String(name.clone()));
            map.insert(
                "description".into(),
                Value::String(kind.description().into()),
            );
        }
        files.insert(name.clone(), pretty(&schema));
        index.push(json!({
            "node": kind.node_name(),
            "schema": name,
            "arity": match kind.arity() {
                Arity::Named => "named",
                Arity::Singleton => "singleton",
                Arity::Repeated => "repeated",
            },
            "graph": kind.graph_path().map(|p| format!("/v1.0/{p}")),
            "description": kind.description(),
        }));
    }
    let validate = schemars::schema_for!(super::validate::ValidateReport);
    files.insert(
        "validate-report.schema.json".into(),
        pretty(&serde_json::to_value(validate).unwrap_or_default()),
    );
    let permissions = schemars::schema_for!(super::permissions::PermissionsReport);
    files.insert(
        "permissions-report.schema.json".into(),
        pretty(&serde_json::to_value(permissions).unwrap_or_default()),
    );
    files.insert(
        "plan.schema.json".into(),
        pretty(&serde_json::to_value(crate::render::plan_schema()).unwrap_or_default()),
    );
    files.insert(
        "check.schema.json".into(),
        pretty(&serde_json::to_value(crate::baseline::grade_schema()).unwrap_or_default()),
    );
    files.insert(
        "fleet-report.schema.json".into(),
        pretty(
            &serde_json::to_value(crate::workflow::report::fleet_report_schema())
                .unwrap_or_default(),
        ),
    );
    let saved = schemars::schema_for!(crate::workflow::plan::SavedPlan);
    files.insert(
        "saved-plan.schema.json".into(),
        pretty(&serde_json::to_value(saved).unwrap_or_default()),
    );
    files.insert(
        "index.json".into(),
        pretty(&json!({
            "description": "steward's policy language: each top-level node, its JSON Schema, and the Graph endpoint it manages. A node's settings are the Graph properties in kebab-case; the schemas use Graph's camelCase names.",
            "kinds": index,
        })),
    );
    files
}

pub fn run(args: Args) -> Result<Done, CommandError> {
    let files = schema_files();
    if args.check {
        // (path, what is wrong with it): absent, or holding other text.
        let mut stale = Vec::new();
        for (name, text) in &files {
            let path = args.out.join(name);
            match std::fs::read_to_string(&path) {
                Ok(on_disk) if on_disk == *text => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    stale.push(("missing", path.display().to_string()));
                }
                _ => stale.push(("stale", path.display().to_string())),
            }
        }
        if stale.is_empty() {
            println!(
                "{} schemas up to date in {}.",
                files.len(),
                args.out.display()
            );
            return Ok(Done::Clean);
        }
        for (what, path) in &stale {
            eprintln!("{what}: {path}");
        }
        eprintln!("Schemas are out of date; run `steward schema` and commit the result.");
        return Err(CommandError::reported(CommandErrorKind::Incomplete));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CommandError::io(format!("cannot create {}: {e}", args.out.display())))?;
    for (name, text) in &files {
        let path = args.out.join(name);
        std::fs::write(&path, text)
            .map_err(|e| CommandError::io(format!("cannot write {}: {e}", path.display())))?;
    }
    println!("Wrote {} schemas to {}.", files.len(), args.out.display());
    Ok(Done::Clean)
}
