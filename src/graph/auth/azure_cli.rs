//! The Azure CLI's current login (a signed-in admin), via `az account get-access-token`.

use std::time::Duration;

use serde_json::Value;

use super::num;
use super::{AuthMode, Credential, Secret, Source, TokenAnswer, sign_in_error};
use crate::graph::error::GraphError;

impl Credential {
    /// The Azure CLI's current login, via `az account get-access-token`.
    pub fn azure_cli(graph_url: &str, tenant: Option<&str>) -> Result<Self, GraphError> {
        Self::from_source(Source::AzureCli {
            graph_url: graph_url.trim_end_matches('/').to_string(),
            tenant: tenant.map(str::to_string),
        })
    }
}

pub(super) async fn token(
    graph_url: &str,
    tenant: Option<&str>,
) -> Result<TokenAnswer, GraphError> {
    let mode = AuthMode::AzureCli;
    let program = if cfg!(windows) { "az.cmd" } else { "az" };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(["account", "get-access-token", "--output", "json"]);
    if graph_url == crate::graph::cloud::Cloud::Global.graph_url() {
        cmd.args(["--resource-type", "ms-graph"]);
    } else {
        cmd.args(["--resource", graph_url]);
    }
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .map_err(|_| sign_in_error(mode, "`az account get-access-token` did not finish within 120 s"))?
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                sign_in_error(
                    mode,
                    "the Azure CLI (`az`) is not on PATH; install it and run `az login`, or choose another --auth mode",
                )
            } else {
                sign_in_error(mode, &format!("cannot run `az`: {e}"))
            }
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first: String = stderr.trim().chars().take(400).collect();
        return Err(sign_in_error(
            mode,
            &format!("`az account get-access-token` failed (run `az login` first?): {first}"),
        ));
    }
    let body: Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| sign_in_error(mode, "`az account get-access-token` printed no JSON"))?;
    let token = body
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            sign_in_error(mode, "`az account get-access-token` printed no accessToken")
        })?;
    let now = chrono::Utc::now();
    let expires = num(body.get("expires_on"))
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0))
        .or_else(|| {
            // Older CLIs only print `expiresOn` in local time, e.g. "2024-01-01 12:00:00.000000".
            let s = body.get("expiresOn")?.as_str()?;
            let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()?;
            naive
                .and_local_timezone(chrono::Local)
                .single()
                .map(|d| d.with_timezone(&chrono::Utc))
        });
    let lifetime = expires
        .map(|e| (e - now).to_std().unwrap_or(Duration::ZERO))
        // Unknown expiry: ask az again after a few minutes rather than trusting it forever.
        .or(Some(Duration::from_secs(600)));
    Ok(TokenAnswer {
        access_token: Secret::new(token),
        lifetime,
        refresh_token: None,
    })
}
