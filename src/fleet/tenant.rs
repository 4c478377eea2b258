//! `tenants/<name>/tenant.kdl`: which Microsoft 365 tenant a fleet member is, its groups, its
//! parameter values and, where a customer wants its own app, how to sign in to it.

use std::path::PathBuf;
use std::sync::Arc;

use kdl::{KdlDocument, KdlNode, KdlValue};
use miette::SourceSpan;

use crate::config::{Diagnostic, SourceFile};

/// The file that makes a directory under `tenants/` a tenant.
pub const TENANT_FILE: &str = "tenant.kdl";

/// The nodes only `tenant.kdl` holds.
pub const META_NODES: &[&str] = &["tenant-id", "domain", "groups", "values", "sign-in"];

/// One tenant of the fleet, as its `tenant.kdl` describes it.
#[derive(Debug, Clone)]
pub struct TenantEntry {
    /// The directory name under `tenants/`: how commands and reports name the tenant.
    pub name: String,
    /// `tenants/<name>/`.
    pub dir: PathBuf,
    /// Its `tenant.kdl`.
    pub file: Arc<SourceFile>,
    /// The Entra tenant id (GUID), when given.
    pub tenant_id: Option<String>,
    /// A verified domain of the tenant, when given.
    pub domain: Option<String>,
    /// The groups it belongs to, in the order their layers apply, with where each is named.
    pub groups: Vec<(String, SourceSpan)>,
    /// Its parameter values: name, where the name is written, and the values with theirs.
    pub values: Vec<Value>,
    /// Per-tenant sign-in overrides.
    pub sign_in: SignIn,
}

/// A parameter's value as a tenant gives it.
#[derive(Debug, Clone)]
pub struct Value {
    /// The parameter's name.
    pub name: String,
    /// Where the name is written.
    pub span: SourceSpan,
    /// The values, each with where it is written.
    pub values: Vec<(KdlValue, SourceSpan)>,
}

/// A tenant's own app registration or credential, where it does not use the fleet's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignIn {
    /// The application (client) id to sign in as, instead of AZURE_CLIENT_ID.
    pub client_id: Option<String>,
    /// The environment variable holding the certificate path, instead of
    /// AZURE_CLIENT_CERTIFICATE_PATH.
    pub certificate_env: Option<String>,
    /// The environment variable holding the client secret, instead of AZURE_CLIENT_SECRET.
    pub secret_env: Option<String>,
    /// The environment variable naming the federated token file, instead of
    /// AZURE_FEDERATED_TOKEN_FILE.
    pub federated_token_env: Option<String>,
    /// The Microsoft cloud the tenant lives in, when not the fleet's (`--cloud`).
    pub cloud: Option<crate::graph::Cloud>,
}

impl TenantEntry {
    /// What sign-in addresses: the tenant id, else the domain.
    pub fn authority(&self) -> Option<&str> {
        self.tenant_id.as_deref().or(self.domain.as_deref())
    }

    /// True when `text` names this tenant: its directory name, id or domain.
    pub fn answers_to(&self, text: &str) -> bool {
        [
            Some(self.name.as_str()),
            self.tenant_id.as_deref(),
            self.domain.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|n| n.eq_ignore_ascii_case(text))
    }

    /// The group names.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|(g, _)| g.as_str())
    }
}

