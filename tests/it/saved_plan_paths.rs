//! A saved plan names its files relative to the repository, so it applies from any spelling of
//! the same policy path: `policies`, `./policies/`, an absolute path, or from inside the folder.

use crate::common;

use std::path::Path;
use std::process::Command;

use steward::sandbox::SandboxConfig;

use common::{Scratch, steward_async};

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

/// One named location: a plan with one change, and nothing the lockout guard looks at.
fn policies(scratch: &Scratch) {
    scratch.write(
        "policies/locations/lab.kdl",
        "named-location \"Lab network\" {\n    ip-ranges \"198.51.100.0/24\"\n    is-trusted #false\n}\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_from_policies_applies_from_dot_slash_policies_slash() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    policies(&scratch);

    let planned = run(
        scratch.path(),
        &["plan", "policies", "--out", "p.json"],
        &url,
    )
    .await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let applied = run(
        scratch.path(),
        &["apply", "./policies/", "--plan", "p.json"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(!applied.stderr.contains("stale"), "{}", applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_applies_from_inside_the_repository_and_an_absolute_path_and_a_changed_file_is_refused()
 {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    policies(&scratch);
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(scratch.path())
        .status()
        .expect("git runs");
    assert!(git.success());

    // Made at the repository's top level, applied from inside `policies/` with `.`: both name
    // policies/locations/lab.kdl of the same repository.
    let planned = run(
        scratch.path(),
        &["plan", "policies", "--out", "p.json"],
        &url,
    )
    .await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let plan = scratch.path().join("p.json").display().to_string();
    let inside = scratch.path().join("policies");
    let applied = run(&inside, &["apply", ".", "--plan", &plan], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );

    // Made from an absolute path, applied from the relative one (a plan with no change).
    let absolute = inside.display().to_string();
    let planned = run(
        scratch.path(),
        &["plan", &absolute, "--out", "p.json"],
        &url,
    )
    .await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let applied = run(
        scratch.path(),
        &["apply", "policies", "--plan", "p.json"],
        &url,
    )
    .await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);

    // The files changed: refused whatever the spelling.
    scratch.write(
        "policies/locations/lab.kdl",
        "named-location \"Lab network\" {\n    ip-ranges \"198.51.100.0/25\"\n    is-trusted #false\n}\n",
    );
    let refused = run(
        scratch.path(),
        &["apply", &absolute, "--plan", "p.json"],
        &url,
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("the saved plan is stale: the policy files changed"),
        "{}",
        refused.stderr
    );
    sandbox.shutdown().await;
}
