//! The scripts the GitHub workflows run, driven through a fake `gh` (and a fake `steward`) that
//! record every invocation and answer from recorded GitHub API responses.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

const REPO: &str = "acme/policies";

/// Records its arguments (and the contents of `-F name=@file` fields, which the scripts delete
/// afterwards) as one JSON line, then answers like `gh`: from the fixture routed to the request's
/// method and endpoint, filtered through `--jq` as gh does.
const FAKE_GH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
files='{}'
for arg in "$@"; do
  case $arg in
    *=@*)
      path=${arg#*=@}
      files=$(jq -c --arg p "$path" --rawfile c "$path" '. + {($p): $c}' <<<"$files")
      ;;
  esac
done
# One --arg at a time: after --args, jq would read gh's flags as its own.
args='[]'
for arg in "$@"; do args=$(jq -c --arg a "$arg" '. + [$a]' <<<"$args"); done
jq -cn --argjson args "$args" --argjson files "$files" '{args: $args, files: $files}' >>"$FAKE_GH_LOG"

sub=$1
shift
if [ "$sub" = run ] && [ "${1:-}" = download ]; then
  while [ $# -gt 0 ]; do
    case $1 in
      --dir | -D) mkdir -p "$2"; cp "$FAKE_GH_DOWNLOAD" "$2/plan.json"; shift 2 ;;
      *) shift ;;
    esac
  done
  exit 0
fi
if [ "$sub" = release ]; then
  rc="FAKE_GH_RELEASE_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_RC"
  exit "${!rc:-0}"
fi
[ "$sub" = api ] || { echo "fake gh: unexpected command $sub" >&2; exit 2; }
method=GET
endpoint=
jq_expr=
while [ $# -gt 0 ]; do
  case $1 in
    --method | -X) method=$2; shift 2 ;;
    --jq | -q) jq_expr=$2; shift 2 ;;
    -f | -F | --field | --raw-field | -H | --header | --input) shift 2 ;;
    -*) shift ;;
    *) [ -n "$endpoint" ] || endpoint=$1; shift ;;
  esac
done
fixture=
while IFS=$'\t' read -r m e f; do
  if [ "$m" = "$method" ] && [ "$e" = "$endpoint" ]; then fixture=$f; break; fi
done <"$FAKE_GH_ROUTES"
if [ -z "$fixture" ]; then
  echo "gh: Not Found (HTTP 404): $method $endpoint" >&2
  exit 1
fi
if [ -n "$jq_expr" ]; then jq -r "$jq_expr" "$fixture"; else cat "$fixture"; fi
"#;

/// Records its arguments as one JSON line; exits and prints per subcommand as the test says
/// (`FAKE_STEWARD_<SUB>_RC`, `_OUT`, `_ERR`; `apply --plan` is `APPLY_PLAN`). Writes a plan file
/// for `--out`.
const FAKE_STEWARD: &str = r#"#!/usr/bin/env bash
set -uo pipefail
args='[]'
for arg in "$@"; do args=$(jq -c --arg a "$arg" '. + [$a]' <<<"$args"); done
echo "$args" >>"$FAKE_STEWARD_LOG"
key=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
prev=
for arg in "$@"; do
  if [ "$arg" = --plan ]; then key="${key}_PLAN"; fi
  if [ "$prev" = --out ]; then echo '{"format_version":2}' >"$arg"; fi
  prev=$arg
done
out="FAKE_STEWARD_${key}_OUT"
err="FAKE_STEWARD_${key}_ERR"
rc="FAKE_STEWARD_${key}_RC"
if [ -n "${!out:-}" ]; then printf '%s\n' "${!out}"; fi
if [ -n "${!err:-}" ]; then printf '%s\n' "${!err}" >&2; fi
exit "${!rc:-0}"
"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Every `gh` invocation: its arguments and the files its fields read.
    gh: Vec<Value>,
    /// Every `steward` invocation's arguments.
    steward: Vec<Vec<String>>,
}

