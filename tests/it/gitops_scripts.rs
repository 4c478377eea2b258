//! The scripts the GitHub workflows run, driven through a fake `gh` (and a fake `steward`) that
//! record every invocation and answer from recorded GitHub API responses.

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
      --dir | -D) mkdir -p "$2"; cp "$FAKE_GH_DOWNLOAD" "$2/${FAKE_GH_DOWNLOAD_NAME:-plan.json}"; shift 2 ;;
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

/// Records its arguments as one JSON line, and the client id it would sign in as
/// (`AZURE_CLIENT_ID`, `-` when unset) as a line of `FAKE_STEWARD_LOG.client-id`; exits and
/// prints per subcommand as the test says (`FAKE_STEWARD_<SUB>_RC`, `_OUT`, `_ERR`;
/// `apply --plan` is `APPLY_PLAN`). Writes a plan file for `--out`.
const FAKE_STEWARD: &str = r#"#!/usr/bin/env bash
set -uo pipefail
args='[]'
for arg in "$@"; do args=$(jq -c --arg a "$arg" '. + [$a]' <<<"$args"); done
echo "$args" >>"$FAKE_STEWARD_LOG"
echo "${AZURE_CLIENT_ID--}" >>"$FAKE_STEWARD_LOG.client-id"
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
    /// The `AZURE_CLIENT_ID` of every `steward` invocation (`-` when unset).
    client_ids: Vec<String>,
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
        // What the workflows set and a CI machine may have: each test sets its own.
        for name in [
            "GITHUB_EVENT_PATH",
            "GITHUB_EVENT_NAME",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_ID_PLAN",
            "AZURE_CLIENT_ID_APPLY",
            "ON_STALE",
            "ENVIRONMENT",
            "PLAN_OUT",
        ] {
            command.env_remove(name);
        }
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
            client_ids: fs::read_to_string(self.path("steward.log.client-id"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
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
        .env("FAKE_STEWARD_DRIFT_OUT", DRIFT_BODY.trim_end())
        .env("FAKE_STEWARD_CHECK_OUT", "### Baseline: SCuBA");
    let run = h.run("drift-check.sh", &["policies/prod"]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [
            vec!["drift", "policies/prod", "--format", "markdown"],
            vec![
                "check",
                "policies/prod",
                "--live",
                "--format",
                "markdown",
                "--fail-on",
                "none"
            ],
        ]
    );
    assert_eq!(run.calls().len(), 2);
    assert!(run.calls()[1].starts_with("POST repos/acme/policies/issues"));
    // The drifted tenant's issue carries its grade after the drift report.
    assert_eq!(
        run.field_file(1),
        format!("{DRIFT_BODY}\n### Baseline: SCuBA\n")
    );
}

#[test]
fn drift_check_reports_drift_without_the_grade_when_check_fails() {
    let h = Harness::new()
        .route("GET", ISSUES, "issues-none.json")
        .route("POST", "repos/acme/policies/issues", "issue-created.json")
        .env("FAKE_STEWARD_DRIFT_RC", "2")
        .env("FAKE_STEWARD_DRIFT_OUT", DRIFT_BODY.trim_end())
        .env("FAKE_STEWARD_CHECK_RC", "1")
        .env("FAKE_STEWARD_CHECK_ERR", "error: cannot read the tenant");
    let run = h.run("drift-check.sh", &[]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("::warning::steward check --live failed; the drift issue has no baseline grade: error: cannot read the tenant"),
        "{}",
        run.stdout
    );
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
        .env("FAKE_STEWARD_PLAN_OUT", PLAN_BODY.trim_end())
        .env("FAKE_STEWARD_CHECK_OUT", "### Baseline");
    let run = h.run("pr-plan.sh", &["7", "policies"]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [
            vec!["validate", "policies"],
            vec![
                "check",
                "policies",
                "--format",
                "sarif",
                "--fail-on",
                "none"
            ],
            vec![
                "plan",
                "policies",
                "--format",
                "markdown",
                "--out",
                "plan.json"
            ],
            vec![
                "check",
                "policies",
                "--planned",
                "--delta",
                "--fail-on",
                "none"
            ],
        ]
    );
    assert!(
        h.path("plan.json").exists(),
        "the saved plan is kept for upload"
    );
    assert_eq!(run.calls().len(), 2);
    assert!(run.calls()[1].starts_with("POST repos/acme/policies/issues/7/comments -F body=@"));
    // The baseline's delta follows the plan in the one comment; the files' SARIF is kept
    // for code scanning.
    assert_eq!(run.field_file(1), format!("{PLAN_BODY}\n### Baseline\n"));
    assert_eq!(
        fs::read_to_string(h.path("steward.sarif")).unwrap(),
        "### Baseline\n"
    );
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
fn pr_plan_from_another_repository_validates_only_and_says_why() {
    for event in [
        "pull-request-event-from-fork.json",
        "pull-request-event-deleted-fork.json",
    ] {
        let h = Harness::new().env("GITHUB_EVENT_PATH", fixture(event).to_str().unwrap());
        let summary = h.file("summary.md", "");
        let output = h.file("github-output", "");
        let h = h
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &output);
        let run = h.run("pr-plan.sh", &["7"]);
        run.assert_code(0);
        assert_eq!(run.steward, [["validate", "policies"]], "{event}");
        assert!(
            run.gh.is_empty(),
            "a fork's token may not comment: {:?}",
            run.gh
        );
        assert!(run.stdout.contains("::notice"), "{}", run.stdout);
        let note = fs::read_to_string(&summary).unwrap();
        assert!(note.contains("from a fork"), "{note}");
        assert!(note.contains("OIDC"), "{note}");
        // The workflow uploads no plan for it.
        assert_eq!(
            fs::read_to_string(&output).unwrap(),
            "fork=true\n",
            "{event}"
        );
    }
}

#[test]
fn pr_plan_in_a_repository_that_is_itself_a_fork_plans_its_own_pull_requests() {
    // head.repo.fork is true here, as for every pull request in a forked repository; the head
    // repository is the base repository, so this is no fork's pull request.
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
        .env("FAKE_STEWARD_PLAN_OUT", PLAN_BODY.trim_end())
        .env(
            "GITHUB_EVENT_PATH",
            fixture("pull-request-event-same-repository.json")
                .to_str()
                .unwrap(),
        );
    let output = h.file("github-output", "");
    let h = h.env("GITHUB_OUTPUT", &output);
    let run = h.run("pr-plan.sh", &["7"]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [
            vec!["validate", "policies"],
            vec![
                "check",
                "policies",
                "--format",
                "sarif",
                "--fail-on",
                "none"
            ],
            vec![
                "plan",
                "policies",
                "--format",
                "markdown",
                "--out",
                "plan.json"
            ],
            vec![
                "check",
                "policies",
                "--planned",
                "--delta",
                "--fail-on",
                "none"
            ],
        ]
    );
    assert_eq!(run.field_file(1), PLAN_BODY);
    assert_eq!(fs::read_to_string(&output).unwrap(), "fork=false\n");
}

#[test]
fn pr_plan_removes_a_plan_file_from_the_branch_so_a_failed_plan_uploads_nothing() {
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
        .env("FAKE_STEWARD_VALIDATE_RC", "1");
    h.file("plan.json", "{\"format_version\":1,\"planted\":true}");
    let run = h.run("pr-plan.sh", &["7"]);
    assert_eq!(run.code, 1);
    assert!(!h.path("plan.json").exists());
}

#[test]
fn pr_plan_and_drift_check_sign_in_with_the_plan_client_id_falling_back_to_the_shared_one() {
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
        .route("GET", ISSUES, "issues-none.json")
        .env("FAKE_STEWARD_PLAN_OUT", PLAN_BODY.trim_end())
        .env("AZURE_CLIENT_ID", "shared-app")
        .env("AZURE_CLIENT_ID_APPLY", "write-app")
        .env("AZURE_CLIENT_ID_PLAN", "read-only-app");
    let run = h.run("pr-plan.sh", &["7"]);
    run.assert_code(0);
    assert_eq!(run.client_ids, ["read-only-app"; 4]);
    let run = h.run("drift-check.sh", &[]);
    run.assert_code(0);
    assert_eq!(run.client_ids[4..], ["read-only-app"]);

    let h = Harness::new()
        .route("GET", ISSUES, "issues-none.json")
        .env("AZURE_CLIENT_ID", "shared-app")
        .env("AZURE_CLIENT_ID_APPLY", "write-app");
    let run = h.run("drift-check.sh", &[]);
    run.assert_code(0);
    assert_eq!(run.client_ids, ["shared-app"]);
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
fn fetch_pr_plan_downloads_one_fleet_tenants_saved_plan_by_artifact_and_file_name() {
    let artifacts =
        "repos/acme/policies/actions/runs/8802/artifacts?name=steward-fleet-plan-contoso";
    let h = Harness::new()
        .route("GET", &pulls(), "commit-pulls.json")
        .route(
            "GET",
            &plan_runs("fleet-plan.yml"),
            "plan-workflow-runs-fleet.json",
        )
        .route("GET", artifacts, "run-artifacts-fleet.json")
        .env("PLAN_WORKFLOW", "fleet-plan.yml")
        .env("PLAN_ARTIFACT", "steward-fleet-plan-contoso")
        .env("PLAN_NAME", "contoso.plan.saved")
        .env("FAKE_GH_DOWNLOAD_NAME", "contoso.plan.saved");
    let plan = h.file("reviewed.json", "{\"format_version\":2}");
    let h = h.env("FAKE_GH_DOWNLOAD", &plan);
    let dest = h.path("reviewed").to_string_lossy().into_owned();
    let run = h.run("fetch-pr-plan.sh", &[SHA, &dest]);
    run.assert_code(0);
    assert_eq!(
        run.calls(),
        [
            format!("GET {}", pulls()),
            format!("GET {}", plan_runs("fleet-plan.yml")),
            format!("GET {artifacts}"),
            format!(
                "run download 8802 --repo acme/policies --name steward-fleet-plan-contoso --dir {dest}"
            ),
        ]
    );
    assert_eq!(run.stdout.trim(), format!("{dest}/contoso.plan.saved"));

    let bad = Harness::new().env("PLAN_NAME", "../plan.json");
    let run = bad.run("fetch-pr-plan.sh", &[SHA, "reviewed"]);
    run.assert_code(64);
    assert!(run.calls().is_empty());
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
            "No successful run of .github/workflows/steward-plan.yml for #7 at its last commit {HEAD}: no reviewed plan."
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&output).unwrap(), "plan=\n");
}

