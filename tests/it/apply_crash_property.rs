//! Property: however an apply dies — `kill -9` after any number of writes, at any moment
//! within one — an immediate re-run against a tenant that replicates with delay (and, in some
//! cases, answers 504 to writes it carried out) converges with no object created twice.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use steward::sandbox::{RunningSandbox, SandboxConfig};

use common::{Scratch, steward_async};

/// Two named locations, a policy using one, and two retention labels (created at once, as they
/// depend on nothing): five creates.
const FILES: &str = r#"emergency-access {
    user "breakglass1@contoso.onmicrosoft.com"
    user "breakglass2@contoso.onmicrosoft.com"
}
named-location "Lab network" {
    ip-ranges "198.51.100.0/24"
}
named-location "Test network" {
    ip-ranges "192.0.2.0/24"
}
conditional-access-policy "Block the lab network" {
    state enabled
    conditions {
        users {
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "breakglass2@contoso.onmicrosoft.com"
        }
        applications { include-applications All }
        locations { include-locations "Lab network" }
    }
    grant-controls { built-in-controls block }
}
retention-label "Lab notebooks - 10 years" {
    behavior-during-retention-period retain
    action-after-retention-period delete
    retention-trigger dateCreated
    retention-duration days=3650
}
retention-label "Lab samples - 2 years" {
    behavior-during-retention-period retain
    action-after-retention-period delete
    retention-trigger dateCreated
    retention-duration days=730
}
"#;

const COLLECTIONS: &[&str] = &[
    "identity/conditionalAccess/namedLocations",
    "identity/conditionalAccess/policies",
    "security/labels/retentionLabels",
];

/// How long new objects stay invisible to reads.
const REPLICATION_DELAY_MS: u64 = 600;
/// The bound apply is given for that: comfortably above the delay.
const REPLICATION_WAIT: &str = "2";

/// Writes the sandbox carried out so far (`$batch` and `getByIds` are reads sent as POST).
async fn writes_served(sandbox: &RunningSandbox) -> usize {
    let Ok(response) = reqwest::get(format!("{}/_sandbox/requests", sandbox.url())).await else {
        return 0;
    };
    let log: Value = response.json().await.unwrap_or(Value::Null);
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            let path = r["path"].as_str().unwrap_or("");
            r["method"] != "GET" && !path.contains("$batch") && !path.contains("getByIds")
        })
        .count()
}

/// Every display name that appears more than once in a collection of the state file, objects
/// still invisible to reads included.
fn duplicates(state: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(state).unwrap_or_default();
    let state: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut out = Vec::new();
    for collection in COLLECTIONS {
        let mut names: Vec<String> = state[*collection]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["displayName"].as_str().map(str::to_ascii_lowercase))
            .collect();
        names.sort();
        for pair in names.windows(2) {
            if pair[0] == pair[1] && !out.contains(&pair[0]) {
                out.push(pair[0].clone());
            }
        }
    }
    out
}

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

/// Starts an apply, kills it (SIGKILL) once the sandbox has served `kill_after` writes and
/// `pause_us` more microseconds have passed, then re-runs it and checks the tenant.
async fn kill_and_rerun(kill_after: usize, pause_us: u64, timeout_every: u64) {
    let scratch = Scratch::new();
    let state = scratch.path().join("tenant.json");
    let sandbox = common::demo(SandboxConfig {
        state: Some(state.clone()),
        consistency_delay_ms: REPLICATION_DELAY_MS,
        write_timeout_every: timeout_every,
        ..SandboxConfig::default()
    })
    .await;
    let url = sandbox.url();
    scratch.write("lab/lab.kdl", FILES);
    let apply = [
        "apply",
        "lab",
        "--auto-approve",
        "--replication-wait",
        REPLICATION_WAIT,
    ];

    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .args(apply)
        .current_dir(scratch.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for name in common::SIGN_IN_VARIABLES {
        command.env_remove(name);
    }
    command
        .env("STEWARD_GRAPH_URL", &url)
        .env("STEWARD_GRAPH_TOKEN", common::TOKEN);
    let mut child = command.spawn().expect("apply starts");
    loop {
        if child.try_wait().ok().flatten().is_some() {
            break; // It finished before the kill point.
        }
        if writes_served(&sandbox).await >= kill_after {
            tokio::time::sleep(Duration::from_micros(pause_us)).await;
            child.kill().ok();
            child.wait().ok();
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let again = run(scratch.path(), &apply, &url).await;
    assert_eq!(
        again.code, 0,
        "the re-run converges (killed after {kill_after} writes + {pause_us} µs, 504 every {timeout_every}): {}{}",
        again.stdout, again.stderr
    );
    assert_eq!(
        duplicates(&state),
        Vec::<String>::new(),
        "no object created twice (killed after {kill_after} writes + {pause_us} µs, 504 every {timeout_every})"
    );
    let plan = run(
        scratch.path(),
        &["plan", "lab", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(
        plan.code, 0,
        "the plan is clean afterwards: {}{}",
        plan.stdout, plan.stderr
    );
    sandbox.shutdown().await;
}

proptest! {
    // Each case runs the binary three times against a delayed tenant: a few cases only.
    #![proptest_config(ProptestConfig {
        cases: 4,
        max_shrink_iters: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn apply_killed_at_any_point_and_rerun_creates_nothing_twice(
        kill_after in 1usize..=5,
        pause_us in 0u64..4000,
        timeout_every in prop_oneof![Just(0u64), Just(3u64)],
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(kill_and_rerun(kill_after, pause_us, timeout_every));
    }
}
