//! The fleet's deployment recipes: the GitHub matrix workflows and their scripts, the container
//! image and the Kubernetes drift CronJob. The scripts run against a fake `gh` and a fake
//! `steward`; the manifests are validated against vendored Kubernetes schemas
//! (deploy/kubernetes/schemas/README.md says where they come from).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo_file(path: &str) -> String {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every document of a YAML file, as JSON.
fn yaml_docs(path: &str) -> Vec<Value> {
    let text = repo_file(path);
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let value: serde_yaml_ng::Value = serde::Deserialize::deserialize(doc).unwrap();
            serde_json::to_value(value).unwrap()
        })
        .collect()
}

fn yaml(path: &str) -> Value {
    let mut docs = yaml_docs(path);
    assert_eq!(docs.len(), 1, "{path}");
    docs.remove(0)
}

// ---- Kubernetes manifests ------------------------------------------------------------------

const RENDERED: [&str; 2] = [
    "deploy/kubernetes/rendered/workload-identity.yaml",
    "deploy/kubernetes/rendered/certificate.yaml",
];

fn schema_file(name: &str) -> Value {
    serde_json::from_str(&repo_file(&format!("deploy/kubernetes/schemas/{name}"))).unwrap()
}

/// A validator for one kind, its `$ref`s into `_definitions.json` resolved from the vendored copy.
fn validator(kind: &str) -> jsonschema::Validator {
    let file = match kind {
        "CronJob" => "cronjob-batch-v1.json",
        "ServiceAccount" => "serviceaccount-v1.json",
        "ConfigMap" => "configmap-v1.json",
        other => panic!("no schema vendored for kind {other}"),
    };
    let definitions =
        jsonschema::Resource::from_contents(schema_file("_definitions.json")).unwrap();
    jsonschema::options()
        .with_resource("https://kubernetes.io/api/_definitions.json", definitions)
        .build(&schema_file(file))
        .expect("a valid schema")
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let kind = doc["kind"].as_str().unwrap();
    validator(kind)
        .iter_errors(doc)
        .map(|e| format!("{kind} {}: {e}", e.instance_path))
        .collect()
}

fn by_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

#[test]
fn the_rendered_manifests_are_valid_kubernetes_objects() {
    for path in RENDERED {
        let docs = yaml_docs(path);
        let kinds: BTreeSet<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            BTreeSet::from(["ConfigMap", "CronJob", "ServiceAccount"]),
            "{path}"
        );
        for doc in &docs {
            assert_eq!(schema_errors(doc), Vec::<String>::new(), "{path}");
            assert_eq!(doc["metadata"]["namespace"], "steward", "{path}");
        }
    }
}

#[test]
fn the_schemas_reject_an_unknown_field_and_a_wrong_type() {
    let docs = yaml_docs(RENDERED[0]);
    let mut cronjob = by_kind(&docs, "CronJob").clone();
    cronjob["spec"]["concurrencyPolicyy"] = json!("Forbid");
    let errors = schema_errors(&cronjob);
    assert!(
        errors.iter().any(|e| e.contains("concurrencyPolicyy")),
        "{errors:?}"
    );
    let mut cronjob = by_kind(&docs, "CronJob").clone();
    cronjob["spec"]["jobTemplate"]["spec"]["completions"] = json!("three");
    assert!(!schema_errors(&cronjob).is_empty());
}

#[test]
fn the_rendered_manifests_are_what_kustomize_builds() {
    // kubectl is not a build dependency: without it, only the schemas above check rendered/.
    if Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        eprintln!("kubectl is not installed: rendered/ is not compared with a fresh build");
        return;
    }
    for (dir, rendered) in [
        ("deploy/kubernetes/base", RENDERED[0]),
        ("deploy/kubernetes/overlays/certificate", RENDERED[1]),
    ] {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(root().join(dir))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            repo_file(rendered),
            "{rendered} is stale: see deploy/kubernetes/README.md"
        );
    }
}

/// The pod template of a rendered file's CronJob.
fn pod(docs: &[Value]) -> &Value {
    &by_kind(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]
}

#[test]
fn the_cronjob_runs_one_index_per_tenant_and_never_overlaps() {
    for path in RENDERED {
        let docs = yaml_docs(path);
        let spec = &by_kind(&docs, "CronJob")["spec"];
        assert_eq!(spec["concurrencyPolicy"], "Forbid", "{path}");
        let job = &spec["jobTemplate"]["spec"];
        assert_eq!(job["completionMode"], "Indexed", "{path}");
        assert_eq!(job["completions"], job["parallelism"], "{path}");
        assert!(job["completions"].as_u64().unwrap() >= 1);
        let steward = &pod(&docs)["spec"]["containers"][0];
        assert_eq!(steward["name"], "steward");
        assert_eq!(
            steward["args"],
            json!([
                "drift",
                ".",
                "--tenants",
                "index:$(JOB_COMPLETION_INDEX)",
                "--format",
                "json"
            ]),
            "{path}"
        );
        // The fleet is where git-sync links it, and steward only reads it.
        assert_eq!(steward["workingDir"], "/git/fleet");
        let init = &pod(&docs)["spec"]["initContainers"][0];
        assert_eq!(init["name"], "git-sync");
        assert_eq!(init["args"], json!(["--one-time"]));
        let env = |c: &Value, name: &str| -> Value {
            c["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .map(|e| e["value"].clone())
                .unwrap_or(Value::Null)
        };
        assert_eq!(env(init, "GITSYNC_ROOT"), "/git");
        assert_eq!(env(init, "GITSYNC_LINK"), "fleet");
        let mounts = |c: &Value| -> Vec<(String, bool)> {
            c["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        format!(
                            "{}={}",
                            m["name"].as_str().unwrap(),
                            m["mountPath"].as_str().unwrap()
                        ),
                        m["readOnly"] == true,
                    )
                })
                .collect()
        };
        assert!(
            mounts(steward).contains(&("git=/git".to_owned(), true)),
            "{path}"
        );
        assert!(
            mounts(init).contains(&("git=/git".to_owned(), false)),
            "{path}"
        );
    }
}