struct Harness {
    dir: TempDir,
    routes: Vec<(String, String, PathBuf)>,
    env: Vec<(String, String)>,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name)
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

impl Harness {
    fn new() -> Self {
        assert!(
            Command::new("jq").arg("--version").output().is_ok(),
            "these tests need jq on PATH (gh's --jq is emulated with it): apt-get install jq"
        );
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

    fn route(mut self, method: &str, endpoint: &str, fixture_name: &str) -> Self {
        self.routes
            .push((method.into(), endpoint.into(), fixture(fixture_name)));
        self
    }

    fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the temp dir and returns its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn run(&self, name: &str, args: &[&str]) -> Run {
        let routes: String = self
            .routes
            .iter()
            .map(|(m, e, f)| format!("{m}\t{e}\t{}\n", f.display()))
            .collect();
        fs::write(self.path("routes.tsv"), routes).unwrap();
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(script(name));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("GITHUB_REPOSITORY", REPO)
            .env("FAKE_GH_LOG", self.path("gh.log"))
            .env("FAKE_GH_ROUTES", self.path("routes.tsv"))
            .env("FAKE_STEWARD_LOG", self.path("steward.log"))
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_RUN_ID")
            .env_remove("STEWARD")
            .env_remove("FORK");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let output = command.output().unwrap();
        let lines = |name: &str| -> Vec<Value> {
            fs::read_to_string(self.path(name))
                .unwrap_or_default()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            gh: lines("gh.log"),
            steward: lines("steward.log")
                .into_iter()
                .map(|v| serde_json::from_value(v).unwrap())
                .collect(),
        }
    }
}

impl Run {
    /// Each gh call as `METHOD endpoint field…`, `--jq` and `--paginate` left out.
    fn calls(&self) -> Vec<String> {
        self.gh.iter().map(summary).collect()
    }

    /// The file a call's `-F name=@file` field read.
    fn field_file(&self, call: usize) -> String {
        let files = self.gh[call]["files"].as_object().unwrap();
        assert_eq!(files.len(), 1, "{:?}", self.gh[call]);
        files.values().next().unwrap().as_str().unwrap().to_owned()
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}\ngh: {:?}",
            self.stdout, self.stderr, self.gh
        );
    }
}

fn args(call: &Value) -> Vec<String> {
    serde_json::from_value(call["args"].clone()).unwrap()
}

fn summary(call: &Value) -> String {
    let args = args(call);
    if args.first().map(String::as_str) != Some("api") {
        return args.join(" ");
    }
    let mut method = "GET".to_owned();
    let mut endpoint = String::new();
    let mut fields = Vec::new();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--method" | "-X" => {
                method = args[i + 1].clone();
                i += 2;
            }
            "--jq" | "-q" => i += 2,
            "-f" | "-F" => {
                fields.push(format!("{} {}", args[i], args[i + 1]));
                i += 2;
            }
            "--paginate" => i += 1,
            other => {
                assert!(!other.starts_with('-'), "unexpected gh flag {other}");
                assert!(endpoint.is_empty(), "two endpoints in {args:?}");
                endpoint = other.to_owned();
                i += 1;
            }
        }
    }
    let mut s = format!("{method} {endpoint}");
    for f in fields {
        s.push(' ');
        s.push_str(&f);
    }
    s
}

const PLAN_BODY: &str =
    "<!-- steward-plan -->\n### steward plan: 1 to add, 0 to change, 0 to destroy\n";

// ---- pr-comment.sh -------------------------------------------------------------------------

