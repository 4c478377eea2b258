//! What `plan`, `drift` and `apply` share: load the files, connect, read the tenant, check the
//! declared references, compute the plan, and judge it with the lockout guard.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::graph_args::GraphArgs;
use super::{Error, Result};
use crate::config::{self, Diagnostic, Loaded};
use crate::graph::desired::{DesiredRefError, canonicalise, prefetch};
use crate::graph::membership;
use crate::graph::read::{Live, ReadOptions, read_tenant_with};
use crate::graph::sharepoint::declares_admin_settings;
use crate::graph::{ClientConfig, Credential, GraphClient, ObjectKind, Resolver, Secret};
use crate::model::Kind;
use crate::model::checks::lockout::{self, LockoutInput, LockoutReport};
use crate::model::plan::{Plan, Unmanaged};
use crate::reconcile::{self, LiveIds, PlanOptions, guard};
use crate::sandbox::{self, RunningSandbox, SandboxConfig, SandboxTenant, Seed};

/// Where the sandbox tenant of `--sandbox` keeps its state.
pub const SANDBOX_STATE: &str = ".steward/sandbox.json";

/// Flags shared by the commands that compare files with a tenant.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Run against a local sandbox tenant ("Contoso") instead of Microsoft Graph: try the
    /// whole workflow without touching a real tenant. Its state is kept in
    /// .steward/sandbox.json under the current directory (delete the file to start again from
    /// the demo tenant; add .steward/ to .gitignore). Graph and sign-in settings (flags and
    /// environment) are ignored.
    #[arg(long)]
    pub sandbox: bool,
    #[command(flatten)]
    pub graph: GraphArgs,
    /// Where `--sandbox` keeps its state, when not .steward/sandbox.json (a fleet tenant's own).
    #[arg(skip)]
    pub sandbox_state: Option<PathBuf>,
    /// The tenant id and domain a fleet tenant's sandbox is seeded with, instead of the demo
    /// tenant's.
    #[arg(skip)]
    pub sandbox_tenant: Option<(String, String)>,
}

/// A signed-in Graph client, and the in-process sandbox behind it when there is one.
pub struct Target {
    /// The client.
    pub client: GraphClient,
    /// Keeps the sandbox alive for the command's duration.
    pub sandbox: Option<RunningSandbox>,
}

impl TargetArgs {
    /// Connects: starts the sandbox for `--sandbox`, else signs in to Graph.
    pub async fn connect(&self) -> Result<Target> {
        if !self.sandbox {
            let client = self.graph.build().map_err(Error::connect)?;
            return Ok(Target {
                client,
                sandbox: None,
            });
        }
        let state = self
            .sandbox_state
            .clone()
            .unwrap_or_else(|| PathBuf::from(SANDBOX_STATE));
        if let Some(dir) = state.parent() {
            std::fs::create_dir_all(dir)
                .map_err(Error::io(format!("cannot create {}", dir.display())))?;
        }
        // A fresh random token for this run only: the sandbox accepts it, nothing stores it.
        let token = format!("sandbox-{}", uuid::Uuid::new_v4().simple());
        // A fleet tenant's sandbox has its own id and domain; otherwise the demo tenant's.
        let tenants = match &self.sandbox_tenant {
            Some((id, domain)) => vec![SandboxTenant {
                id: id.clone(),
                domain: Some(domain.clone()),
                seed: Seed::Demo,
                state: Some(state.clone()),
                accept_tokens: vec![token.clone()],
            }],
            None => Vec::new(),
        };
        let running = sandbox::start(SandboxConfig {
            state: Some(state),
            seed: Seed::Demo,
            accept_tokens: vec![token.clone()],
            tenants,
            ..SandboxConfig::default()
        })
        .await
        .map_err(|e| Error::Sandbox(e.to_string()))?;
        let credential = Credential::static_token(Secret::new(token)).map_err(Error::connect)?;
        let client = GraphClient::new(ClientConfig::new(running.url()), credential.clone())
            .map_err(Error::connect)?;
        // The sandbox serves SharePoint's admin API too, and accepts the same token there.
        client.set_sharepoint(crate::graph::sharepoint::Setup {
            admin_url: None,
            cloud: crate::graph::Cloud::Global,
            credential: std::sync::Arc::new(move |_| Ok(credential.clone())),
        });
        Ok(Target {
            client,
            sandbox: Some(running),
        })
    }
}

