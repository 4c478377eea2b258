//! What a fleet costs: planning 100 sandbox tenants with `--parallel 8` against planning one.
//!
//! One sandbox holds 100 tenants, each answering with a Graph-like latency (real Graph answers
//! in tens to hundreds of milliseconds, so a plan waits on the network far more than it
//! computes). The real binary plans the generated fleet: first one tenant, then all of them,
//! each signing in at its own tenant's authority with the fleet's app.
//!
//! Target: 100 tenants with `--parallel 8` in under 10× the time of one. For identical tenants
//! and at most 8 at a time, 100 / 8 = 12.5× is the floor a fan-out reaches only if nothing is
//! shared; the figures printed say how close the run comes to it and what `--parallel 16`
//! gives.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use steward::sandbox::seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use steward::sandbox::{SandboxConfig, SandboxTenant, Seed, tenant_id};

const TENANTS: u64 = 100;
/// Added to every sandbox request: a fast Graph answer.
const LATENCY_MS: u64 = 50;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let work = tempfile::tempdir().expect("a temporary directory");
    let fleet = work.path().join("fleet");
    let tenants: Vec<SandboxTenant> = (1..=TENANTS)
        .map(|n| SandboxTenant {
            id: tenant_id(n),
            domain: Some(format!("t{n:03}.onmicrosoft.com")),
            seed: Seed::Demo,
            state: None,
            accept_tokens: Vec::new(),
        })
        .collect();
    write_fleet(&fleet, &tenants);
    let sandbox = runtime
        .block_on(steward::sandbox::start(SandboxConfig {
            tenants,
            latency_ms: LATENCY_MS,
            ..SandboxConfig::default()
        }))
        .expect("the sandbox starts");
    let url = sandbox.url();

    let plan = |selection: &[&str]| -> Duration {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_steward"))
            .arg("plan")
            .arg(&fleet)
            .args(selection)
            .args(["--graph-url", &url, "--login-url", &url])
            .env("AZURE_CLIENT_ID", DEMO_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET)
            .env_remove("AZURE_TENANT_ID")
            .env_remove("STEWARD_GRAPH_TOKEN")
            .current_dir(work.path())
            .output()
            .expect("steward runs");
        let elapsed = started.elapsed();
        assert!(
            out.status.success(),
            "plan {selection:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        elapsed
    };
    let best = |selection: &[&str], runs: usize| -> Duration {
        (0..runs).map(|_| plan(selection)).min().unwrap_or_default()
    };

    let one = best(&["--tenant", "t001"], 5);
    let fleet8 = best(&["--tenants", "all", "--parallel", "8"], 2);
    let fleet16 = best(&["--tenants", "all", "--parallel", "16"], 2);
    let ratio = |d: Duration| d.as_secs_f64() / one.as_secs_f64();
    println!("fleet plan, {TENANTS} sandbox tenants, {LATENCY_MS} ms per request:");
    println!("  one tenant                    {:>8.0} ms", ms(one));
    println!(
        "  {TENANTS} tenants, --parallel 8      {:>8.0} ms  {:>5.1}× one  (floor {:.1}×; target < 10×)",
        ms(fleet8),
        ratio(fleet8),
        TENANTS as f64 / 8.0
    );
    println!(
        "  {TENANTS} tenants, --parallel 16     {:>8.0} ms  {:>5.1}× one  (floor {:.1}×)",
        ms(fleet16),
        ratio(fleet16),
        TENANTS as f64 / 16.0
    );
    runtime.block_on(sandbox.shutdown());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The example fleet's baseline, and one tenant directory per sandbox tenant.
fn write_fleet(root: &Path, tenants: &[SandboxTenant]) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/baseline");
    copy(&example, &root.join("baseline"));
    for (i, tenant) in tenants.iter().enumerate() {
        let domain = tenant.domain.clone().unwrap_or_default();
        let dir = root.join(format!("tenants/t{:03}", i + 1));
        std::fs::create_dir_all(&dir).expect("tenant directory");
        std::fs::write(
            dir.join("tenant.kdl"),
            format!(
                "tenant-id \"{}\"\ndomain \"{domain}\"\nvalues {{\n    breakglass-upns \"breakglass1@{domain}\" \"breakglass2@{domain}\"\n    office-ip-ranges \"10.{}.0.0/16\"\n    partner-domains \"fabrikam.com\"\n}}\n",
                tenant.id,
                i % 250
            ),
        )
        .expect("tenant.kdl");
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory");
    for entry in std::fs::read_dir(from).expect("read directory") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