#[test]
fn pr_comment_posts_a_new_comment_when_none_has_the_marker() {
    let h = Harness::new()
        .route(
            "GET",
            "repos/acme/policies/issues/7/comments",
            "issue-comments-others.json",
        )
        .route(
            "POST",
            "repos/acme/policies/issues/7/comments",
            "issue-comment-created.json",
        );
    let body = h.file("plan.md", PLAN_BODY);
    let run = h.run("pr-comment.sh", &["7", &body]);
    run.assert_code(0);
    assert_eq!(
        run.calls(),
        [
            "GET repos/acme/policies/issues/7/comments".to_owned(),
            format!("POST repos/acme/policies/issues/7/comments -F body=@{body}"),
        ]
    );
    // Every page is read: the comment may be anywhere in a long review.
    assert!(args(&run.gh[0]).contains(&"--paginate".to_owned()));
    assert_eq!(run.field_file(1), PLAN_BODY);
    assert!(
        run.stdout.contains("issuecomment-1005"),
        "prints the comment's URL: {}",
        run.stdout
    );
}

#[test]
fn pr_comment_updates_the_bots_marked_comment_and_ignores_others() {
    let h = Harness::new()
        .route(
            "GET",
            "repos/acme/policies/issues/7/comments",
            "issue-comments-with-plan.json",
        )
        .route(
            "PATCH",
            "repos/acme/policies/issues/comments/1002",
            "issue-comment-created.json",
        );
    let body = h.file("plan.md", PLAN_BODY);
    let run = h.run("pr-comment.sh", &["7", &body]);
    run.assert_code(0);
    // 1002 is the bot's plan; 1001 has no marker and 1004 is a person quoting it.
    assert_eq!(
        run.calls(),
        [
            "GET repos/acme/policies/issues/7/comments".to_owned(),
            format!("PATCH repos/acme/policies/issues/comments/1002 -F body=@{body}"),
        ]
    );
    assert_eq!(run.field_file(1), PLAN_BODY);
}

#[test]
fn pr_comment_refuses_a_body_without_the_marker_and_calls_nothing() {
    let h = Harness::new();
    let body = h.file("plan.md", "### a plan without its marker\n");
    let run = h.run("pr-comment.sh", &["7", &body]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("marker"), "{}", run.stderr);
    assert!(run.gh.is_empty(), "{:?}", run.gh);

    let run = h.run("pr-comment.sh", &["seven", &body]);
    assert_ne!(run.code, 0);
    assert!(run.gh.is_empty());
}

#[test]
fn pr_comment_fails_when_github_fails() {
    // No route: the comment list answers 404, as for a wrong repository or token.
    let h = Harness::new();
    let body = h.file("plan.md", PLAN_BODY);
    let run = h.run("pr-comment.sh", &["7", &body]);
    assert_ne!(run.code, 0);
    assert_eq!(run.calls(), ["GET repos/acme/policies/issues/7/comments"]);
}

// ---- drift-issue.sh ------------------------------------------------------------------------

const ISSUES: &str = "repos/acme/policies/issues?state=open&labels=drift&per_page=100";
const DRIFT_BODY: &str = "<!-- steward-drift -->\n### steward drift: 0 missing from the tenant, 2 changed outside steward, 0 not in the files\n";

#[test]
fn drift_with_no_open_issue_opens_one_labelled_drift() {
    // issues-none.json holds a person's `drift` issue and a PR quoting the marker: neither counts.
    let h = Harness::new()
        .route("GET", ISSUES, "issues-none.json")
        .route("POST", "repos/acme/policies/issues", "issue-created.json");
    let body = h.file("drift.md", DRIFT_BODY);
    let run = h.run("drift-issue.sh", &["2", &body]);
    run.assert_code(0);
    assert_eq!(
        run.calls(),
        [
            format!("GET {ISSUES}"),
            format!(
                "POST repos/acme/policies/issues -f title=Tenant drift: settings changed outside steward -F body=@{body} -f labels[]=drift"
            ),
        ]
    );
    assert_eq!(run.field_file(1), DRIFT_BODY);
    assert!(run.stdout.contains("issues/43"), "{}", run.stdout);
}