#[test]
fn fetch_pr_plan_finds_no_plan_when_the_runs_plan_artifact_expired() {
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
fn fetch_pr_plan_without_a_merged_pr_finds_no_plan() {
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

const STALE_TENANT: &str = "error: the saved plan is stale: sharepoint-settings changed in the tenant; conditional-access-policy \"CA008 Block legacy authentication\" no longer exists in the tenant; run `steward plan --out` again and review the new plan";

#[test]
fn apply_fails_without_applying_anything_when_the_reviewed_plan_is_stale() {
    let h = Harness::new()
        .env("FAKE_STEWARD_APPLY_PLAN_RC", "1")
        .env("FAKE_STEWARD_APPLY_PLAN_ERR", STALE_TENANT);
    let plan = h.file("plan.json", "{}");
    let summary = h.file("summary.md", "");
    let h = h.env("GITHUB_STEP_SUMMARY", &summary);
    let run = h.run("apply.sh", &["policies", &plan]);
    assert_eq!(run.code, 1);
    // Only the reviewed plan was tried: no fresh, unreviewed apply.
    assert_eq!(
        run.steward,
        [["apply", "policies", "--plan", plan.as_str()]]
    );
    // What changed, in the annotation; steward's terminal advice left out.
    assert!(
        run.stdout.contains(
            "::error title=the reviewed plan is stale::The reviewed plan is stale: sharepoint-settings changed in the tenant; conditional-access-policy \"CA008 Block legacy authentication\" no longer exists in the tenant. Nothing was applied."
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("steward plan --out"), "{}", run.stdout);
    // How to re-plan, in the job summary and the log.
    let summary = fs::read_to_string(&summary).unwrap();
    for text in [&summary, &run.stdout] {
        assert!(text.contains("Re-run the pull request's plan"), "{text}");
        assert!(
            text.contains("*Actions → steward apply → Run workflow*"),
            "{text}"
        );
        assert!(text.contains("approve"), "{text}");
        assert!(text.contains("`on-stale: replan`"), "{text}");
    }
    assert!(
        summary.starts_with("### steward apply: the reviewed plan is stale\n"),
        "{summary}"
    );
}

#[test]
fn apply_knows_a_stale_plan_by_its_stable_prefix_whatever_the_wording_after_it() {
    for (err, said) in [
        (
            "error: the saved plan is stale: the policy files changed since it was made (policies); run `steward plan --out` again and review the new plan",
            "::error title=the reviewed plan is stale::The reviewed plan is stale: the policy files changed since it was made (policies). Nothing was applied.",
        ),
        (
            "Error: the saved plan is stale (made for tenant 72f988bf-86f1-41af-91ab-2d7cd011db47)",
            "::error title=the reviewed plan is stale::The reviewed plan is stale: (made for tenant 72f988bf-86f1-41af-91ab-2d7cd011db47). Nothing was applied.",
        ),
        (
            "error: the saved plan is stale",
            "::error title=the reviewed plan is stale::The reviewed plan is stale. Nothing was applied.",
        ),
    ] {
        let h = Harness::new()
            .env("FAKE_STEWARD_APPLY_PLAN_RC", "1")
            .env("FAKE_STEWARD_APPLY_PLAN_ERR", err);
        let plan = h.file("plan.json", "{}");
        let run = h.run("apply.sh", &["policies", &plan]);
        assert_eq!(run.code, 1);
        assert_eq!(run.steward.len(), 1, "{:?}", run.steward);
        assert!(run.stdout.contains(said), "{}", run.stdout);
    }
}

#[test]
fn apply_with_on_stale_replan_plans_again_and_says_it_applies_unreviewed() {
    let h = Harness::new()
        .env("FAKE_STEWARD_APPLY_PLAN_RC", "1")
        .env("FAKE_STEWARD_APPLY_PLAN_ERR", STALE_TENANT)
        .env("ON_STALE", "replan");
    let plan = h.file("plan.json", "{}");
    let summary = h.file("summary.md", "");
    let h = h.env("GITHUB_STEP_SUMMARY", &summary);
    let run = h.run("apply.sh", &["policies", &plan]);
    run.assert_code(0);
    assert_eq!(
        run.steward,
        [
            vec!["apply", "policies", "--plan", plan.as_str()],
            vec!["apply", "policies", "--auto-approve"],
        ]
    );
    assert!(
        run.stdout.contains(
            "::warning title=steward applies an unreviewed plan::The reviewed plan is stale: sharepoint-settings changed in the tenant"
        ),
        "{}",
        run.stdout
    );
    let summary = fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("### steward apply: applying an unreviewed plan\n"),
        "{summary}"
    );
}

#[test]
fn apply_does_not_replan_on_a_partial_failure_even_with_on_stale_replan() {
    for on_stale in ["fail", "replan"] {
        let h = Harness::new()
            .env("ON_STALE", on_stale)
            .env("FAKE_STEWARD_APPLY_PLAN_RC", "1")
            .env(
                "FAKE_STEWARD_APPLY_PLAN_ERR",
                "error: 1 of 3 changes failed: HTTP 403 Forbidden",
            );
        let plan = h.file("plan.json", "{}");
        let run = h.run("apply.sh", &["policies", &plan]);
        assert_eq!(run.code, 1);
        assert_eq!(run.steward.len(), 1, "no second apply: {:?}", run.steward);
        assert!(
            run.stdout
                .contains("::error title=steward apply failed::steward apply --plan exited 1."),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn apply_without_a_reviewed_plan_fails_unless_on_stale_is_replan() {
    let h = Harness::new();
    let run = h.run("apply.sh", &["policies", ""]);
    assert_eq!(run.code, 1);
    assert!(run.steward.is_empty(), "{:?}", run.steward);
    assert!(
        run.stdout
            .contains("::error title=no reviewed plan::No reviewed plan was found for this commit"),
        "{}",
        run.stdout
    );
    let run = h.run("apply.sh", &["policies", "no-such-plan.json"]);
    assert_eq!(run.code, 1);
    assert!(run.steward.is_empty(), "{:?}", run.steward);

    let h = Harness::new().env("ON_STALE", "replan");
    let run = h.run("apply.sh", &["policies", ""]);
    run.assert_code(0);
    assert_eq!(run.steward, [["apply", "policies", "--auto-approve"]]);
    assert!(run.stdout.contains("::warning"), "{}", run.stdout);

    let h = Harness::new()
        .env("ON_STALE", "replan")
        .env("FAKE_STEWARD_APPLY_RC", "1");
    let run = h.run("apply.sh", &["policies"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("::error title=steward apply failed::steward apply --auto-approve exited 1."),
        "{}",
        run.stdout
    );
}

#[test]
fn apply_run_by_hand_does_not_suggest_re_running_a_pull_request() {
    let h = Harness::new()
        .env("GITHUB_EVENT_NAME", "workflow_dispatch")
        .env("FAKE_STEWARD_APPLY_PLAN_RC", "1")
        .env("FAKE_STEWARD_APPLY_PLAN_ERR", STALE_TENANT);
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    assert_eq!(run.code, 1);
    assert!(
        !run.stdout.contains("pull request's plan"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Run workflow"), "{}", run.stdout);
}

#[test]
fn apply_refuses_an_unknown_on_stale_value_before_running_steward() {
    let h = Harness::new().env("ON_STALE", "apply-anyway");
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    assert_eq!(run.code, 64);
    assert!(run.steward.is_empty(), "{:?}", run.steward);
    assert!(
        run.stdout
            .contains("on-stale must be fail or replan, not 'apply-anyway'"),
        "{}",
        run.stdout
    );
}

#[test]
fn apply_signs_in_with_the_apply_client_id_falling_back_to_the_shared_one() {
    let h = Harness::new()
        .env("AZURE_CLIENT_ID", "shared-app")
        .env("AZURE_CLIENT_ID_PLAN", "read-only-app")
        .env("AZURE_CLIENT_ID_APPLY", "write-app");
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    run.assert_code(0);
    assert_eq!(run.client_ids, ["write-app"]);

    let h = Harness::new()
        .env("AZURE_CLIENT_ID", "shared-app")
        .env("AZURE_CLIENT_ID_PLAN", "read-only-app");
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    run.assert_code(0);
    assert_eq!(run.client_ids, ["shared-app"]);

    // Neither set (a workflow passes unset inputs as empty): unset, so steward says it is missing.
    let h = Harness::new()
        .env("AZURE_CLIENT_ID", "")
        .env("AZURE_CLIENT_ID_APPLY", "");
    let plan = h.file("plan.json", "{}");
    let run = h.run("apply.sh", &["policies", &plan]);
    run.assert_code(0);
    assert_eq!(run.client_ids, ["-"]);
}

// ---- plan-for-approval.sh -----------------------------------------------------------------

const ENVIRONMENT: &str = "repos/acme/policies/environments/steward-apply";

#[test]
fn plan_for_approval_plans_and_shows_the_plan_for_the_environments_reviewers() {
    let h = Harness::new()
        .route("GET", ENVIRONMENT, "environment-with-reviewers.json")
        .env("ENVIRONMENT", "steward-apply")
        .env("AZURE_CLIENT_ID", "shared-app")
        .env("AZURE_CLIENT_ID_PLAN", "read-only-app")
        .env("FAKE_STEWARD_PLAN_RC", "2")
        .env("FAKE_STEWARD_PLAN_OUT", PLAN_BODY.trim_end());
    let summary = h.file("summary.md", "");
    let output = h.file("github-output", "");
    let h = h
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output);
    let run = h.run("plan-for-approval.sh", &["policies"]);
    run.assert_code(0);
    assert_eq!(run.calls(), [format!("GET {ENVIRONMENT}")]);
    assert_eq!(
        run.steward,
        [[
            "plan",
            "policies",
            "--format",
            "markdown",
            "--out",
            "plan.json",
            "--detailed-exitcode"
        ]]
    );
    assert_eq!(run.client_ids, ["read-only-app"]);
    assert!(h.path("plan.json").exists(), "the plan is kept for upload");
    assert_eq!(fs::read_to_string(&output).unwrap(), "changes=true\n");
    let summary = fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with(PLAN_BODY), "{summary}");
    assert!(
        summary.contains("waits for approval in the environment `steward-apply`"),
        "{summary}"
    );
}

#[test]
fn plan_for_approval_with_no_changes_leaves_nothing_to_approve() {
    let h = Harness::new()
        .route("GET", ENVIRONMENT, "environment-with-reviewers.json")
        .env("ENVIRONMENT", "steward-apply")
        .env("FAKE_STEWARD_PLAN_RC", "0");
    let output = h.file("github-output", "");
    let h = h.env("GITHUB_OUTPUT", &output);
    let run = h.run("plan-for-approval.sh", &[]);
    run.assert_code(0);
    assert_eq!(fs::read_to_string(&output).unwrap(), "changes=false\n");
    assert!(run.stdout.contains("nothing to approve"), "{}", run.stdout);
}

#[test]
fn plan_for_approval_refuses_to_plan_without_an_environment_with_required_reviewers() {
    // No environment; one without reviewers; one that does not exist (the API answers 404).
    let cases: [(Option<&str>, &str); 3] = [
        (None, "has no environment input"),
        (
            Some("environment-without-reviewers.json"),
            "The environment steward-apply has no required reviewers.",
        ),
        (None, "The environment steward-apply could not be read"),
    ];
    for (i, (route, said)) in cases.into_iter().enumerate() {
        let mut h = Harness::new();
        if let Some(fixture) = route {
            h = h.route("GET", ENVIRONMENT, fixture);
        }
        if i > 0 {
            h = h.env("ENVIRONMENT", "steward-apply");
        }
        let run = h.run("plan-for-approval.sh", &[]);
        assert_eq!(run.code, 1, "{said}");
        assert!(run.steward.is_empty(), "nothing planned: {:?}", run.steward);
        assert!(
            run.stdout
                .contains("::error title=steward needs an approval environment::"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(said), "{}", run.stdout);
    }

    // on-stale: replan accepts unreviewed applies: no environment needed.
    let h = Harness::new()
        .env("ON_STALE", "replan")
        .env("FAKE_STEWARD_PLAN_RC", "2");
    let run = h.run("plan-for-approval.sh", &[]);
    run.assert_code(0);
    assert!(run.gh.is_empty(), "{:?}", run.gh);
    assert_eq!(run.steward.len(), 1);
}

#[test]
fn plan_for_approval_url_encodes_the_environment_and_fails_when_the_plan_fails() {
    let h = Harness::new()
        .route(
            "GET",
            "repos/acme/policies/environments/m365%20production",
            "environment-with-reviewers.json",
        )
        .env("ENVIRONMENT", "m365 production")
        .env("FAKE_STEWARD_PLAN_RC", "1");
    let run = h.run("plan-for-approval.sh", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.steward.len(), 1);
    assert!(
        run.stdout.contains("::error::steward plan failed (exit 1)"),
        "{}",
        run.stdout
    );
}

// ---- the workflows and the examples --------------------------------------------------------

fn repo_file(path: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The trimmed lines of a workflow, comments left out.
fn yaml_lines(path: &str) -> Vec<String> {
    repo_file(path)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_examples_pass_a_read_only_client_id_for_plans_and_drift_and_a_writing_one_for_apply() {
    let fallback = "client-id: ${{ vars.AZURE_CLIENT_ID }}".to_owned();
    let plan = "plan-client-id: ${{ vars.AZURE_CLIENT_ID_PLAN }}".to_owned();
    let apply = "apply-client-id: ${{ vars.AZURE_CLIENT_ID_APPLY }}".to_owned();
    for (example, ids) in [
        ("examples/github/plan.yml", vec![&plan, &fallback]),
        ("examples/github/drift.yml", vec![&plan, &fallback]),
        ("examples/github/apply.yml", vec![&apply, &plan, &fallback]),
    ] {
        let lines = yaml_lines(example);
        let passed: Vec<&String> = lines.iter().filter(|l| l.contains("client-id:")).collect();
        assert_eq!(passed, ids, "{example}");
    }
}

#[test]
fn the_reusable_workflows_hand_each_job_its_roles_client_id() {
    for (workflow, envs) in [
        (
            ".github/workflows/steward-plan.yml",
            vec!["AZURE_CLIENT_ID_PLAN: ${{ inputs.plan-client-id }}"],
        ),
        (
            ".github/workflows/steward-drift.yml",
            vec!["AZURE_CLIENT_ID_PLAN: ${{ inputs.plan-client-id }}"],
        ),
        (
            ".github/workflows/steward-apply.yml",
            vec![
                "AZURE_CLIENT_ID_PLAN: ${{ inputs.plan-client-id }}",
                "AZURE_CLIENT_ID_APPLY: ${{ inputs.apply-client-id }}",
            ],
        ),
    ] {
        let lines = yaml_lines(workflow);
        let ids: Vec<&str> = lines
            .iter()
            .map(String::as_str)
            .filter(|l| l.starts_with("AZURE_CLIENT_ID_"))
            .collect();
        assert_eq!(ids, envs, "{workflow}");
        // The shared id stays, as the fallback of one app registration for everything.
        assert!(
            lines.contains(&"AZURE_CLIENT_ID: ${{ inputs.client-id }}".to_owned()),
            "{workflow}"
        );
    }
}

#[test]
fn the_plan_workflow_tells_forks_apart_by_full_name_and_never_uploads_their_plan() {
    let workflow = repo_file(".github/workflows/steward-plan.yml");
    assert!(!workflow.contains("head.repo.fork"), "{workflow}");
    assert!(!workflow.contains("FORK:"), "{workflow}");
    let lines = yaml_lines(".github/workflows/steward-plan.yml");
    assert!(
        lines.contains(
            &"if: always() && steps.plan.outputs.fork == 'false' && github.event.pull_request.head.repo.full_name == github.repository"
                .to_owned()
        ),
        "{lines:?}"
    );
}

#[test]
fn the_apply_workflow_fails_on_a_stale_plan_unless_told_to_replan() {
    let lines = yaml_lines(".github/workflows/steward-apply.yml");
    let at = lines.iter().position(|l| l == "on-stale:").unwrap();
    assert_eq!(lines[at + 2], "type: string");
    assert_eq!(lines[at + 3], "default: fail");
    assert!(lines.contains(&"ON_STALE: ${{ inputs.on-stale }}".to_owned()));
    assert!(
        yaml_lines("examples/github/apply.yml").contains(&"on-stale: fail".to_owned()),
        "the example says what it chose"
    );
}

// ---- package.sh and release.sh -------------------------------------------------------------

#[test]
fn package_bundles_the_binary_completions_man_pages_and_docs_with_a_checksum() {
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
    // The docs/ pages ship beside the README, whichever pages there are.
    assert!(entries.iter().any(|e| e == "docs/README.md"), "{entries:?}");
    entries.retain(|e| !e.starts_with("docs/"));
    assert_eq!(
        entries,
        [
            "README.md",
            "completions/_steward",
            "completions/_steward.ps1",
            "completions/steward.bash",
            "completions/steward.fish",
            "man/steward-apply.1",
            "man/steward-check.1",
            "man/steward-completions.1",
            "man/steward-drift.1",
            "man/steward-export.1",
            "man/steward-fmt.1",
            "man/steward-man.1",
            "man/steward-permissions.1",
            "man/steward-plan.1",
            "man/steward-render.1",
            "man/steward-report-merge.1",
            "man/steward-report.1",
            "man/steward-sandbox-serve.1",
            "man/steward-sandbox.1",
            "man/steward-schema.1",
            "man/steward-tenants.1",
            "man/steward-validate.1",
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
