//! `steward apply` under faults: every report says what really happened.

mod common;
mod fault_proxy;

use std::path::Path;

use steward::sandbox::{RunningSandbox, SandboxConfig};

use common::{Scratch, steward_async};
use fault_proxy::Fault;

async fn run(dir: &Path, args: &[&str], url: &str) -> common::Run {
    steward_async(
        dir,
        args,
        &[
            ("STEWARD_GRAPH_URL", url),
            ("STEWARD_GRAPH_TOKEN", common::TOKEN),
        ],
    )
    .await
}

/// A demo sandbox keeping its state in `dir/tenant.json`.
async fn sandbox(dir: &Path, tweak: impl FnOnce(&mut SandboxConfig)) -> RunningSandbox {
    let mut config = SandboxConfig {
        state: Some(dir.join("tenant.json")),
        ..SandboxConfig::default()
    };
    tweak(&mut config);
    common::demo(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verification_read_is_reported_as_such_with_graphs_error() {
    let scratch = Scratch::new();
    let sandbox = sandbox(scratch.path(), |_| {}).await;
    let proxy = fault_proxy::start(
        &sandbox.url(),
        Fault::FailReadsAfterWrite("verify-read-request-id"),
    )
    .await;
    scratch.write(
        "settings/sharepoint.kdl",
        "sharepoint-settings {\n    is-loop-enabled #false\n}\n",
    );
    let out = run(
        scratch.path(),
        &["apply", "settings", "--auto-approve"],
        &proxy.url,
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("error: the verification read failed: ")
            && out.stderr.contains("HTTP 500")
            && out.stderr.contains("request-id verify-read-request-id"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "Not verified: the changes above were sent, but the tenant could not be read back"
        ),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("did not keep what was sent"),
        "nothing says the tenant did not keep the change: {}",
        out.stderr
    );
    proxy.stop();
    sandbox.shutdown().await;
}