#[test]
fn drift_fails_its_index_without_retries_and_errors_are_retried() {
    for path in RENDERED {
        let docs = yaml_docs(path);
        let job = &by_kind(&docs, "CronJob")["spec"]["jobTemplate"]["spec"];
        // FailIndex needs a per-index backoff limit, and a pod failure policy needs Never.
        assert_eq!(job["backoffLimitPerIndex"], 2, "{path}");
        assert_eq!(pod(&docs)["spec"]["restartPolicy"], "Never");
        let rules = job["podFailurePolicy"]["rules"].as_array().unwrap();
        let fail_index: Vec<&Value> = rules
            .iter()
            .filter(|r| r["action"] == "FailIndex")
            .map(|r| &r["onExitCodes"])
            .collect();
        assert_eq!(
            fail_index,
            [
                &json!({"containerName": "steward", "operator": "In", "values": [2]}),
                &json!({"containerName": "steward", "operator": "In", "values": [64]}),
            ],
            "{path}"
        );
        // Exit 1 (an error) matches no rule: it counts against backoffLimitPerIndex.
        assert!(
            !rules.iter().any(|r| r["onExitCodes"]["values"]
                .as_array()
                .is_some_and(|v| v.contains(&json!(1)))),
            "{path}"
        );
    }
}

