//! What a plan costs: CPU time of load + diff + render for 1,000 resources, of loading
//! megabytes of policy, and the requests a plan of a maximal tenant makes.
//!
//! Targets: load + diff + render under 100 ms for 1,000 resources; 5 MB of policy loads in
//! under 1 s; a plan of the maximal tenant (195 policies, 195 named locations, 5,000 users,
//! 2,000 groups, 300 referenced) in at most 25 requests.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use steward::graph::read::read_tenant;
use steward::graph::{ClientConfig, Credential, GraphClient, Resolver, Secret};
use steward::model::Kind;
use steward::reconcile::{LiveIds, PlanOptions};
use steward::render::{Mode, Names};
use steward::sandbox::{SandboxConfig, Seed, seed};

const TOKEN: &str = "bench-token";

/// 1,000 declared resources: 400 named locations and 600 policies using them, in ten files of a
/// hundred resources, as a team splits them.
fn thousand() -> Vec<String> {
    let text = one_file();
    let mut files = vec![String::new(); 10];
    for (i, block) in text.split_inclusive("\n}\n").enumerate() {
        files[i % 10].push_str(block);
    }
    files
}

fn one_file() -> String {
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!(
            "named-location \"Office {i:03}\" {{\n    ip-ranges \"10.{}.{}.0/24\"\n    is-trusted #true\n}}\n",
            i / 200,
            i % 200
        ));
    }
    for i in 0..600 {
        text.push_str(&format!(
            r#"conditional-access-policy "Policy {i:03}" {{
    state enabledForReportingButNotEnforced
    conditions {{
        users {{
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com" "user{i:04}@contoso.onmicrosoft.com"
            exclude-groups "Group {i:04}"
        }}
        applications {{ include-applications All }}
        client-app-types browser mobileAppsAndDesktopClients
        locations {{ include-locations All; exclude-locations "Office {:03}" }}
    }}
    grant-controls operator=OR {{ built-in-controls mfa compliantDevice }}
}}
"#,
            i % 400
        ));
    }
    text
}

/// Runs of the CPU figures; each phase reports its fastest, as the machine's other work only
/// ever adds time.
const CPU_RUNS: usize = 7;

fn cpu_figures() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (i, text) in thousand().iter().enumerate() {
        std::fs::write(dir.path().join(format!("part{i}.kdl")), text).expect("write a policy file");
    }
    let mut best = [Duration::MAX; 3];
    let mut sizes = (0, 0, 0, 0);
    for _ in 0..CPU_RUNS {
        let started = Instant::now();
        let loaded = steward::config::load(&[dir.path().to_path_buf()]);
        let load = started.elapsed();
        assert!(!loaded.has_errors(), "the benchmark's policies are valid");
        // The tenant has every resource, a tenth of the policies changed.
        let mut live = loaded.desired.clone();
        for (i, p) in live.conditional_access_policies.iter_mut().enumerate() {
            if i % 10 == 0 {
                p.state = steward::model::conditional_access::PolicyState::Disabled;
            }
        }
        let ids: LiveIds = LiveIds::new();
        let started = Instant::now();
        let plan = steward::reconcile::plan(&loaded.desired, &live, &ids, &PlanOptions::default())
            .expect("a plan");
        let diff = started.elapsed();
        let started = Instant::now();
        let human = steward::render::human(&plan, Mode::Plan, &Names::empty(), false);
        // As `plan --format json` prints it.
        let json = serde_json::to_string_pretty(&steward::render::document(&plan, Mode::Plan))
            .expect("JSON");
        let markdown = steward::render::markdown(&plan, Mode::Plan, &Names::empty());
        let render = started.elapsed();
        for (b, d) in best.iter_mut().zip([load, diff, render]) {
            *b = (*b).min(d);
        }
        sizes = (plan.summary.change, human.len(), json.len(), markdown.len());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let [load, diff, render] = best;
    println!(
        "load + diff + render of 1,000 resources (files parsed on every core; best of {CPU_RUNS})"
    );
    println!("  load:    {:>6.1} ms", ms(load));
    println!("  diff:    {:>6.1} ms ({} changes)", ms(diff), sizes.0);
    println!(
        "  render:  {:>6.1} ms ({} + {} + {} bytes)",
        ms(render),
        sizes.1,
        sizes.2,
        sizes.3
    );
    println!(
        "  total:   {:>6.1} ms (target < 100 ms)",
        ms(load + diff + render)
    );
}