impl TargetArgs {
    /// Connects, reads the tenant and plans, then lets go of the connection (and of the
    /// sandbox, for --sandbox); prints request statistics when asked.
    pub async fn plan(&self, loaded: &Loaded, options: &PlanOptions) -> Result<Planned> {
        let target = self.connect().await?;
        let planned = compute(&target.client, loaded, options).await;
        self.finish(target).await;
        planned
    }

    /// Ends a run on `target`: prints request statistics when asked (`--stats`), and stops the
    /// sandbox of `--sandbox`, which saves its state.
    pub async fn finish(&self, target: Target) {
        self.graph.print_stats(&target.client);
        if let Some(sandbox) = target.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The lockout guard on the tenant `plan` would leave: reads what only the tenant knows (what
/// each `emergency-access` entry is, who is in the groups involved) and judges every policy
/// as apply would leave it. `stage` as `apply --stage`.
pub async fn guard(
    client: &GraphClient,
    planned: &Planned,
    plan: &Plan,
    stage: bool,
) -> Result<LockoutReport> {
    let ids: LiveIds = planned
        .live
        .objects
        .iter()
        .filter(|o| !o.id.is_empty())
        .map(|o| (o.address.clone(), o.id.clone()))
        .collect();
    let resulting = guard::resulting_state(plan, &planned.live.model_ids, &ids, stage);
    let emergency = planned.desired.emergency_access.as_ref();
    let mut directory = lockout::Directory {
        read: true,
        names: planned.names.clone(),
        ..lockout::Directory::default()
    };
    let entries = guard::entries_to_type(emergency);
    if !entries.is_empty() {
        let (found, _missing) = Resolver::new(client.clone())
            .try_names_for_ids(&entries)
            .await
            .map_err(Error::graph("cannot check the emergency-access accounts"))?;
        for (id, object) in found {
            let kind = match object.kind {
                ObjectKind::User => lockout::ObjectType::User,
                ObjectKind::Group => lockout::ObjectType::Group,
                ObjectKind::ServicePrincipal => {
                    lockout::ObjectType::Other("service principal".into())
                }
                ObjectKind::Role => lockout::ObjectType::Other("directory role".into()),
                ObjectKind::Other => lockout::ObjectType::Other("directory object".into()),
            };
            directory
                .names
                .insert(id.to_ascii_lowercase(), object.name.clone());
            directory.types.insert(id.to_ascii_lowercase(), kind);
        }
    }
    // Only groups are asked for members (an emergency "group" that is something else is
    // reported as such, not read).
    let groups: Vec<String> = guard::groups_to_read(emergency, &resulting)
        .into_iter()
        .filter(|g| {
            !matches!(
                directory.types.get(g),
                Some(lockout::ObjectType::User | lockout::ObjectType::Other(_))
            )
        })
        .collect();
    let members = membership::transitive_members(client, &groups)
        .await
        .map_err(Error::graph(
            "cannot read group membership for the lockout guard",
        ))?;
    for (group, list) in members {
        let list = list
            .into_iter()
            .map(|m| {
                directory.names.entry(m.id.clone()).or_insert(m.name);
                lockout::GroupMember {
                    kind: match m.kind {
                        ObjectKind::User => lockout::ObjectType::User,
                        ObjectKind::Group => lockout::ObjectType::Group,
                        _ => lockout::ObjectType::Other(m.type_name),
                    },
                    id: m.id,
                }
            })
            .collect();
        directory.members.insert(group, list);
    }
    let mut report = lockout::judge(&LockoutInput {
        emergency,
        policies: &resulting.policies,
        methods: resulting.methods.as_ref().map(|(m, p)| (m, *p)),
        directory: &directory,
    });
    report.findings.splice(0..0, resulting.unknown);
    Ok(report)
}

/// What the lockout guard's findings mean for `plan`.
pub struct LockoutVerdict {
    /// Each finding, located in the files for what they declare, with the id for what only
    /// the tenant holds: errors when refused, warnings otherwise.
    pub diagnostics: Vec<Diagnostic>,
    /// True when the plan must be refused: it has changes. A plan without changes leaves the
    /// tenant as it is, so its findings are only warnings.
    pub refuse: bool,
}

/// Judges the lockout guard's findings for `plan`; `None` when there are none.
pub fn lockout_verdict(
    loaded: &Loaded,
    report: &LockoutReport,
    plan: &Plan,
) -> Option<LockoutVerdict> {
    if report.is_clean() {
        return None;
    }
    let refuse = !plan.summary.is_empty();
    let diagnostics: Vec<Diagnostic> = report
        .findings
        .iter()
        .map(|f| {
            // By kind and name: a declaration's address also carries the id it pins.
            let located = (f.provenance == lockout::Provenance::Declared)
                .then(|| {
                    loaded
                        .origins
                        .iter()
                        .find(|(a, _)| a.kind == f.address.kind && a.name == f.address.name)
                        .map(|(_, origin)| origin)
                })
                .flatten();
            let mut d = match located {
                Some(origin) => Diagnostic::error(
                    f.finding.code,
                    &origin.file,
                    origin.span_of(&f.finding.pointer),
                    f.finding.message.clone(),
                    "here",
                ),
                None => Diagnostic::unlocated(f.finding.code, f.finding.message.clone()),
            }
            .with_help(f.finding.help.clone());
            d.severity = if refuse {
                crate::model::Severity::Error
            } else {
                crate::model::Severity::Warning
            };
            d
        })
        .collect();
    Some(LockoutVerdict {
        diagnostics,
        refuse,
    })
}

/// Loads policy files. Their diagnostics are in [`Loaded::diagnostics`]; [`shown`] picks
/// those a command that reads the tenant shows.
pub fn load(paths: &[PathBuf]) -> Loaded {
    config::load(paths)
}

/// The files' diagnostics a command that reads the tenant shows: the lockout guard's warnings
/// judge the files alone, and such a command judges again on what apply would leave.
pub fn shown(loaded: &Loaded) -> Vec<Diagnostic> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error() || !d.code.starts_with("steward::lockout"))
        .cloned()
        .collect()
}

/// The kinds the files declare or prune: what must be read.
pub fn declared_kinds(loaded: &Loaded) -> BTreeSet<Kind> {
    let mut kinds: BTreeSet<Kind> = loaded
        .origins
        .keys()
        .map(|a| a.kind)
        .filter(|k| k.is_resource())
        .collect();
    for p in &loaded.desired.prune {
        kinds.insert(Kind::from(p.kind));
    }
    kinds
}

/// Everything a plan was made from, for saving and re-checking.
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// The tenant as read.
    pub live: Live,
    /// The files' configuration with every reference as the id it names.
    pub desired: crate::model::Desired,
    /// The display name of every id the plan shows.
    pub names: std::collections::HashMap<String, String>,
}

