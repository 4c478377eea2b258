//! `steward export`: today's tenant as canonical KDL, so a team starts from what it has.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::output::one_line;
use super::{CommandError, Done};
use crate::model::Kind;
use crate::workflow::export;
use crate::workflow::planning::TargetArgs;

/// Write the live tenant's settings as policy files (one per kind), ready to commit.
///
/// Output is deterministic: two exports of an unchanged tenant are byte-identical. Settings
/// steward cannot express yet are listed on stderr and as comments in the files; nothing is
/// dropped silently. A failed read writes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the policy files into (created if missing). Written all at once: an
    /// interrupted export leaves it as it was; other files in it are kept.
    #[arg(long, default_value = "exported")]
    pub out: PathBuf,
    /// Kinds to export, comma-separated node names (default: every kind the sign-in can read;
    /// a kind it cannot read is skipped with a note, unless named here).
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

/// Runs `steward export`.
pub fn run(mut args: Args) -> Result<Done, CommandError> {
    // Run in a fleet repository, --tenant may name one of its tenants: sign in as plan would.
    if let Some(name) = args.target.graph.tenant.clone()
        && crate::fleet::is_fleet(std::path::Path::new("."))
        && let Ok(fleet) = crate::fleet::Fleet::open(std::path::Path::new("."))
        && let Ok(found) = fleet.select(&crate::fleet::Selection::One(name))
        && let Some(tenant) = found.first()
    {
        crate::workflow::fleet::point_at(&mut args.target, tenant).map_err(CommandError::user)?;
    }
    let asked = !args.kinds.is_empty();
    let kinds: BTreeSet<Kind> = if asked {
        args.kinds.iter().copied().collect()
    } else {
        Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_resource())
            .collect()
    };
    let runtime = super::runtime()?;
    let live = runtime.block_on(async {
        let target = args.target.connect().await?;
        let live = export::read(&target.client, &kinds, !asked).await;
        args.target.finish(target).await;
        live
    })?;
    let exported: BTreeSet<Kind> = kinds
        .iter()
        .copied()
        .filter(|k| !live.unreadable.iter().any(|(u, _)| u == k))
        .collect();
    let files = export::render(&live, &exported);
    export::write_files(&args.out, &files)?;
    for (address, u) in &live.unexpressed {
        eprintln!(
            "warning: {address}: {} cannot be expressed by steward yet and was not exported",
            u.path
        );
    }
    for u in &live.unsupported {
        eprintln!(
            "warning: {} {:?} (id {}) was not exported: {}",
            u.kind,
            one_line(&u.name),
            u.id,
            one_line(&u.reason)
        );
    }
    if !live.orphans.is_empty() {
        eprintln!(
            "warning: {} to deleted objects kept as ids (remove them in the portal to tidy up):",
            super::output::count(live.orphans.len(), "reference")
        );
        for o in &live.orphans {
            eprintln!("  {} {}: {} {}", o.resource, o.pointer, o.refers_to, o.id);
        }
    }
    for (kind, why) in &live.unreadable {
        eprintln!("note: {kind} was not exported: the sign-in cannot read it ({why})");
    }
    for (kind, why) in &live.partly_unreadable {
        eprintln!("note: {kind} was exported in part: {why}");
    }
    let skipped = if live.unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; skipped, the sign-in cannot read: {}",
            live.unreadable
                .iter()
                .map(|(k, _)| k.node_name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    println!(
        "Exported {} to {} ({}){skipped}.",
        super::output::count(live.objects.len(), "object"),
        args.out.display(),
        files
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Done::Clean)
}
