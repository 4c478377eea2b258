//! `steward permissions`: what to grant the app registration (or the admin) before a plan.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Serialize;

use super::output::print_diagnostics;
use super::{CommandError, CommandErrorKind, Done};
use crate::config;
use crate::graph::permissions::{self, KindPermissions, NAME_RESOLUTION};
use crate::model::{Address, Kind};

/// Print the least-privilege Microsoft Graph permissions the policy files need.
///
/// Lists application permissions (for CI sign-in: secret, certificate, workload identity) and
/// delegated permissions (for a signed-in admin) to plan (read) and to apply (write), per kind,
/// and which kinds only a signed-in admin can manage.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for *.kdl).
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Output format: `human` or `json`.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// How the permissions are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary for people.
    Human,
    /// One JSON document.
    Json,
}

/// The JSON document `permissions --format json` prints.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PermissionsReport {
    /// The version of this document's format.
    pub format_version: u32,
    /// The kinds the files declare.
    pub kinds: Vec<KindPermissions>,
    /// Application permissions to plan.
    pub application_read: Vec<String>,
    /// Application permissions to apply (a superset of the read ones).
    pub application_write: Vec<String>,
    /// Delegated permissions to plan.
    pub delegated_read: Vec<String>,
    /// Delegated permissions to apply.
    pub delegated_write: Vec<String>,
    /// Kinds an app-only sign-in cannot manage.
    pub needs_signed_in_admin: Vec<String>,
    /// What SharePoint's admin API needs, when the files declare SharePoint settings Graph
    /// does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharepoint_admin: Option<SharePointPermissions>,
}

/// What SharePoint's admin API needs (it is not Graph: its permissions are granted on the
/// "Office 365 SharePoint Online" API of the app registration).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SharePointPermissions {
    /// The API the permission is granted on.
    pub api: &'static str,
    /// Application permission (app-only: certificate or federated credential only).
    pub application: Vec<&'static str>,
    /// The role a signed-in admin needs.
    pub admin_role: &'static str,
    /// The Graph permission that finds the admin host (`sites/root`); not needed with
    /// `--sharepoint-admin-url`. Included in the Graph lists above.
    pub discovery: Vec<&'static str>,
}

/// Graph's permission to read `sites/root`, which names the SharePoint admin host.
const SITES_READ: &str = "Sites.Read.All";

/// Builds the report for the kinds declared; `sharepoint_admin` when the files declare
/// SharePoint settings only SharePoint's admin API holds.
pub fn report(declared: &BTreeSet<Kind>, sharepoint_admin: bool) -> PermissionsReport {
    let kinds: Vec<KindPermissions> = declared
        .iter()
        .filter_map(|k| permissions::for_kind(*k))
        .collect();
    let resolve = declared
        .iter()
        .any(|k| permissions::needs_name_resolution(*k));
    let collect =
        |f: &dyn Fn(&KindPermissions) -> Vec<&'static str>, extra: &[&str]| -> Vec<String> {
            let mut set: BTreeSet<String> = kinds.iter().flat_map(f).map(String::from).collect();
            if resolve {
                set.extend(NAME_RESOLUTION.iter().map(|s| s.to_string()));
            }
            set.extend(extra.iter().map(|s| s.to_string()));
            set.into_iter().collect()
        };
    let discovery: &[&str] = if sharepoint_admin { &[SITES_READ] } else { &[] };
    let application_read = collect(&|k| k.application_read.clone(), discovery);
    let delegated_read = collect(&|k| k.delegated_read.clone(), discovery);
    let application_write = collect(
        &|k| [k.application_read.clone(), k.application_write.clone()].concat(),
        discovery,
    );
    let delegated_write = collect(
        &|k| [k.delegated_read.clone(), k.delegated_write.clone()].concat(),
        discovery,
    );
    PermissionsReport {
        format_version: 1,
        needs_signed_in_admin: kinds
            .iter()
            .filter(|k| !k.app_only)
            .map(|k| k.kind.to_string())
            .collect(),
        kinds,
        application_read,
        application_write,
        delegated_read,
        delegated_write,
        sharepoint_admin: sharepoint_admin.then(|| SharePointPermissions {
            api: "Office 365 SharePoint Online",
            application: vec!["Sites.FullControl.All"],
            admin_role: "SharePoint Administrator",
            discovery: vec![SITES_READ],
        }),
    }
}