#[test]
fn drift_with_an_open_issue_updates_it_instead_of_opening_another() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-open-drift.json")
        .route(
            "PATCH",
            "repos/acme/policies/issues/42",
            "issue-created.json",
        );
    let body = h.file("drift.md", DRIFT_BODY);
    let run = h.run("drift-issue.sh", &["2", &body]);
    run.assert_code(0);
    assert_eq!(
        run.calls(),
        [
            format!("GET {ISSUES}"),
            format!("PATCH repos/acme/policies/issues/42 -F body=@{body}"),
        ]
    );
    assert_eq!(run.field_file(1), DRIFT_BODY);
}

#[test]
fn no_drift_closes_the_open_issue_with_a_comment() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-open-drift.json")
        .route(
            "POST",
            "repos/acme/policies/issues/42/comments",
            "issue-comment-created.json",
        )
        .route(
            "PATCH",
            "repos/acme/policies/issues/42",
            "issue-created.json",
        )
        .env("GITHUB_RUN_ID", "9001")
        .env("GITHUB_SERVER_URL", "https://github.com");
    let body = h.file("drift.md", "<!-- steward-drift -->\nno drift\n");
    let run = h.run("drift-issue.sh", &["0", &body]);
    run.assert_code(0);
    assert_eq!(
        run.calls(),
        [
            format!("GET {ISSUES}"),
            "POST repos/acme/policies/issues/42/comments -f body=The tenant matches the policy files again (https://github.com/acme/policies/actions/runs/9001); closing.".to_owned(),
            "PATCH repos/acme/policies/issues/42 -f state=closed -f state_reason=completed".to_owned(),
        ]
    );
}

#[test]
fn no_drift_and_no_open_issue_changes_nothing() {
    let h = Harness::new().route("GET", ISSUES, "issues-none.json");
    let body = h.file("drift.md", "<!-- steward-drift -->\n");
    let run = h.run("drift-issue.sh", &["0", &body]);
    run.assert_code(0);
    assert_eq!(run.calls(), [format!("GET {ISSUES}")]);
}

#[test]
fn a_failed_drift_run_fails_and_touches_no_issue() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-open-drift.json")
        .route(
            "PATCH",
            "repos/acme/policies/issues/42",
            "issue-created.json",
        );
    let body = h.file("drift.md", "");
    let run = h.run("drift-issue.sh", &["1", &body]);
    assert_eq!(run.code, 1);
    assert!(run.gh.is_empty(), "{:?}", run.gh);
    assert!(
        run.stderr.contains("steward drift failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_drift_label_is_configurable_and_url_encoded() {
    let endpoint = "repos/acme/policies/issues?state=open&labels=tenant%20drift&per_page=100";
    let h = Harness::new()
        .route("GET", endpoint, "issues-none.json")
        .route("POST", "repos/acme/policies/issues", "issue-created.json")
        .env("DRIFT_LABEL", "tenant drift");
    let body = h.file("drift.md", DRIFT_BODY);
    let run = h.run("drift-issue.sh", &["2", &body]);
    run.assert_code(0);
    assert_eq!(run.calls()[0], format!("GET {endpoint}"));
    assert!(
        run.calls()[1].ends_with("-f labels[]=tenant drift"),
        "{:?}",
        run.calls()
    );
}

// ---- drift-check.sh ------------------------------------------------------------------------

#[test]
fn drift_check_feeds_steward_drift_markdown_into_the_issue() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-none.json")
        .route("POST", "repos/acme/policies/issues", "issue-created.json")
        .env("FAKE_STEWARD_DRIFT_RC", "2")
        .env("FAKE_STEWARD_DRIFT_OUT", DRIFT_BODY.trim_end());
    let run = h.run("drift-check.sh", &["policies/prod"]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [["drift", "policies/prod", "--format", "markdown"]]
    );
    assert_eq!(run.calls().len(), 2);
    assert!(run.calls()[1].starts_with("POST repos/acme/policies/issues"));
    assert_eq!(run.field_file(1), DRIFT_BODY);
}