/// One more named location and the policy that excludes it, as a large tenant's files hold.
fn pair(i: usize) -> String {
    format!(
        r#"named-location "Office {i:05}" {{
    ip-ranges "10.{}.{}.0/24"
    is-trusted #true
}}
conditional-access-policy "Policy {i:05}" {{
    state enabledForReportingButNotEnforced
    conditions {{
        users {{
            include-users All
            exclude-users "breakglass1@contoso.onmicrosoft.com"
        }}
        applications {{ include-applications All }}
        client-app-types browser mobileAppsAndDesktopClients
        locations {{ include-locations All; exclude-locations "Office {i:05}" }}
    }}
    grant-controls operator=OR {{ built-in-controls mfa compliantDevice }}
}}
"#,
        (i / 250) % 250,
        i % 250
    )
}

/// Loading (what `steward validate` does) of megabytes of policy: 5 MB in four files, and one
/// file just under the 4 MiB a file may hold.
fn large_figures() {
    let mut text = String::new();
    let mut count = 0;
    while text.len() < 5_000_000 {
        text.push_str(&pair(count));
        count += 1;
    }
    let four = tempfile::tempdir().expect("a temporary directory");
    let blocks: Vec<&str> = text.split_inclusive("\n}\n").collect();
    for (i, part) in blocks.chunks(blocks.len().div_ceil(4)).enumerate() {
        std::fs::write(four.path().join(format!("part{i}.kdl")), part.concat())
            .expect("write a policy file");
    }
    let one = tempfile::tempdir().expect("a temporary directory");
    let mut cut = 0;
    for block in &blocks {
        if cut + block.len() > 3_900_000 {
            break;
        }
        cut += block.len();
    }
    std::fs::write(one.path().join("all.kdl"), &text[..cut]).expect("write a policy file");
    println!("loading megabytes of policy (best of 3; target: 5 MB under 1 s)");
    for (label, dir) in [
        ("5.0 MB in 4 files", four.path()),
        (
            &*format!("{:.1} MB in 1 file", cut as f64 / 1e6),
            one.path(),
        ),
    ] {
        let mut best = Duration::MAX;
        let mut resources = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let loaded = steward::config::load(&[dir.to_path_buf()]);
            best = best.min(started.elapsed());
            assert!(!loaded.has_errors(), "the benchmark's policies are valid");
            resources = loaded.desired.named_locations.len()
                + loaded.desired.conditional_access_policies.len();
        }
        println!(
            "  {label}: {:>6.0} ms ({resources} resources)",
            best.as_secs_f64() * 1000.0
        );
    }
}

async fn request_figures() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let state = dir.path().join("maximal.json");
    std::fs::write(
        &state,
        serde_json::to_string(&seed::maximal(5000, 2000, 300)).expect("JSON"),
    )
    .expect("state");
    let sandbox = steward::sandbox::start(SandboxConfig {
        state: Some(state),
        seed: Seed::Empty,
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

    // The files: the tenant as exported, so every reference is a name to resolve.
    let kinds: BTreeSet<Kind> = [Kind::ConditionalAccessPolicy, Kind::NamedLocation]
        .into_iter()
        .collect();
    let live = read_tenant(&client, &Resolver::new(client.clone()), &kinds)
        .await
        .expect("read");
    let text: String = steward::workflow::export::render(&live, &kinds)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let loaded = steward::config::load_str("exported.kdl", &text);
    assert!(!loaded.has_errors(), "the export loads");

    let http = reqwest::Client::new();
    let _ = http.delete(format!("{url}/_sandbox/requests")).send().await;
    let fresh = GraphClient::new(
        ClientConfig {
            progress: false,
            ..ClientConfig::new(url.clone())
        },
        Credential::static_token(Secret::new(TOKEN)).expect("credential"),
    )
    .expect("client");
    let started = Instant::now();
    let planned = steward::workflow::planning::compute(&fresh, &loaded, &PlanOptions::default())
        .await
        .expect("a plan");
    let wall = started.elapsed();
    let log: Vec<Value> = http
        .get(format!("{url}/_sandbox/requests"))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("JSON");
    println!("plan of the maximal tenant (195 policies, 195 locations, 300 referenced principals)");
    println!("  resources planned:  {}", planned.plan.resources.len());
    println!(
        "  changes:            {}",
        planned.plan.summary.add + planned.plan.summary.change
    );
    println!("  requests:           {} (target <= 25)", log.len());
    println!(
        "  wall time:          {:.0} ms (no added latency)",
        wall.as_secs_f64() * 1000.0
    );
    sandbox.shutdown().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    cpu_figures();
    large_figures();
    request_figures().await;
}