#[test]
fn every_container_is_unprivileged_read_only_and_limited() {
    for path in RENDERED {
        let docs = yaml_docs(path);
        let spec = &pod(&docs)["spec"];
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{path}");
        assert_ne!(spec["securityContext"]["runAsUser"], 0, "{path}");
        let containers: Vec<&Value> = spec["initContainers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(spec["containers"].as_array().unwrap())
            .collect();
        assert_eq!(containers.len(), 2);
        for c in containers {
            let name = &c["name"];
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{path} {name}");
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{path} {name}");
            assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{path} {name}");
            for resource in ["cpu", "memory"] {
                assert!(
                    c["resources"]["limits"][resource].is_string(),
                    "{path} {name} has no {resource} limit"
                );
            }
        }
    }
}

#[test]
fn credentials_come_from_workload_identity_or_a_mounted_certificate_never_the_manifests() {
    let wi = yaml_docs(RENDERED[0]);
    assert_eq!(
        pod(&wi)["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    let sa = by_kind(&wi, "ServiceAccount");
    assert!(
        sa["metadata"]["annotations"]["azure.workload.identity/client-id"].is_string(),
        "{sa}"
    );
    assert_eq!(pod(&wi)["spec"]["serviceAccountName"], "steward");

    let cert = yaml_docs(RENDERED[1]);
    assert!(pod(&cert)["metadata"]["labels"]["azure.workload.identity/use"].is_null());
    assert!(by_kind(&cert, "ServiceAccount")["metadata"]["annotations"].is_null());
    let spec = &pod(&cert)["spec"];
    let steward = &spec["containers"][0];
    let path = steward["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "AZURE_CLIENT_CERTIFICATE_PATH")
        .expect("AZURE_CLIENT_CERTIFICATE_PATH")["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let mount = steward["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "client-certificate")
        .unwrap();
    assert_eq!(mount["readOnly"], true);
    assert!(path.starts_with(&format!("{}/", mount["mountPath"].as_str().unwrap())));
    let volume = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "client-certificate")
        .unwrap();
    assert_eq!(volume["secret"]["secretName"], "steward-client-certificate");

    // No Secret object, no secret value: every credential is created out of band.
    for path in RENDERED {
        for doc in yaml_docs(path) {
            assert_ne!(doc["kind"], "Secret", "{path}");
            let text = doc.to_string().to_ascii_lowercase();
            for word in [
                "client_secret",
                "password",
                "private key",
                "-----begin",
                "\"token\":",
            ] {
                assert!(!text.contains(word), "{path} holds {word}: {doc}");
            }
        }
    }
}

// ---- the container image -------------------------------------------------------------------

/// The Dockerfile's instructions, comments and continuation lines joined.
fn dockerfile() -> Vec<String> {
    let text = repo_file("Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

#[test]
fn the_image_builds_with_the_locked_toolchain_and_runs_steward_unprivileged() {
    let lines = dockerfile();
    let froms: Vec<&String> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    let manifest = repo_file("Cargo.toml");
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert_eq!(
        froms,
        [
            &format!("FROM rust:{rust_version}-bookworm AS build"),
            &"FROM gcr.io/distroless/cc-debian12:nonroot".to_owned(),
        ]
    );
    let build = lines.iter().find(|l| l.starts_with("RUN ")).unwrap();
    assert!(
        build.contains("cargo build --release --locked")
            && build.contains("install -D -m 0755 target/release/steward /out/steward"),
        "{build}"
    );
    let last_stage: Vec<&String> = lines
        .iter()
        .skip_while(|l| !l.starts_with("FROM gcr.io/distroless"))
        .collect();
    assert!(
        last_stage.contains(&&"COPY --from=build /out/steward /usr/local/bin/steward".to_owned())
    );
    assert!(last_stage.contains(&&"USER nonroot:nonroot".to_owned()));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("ENTRYPOINT"))
            .collect::<Vec<_>>(),
        [&"ENTRYPOINT [\"/usr/local/bin/steward\"]".to_owned()]
    );
    // Nothing a credential could ride in on.
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("ENV ") || l.starts_with("ARG ")),
        "{lines:?}"
    );
    let ignore: Vec<String> = repo_file(".dockerignore")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for entry in ["target/", ".git", ".steward/"] {
        assert!(
            ignore.contains(&entry.to_owned()),
            "{entry} in .dockerignore"
        );
    }
}

#[test]
fn ci_builds_the_image_without_pushing_it() {
    let ci = yaml(".github/workflows/ci.yml");
    let job = &ci["jobs"]["docker"];
    let steps = job["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert_eq!(
        runs,
        ["docker build --file Dockerfile --tag steward:ci .\n"],
        "one plain build, no login and no push"
    );
    assert!(job["permissions"].is_null() || job["permissions"]["packages"].is_null());
}

// ---- the GitHub workflows ------------------------------------------------------------------

const WORKFLOWS: [(&str, &str); 3] = [
    ("plan", ".github/workflows/steward-fleet-plan.yml"),
    ("apply", ".github/workflows/steward-fleet-apply.yml"),
    ("drift", ".github/workflows/steward-fleet-drift.yml"),
];

/// Every `${{ matrix.KEY }}` a text reads.
fn matrix_keys(text: &str) -> BTreeSet<String> {
    text.match_indices("matrix.")
        .map(|(at, _)| {
            text[at + "matrix.".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn the_workflows_fan_out_over_exactly_the_matrix_steward_tenants_prints() {
    // `steward tenants --format github-matrix` gives each entry these keys; the jobs read only
    // `tenant`, the one every entry has.
    let produced = BTreeSet::from(["tenant".to_owned(), "tenant-id".into(), "domain".into()]);
    for (kind, path) in WORKFLOWS {
        let text = repo_file(path);
        let workflow = yaml(path);
        let used = matrix_keys(&text);
        assert_eq!(used, BTreeSet::from(["tenant".to_owned()]), "{path}");
        assert!(used.is_subset(&produced));

        let tenants = &workflow["jobs"]["tenants"];
        assert_eq!(
            tenants["outputs"],
            json!({
                "matrix": "${{ steps.tenants.outputs.matrix }}",
                "count": "${{ steps.tenants.outputs.count }}",
                "tenants": "${{ steps.tenants.outputs.tenants }}",
            }),
            "{path}"
        );
        let list = tenants["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "tenants")
            .unwrap();
        assert_eq!(
            list["run"], ".steward-src/scripts/fleet-tenants.sh \"$FLEET_PATH\"",
            "{path}"
        );
        assert_eq!(list["env"]["BATCH"], "${{ inputs.batch }}", "{path}");
        assert_eq!(
            list["env"]["BATCH_SIZE"], "${{ inputs.batch-size }}",
            "{path}"
        );
        assert_eq!(
            workflow["on"]["workflow_call"]["inputs"]["batch-size"]["default"],
            256
        );

        let job = &workflow["jobs"][kind];
        assert_eq!(job["needs"], "tenants", "{path}");
        assert!(
            job["if"]
                .as_str()
                .unwrap()
                .starts_with("needs.tenants.outputs.count != '0'"),
            "an empty matrix runs no job: {path}"
        );
        assert_eq!(
            job["strategy"],
            json!({
                "fail-fast": false,
                "max-parallel": "${{ inputs.max-parallel }}",
                "matrix": "${{ fromJSON(needs.tenants.outputs.matrix) }}",
            }),
            "{path}"
        );
        let run = job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.contains("fleet-run.sh"))
            })
            .unwrap();
        assert_eq!(
            run["run"],
            format!(
                ".steward-src/scripts/fleet-run.sh {kind} \"$FLEET_PATH\" \"$TENANT\" \"$RUNNER_TEMP/reports\""
            )
        );
        assert_eq!(run["env"]["TENANT"], "${{ matrix.tenant }}");
        assert_eq!(run["env"]["STEWARD_AUTH"], "github");
        assert!(workflow["on"]["workflow_call"]["inputs"]["max-parallel"]["default"].is_u64());
    }
}

#[test]
fn each_tenant_applies_alone_in_the_environment_and_is_never_cancelled() {
    let workflow = yaml(".github/workflows/steward-fleet-apply.yml");
    let apply = &workflow["jobs"]["apply"];
    assert_eq!(
        apply["concurrency"],
        json!({"group": "steward-apply-${{ matrix.tenant }}", "cancel-in-progress": false})
    );
    assert_eq!(apply["environment"], "${{ inputs.environment }}");
    assert_eq!(
        apply["env"]["AZURE_CLIENT_ID_APPLY"],
        "${{ inputs.apply-client-id }}"
    );
    let tenants = workflow["jobs"]["tenants"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "tenants")
        .unwrap()
        .clone();
    assert_eq!(
        tenants["env"]["CHANGED_SINCE"],
        "${{ inputs.changed-only && github.event_name == 'push' && github.event.before || '' }}"
    );
    let plan = yaml(".github/workflows/steward-fleet-plan.yml");
    let tenants = plan["jobs"]["tenants"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "tenants")
        .unwrap()
        .clone();
    assert_eq!(
        tenants["env"]["CHANGED_SINCE"],
        "${{ inputs.changed-only && github.event.pull_request.base.sha || '' }}"
    );
    let drift = yaml(".github/workflows/steward-fleet-drift.yml");
    assert_eq!(
        drift["jobs"]["drift"]["concurrency"],
        json!({"group": "steward-drift-${{ matrix.tenant }}", "cancel-in-progress": false})
    );
}

#[test]
fn the_workflows_grant_each_job_only_what_it_needs() {
    let expected = [
        (
            ".github/workflows/steward-fleet-plan.yml",
            json!({
                "tenants": {"contents": "read"},
                "plan": {"id-token": "write", "contents": "read"},
                "comment": {"contents": "read", "pull-requests": "write"},
            }),
        ),
        (
            ".github/workflows/steward-fleet-apply.yml",
            json!({
                "tenants": {"contents": "read"},
                "apply": {"id-token": "write", "contents": "read", "actions": "read", "pull-requests": "read"},
            }),
        ),
        (
            ".github/workflows/steward-fleet-drift.yml",
            json!({
                "tenants": {"contents": "read"},
                "drift": {"id-token": "write", "contents": "read", "issues": "write"},
                "summary": {"contents": "read"},
            }),
        ),
    ];
    for (path, jobs) in expected {
        let workflow = yaml(path);
        assert_eq!(workflow["permissions"], json!({}), "{path}");
        let granted: serde_json::Map<String, Value> = workflow["jobs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, job)| (name.clone(), job["permissions"].clone()))
            .collect();
        assert_eq!(Value::Object(granted), jobs, "{path}");
        // No step keeps a token in .git/config for later steps to find.
        for job in workflow["jobs"].as_object().unwrap().values() {
            for step in job["steps"].as_array().unwrap() {
                if step["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
                {
                    assert_eq!(step["with"]["persist-credentials"], false, "{path} {step}");
                }
            }
        }
    }
}

#[test]
fn the_examples_call_the_fleet_workflows_with_what_they_grant() {
    for (kind, path) in WORKFLOWS {
        let example = yaml(&format!("examples/github/fleet-{kind}.yml"));
        let workflow = yaml(path);
        let call = example["jobs"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap();
        let file = Path::new(path).file_name().unwrap().to_str().unwrap();
        assert_eq!(
            call["uses"],
            format!("your-org/steward/.github/workflows/{file}@v0.1.0")
        );
        // Every input passed is one the workflow declares, and the required ones are passed.
        let inputs = workflow["on"]["workflow_call"]["inputs"]
            .as_object()
            .unwrap();
        for name in call["with"].as_object().unwrap().keys() {
            assert!(inputs.contains_key(name), "{kind}: {name}");
        }
        for (name, input) in inputs {
            if input["required"] == true {
                assert!(call["with"].get(name).is_some(), "{kind}: {name}");
            }
        }
        // The union of what the jobs need, and no more.
        let mut needed = serde_json::Map::new();
        for job in workflow["jobs"].as_object().unwrap().values() {
            for (scope, level) in job["permissions"].as_object().unwrap() {
                if needed.get(scope) != Some(&json!("write")) {
                    needed.insert(scope.clone(), level.clone());
                }
            }
        }
        assert_eq!(call["permissions"], Value::Object(needed), "{kind}");
    }
}

// ---- the scripts ---------------------------------------------------------------------------

#[cfg(unix)]
mod scripts {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use tempfile::TempDir;

    const REPO: &str = "acme/fleet";

    /// Records its arguments as one JSON line and answers from the route table, as the fake in
    /// gitops_scripts.rs does; `-F name=@file` fields are recorded with the file's contents.
    const FAKE_GH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
files='{}'
for arg in "$@"; do
  case $arg in
    *=@*) path=${arg#*=@}; files=$(jq -c --arg p "$path" --rawfile c "$path" '. + {($p): $c}' <<<"$files") ;;
  esac
done
args='[]'
for arg in "$@"; do args=$(jq -c --arg a "$arg" '. + [$a]' <<<"$args"); done
jq -cn --argjson args "$args" --argjson files "$files" '{args: $args, files: $files}' >>"$FAKE_GH_LOG"
shift
method=GET; endpoint=; jq_expr=
while [ $# -gt 0 ]; do
  case $1 in
    --method | -X) method=$2; shift 2 ;;
    --jq | -q) jq_expr=$2; shift 2 ;;
    -f | -F) shift 2 ;;
    -*) shift ;;
    *) [ -n "$endpoint" ] || endpoint=$1; shift ;;
  esac
done
fixture=
while IFS=$'\t' read -r m e f; do
  if [ "$m" = "$method" ] && [ "$e" = "$endpoint" ]; then fixture=$f; break; fi
done <"$FAKE_GH_ROUTES"
[ -n "$fixture" ] || { echo "gh: Not Found (HTTP 404): $method $endpoint" >&2; exit 1; }
if [ -n "$jq_expr" ]; then jq -r "$jq_expr" "$fixture"; else cat "$fixture"; fi
"#;

    /// Records its arguments and client id; prints `FAKE_STEWARD_<SUB>_OUT` and exits
    /// `FAKE_STEWARD_<SUB>_RC` (SUB the first argument, upper-cased).
    const FAKE_STEWARD: &str = r#"#!/usr/bin/env bash
set -uo pipefail
args='[]'
for arg in "$@"; do args=$(jq -c --arg a "$arg" '. + [$a]' <<<"$args"); done
echo "$args" >>"$FAKE_STEWARD_LOG"
echo "${AZURE_CLIENT_ID--}" >>"$FAKE_STEWARD_LOG.client-id"
key=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
out="FAKE_STEWARD_${key}_OUT"
rc="FAKE_STEWARD_${key}_RC"
if [ -n "${!out:-}" ]; then printf '%s\n' "${!out}"; fi
exit "${!rc:-0}"
"#;

    struct Harness {
        dir: TempDir,
        routes: Vec<(String, String, PathBuf)>,
        env: Vec<(String, String)>,
    }

    struct Run {
        code: i32,
        stdout: String,
        gh: Vec<Value>,
        steward: Vec<Vec<String>>,
        client_ids: Vec<String>,
        output: String,
    }

    fn write_executable(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    impl Harness {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let bin = dir.path().join("bin");
            fs::create_dir(&bin).unwrap();
            write_executable(&bin.join("gh"), FAKE_GH);
            write_executable(&bin.join("steward"), FAKE_STEWARD);
            Harness {
                dir,
                routes: Vec::new(),
                env: Vec::new(),
            }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        /// Answers `METHOD endpoint` with `body`.
        fn route(mut self, method: &str, endpoint: &str, body: Value) -> Self {
            let file = self.path(&format!("fixture-{}.json", self.routes.len()));
            fs::write(&file, body.to_string()).unwrap();
            self.routes.push((method.into(), endpoint.into(), file));
            self
        }

        fn env(mut self, key: &str, value: &str) -> Self {
            self.env.push((key.into(), value.into()));
            self
        }

        fn file(&self, name: &str, text: &str) -> String {
            let path = self.path(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        }

        fn run(&self, script: &str, args: &[&str]) -> Run {
            let routes: String = self
                .routes
                .iter()
                .map(|(m, e, f)| format!("{m}\t{e}\t{}\n", f.display()))
                .collect();
            fs::write(self.path("routes.tsv"), routes).unwrap();
            for log in ["gh.log", "steward.log", "steward.log.client-id", "output"] {
                let _ = fs::remove_file(self.path(log));
            }
            let mut command = Command::new(root().join("scripts").join(script));
            command
                .args(args)
                .current_dir(self.dir.path())
                .env(
                    "PATH",
                    format!(
                        "{}:{}",
                        self.path("bin").display(),
                        std::env::var("PATH").unwrap_or_default()
                    ),
                )
                .env("GITHUB_REPOSITORY", REPO)
                .env("GITHUB_OUTPUT", self.path("output"))
                .env("FAKE_GH_LOG", self.path("gh.log"))
                .env("FAKE_GH_ROUTES", self.path("routes.tsv"))
                .env("FAKE_STEWARD_LOG", self.path("steward.log"));
            for name in [
                "GITHUB_STEP_SUMMARY",
                "GITHUB_RUN_ID",
                "STEWARD",
                "AZURE_CLIENT_ID",
                "AZURE_CLIENT_ID_PLAN",
                "AZURE_CLIENT_ID_APPLY",
                "TENANTS",
                "CHANGED_SINCE",
                "BATCH",
                "BATCH_SIZE",
                "DRIFT_LABEL",
                "DRIFT_MARKER",
                "DRIFT_TITLE",
            ] {
                command.env_remove(name);
            }
            for (k, v) in &self.env {
                command.env(k, v);
            }
            let out = command.output().unwrap();
            let read = |name: &str| fs::read_to_string(self.path(name)).unwrap_or_default();
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
                gh: read("gh.log")
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect(),
                steward: read("steward.log")
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect(),
                client_ids: read("steward.log.client-id")
                    .lines()
                    .map(str::to_owned)
                    .collect(),
                output: read("output"),
            }
        }
    }

    impl Run {
        fn assert_code(&self, code: i32) {
            assert_eq!(self.code, code, "{}\ngh: {:?}", self.stdout, self.gh);
        }

        /// Each gh call's arguments, `--jq` and its expression left out.
        fn calls(&self) -> Vec<String> {
            self.gh
                .iter()
                .map(|call| {
                    let args: Vec<String> = serde_json::from_value(call["args"].clone()).unwrap();
                    let mut kept = Vec::new();
                    let mut i = 0;
                    while i < args.len() {
                        if args[i] == "--jq" {
                            i += 2;
                        } else {
                            kept.push(args[i].clone());
                            i += 1;
                        }
                    }
                    kept.join(" ")
                })
                .collect()
        }

        /// The contents of the file a gh call's `-F name=@file` field read.
        fn field_file(&self, call: usize) -> String {
            let files = self.gh[call]["files"].as_object().unwrap();
            files.values().next().unwrap().as_str().unwrap().to_owned()
        }
    }

    fn sv(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    const MATRIX: &str = r#"{"include":[{"tenant":"contoso","tenant-id":"11111111-1111-1111-1111-111111111111","domain":"contoso.onmicrosoft.com"},{"tenant":"fabrikam","tenant-id":"22222222-2222-2222-2222-222222222222","domain":"fabrikam.onmicrosoft.com"}]}"#;

    // ---- fleet-tenants.sh

    #[test]
    fn tenants_lists_the_changed_tenants_as_the_matrix_outputs() {
        let h = Harness::new()
            .env("FAKE_STEWARD_TENANTS_OUT", MATRIX)
            .env("TENANTS", "group:eu")
            .env("CHANGED_SINCE", "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        let run = h.run("fleet-tenants.sh", &["fleet"]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&[
                "tenants",
                "fleet",
                "--tenants",
                "group:eu",
                "--format",
                "github-matrix",
                "--changed-since",
                "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            ])]
        );
        let compact =
            serde_json::to_string(&serde_json::from_str::<Value>(MATRIX).unwrap()).unwrap();
        assert_eq!(
            run.output,
            format!("matrix={compact}\ncount=2\ntenants=[\"contoso\",\"fabrikam\"]\n")
        );
    }

    #[test]
    fn tenants_of_a_new_branch_or_a_batch_are_asked_for_as_such() {
        let h = Harness::new()
            .env("FAKE_STEWARD_TENANTS_OUT", r#"{"include":[]}"#)
            .env("CHANGED_SINCE", "0000000000000000000000000000000000000000")
            .env("BATCH", "3")
            .env("BATCH_SIZE", "100");
        let run = h.run("fleet-tenants.sh", &[]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&[
                "tenants",
                ".",
                "--tenants",
                "all",
                "--format",
                "github-matrix",
                "--batch",
                "3",
                "--batch-size",
                "100",
            ])]
        );
        assert_eq!(run.output, "matrix={\"include\":[]}\ncount=0\ntenants=[]\n");
    }

    #[test]
    fn tenants_fails_on_a_steward_error_a_non_matrix_or_a_bad_batch() {
        let run = Harness::new()
            .env("FAKE_STEWARD_TENANTS_RC", "1")
            .run("fleet-tenants.sh", &[]);
        run.assert_code(1);
        assert_eq!(run.output, "");

        // Keys other than the ones the jobs read: no fan-out over them.
        for bad in [
            r#"[{"name":"contoso"}]"#,
            r#"{"include":[{"name":"contoso"}]}"#,
            "oops",
        ] {
            let run = Harness::new()
                .env("FAKE_STEWARD_TENANTS_OUT", bad)
                .run("fleet-tenants.sh", &[]);
            run.assert_code(1);
            assert_eq!(run.output, "", "{bad}");
        }

        let run = Harness::new()
            .env("BATCH", "first")
            .run("fleet-tenants.sh", &[]);
        run.assert_code(64);
        assert!(run.steward.is_empty());
    }

    // ---- fleet-run.sh

    #[test]
    fn run_keeps_a_plan_report_with_changes_and_signs_in_with_the_plan_id() {
        let h = Harness::new()
            .env(
                "FAKE_STEWARD_PLAN_OUT",
                r#"{"mode":"plan","summary":{"add":1}}"#,
            )
            .env("FAKE_STEWARD_PLAN_RC", "2")
            .env("AZURE_CLIENT_ID", "shared")
            .env("AZURE_CLIENT_ID_PLAN", "reader");
        let run = h.run("fleet-run.sh", &["plan", ".", "contoso", "reports"]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&[
                "plan",
                ".",
                "--tenant",
                "contoso",
                "--format",
                "json",
                "--out",
                "reports/contoso.plan.saved"
            ])]
        );
        assert_eq!(run.client_ids, ["reader"]);
        assert_eq!(run.output, "code=2\n");
        assert_eq!(
            fs::read_to_string(h.path("reports/contoso.plan.json")).unwrap(),
            "{\"mode\":\"plan\",\"summary\":{\"add\":1}}\n"
        );
    }

    #[test]
    fn run_leaves_no_report_when_steward_fails() {
        for (rc, out) in [("1", "{}"), ("2", "not json"), ("64", "")] {
            let h = Harness::new()
                .env("FAKE_STEWARD_DRIFT_OUT", out)
                .env("FAKE_STEWARD_DRIFT_RC", rc);
            let run = h.run("fleet-run.sh", &["drift", ".", "contoso", "reports"]);
            run.assert_code(1);
            assert_eq!(run.output, format!("code={rc}\n"));
            assert!(!h.path("reports/contoso.drift.json").exists(), "exit {rc}");
            assert!(!h.path("reports/contoso.drift.json.partial").exists());
        }
    }

    #[test]
    fn run_applies_one_tenant_with_the_apply_id_and_its_own_journal() {
        let h = Harness::new()
            .env("AZURE_CLIENT_ID", "shared")
            .env("AZURE_CLIENT_ID_PLAN", "reader")
            .env("FAKE_STEWARD_APPLY_OUT", "Applied 1 change.");
        let run = h.run("fleet-run.sh", &["apply", "fleet", "contoso", "reports"]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&[
                "apply",
                "fleet",
                "--tenant",
                "contoso",
                "--auto-approve",
                "--journal",
                "reports/contoso.journal.jsonl",
            ])]
        );
        // Without an apply id, the shared one: never the read-only plan id.
        assert_eq!(run.client_ids, ["shared"]);
        assert_eq!(
            fs::read_to_string(h.path("reports/contoso.apply.log")).unwrap(),
            "Applied 1 change.\n"
        );

        let run = h
            .env("FAKE_STEWARD_APPLY_RC", "1")
            .run("fleet-run.sh", &["apply", "fleet", "contoso", "reports"]);
        run.assert_code(1);
        assert_eq!(run.output, "code=1\n");
    }

    #[test]
    fn after_a_merge_apply_takes_the_plan_reviewed_on_the_pull_request() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("contoso.plan.saved");
        fs::write(&plan, "{}").unwrap();
        let plan = plan.to_str().unwrap();
        let run = Harness::new()
            .env("PLAN_FROM_PR", "true")
            .env("PLAN_FILE", plan)
            .run("fleet-run.sh", &["apply", "fleet", "contoso", "reports"]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&[
                "apply",
                "fleet",
                "--tenant",
                "contoso",
                "--plan",
                plan,
                "--journal",
                "reports/contoso.journal.jsonl",
            ])]
        );

        // No reviewed plan for the tenant: nothing is applied, unless re-planning is asked for.
        let run = Harness::new()
            .env("PLAN_FROM_PR", "true")
            .env("PLAN_FILE", "")
            .run("fleet-run.sh", &["apply", "fleet", "contoso", "reports"]);
        run.assert_code(1);
        assert!(run.steward.is_empty(), "{:?}", run.steward);
        assert_eq!(run.output, "code=1\n");
        let run = Harness::new()
            .env("PLAN_FROM_PR", "true")
            .env("PLAN_FILE", "")
            .env("ON_STALE", "replan")
            .run("fleet-run.sh", &["apply", "fleet", "contoso", "reports"]);
        run.assert_code(0);
        assert_eq!(run.steward[0][4], "--auto-approve");
    }

    #[test]
    fn run_refuses_a_tenant_name_that_is_not_a_file_name() {
        for name in ["../etc", "contoso.eu", "", "-x"] {
            let run = Harness::new().run("fleet-run.sh", &["plan", ".", name, "reports"]);
            run.assert_code(64);
            assert!(run.steward.is_empty(), "{name}");
        }
        let run = Harness::new().run("fleet-run.sh", &["destroy", ".", "contoso", "reports"]);
        run.assert_code(64);
    }

    // ---- fleet-drift-issue.sh

    const ISSUES: &str = "repos/acme/fleet/issues?state=open&labels=drift&per_page=100";

    fn issue(number: u64, body: &str) -> Value {
        json!({"number": number, "body": body, "pull_request": null,
               "html_url": format!("https://github.com/acme/fleet/issues/{number}")})
    }

    #[test]
    fn drift_opens_an_issue_titled_with_the_tenant_and_ignores_other_tenants_issues() {
        let h = Harness::new()
            .route(
                "GET",
                ISSUES,
                json!([
                    issue(7, "<!-- steward-drift tenant=contoso-eu -->\nx"),
                    issue(8, "<!-- steward-drift -->\nthe single-tenant issue"),
                ]),
            )
            .route("POST", "repos/acme/fleet/issues", issue(9, ""))
            .env(
                "FAKE_STEWARD_REPORT_OUT",
                "<!-- steward-fleet -->\n### steward: 1 tenant, 1 needs attention",
            )
            .env("FAKE_STEWARD_REPORT_RC", "2");
        let report = h.file("reports/contoso.drift.json", "{\"mode\":\"drift\"}");
        let run = h.run("fleet-drift-issue.sh", &["contoso", "2", &report]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&["report", "merge", &report, "--format", "markdown"])]
        );
        let calls = run.calls();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0], format!("api --paginate {ISSUES}"));
        assert!(
            calls[1].starts_with(
                "api --method POST repos/acme/fleet/issues -f title=Tenant drift: contoso: settings changed outside steward -F body=@"
            ) && calls[1].ends_with("-f labels[]=drift"),
            "{}",
            calls[1]
        );
        let body = run.field_file(1);
        assert!(
            body.starts_with(
                "<!-- steward-drift tenant=contoso -->\n### steward: 1 tenant, 1 needs attention\n"
            ),
            "{body}"
        );
        assert!(
            body.contains("```json\n{\"mode\":\"drift\"}\n```"),
            "{body}"
        );
    }

    #[test]
    fn drift_updates_the_tenants_open_issue_and_closes_it_when_clean() {
        let h = Harness::new()
            .route(
                "GET",
                ISSUES,
                json!([
                    issue(7, "<!-- steward-drift tenant=contoso-eu -->\nx"),
                    issue(5, "<!-- steward-drift tenant=contoso -->\nold"),
                ]),
            )
            .route("PATCH", "repos/acme/fleet/issues/5", issue(5, ""))
            .route(
                "POST",
                "repos/acme/fleet/issues/5/comments",
                json!({"html_url": "c"}),
            );
        let report = h.file("reports/contoso.drift.json", "{}");
        let run = h.run("fleet-drift-issue.sh", &["contoso", "2", &report]);
        run.assert_code(0);
        assert!(
            run.calls()[1].starts_with("api --method PATCH repos/acme/fleet/issues/5 -F body=@"),
            "{:?}",
            run.calls()
        );

        let run = h.run("fleet-drift-issue.sh", &["contoso", "0", &report]);
        run.assert_code(0);
        assert!(run.steward.is_empty(), "a clean tenant needs no summary");
        let calls = run.calls();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(calls[1].starts_with("api --method POST repos/acme/fleet/issues/5/comments"));
        assert_eq!(
            calls[2],
            "api --method PATCH repos/acme/fleet/issues/5 -f state=closed -f state_reason=completed"
        );

        // A failed check (the workflow skips this step then, but still): nothing changes.
        let run = h.run("fleet-drift-issue.sh", &["contoso", "1", &report]);
        run.assert_code(1);
        assert!(run.gh.is_empty());
    }

    // ---- fleet-report.sh

    #[test]
    fn report_merges_every_tenants_file_and_posts_one_fleet_comment() {
        let summary = "<!-- steward-fleet -->\n### steward: 2 tenants, 1 needs attention";
        let h = Harness::new()
            .route("GET", "repos/acme/fleet/issues/12/comments", json!([]))
            .route(
                "POST",
                "repos/acme/fleet/issues/12/comments",
                json!({"html_url": "c"}),
            )
            .env("TENANTS", r#"["contoso","fabrikam"]"#)
            .env("FAKE_STEWARD_REPORT_OUT", summary)
            .env("FAKE_STEWARD_REPORT_RC", "2")
            .env("GITHUB_RUN_ID", "99");
        // fabrikam's job failed: its report is missing, and still handed to the merge.
        h.file("reports/contoso.plan.json", "{}");
        let run = h.run("fleet-report.sh", &["plan", "reports", "12"]);
        run.assert_code(0);
        assert_eq!(
            run.steward,
            [sv(&[
                "report",
                "merge",
                "reports/contoso.plan.json",
                "reports/fabrikam.plan.json",
                "--format",
                "markdown",
            ])]
        );
        assert_eq!(run.calls().len(), 2);
        assert!(
            run.calls()[1].starts_with("api --method POST repos/acme/fleet/issues/12/comments")
        );
        assert_eq!(
            run.field_file(1),
            format!(
                "{summary}\n\nEach tenant's log and report: https://github.com/acme/fleet/actions/runs/99\n"
            )
        );
    }

    #[test]
    fn report_of_a_batch_keeps_a_comment_of_its_own_and_no_tenant_says_so() {
        let h = Harness::new()
            .route("GET", "repos/acme/fleet/issues/12/comments", json!([]))
            .route(
                "POST",
                "repos/acme/fleet/issues/12/comments",
                json!({"html_url": "c"}),
            )
            .env("TENANTS", r#"["contoso"]"#)
            .env("BATCH", "1")
            .env(
                "FAKE_STEWARD_REPORT_OUT",
                "<!-- steward-fleet -->\n### steward: 1 tenant",
            );
        let run = h.run("fleet-report.sh", &["plan", "reports", "12"]);
        run.assert_code(0);
        assert_eq!(
            run.field_file(1),
            "<!-- steward-fleet batch=1 -->\n### steward: 1 tenant\n\nBatch 1 of the fleet.\n"
        );

        let h = Harness::new()
            .route("GET", "repos/acme/fleet/issues/12/comments", json!([]))
            .route(
                "POST",
                "repos/acme/fleet/issues/12/comments",
                json!({"html_url": "c"}),
            )
            .env("TENANTS", "[]");
        let run = h.run("fleet-report.sh", &["plan", "reports", "12"]);
        run.assert_code(0);
        assert!(run.steward.is_empty());
        assert_eq!(
            run.field_file(1),
            "<!-- steward-fleet -->\n### steward: no tenant to plan\n\nNo tenant's files changed.\n"
        );
    }

    #[test]
    fn report_fails_when_the_merge_fails_and_drift_posts_no_comment() {
        let run = Harness::new()
            .env("TENANTS", r#"["contoso"]"#)
            .env("FAKE_STEWARD_REPORT_RC", "1")
            .run("fleet-report.sh", &["drift", "reports"]);
        run.assert_code(1);

        let run = Harness::new()
            .env("TENANTS", r#"["contoso"]"#)
            .env("FAKE_STEWARD_REPORT_OUT", "<!-- steward-fleet -->\n### ok")
            .run("fleet-report.sh", &["drift", "reports"]);
        run.assert_code(0);
        assert!(run.gh.is_empty());
        assert_eq!(
            run.steward,
            [sv(&[
                "report",
                "merge",
                "reports/contoso.drift.json",
                "--format",
                "markdown"
            ])]
        );
    }
}