pub fn run(args: Args) -> Result<Done, CommandError> {
    // A fleet's app needs what every tenant's resolved files need.
    let loads = match crate::fleet::detect(&args.paths) {
        None => vec![config::load(&args.paths)],
        Some(root) => {
            let fleet = crate::fleet::Fleet::open(&root)
                .map_err(|d| CommandError::reported(CommandErrorKind::User).with_diagnostics(d))?;
            let today = crate::fleet::today();
            fleet
                .tenants
                .iter()
                .map(|t| crate::fleet::resolve(&fleet, t, today).loaded)
                .collect()
        }
    };
    let mut declared: BTreeSet<Kind> = BTreeSet::new();
    let mut sharepoint_admin = false;
    for loaded in &loads {
        if loaded.has_errors() {
            print_diagnostics(&loaded.diagnostics);
            return Err(CommandError::user(
                "the policy files have errors; fix them (see `steward validate`) to list their permissions",
            ));
        }
        declared.extend(loaded.origins.keys().map(|a: &Address| a.kind));
        declared.extend(loaded.desired.prune.iter().map(|p| Kind::from(p.kind)));
        sharepoint_admin |= loaded
            .desired
            .sharepoint_settings
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| {
                v.as_object()
                    .map(crate::graph::sharepoint::declares_admin_settings)
            })
            .unwrap_or(false);
    }
    let report = report(&declared, sharepoint_admin);
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CommandError::internal(format!("cannot print the report: {e}")))?;
        println!("{text}");
        return Ok(Done::Clean);
    }
    if report.kinds.is_empty() {
        println!("The policy files declare no tenant settings: no Graph permission is needed.");
        return Ok(Done::Clean);
    }
    let app_kinds: Vec<&KindPermissions> = report.kinds.iter().filter(|k| k.app_only).collect();
    println!("Microsoft Graph permissions for the kinds these files declare.\n");
    if !app_kinds.is_empty() {
        println!(
            "Application permissions (CI: client secret, certificate or workload identity federation;"
        );
        println!("grant admin consent in the app registration):");
        println!(
            "  plan, drift, export:  {}",
            report.application_read.join(", ")
        );
        println!(
            "  apply:                {}",
            report.application_write.join(", ")
        );
        println!();
    }
    println!("Delegated permissions (a signed-in admin: azure-cli or device-code sign-in):");
    println!(
        "  plan, drift, export:  {}",
        report.delegated_read.join(", ")
    );
    println!(
        "  apply:                {}",
        report.delegated_write.join(", ")
    );
    println!();
    println!("Per kind (read → write; the admin role a signed-in admin needs to apply):");
    let width = report.kinds.iter().map(|k| k.kind.len()).max().unwrap_or(0);
    for k in &report.kinds {
        let (read, write) = if k.app_only {
            (&k.application_read, &k.application_write)
        } else {
            (&k.delegated_read, &k.delegated_write)
        };
        println!(
            "  {:width$}  {} → {}  ({}){}",
            k.kind,
            read.join(", "),
            write.join(", "),
            k.admin_role,
            if k.app_only { "" } else { "  delegated only" },
        );
    }
    let licensed: Vec<&KindPermissions> = report
        .kinds
        .iter()
        .filter(|k| k.licence.is_some())
        .collect();
    if !licensed.is_empty() {
        println!();
        println!("Licences the tenant needs:");
        for k in licensed {
            println!("  {:width$}  {}", k.kind, k.licence.unwrap_or_default());
        }
    }
    if !report.needs_signed_in_admin.is_empty() {
        println!();
        println!(
            "Only a signed-in admin can manage {}: Graph has no application permission for it.",
            report.needs_signed_in_admin.join(", ")
        );
        println!("Sign in with --auth azure-cli or --auth device-code for runs that touch it.");
    }
    if let Some(sp) = &report.sharepoint_admin {
        println!();
        println!("SharePoint's admin API (for the SharePoint settings Graph does not hold):");
        println!(
            "  application:  {} on the \"{}\" API, signing in with a certificate or a federated",
            sp.application.join(", "),
            sp.api
        );
        println!(
            "                credential (SharePoint refuses app-only tokens from a client secret)"
        );
        println!("  signed-in:    the {} role", sp.admin_role);
        println!(
            "  Graph's {} finds the admin host; --sharepoint-admin-url makes it unnecessary.",
            sp.discovery.join(", ")
        );
    }
    Ok(Done::Clean)
}