/// Reads a tenant's description from its parsed `tenant.kdl`; problems go to `diagnostics`.
/// Nodes other than the description (resources, deviations) are left to the layers.
pub fn describe(
    name: &str,
    dir: PathBuf,
    file: &Arc<SourceFile>,
    document: &KdlDocument,
    diagnostics: &mut Vec<Diagnostic>,
) -> TenantEntry {
    let mut entry = TenantEntry {
        name: name.to_string(),
        dir,
        file: file.clone(),
        tenant_id: None,
        domain: None,
        groups: Vec::new(),
        values: Vec::new(),
        sign_in: SignIn::default(),
    };
    let mut error = |span: SourceSpan, message: String, help: &str| {
        diagnostics.push(
            Diagnostic::error("steward::tenant", file, span, message, "here").with_help(help),
        );
    };
    for node in document.nodes() {
        match node.name().value() {
            "tenant-id" => match single_string(node) {
                Some((id, _)) if uuid::Uuid::parse_str(&id).is_ok() => {
                    entry.tenant_id = Some(id.to_ascii_lowercase())
                }
                _ => error(
                    node.span(),
                    format!("`tenant-id` of tenant `{name}` must be the tenant's GUID"),
                    "write tenant-id \"00000000-0000-0000-0000-000000000000\" (Entra admin centre → Overview → Tenant ID)",
                ),
            },
            "domain" => match single_string(node) {
                Some((domain, _)) if is_domain(&domain) => {
                    entry.domain = Some(domain.to_ascii_lowercase())
                }
                _ => error(
                    node.span(),
                    format!("`domain` of tenant `{name}` must be one of its verified domains"),
                    "write domain \"contoso.onmicrosoft.com\"",
                ),
            },
            "groups" => {
                for arg in node.entries() {
                    match (arg.name(), arg.value().as_string()) {
                        (None, Some(group)) if !group.trim().is_empty() => {
                            entry.groups.push((group.to_string(), arg.span()))
                        }
                        _ => error(
                            arg.span(),
                            "a group is named by a string".into(),
                            "write groups \"production\" \"eu\": each a directory under groups/",
                        ),
                    }
                }
            }
            "values" => {
                for value in node.children().map(|c| c.nodes()).unwrap_or_default() {
                    if let Some(bad) = value.entries().iter().find(|e| e.name().is_some()) {
                        error(
                            bad.span(),
                            format!(
                                "the value of `{}` is given as arguments",
                                value.name().value()
                            ),
                            "write the values after the parameter's name: breakglass-upns \"a@contoso.com\" \"b@contoso.com\"",
                        );
                        continue;
                    }
                    entry.values.push(Value {
                        name: value.name().value().to_string(),
                        span: value.name().span(),
                        values: value
                            .entries()
                            .iter()
                            .map(|e| (e.value().clone(), e.span()))
                            .collect(),
                    });
                }
            }
            "sign-in" => {
                for prop in node.entries() {
                    let Some(key) = prop.name() else {
                        error(
                            prop.span(),
                            "`sign-in` takes properties".into(),
                            "write sign-in client-id=\"…\" certificate-env=\"CONTOSO_CERT_PATH\"",
                        );
                        continue;
                    };
                    let text = prop.value().as_string().map(str::to_string);
                    if key.value() == "cloud" {
                        use clap::ValueEnum;
                        match text
                            .as_deref()
                            .and_then(|t| crate::graph::Cloud::from_str(t, true).ok())
                        {
                            Some(cloud) => entry.sign_in.cloud = Some(cloud),
                            None => error(
                                prop.span(),
                                "`cloud` is one of global, usgov, usgov-dod, china".into(),
                                "a GCC High tenant in a commercial fleet: cloud=\"usgov\"",
                            ),
                        }
                        continue;
                    }
                    let slot = match key.value() {
                        "client-id" => &mut entry.sign_in.client_id,
                        "certificate-env" => &mut entry.sign_in.certificate_env,
                        "secret-env" => &mut entry.sign_in.secret_env,
                        "federated-token-env" => &mut entry.sign_in.federated_token_env,
                        other => {
                            error(
                                key.span(),
                                format!("unknown sign-in setting `{other}`"),
                                "sign-in takes cloud, client-id, certificate-env, secret-env and federated-token-env",
                            );
                            continue;
                        }
                    };
                    match text {
                        Some(t) if !t.trim().is_empty() => *slot = Some(t),
                        _ => error(
                            prop.span(),
                            format!("`{}` needs a string", key.value()),
                            "secrets are never written in files: name the environment variable that holds them",
                        ),
                    }
                }
            }
            _ => {}
        }
    }
    if entry.tenant_id.is_none() && entry.domain.is_none() {
        diagnostics.push(
            Diagnostic::error(
                "steward::tenant",
                file,
                SourceSpan::from((0, 0)),
                format!("tenant `{name}` names neither its tenant id nor its domain"),
                "here",
            )
            .with_help(
                "add tenant-id \"<GUID>\" (or domain \"contoso.onmicrosoft.com\") to this file",
            ),
        );
    }
    entry
}

fn single_string(node: &KdlNode) -> Option<(String, SourceSpan)> {
    match node.entries() {
        [only] if only.name().is_none() => only
            .value()
            .as_string()
            .map(|s| (s.trim().to_string(), only.span())),
        _ => None,
    }
}

/// A plausible DNS name: labels of letters, digits and hyphens, at least two.
pub fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
