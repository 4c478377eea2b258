//! How close `plan`, `drift` and `export` come to the round-trip bound on a large tenant.
//!
//! Serves a tenant at Graph's documented maxima (195 Conditional Access policies, 195 named
//! locations, 5,000 users, 2,000 groups, 300 distinct principals referenced) from the sandbox
//! with 100 objects per page, exports it to policy files, then runs the real binary — `export`,
//! `plan` and `drift` of those files — with no added latency and with 50 ms added to every
//! request, best of three. For each it prints the requests made, the wall times, the round trips
//! on the critical path (measured from the `-v` request log: the longest chain of requests each
//! sent after the previous one answered), and the ratio of the wall time at 50 ms to the bound:
//! three round trips (first pages and singletons, second pages, one round of name look-ups) ×
//! 50 ms + the run at 0 ms. Goal: `plan` and `drift` ≤ 1.2× the bound, and never more than one
//! round trip slower than `export`.
//!
//! `cargo bench --bench bound -- --apply` also applies those 195 policies and 195 locations to a
//! tenant without them under Graph's write limits (one Conditional Access write a second), and
//! reports the writes made, the failures (goal: none) and the wall time (about 7 minutes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use steward::sandbox::{RunningSandbox, SandboxConfig, Seed, seed};

const LATENCY_MS: u64 = 50;
const PAGE_SIZE: usize = 100;
const TOKEN: &str = "bench-token";
/// First pages and singletons at once, second pages, one round of name look-ups.
const BOUND_ROUND_TRIPS: u64 = 3;
const RUNS: usize = 3;

/// One HTTP exchange from the `-v` log: when it was sent and answered, in ms since the first.
#[derive(Debug, Clone, Copy)]
struct Exchange {
    sent: f64,
    answered: f64,
}

/// What one run of a command measured.
#[derive(Debug, Clone)]
struct Run {
    wall: Duration,
    exchanges: Vec<Exchange>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let apply = std::env::args().any(|a| a == "--apply");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tenant = seed::maximal(5000, 2000, 300);
    let state = dir.path().join("maximal.json");
    std::fs::write(&state, serde_json::to_string(&tenant).expect("JSON")).expect("write the state");

    let quick = serve(&state, 0, false).await;
    let files = dir.path().join("policies");
    let exported = steward(dir.path(), &["export", "--out", path(&files)], &quick.url());
    assert!(exported.0.success(), "export failed: {}", exported.2);

    let commands: [(&str, Vec<String>); 3] = [
        (
            "export",
            vec![
                "export".into(),
                "--out".into(),
                path(&dir.path().join("again")).into(),
            ],
        ),
        ("plan", vec!["plan".into(), path(&files).into()]),
        ("drift", vec!["drift".into(), path(&files).into()]),
    ];
    let slow = serve(&state, LATENCY_MS, false).await;
    println!(
        "large tenant: 195 policies, 195 locations, 5,000 users, 2,000 groups; {PAGE_SIZE} per \
         page; best of {RUNS}"
    );
    println!(
        "{:<8} {:>8} {:>10} {:>11} {:>12} {:>10} {:>8}",
        "command", "requests", "wall 0 ms", "wall 50 ms", "round trips", "bound", "ratio"
    );
    let mut export_units = None;
    let mut report = Vec::new();
    for (name, args) in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let fast = best(dir.path(), &args, &quick.url());
        let slowest = best(dir.path(), &args, &slow.url());
        let bound = Duration::from_millis(BOUND_ROUND_TRIPS * LATENCY_MS) + fast.wall;
        let ratio = slowest.wall.as_secs_f64() / bound.as_secs_f64();
        // Latency units the run paid: the wall time latency added, in round trips.
        let units =
            (slowest.wall.as_secs_f64() - fast.wall.as_secs_f64()) / (LATENCY_MS as f64 / 1000.0);
        println!(
            "{name:<8} {:>8} {:>8.0}ms {:>9.0}ms {:>12} {:>8.0}ms {:>7.2}x",
            slowest.exchanges.len(),
            ms(fast.wall),
            ms(slowest.wall),
            rounds(&slowest.exchanges),
            ms(bound),
            ratio,
        );
        if *name == "export" {
            export_units = Some(units);
        }
        report.push((*name, ratio, units));
    }
    let export_units = export_units.unwrap_or_default();
    println!();
    for (name, ratio, units) in report.iter().filter(|(n, _, _)| *n != "export") {
        println!(
            "{name}: {ratio:.2}x the bound (goal <= 1.20); {:+.1} round trips against export \
             (goal <= +1.0)",
            units - export_units
        );
    }
    quick.shutdown().await;
    slow.shutdown().await;

    if apply {
        apply_bench(dir.path(), &tenant, &files).await;
    } else {
        println!("\n(add `-- --apply` for the apply figures: about 7 minutes at the write limit)");
    }
}