#[test]
fn drift_check_fails_when_steward_fails() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-open-drift.json")
        .env("FAKE_STEWARD_DRIFT_RC", "1")
        .env("FAKE_STEWARD_DRIFT_ERR", "error: sign-in (github) failed");
    let run = h.run("drift-check.sh", &[]);
    assert_eq!(run.code, 1);
    assert!(run.gh.is_empty(), "{:?}", run.gh);
    assert_eq!(run.steward, [["drift", "policies", "--format", "markdown"]]);
}

#[test]
fn drift_check_fails_on_a_usage_error() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-none.json")
        .env("FAKE_STEWARD_DRIFT_RC", "64")
        .env(
            "FAKE_STEWARD_DRIFT_ERR",
            "error: invalid value 'azure' for '--cloud <CLOUD>'",
        );
    let run = h.run("drift-check.sh", &[]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("a usage error"), "{}", run.stdout);
    assert!(run.gh.is_empty(), "{:?}", run.gh);
}

#[test]
fn drift_check_does_not_take_an_exit_2_without_a_report_for_drift() {
    // Only a report is drift, whatever the exit code.
    let h = Harness::new()
        .route("GET", ISSUES, "issues-none.json")
        .env("FAKE_STEWARD_DRIFT_RC", "2")
        .env(
            "FAKE_STEWARD_DRIFT_ERR",
            "error: invalid value 'azure' for '--cloud <CLOUD>'",
        );
    let run = h.run("drift-check.sh", &[]);
    assert_eq!(run.code, 1);
    assert!(run.gh.is_empty(), "{:?}", run.gh);
}

// ---- pr-plan.sh ----------------------------------------------------------------------------

#[test]
fn pr_plan_validates_plans_and_posts_the_markdown() {
    let h = Harness::new()
        .route(
            "GET",
            "repos/acme/policies/issues/7/comments",
            "issue-comments-others.json",
        )
        .route(
            "POST",
            "repos/acme/policies/issues/7/comments",
            "issue-comment-created.json",
        )
        .env("FAKE_STEWARD_PLAN_OUT", PLAN_BODY.trim_end());
    let run = h.run("pr-plan.sh", &["7", "policies"]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [
            vec!["validate", "policies"],
            vec![
                "plan",
                "policies",
                "--format",
                "markdown",
                "--out",
                "plan.json"
            ],
        ]
    );
    assert!(
        h.path("plan.json").exists(),
        "the saved plan is kept for upload"
    );
    assert_eq!(run.calls().len(), 2);
    assert!(run.calls()[1].starts_with("POST repos/acme/policies/issues/7/comments -F body=@"));
    assert_eq!(run.field_file(1), PLAN_BODY);
}

