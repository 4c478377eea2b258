//! Azure CLI sign-in with an `az` stub first on PATH. Its own test binary, because it changes
//! the process's PATH.

#![cfg(unix)]

#[path = "it/graph_support/mod.rs"]
#[allow(dead_code)]
mod graph_support;

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graph_support::{Reply, config, serve};
use serde_json::json;
use steward::graph::{AuthMode, Cloud, GraphError};
use steward::workflow::GraphArgs;

fn write_stub(dir: &std::path::Path, body: &str) {
    let path = dir.join("az");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$@\" >> \"{}/args.txt\"\n{body}\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn azure_cli_login_supplies_the_token_and_failures_say_to_run_az_login() {
    let app_only = format!(
        "h.{}.s",
        URL_SAFE_NO_PAD.encode(json!({"roles": ["Policy.Read.All"], "idtyp": "app"}).to_string())
    );
    let server = serve(move |r| {
        if r.header("authorization").as_deref() == Some("Bearer az-cli-token")
            || r.header("authorization")
                .as_deref()
                .is_some_and(|h| h.ends_with(".s"))
        {
            Reply::json(200, json!({"id": "org"}))
        } else {
            Reply::json(
                401,
                json!({"error": {"code": "InvalidAuthenticationToken", "message": "bad"}}),
            )
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let old_path = std::env::var("PATH").unwrap_or_default();
    // SAFETY: this test binary holds a single test, so no other thread reads the environment.
    unsafe { std::env::set_var("PATH", format!("{}:{old_path}", dir.path().display())) };
    let no_env = |_: &str| None::<String>;

    // A logged-in CLI.
    write_stub(
        dir.path(),
        r#"echo '{"accessToken": "az-cli-token", "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": 4070908800, "tenant": "t", "tokenType": "Bearer"}'"#,
    );
    let args = GraphArgs {
        graph_url: Some(server.url.clone()),
        tenant: Some("contoso.onmicrosoft.com".into()),
        ..Default::default()
    };
    let c = args
        .build_with(&no_env, false, config(&server.url))
        .unwrap();
    assert_eq!(
        c.credential().mode(),
        AuthMode::AzureCli,
        "azure-cli is the fallback"
    );
    c.get("organization").await.unwrap();
    c.get("organization").await.unwrap();
    let calls = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert_eq!(
        calls,
        "account get-access-token --output json --resource-type ms-graph --tenant contoso.onmicrosoft.com\n",
        "one az call for two requests (cached)"
    );
    assert!(c.credential().is_delegated());

    // A national cloud asks for its own Graph resource; an app-only CLI login is detected.
    std::fs::remove_file(dir.path().join("args.txt")).unwrap();
    write_stub(
        dir.path(),
        &format!(r#"echo '{{"accessToken": "{app_only}", "expires_on": "4070908800"}}'"#),
    );
    let args = GraphArgs {
        graph_url: Some(server.url.clone()),
        cloud: Cloud::UsGov,
        auth: Some(AuthMode::AzureCli),
        ..Default::default()
    };
    let c = args
        .build_with(&no_env, false, config(&server.url))
        .unwrap();
    let err = c
        .require_signed_in_admin("retention label")
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::NeedsSignedInAdmin { .. }),
        "{err:?}"
    );
    let calls = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert_eq!(
        calls,
        "account get-access-token --output json --resource https://graph.microsoft.us\n"
    );

    // Not logged in.
    write_stub(
        dir.path(),
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
    );
    let c = GraphArgs {
        graph_url: Some(server.url.clone()),
        auth: Some(AuthMode::AzureCli),
        ..Default::default()
    }
    .build_with(&no_env, false, config(&server.url))
    .unwrap();
    let err = c.get("organization").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "sign-in (azure-cli) failed: `az account get-access-token` failed (run `az login` first?): ERROR: Please run 'az login' to setup account."
    );

    // No az at all.
    std::fs::remove_file(dir.path().join("az")).unwrap();
    unsafe { std::env::set_var("PATH", dir.path()) };
    let c = GraphArgs {
        graph_url: Some(server.url.clone()),
        auth: Some(AuthMode::AzureCli),
        ..Default::default()
    }
    .build_with(&no_env, false, config(&server.url))
    .unwrap();
    let err = c.get("organization").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the Azure CLI (`az`) is not on PATH"),
        "{err}"
    );
    unsafe { std::env::set_var("PATH", old_path) };
}