/// Applies the exported policies and locations to the same tenant without them, at the limit.
async fn apply_bench(dir: &Path, tenant: &serde_json::Map<String, Value>, files: &Path) {
    let mut empty = tenant.clone();
    for (_, value) in empty.iter_mut() {
        let is_policy_or_location = value.as_array().is_some_and(|items| {
            items.iter().any(|item| {
                item.get("conditions").is_some()
                    || item["@odata.type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("NamedLocation"))
            })
        });
        if is_policy_or_location {
            *value = Value::Array(Vec::new());
        }
    }
    // The generated policies exclude no emergency-access account, so the lockout guard would
    // (rightly) refuse the enabled ones: apply them report-only, which is the same writes.
    let report_only = dir.join("report-only");
    std::fs::create_dir_all(&report_only).expect("a directory");
    for entry in std::fs::read_dir(files).expect("the exported files") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("an exported file");
        let name = path.file_name().expect("a file name");
        let text = if name == "conditional-access-policies.kdl" {
            text.replace(
                "    state enabled\n",
                "    state enabledForReportingButNotEnforced\n",
            )
        } else {
            text
        };
        std::fs::write(report_only.join(name), text).expect("write a policy file");
    }
    let files = report_only.as_path();
    let state = dir.join("without-policies.json");
    std::fs::write(&state, serde_json::to_string(&empty).expect("JSON")).expect("write the state");
    let sandbox = serve(&state, 0, true).await;
    let started = Instant::now();
    let (status, stdout, stderr) = steward(
        dir,
        &["apply", path(files), "--auto-approve"],
        &sandbox.url(),
    );
    let wall = started.elapsed();
    let writes = stderr
        .lines()
        .filter(|l| l.contains("graph request method=POST") || l.contains("method=PATCH"))
        .count();
    let failed = stderr
        .lines()
        .filter(|l| l.contains("graph request") && !l.contains("status=2"))
        .count();
    println!("\napply of 195 policies + 195 named locations under --write-limits:");
    println!("  exit status:          {status}");
    println!("  POST and PATCH sent:  {writes} (creates, updates and $batch look-ups)");
    println!("  answers other than 2xx (retried): {failed}");
    println!("  wall time:            {:.0} s", wall.as_secs_f64());
    println!(
        "  last line:            {}",
        stdout.lines().last().unwrap_or_default()
    );
    if !status.success() {
        // What steward said, without the request log.
        for line in stderr.lines().filter(|l| !l.contains(" graph ")) {
            println!("  | {line}");
        }
    }
    sandbox.shutdown().await;
}

async fn serve(state: &Path, latency_ms: u64, write_limits: bool) -> RunningSandbox {
    steward::sandbox::start(SandboxConfig {
        // Each sandbox works on its own copy: apply writes to its state file.
        state: Some(copy(state, latency_ms, write_limits)),
        seed: Seed::Empty,
        page_size: PAGE_SIZE,
        latency_ms,
        write_limits,
        accept_tokens: vec![TOKEN.into()],
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts")
}

fn copy(state: &Path, latency_ms: u64, write_limits: bool) -> PathBuf {
    let to = state.with_file_name(format!("state-{latency_ms}-{write_limits}.json"));
    std::fs::copy(state, &to).expect("copy the state");
    to
}

/// The best (shortest) of [`RUNS`] runs.
fn best(dir: &Path, args: &[&str], url: &str) -> Run {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let (status, _, stderr) = steward(dir, args, url);
            let wall = started.elapsed();
            // plan and drift exit 0 here: the files are the tenant's own export.
            assert!(status.success(), "{args:?} failed: {stderr}");
            Run {
                wall,
                exchanges: exchanges(&stderr),
            }
        })
        .min_by_key(|run| run.wall)
        .expect("at least one run")
}

/// Runs the release binary with `-v` against the sandbox at `url`.
fn steward(dir: &Path, args: &[&str], url: &str) -> (std::process::ExitStatus, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .arg("-v")
        .current_dir(dir)
        .env("STEWARD_GRAPH_URL", url)
        .env("STEWARD_GRAPH_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env_remove("STEWARD_LOG")
        .output()
        .expect("run steward");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The HTTP exchanges in a `-v` log: each line's timestamp is the answer, `ms=` its duration.
fn exchanges(log: &str) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = log
        .lines()
        .filter(|l| l.contains(" graph request "))
        .filter_map(|line| {
            let stamp = line.split_whitespace().next()?;
            let at = chrono::DateTime::parse_from_rfc3339(stamp).ok()?;
            let took: f64 = line.split(" ms=").nth(1)?.split(' ').next()?.parse().ok()?;
            let answered = at.timestamp_micros() as f64 / 1000.0;
            Some(Exchange {
                sent: answered - took,
                answered,
            })
        })
        .collect();
    let first = out.iter().map(|e| e.sent).fold(f64::INFINITY, f64::min);
    for e in &mut out {
        e.sent -= first;
        e.answered -= first;
    }
    out
}

/// The longest chain of exchanges each sent after the previous one was answered: the round
/// trips on the critical path.
fn rounds(exchanges: &[Exchange]) -> usize {
    let mut sorted = exchanges.to_vec();
    sorted.sort_by(|a, b| a.answered.total_cmp(&b.answered));
    let mut chain = vec![1usize; sorted.len()];
    for i in 0..sorted.len() {
        for j in 0..i {
            // A millisecond of slack: the log's clock and the duration are rounded.
            if sorted[j].answered <= sorted[i].sent + 1.0 {
                chain[i] = chain[i].max(chain[j] + 1);
            }
        }
    }
    chain.into_iter().max().unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}