/// Reads the tenant and plans.
pub async fn compute(
    client: &GraphClient,
    loaded: &Loaded,
    options: &PlanOptions,
) -> Result<Planned> {
    compute_reading(client, loaded, options, &BTreeSet::new()).await
}

/// Reads the tenant — the declared kinds and `also` — and plans; `also`'s undeclared objects
/// are listed as unmanaged, never changed (what `check --planned` grades besides the files).
pub async fn compute_reading(
    client: &GraphClient,
    loaded: &Loaded,
    options: &PlanOptions,
    also: &BTreeSet<Kind>,
) -> Result<Planned> {
    let mut kinds = declared_kinds(loaded);
    kinds.extend(also.iter().copied());
    let resolver = Resolver::new(client.clone());
    // The files' names are known before the first request: look them up while the tenant is
    // read, not after.
    // A failed read does not wait for the look-ups' retries.
    // SharePoint's admin API only when the files declare a setting only it holds.
    let sharepoint = loaded
        .desired
        .sharepoint_settings
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let read_options = ReadOptions {
        sharepoint_admin: declares_admin_settings(&sharepoint),
        sharepoint_search: sharepoint.contains_key("restrictedSearchMode")
            || sharepoint.contains_key("restrictedSearchAllowedSites"),
        ..ReadOptions::default()
    };
    let read = read_tenant_with(client, &resolver, &kinds, read_options);
    let lookups = prefetch(&resolver, &loaded.desired);
    futures::pin_mut!(read, lookups);
    let live = match futures::future::select(read, lookups).await {
        futures::future::Either::Left((live, lookups)) => {
            if live.is_ok() {
                lookups.await;
            }
            live
        }
        futures::future::Either::Right(((), read)) => read.await,
    };
    let live = live.map_err(Error::read)?;
    let (desired, mut names) = match canonicalise(&resolver, &loaded.desired, &live).await {
        Ok(canonical) => canonical,
        Err(DesiredRefError::Unresolved(bad)) => {
            let diagnostics: Vec<Diagnostic> = bad
                .iter()
                .map(|b| match loaded.origins.get(&b.address) {
                    Some(origin) => Diagnostic::error(
                        "steward::unresolved",
                        &origin.file,
                        origin.span_of(&b.pointer),
                        format!("{}: {}", b.address, b.message),
                        "does not resolve",
                    )
                    .with_help("fix the name (UPNs and display names as the tenant has them), or reference the object by id"),
                    None => Diagnostic::unlocated("steward::unresolved", format!("{}: {}", b.address, b.message)),
                })
                .collect();
            return Err(Error::Unresolved { diagnostics });
        }
        Err(DesiredRefError::Graph(e)) => {
            return Err(Error::graph("cannot check references")(e));
        }
    };
    let desired = partners_by_tenant_id(client, loaded, desired, &mut names).await?;
    let ids: LiveIds = live
        .objects
        .iter()
        .filter(|o| !o.id.is_empty() && o.address.name.is_none())
        .map(|o| (o.address.clone(), o.id.clone()))
        .collect();
    names.extend(live.names.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut plan = reconcile::plan(&desired, &live.model_ids, &ids, options)?;
    plan.orphans = live.orphans.clone();
    plan.unmanaged.extend(
        live.unsupported
            .iter()
            .filter(|u| kinds.contains(&u.kind) && u.kind.arity() == crate::model::Arity::Named)
            .map(|u| Unmanaged {
                kind: u.kind,
                name: u.name.clone(),
                id: u.id.clone(),
                unsupported: Some(u.reason.clone()),
            }),
    );
    reconcile::deviation::accept(&mut plan, &loaded.deviations);
    Ok(Planned {
        plan,
        live,
        desired,
        names,
    })
}

/// Partners the files name by a verified domain, named by their tenant id (Graph's key, and
/// what the tenant's partners are read as); the domain labels the id in the plan.
async fn partners_by_tenant_id(
    client: &GraphClient,
    loaded: &Loaded,
    mut desired: crate::model::Desired,
    names: &mut std::collections::HashMap<String, String>,
) -> Result<crate::model::Desired> {
    let mut diagnostics = Vec::new();
    for partner in &mut desired.cross_tenant_partners {
        let domain = partner.display_name.clone();
        if crate::model::reference::is_guid(&domain) {
            continue;
        }
        let found = crate::graph::tenant::tenant_of_domain(client, &domain)
            .await
            .map_err(Error::graph("cannot look up a partner's tenant"))?;
        match found {
            Some(tenant) => {
                names.insert(tenant.clone(), domain);
                partner.display_name = tenant;
            }
            None => {
                let address =
                    crate::model::Address::named(Kind::CrossTenantPartner, domain.clone());
                let message =
                    format!("{address}: no Microsoft Entra tenant has the domain {domain:?}");
                diagnostics.push(match loaded.origins.get(&address) {
                    Some(origin) => Diagnostic::error(
                        "steward::unresolved",
                        &origin.file,
                        origin.span_of(""),
                        message,
                        "does not resolve",
                    )
                    .with_help(
                        "name the partner by a domain its tenant has verified, or by its tenant id",
                    ),
                    None => Diagnostic::unlocated("steward::unresolved", message),
                });
            }
        }
    }
    if diagnostics.is_empty() {
        Ok(desired)
    } else {
        Err(Error::Unresolved { diagnostics })
    }
}

/// `--stage`: the plan (and the configuration the guards judge) with every new Conditional
/// Access policy report-only, as apply will create it.
pub fn stage(planned: &mut Planned) {
    reconcile::plan::stage(&mut planned.plan, &mut planned.desired);
}

/// Reads the tenant and plans as `apply` would write (`stage` as `apply --stage`), then runs
/// the lockout guard on the tenant that plan would leave.
pub async fn plan_and_guard(
    client: &GraphClient,
    loaded: &Loaded,
    options: &PlanOptions,
    stage_new: bool,
) -> Result<(Planned, LockoutReport)> {
    let mut planned = compute(client, loaded, options).await?;
    if stage_new {
        stage(&mut planned);
    }
    let lockout = guard(client, &planned, &planned.plan, stage_new).await?;
    Ok((planned, lockout))
}

/// The risks of what changed outside steward: the plan's changes read the other way, and
/// lockouts made in the tenant by policies nobody declares.
pub fn drift_risks(planned: &Planned) -> Vec<crate::model::plan::Risk> {
    use crate::model::plan::Direction;
    let mut risks = reconcile::risk::assess(&planned.plan.resources, Direction::Drift);
    let unmanaged: Vec<String> = planned
        .plan
        .unmanaged
        .iter()
        .map(|u| u.id.clone())
        .collect();
    let emergency: Vec<String> = planned
        .desired
        .emergency_access
        .as_ref()
        .and_then(|e| serde_json::to_value(&e.user).ok())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    risks.extend(reconcile::risk::outside_lockouts(
        &planned.live.model_ids,
        &unmanaged,
        &emergency,
    ));
    risks
}

/// Drift: the plan worded the other way, with the risks of what changed outside steward.
pub fn drift(planned: Planned) -> Plan {
    let risks = drift_risks(&planned);
    let mut plan = planned.plan;
    plan.risks = risks;
    plan
}

/// A hash of the policy files — each one's path relative to its repository root, and its
/// contents — to tell whether they changed since a plan was made.
///
/// The path is normalised so that a plan made from `policies` applies from `./policies/`, from
/// an absolute path or from another clone: the root is the git top-level above the file (the
/// nearest directory holding `.git`), else the current directory.
pub fn files_hash(loaded: &Loaded) -> String {
    let cwd = std::env::current_dir().and_then(|d| d.canonicalize()).ok();
    let mut files: Vec<(String, &str)> = loaded
        .files
        .iter()
        .map(|f| {
            (
                hashed_path(Path::new(&f.name), cwd.as_deref()),
                f.text.as_str(),
            )
        })
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for (path, text) in files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// A file's path as [`files_hash`] hashes it: relative to its repository root (else to `cwd`),
/// `/`-separated, with `.` and `..` resolved.
fn hashed_path(path: &Path, cwd: Option<&Path>) -> String {
    // A file that was read exists; should it vanish meanwhile, its spelling is all there is.
    let Ok(full) = path.canonicalize() else {
        return slashed(path);
    };
    let root = full
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .or(cwd);
    let relative = root
        .and_then(|root| full.strip_prefix(root).ok())
        .unwrap_or(&full);
    slashed(relative)
}

/// The path's normal components joined with `/`, whatever the platform's separator.
fn slashed(path: &Path) -> String {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_policies(dir: &Path, text: &str) {
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::create_dir_all(dir.join("policies/ca")).unwrap();
        std::fs::write(dir.join("policies/ca/mfa.kdl"), text).unwrap();
        std::fs::write(dir.join("policies/sharing.kdl"), "sharepoint-settings {}\n").unwrap();
    }

    fn hash(path: PathBuf) -> String {
        files_hash(&config::load(&[path]))
    }

    const MFA: &str = "conditional-access-policy \"MFA\" {\n    state enabled\n}\n";

    #[test]
    fn every_spelling_of_the_policy_directory_hashes_the_same() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        repo_with_policies(root, MFA);
        let plain = hash(root.join("policies"));
        assert_eq!(hash(root.join("policies/")), plain);
        assert_eq!(hash(root.join("./policies/")), plain);
        assert_eq!(hash(root.join("policies/ca/../../policies")), plain);
        // Another clone of the same repository: only the path inside it counts.
        let other = tempfile::tempdir().unwrap();
        repo_with_policies(other.path(), MFA);
        assert_eq!(hash(other.path().join("policies")), plain);
    }

    #[test]
    fn a_changed_or_moved_file_changes_the_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        repo_with_policies(root, MFA);
        let before = hash(root.join("policies"));
        std::fs::write(
            root.join("policies/ca/mfa.kdl"),
            MFA.replace("enabled", "disabled"),
        )
        .unwrap();
        assert_ne!(hash(root.join("policies")), before);
        std::fs::write(root.join("policies/ca/mfa.kdl"), MFA).unwrap();
        assert_eq!(hash(root.join("policies")), before);
        std::fs::rename(
            root.join("policies/ca/mfa.kdl"),
            root.join("policies/mfa.kdl"),
        )
        .unwrap();
        assert_ne!(hash(root.join("policies")), before);
    }

    #[test]
    fn paths_are_relative_to_the_nearest_git_top_level() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        repo_with_policies(root, MFA);
        let file = root.join("policies/ca/mfa.kdl");
        assert_eq!(hashed_path(&file, None), "policies/ca/mfa.kdl");
        // No repository: relative to the current directory, else absolute.
        std::fs::remove_dir(root.join(".git")).unwrap();
        let canonical = root.canonicalize().unwrap();
        assert_eq!(hashed_path(&file, Some(&canonical)), "policies/ca/mfa.kdl");
        assert_eq!(
            hashed_path(Path::new("./no/such/./file.kdl"), None),
            "no/such/file.kdl"
        );
    }
}
