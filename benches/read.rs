//! How many requests, and how long, a full read of a maximal tenant takes.
//!
//! Seeds a sandbox at Graph's documented maxima (195 CA policies, 195 named locations, 5,000
//! users, 2,000 groups, 300 distinct users and groups referenced), adds 50 ms to every
//! request, reads every kind, and prints the requests made and the wall time against the
//! critical path: the longest chain of collection pages (all collections read in parallel)
//! plus one batched look-up round. Targets: at most 25 requests, at most 1.3× the critical
//! path.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use steward::graph::read::read_tenant;
use steward::graph::{ClientConfig, Credential, GraphClient, Resolver, Secret};
use steward::model::Kind;
use steward::sandbox::{SandboxConfig, Seed, seed};

const LATENCY_MS: u64 = 50;
const TOKEN: &str = "bench-token";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let state = dir.path().join("maximal.json");
    let tenant = seed::maximal(5000, 2000, 300);
    std::fs::write(&state, serde_json::to_string(&tenant).expect("JSON")).expect("write the state");
    let sandbox = steward::sandbox::start(SandboxConfig {
        state: Some(state),
        seed: Seed::Empty,
        latency_ms: LATENCY_MS,
        accept_tokens: vec![TOKEN.into()],
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts");
    let url = sandbox.url();
    let mut config = ClientConfig::new(url.clone());
    config.progress = false;
    let client = GraphClient::new(
        config,
        Credential::static_token(Secret::new(TOKEN)).expect("credential"),
    )
    .expect("client");
    let kinds = Kind::ALL
        .iter()
        .copied()
        .filter(|k| k.is_resource())
        .collect();
    let http = reqwest::Client::new();
    let _ = http.delete(format!("{url}/_sandbox/requests")).send().await;

    let started = Instant::now();
    let live = read_tenant(&client, &Resolver::new(client.clone()), &kinds)
        .await
        .expect("the tenant reads");
    let wall = started.elapsed();

    let log: Vec<Value> = http
        .get(format!("{url}/_sandbox/requests"))
        .send()
        .await
        .expect("the request log")
        .json()
        .await
        .expect("JSON");
    let mut by_path: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for entry in &log {
        let path = entry["path"].as_str().unwrap_or_default();
        let family = path.split('?').next().unwrap_or_default().to_string();
        let slot = by_path.entry(family).or_default();
        slot.0 += 1;
        slot.1 = slot.1.max(entry["latencyMs"].as_u64().unwrap_or_default());
    }
    // The longest chain of pages any one collection needs, plus one look-up round.
    let longest_chain = by_path
        .iter()
        .filter(|(p, _)| {
            !p.contains("getByIds")
                && !p.contains("$batch")
                && !p.starts_with("/v1.0/servicePrincipals")
        })
        .map(|(_, (n, _))| *n)
        .max()
        .unwrap_or(1);
    let critical = Duration::from_millis(LATENCY_MS * (longest_chain as u64 + 1));
    let ratio = wall.as_secs_f64() / critical.as_secs_f64();

    println!("full read of a maximal tenant ({LATENCY_MS} ms per request)");
    println!("  objects read:       {}", live.objects.len());
    println!("  requests:           {} (target <= 25)", log.len());
    for (path, (n, slowest)) in &by_path {
        println!("    {n:>3}  {path}  (slowest answer {slowest} ms)");
    }
    println!(
        "  wall time:          {:.0} ms",
        wall.as_secs_f64() * 1000.0
    );
    println!(
        "  critical path:      {:.0} ms ({longest_chain} pages + 1 look-up round)",
        critical.as_secs_f64() * 1000.0
    );
    println!("  wall / critical:    {ratio:.2} (target <= 1.30)");
    sandbox.shutdown().await;
}
