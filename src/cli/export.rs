//! `steward export`: today's tenant as canonical KDL, so a team starts from what it has.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::CommandError;
use super::planning::TargetArgs;
use crate::config::write;
use crate::graph::read::{Live, read_tenant};
use crate::graph::{GraphClient, Resolver};
use crate::model::{Address, Kind};

/// Write the live tenant's settings as policy files (one per kind), ready to commit.
///
/// Output is deterministic: two exports of an unchanged tenant are byte-identical. Settings
/// steward cannot express yet are listed on stderr and as comments in the files; nothing is
/// dropped silently. A failed read writes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the policy files into (created if missing).
    #[arg(long, default_value = "exported")]
    pub out: PathBuf,
    /// Kinds to export, comma-separated node names (default: every kind the sign-in can read).
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kinds: Vec<Kind>,
    #[command(flatten)]
    pub target: TargetArgs,
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::from_node_name(text)
        .filter(|k| k.is_resource())
        .ok_or_else(|| {
            format!(
                "unknown kind `{text}`; kinds: {}",
                Kind::ALL
                    .iter()
                    .filter(|k| k.is_resource())
                    .map(|k| k.node_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The file each kind is exported to.
pub fn file_name(kind: Kind) -> String {
    match kind {
        Kind::ConditionalAccessPolicy => "conditional-access-policies.kdl".into(),
        Kind::NamedLocation => "named-locations.kdl".into(),
        Kind::AuthenticationStrength => "authentication-strengths.kdl".into(),
        Kind::RetentionLabel => "retention-labels.kdl".into(),
        other => format!("{}.kdl", other.node_name()),
    }
}

/// Renders the export: file name → text, for the kinds asked.
pub fn render(live: &Live, kinds: &BTreeSet<Kind>) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for kind in kinds {
        let mut text = format!(
            "// {} exported by `steward export`. Review, then commit.\n",
            kind.description().trim_end_matches('.')
        );
        let mut any = false;
        for (address, json) in resources(live, *kind) {
            any = true;
            text.push('\n');
            for (_, u) in live.unexpressed.iter().filter(|(a, _)| *a == address) {
                text.push_str(&format!(
                    "// not exported (steward cannot express it yet): {} = {}\n",
                    u.path, u.value
                ));
            }
            text.push_str(&write::resource(*kind, &json));
        }
        if any {
            files.push((file_name(*kind), text));
        }
    }
    files
}

fn resources(
    live: &Live,
    kind: Kind,
) -> Vec<(Address, serde_json::Map<String, serde_json::Value>)> {
    let m = &live.model;
    let named = |name: &str| Address {
        kind,
        name: Some(name.to_string()),
    };
    let single = Address { kind, name: None };
    let map = |v: &dyn erased::Ser| v.to_map();
    match kind {
        Kind::ConditionalAccessPolicy => m
            .conditional_access_policies
            .iter()
            .map(|r| (named(&r.display_name), map(r)))
            .collect(),
        Kind::NamedLocation => m
            .named_locations
            .iter()
            .map(|r| (named(&r.display_name), map(r)))
            .collect(),
        Kind::AuthenticationStrength => m
            .authentication_strengths
            .iter()
            .map(|r| (named(&r.display_name), map(r)))
            .collect(),
        Kind::RetentionLabel => m
            .retention_labels
            .iter()
            .map(|r| (named(&r.display_name), map(r)))
            .collect(),
        Kind::AuthenticationMethodsPolicy => m
            .authentication_methods_policy
            .iter()
            .map(|r| (single.clone(), map(r)))
            .collect(),
        Kind::SecurityDefaults => m
            .security_defaults
            .iter()
            .map(|r| (single.clone(), map(r)))
            .collect(),
        Kind::AuthorizationPolicy => m
            .authorization_policy
            .iter()
            .map(|r| (single.clone(), map(r)))
            .collect(),
        Kind::SharepointSettings => m
            .sharepoint_settings
            .iter()
            .map(|r| (single.clone(), map(r)))
            .collect(),
        Kind::EmergencyAccess | Kind::Prune => Vec::new(),
    }
}

mod erased {
    /// Serialises any model value to its JSON map without naming its type.
    pub trait Ser {
        fn to_map(&self) -> serde_json::Map<String, serde_json::Value>;
    }

    impl<T: serde::Serialize> Ser for T {
        fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
            crate::config::to_map(self)
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, CommandError> {
    let kinds: BTreeSet<Kind> = if args.kinds.is_empty() {
        Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_resource())
            .collect()
    } else {
        args.kinds.iter().copied().collect()
    };
    let runtime = super::runtime()?;
    let live = runtime.block_on(async {
        let target = args.target.connect().await?;
        let live = read(&target.client, &kinds).await;
        args.target.graph.print_stats(&target.client);
        if let Some(sandbox) = target.sandbox {
            sandbox.shutdown().await;
        }
        live
    })?;
    let files = render(&live, &kinds);
    write_files(&args.out, &files)?;
    for (address, u) in &live.unexpressed {
        eprintln!(
            "warning: {address}: {} cannot be expressed by steward yet and was not exported",
            u.path
        );
    }
    println!(
        "Exported {} to {} ({}).",
        super::output::count(live.objects.len(), "object"),
        args.out.display(),
        files
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

async fn read(client: &GraphClient, kinds: &BTreeSet<Kind>) -> Result<Live, CommandError> {
    let resolver = Resolver::new(client.clone());
    read_tenant(client, &resolver, kinds)
        .await
        .map_err(|e| CommandError::User(format!("cannot read the tenant: {e}")))
}

/// Writes every file or none: into a temporary directory beside `out`, then renamed in.
fn write_files(out: &Path, files: &[(String, String)]) -> Result<(), CommandError> {
    std::fs::create_dir_all(out)
        .map_err(|e| CommandError::User(format!("cannot create {}: {e}", out.display())))?;
    for (name, text) in files {
        let path = out.join(name);
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| CommandError::User(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