#[test]
fn pr_plan_fails_the_check_on_validation_errors_and_says_so_in_the_comment() {
    let h = Harness::new()
        .route(
            "GET",
            "repos/acme/policies/issues/7/comments",
            "issue-comments-with-plan.json",
        )
        .route(
            "PATCH",
            "repos/acme/policies/issues/comments/1002",
            "issue-comment-created.json",
        )
        .env("FAKE_STEWARD_VALIDATE_RC", "1")
        .env(
            "FAKE_STEWARD_VALIDATE_OUT",
            "× `enabld` is not an allowed value of `state`",
        );
    let run = h.run("pr-plan.sh", &["7"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.steward,
        [["validate", "policies"]],
        "nothing is planned"
    );
    assert_eq!(run.calls().len(), 2);
    assert!(run.calls()[1].starts_with("PATCH repos/acme/policies/issues/comments/1002"));
    let body = run.field_file(1);
    assert!(body.starts_with("<!-- steward-plan -->\n### steward plan: validation failed\n"));
    assert!(body.contains("`enabld` is not an allowed value"), "{body}");
}

#[test]
fn pr_plan_from_a_fork_validates_only_and_says_why() {
    let h = Harness::new().env("FORK", "true");
    let summary = h.file("summary.md", "");
    let h = h.env("GITHUB_STEP_SUMMARY", &summary);
    let run = h.run("pr-plan.sh", &["7"]);
    run.assert_code(0);
    assert_eq!(run.steward, [["validate", "policies"]]);
    assert!(
        run.gh.is_empty(),
        "a fork's token may not comment: {:?}",
        run.gh
    );
    assert!(run.stdout.contains("::notice"), "{}", run.stdout);
    let note = fs::read_to_string(&summary).unwrap();
    assert!(note.contains("from a fork"), "{note}");
    assert!(note.contains("OIDC"), "{note}");
}

#[test]
fn pr_plan_reports_a_failed_plan_in_the_comment_and_fails() {
    let h = Harness::new()
        .route(
            "GET",
            "repos/acme/policies/issues/7/comments",
            "issue-comments-others.json",
        )
        .route(
            "POST",
            "repos/acme/policies/issues/7/comments",
            "issue-comment-created.json",
        )
        .env("FAKE_STEWARD_PLAN_RC", "1")
        .env(
            "FAKE_STEWARD_PLAN_ERR",
            "error: GET /v1.0/identity/conditionalAccess/policies: HTTP 403 Forbidden",
        );
    let run = h.run("pr-plan.sh", &["7"]);
    assert_eq!(run.code, 1);
    let body = run.field_file(1);
    assert!(body.starts_with("<!-- steward-plan -->\n### steward plan: failed\n"));
    assert!(body.contains("HTTP 403 Forbidden"), "{body}");
}

// ---- fetch-pr-plan.sh ----------------------------------------------------------------------

const SHA: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
const HEAD: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

fn pulls() -> String {
    format!("repos/acme/policies/commits/{SHA}/pulls")
}

fn plan_runs(workflow: &str) -> String {
    format!(
        "repos/acme/policies/actions/workflows/{workflow}/runs?event=pull_request&head_sha={HEAD}&per_page=100"
    )
}

const RUN_ARTIFACTS: &str =
    "repos/acme/policies/actions/runs/8802/artifacts?name=steward-plan-pr-7";

#[test]
fn fetch_pr_plan_downloads_the_plan_workflows_artifact_for_the_prs_last_commit() {
    let h = Harness::new()
        .route("GET", &pulls(), "commit-pulls.json")
        .route(
            "GET",
            &plan_runs("steward-plan.yml"),
            "plan-workflow-runs.json",
        )
        .route("GET", RUN_ARTIFACTS, "run-artifacts.json");
    let plan = h.file("reviewed.json", "{\"format_version\":2}");
    let output = h.file("github-output", "");
    let h = h
        .env("FAKE_GH_DOWNLOAD", &plan)
        .env("GITHUB_OUTPUT", &output);
    let dest = h.path("reviewed").to_string_lossy().into_owned();
    let run = h.run("fetch-pr-plan.sh", &[SHA, &dest]);
    run.assert_code(0);
    // Run 8802: not the newer failed run, nor the run of another workflow file, another event,
    // an older commit or another pull request, all at hand in the answer.
    assert_eq!(
        run.calls(),
        [
            format!("GET {}", pulls()),
            format!("GET {}", plan_runs("steward-plan.yml")),
            format!("GET {RUN_ARTIFACTS}"),
            format!("run download 8802 --repo acme/policies --name steward-plan-pr-7 --dir {dest}"),
        ]
    );
    assert_eq!(run.stdout.trim(), format!("{dest}/plan.json"));
    assert_eq!(
        fs::read_to_string(&output).unwrap(),
        format!("plan={dest}/plan.json\n")
    );
}

#[test]
fn fetch_pr_plan_ignores_artifacts_of_other_workflows_events_commits_and_failed_runs() {
    let h = Harness::new()
        .route("GET", &pulls(), "commit-pulls.json")
        .route(
            "GET",
            &plan_runs("steward-plan.yml"),
            "plan-workflow-runs-others-only.json",
        );
    let output = h.file("github-output", "");
    let h = h.env("GITHUB_OUTPUT", &output);
    let run = h.run("fetch-pr-plan.sh", &[SHA, "reviewed"]);
    run.assert_code(0);
    assert_eq!(
        run.calls().len(),
        2,
        "no artifact looked up or downloaded: {:?}",
        run.calls()
    );
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(&format!(
            "No successful run of .github/workflows/steward-plan.yml for #7 at its last commit {HEAD}: planning afresh."
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&output).unwrap(), "plan=\n");
}

#[test]
fn fetch_pr_plan_plans_afresh_when_the_runs_plan_artifact_expired() {
    let h = Harness::new()
        .route("GET", &pulls(), "commit-pulls.json")
        .route(
            "GET",
            &plan_runs("steward-plan.yml"),
            "plan-workflow-runs.json",
        )
        .route("GET", RUN_ARTIFACTS, "run-artifacts-expired.json");
    let run = h.run("fetch-pr-plan.sh", &[SHA, "reviewed"]);
    run.assert_code(0);
    assert_eq!(
        run.calls().len(),
        3,
        "nothing downloaded: {:?}",
        run.calls()
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn fetch_pr_plan_looks_for_the_plan_workflow_the_caller_names() {
    let h = Harness::new()
        .route("GET", &pulls(), "commit-pulls.json")
        .route("GET", &plan_runs("plan.yml"), "plan-workflow-runs.json")
        .env("PLAN_WORKFLOW", "plan.yml");
    let run = h.run("fetch-pr-plan.sh", &[SHA, "reviewed"]);
    run.assert_code(0);
    // The runs of plan.yml are asked for; those listed are steward-plan.yml's: none is taken.
    assert_eq!(
        run.calls(),
        [
            format!("GET {}", pulls()),
            format!("GET {}", plan_runs("plan.yml")),
        ]
    );
    assert_eq!(run.stdout, "");

    let h = Harness::new().env("PLAN_WORKFLOW", "../../evil.yml");
    let run = h.run("fetch-pr-plan.sh", &[SHA, "reviewed"]);
    run.assert_code(64);
    assert!(run.calls().is_empty());
    assert!(
        run.stderr
            .contains("PLAN_WORKFLOW must be the plan workflow's file name")
    );
}

#[test]
fn fetch_pr_plan_without_a_merged_pr_plans_afresh() {
    let h = Harness::new().route("GET", &pulls(), "issue-comments-others.json");
    // A list without `merged_at` (here: not pull requests at all) has no merged PR.
    let run = h.run("fetch-pr-plan.sh", &[SHA, "reviewed"]);
    run.assert_code(0);
    assert_eq!(run.calls().len(), 1);
    assert_eq!(run.stdout, "");
}

// ---- apply.sh ------------------------------------------------------------------------------

#[test]
fn apply_uses_the_reviewed_plan_when_it_is_fresh() {
    let h = Harness::new();
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [["apply", "policies", "--plan", plan.as_str()]]
    );
}

#[test]
fn apply_replans_when_the_reviewed_plan_is_stale() {
    let h = Harness::new().env("FAKE_STEWARD_APPLY_PLAN_RC", "1").env(
        "FAKE_STEWARD_APPLY_PLAN_ERR",
        "error: the saved plan is stale: the tenant changed since it was made",
    );
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [
            vec!["apply", "policies", "--plan", plan.as_str()],
            vec!["apply", "policies", "--auto-approve"],
        ]
    );
    assert!(run.stdout.contains("stale"), "{}", run.stdout);
}

#[test]
fn apply_fails_loudly_on_a_partial_failure_without_replanning() {
    let h = Harness::new().env("FAKE_STEWARD_APPLY_PLAN_RC", "1").env(
        "FAKE_STEWARD_APPLY_PLAN_ERR",
        "error: 1 of 3 changes failed: HTTP 403 Forbidden",
    );
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    assert_eq!(run.code, 1);
    assert_eq!(run.steward.len(), 1, "no second apply: {:?}", run.steward);
    assert!(run.stdout.contains("::error"), "{}", run.stdout);
}

#[test]
fn apply_without_a_reviewed_plan_plans_afresh_and_fails_when_that_fails() {
    let h = Harness::new();
    let run = h.run("apply.sh", &["policies", ""]);
    run.assert_code(0);
    assert_eq!(run.steward, [["apply", "policies", "--auto-approve"]]);

    let h = Harness::new().env("FAKE_STEWARD_APPLY_RC", "1");
    let run = h.run("apply.sh", &["policies"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("::error"), "{}", run.stdout);
}

// ---- package.sh and release.sh -------------------------------------------------------------

#[test]
fn package_bundles_the_binary_completions_man_page_and_docs_with_a_checksum() {
    let h = Harness::new();
    let run = h.run(
        "package.sh",
        &[
            env!("CARGO_BIN_EXE_steward"),
            "v9.9.9",
            "x86_64-unknown-linux-gnu",
            "dist",
        ],
    );
    run.assert_code(0);
    let name = "steward-v9.9.9-x86_64-unknown-linux-gnu";
    let listing = Command::new("tar")
        .args(["tzf", &format!("dist/{name}.tar.gz")])
        .current_dir(h.dir.path())
        .output()
        .unwrap();
    let mut entries: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(|l| l.trim_start_matches(&format!("{name}/")).to_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "README.md",
            "completions/_steward",
            "completions/_steward.ps1",
            "completions/steward.bash",
            "completions/steward.fish",
            "man/steward.1",
            "steward",
        ]
    );
    let check = Command::new("sha256sum")
        .args(["-c", &format!("{name}.tar.gz.sha256")])
        .current_dir(h.path("dist"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
}

#[test]
fn release_creates_the_tags_release_with_every_archive() {
    let h = Harness::new().env("FAKE_GH_RELEASE_VIEW_RC", "1");
    fs::create_dir(h.path("dist")).unwrap();
    h.file("dist/steward-v1.0.0-x.tar.gz", "archive");
    h.file("dist/steward-v1.0.0-x.tar.gz.sha256", "sum");
    let run = h.run("release.sh", &["v1.0.0", "dist"]);
    run.assert_code(0);
    assert_eq!(
        run.calls(),
        [
            "release view v1.0.0 --repo acme/policies",
            "release create v1.0.0 --repo acme/policies --verify-tag --title steward v1.0.0 --generate-notes dist/steward-v1.0.0-x.tar.gz dist/steward-v1.0.0-x.tar.gz.sha256",
        ]
    );
}

#[test]
fn release_rerun_replaces_the_files_of_the_existing_release() {
    let h = Harness::new();
    fs::create_dir(h.path("dist")).unwrap();
    h.file("dist/steward-v1.0.0-x.tar.gz", "archive");
    h.file("dist/steward-v1.0.0-x.tar.gz.sha256", "sum");
    let run = h.run("release.sh", &["v1.0.0", "dist"]);
    run.assert_code(0);
    assert_eq!(
        run.calls()[1],
        "release upload v1.0.0 --repo acme/policies --clobber dist/steward-v1.0.0-x.tar.gz dist/steward-v1.0.0-x.tar.gz.sha256"
    );

    let empty = Harness::new();
    fs::create_dir(empty.path("dist")).unwrap();
    let run = empty.run("release.sh", &["v1.0.0", "dist"]);
    assert_eq!(run.code, 1);
    assert!(run.gh.is_empty());
}
