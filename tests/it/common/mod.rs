//! Helpers shared by the CLI tests: run the real binary in a scratch directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The outcome of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A scratch directory holding policy files.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` (relative to the scratch directory) and returns its path.
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// Runs `steward ARGS` in the scratch directory, without colour.
    pub fn run(&self, args: &[&str]) -> Run {
        steward(self.path(), args)
    }
}

/// Runs the real binary in `dir`.
pub fn steward(dir: &Path, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("STEWARD_GRAPH_URL")
        .env_remove("STEWARD_GRAPH_TOKEN")
        .output()
        .expect("run steward")
        .into()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Sign-in variables a test must never inherit from the machine.
pub const SIGN_IN_VARIABLES: &[&str] = &[
    "STEWARD_GRAPH_URL",
    "STEWARD_GRAPH_TOKEN",
    "STEWARD_SHAREPOINT_TOKEN",
    "STEWARD_SHAREPOINT_ADMIN_URL",
    "STEWARD_LOGIN_URL",
    "STEWARD_AUTH",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

/// Runs the binary in `dir` with no sign-in variable (nor tenant) taken from the machine.
pub fn steward_clean(dir: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    for name in SIGN_IN_VARIABLES {
        command.env_remove(name);
    }
    command.output().expect("run steward").into()
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("read directory") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Runs the binary in `dir` with `env`, off the async runtime (for tests that serve a sandbox
/// in-process).
pub async fn steward_async(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        command.args(&args).current_dir(&dir).env("NO_COLOR", "1");
        for name in SIGN_IN_VARIABLES {
            command.env_remove(name);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run steward").into()
    })
    .await
    .expect("the command ran")
}

/// The bearer token the test sandboxes accept as a signed-in administrator.
pub const TOKEN: &str = "steward-test-token";

/// Runs the binary in `dir` against the sandbox at `url`, signed in with [`TOKEN`].
pub async fn run(dir: &Path, args: &[&str], url: &str) -> Run {
    steward_async(
        dir,
        args,
        &[("STEWARD_GRAPH_URL", url), ("STEWARD_GRAPH_TOKEN", TOKEN)],
    )
    .await
}

/// Diagnostics as one line of words: miette's wrapping, margins and icons taken out, to compare
/// whole messages whatever the width they were wrapped to.
pub fn flat(text: &str) -> String {
    text.replace(['│', '×', '⚠'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sandbox serving the demo tenant in-process, accepting [`TOKEN`].
pub async fn demo(config: steward::sandbox::SandboxConfig) -> steward::sandbox::RunningSandbox {
    steward::sandbox::start(steward::sandbox::SandboxConfig {
        seed: steward::sandbox::Seed::Demo,
        accept_tokens: vec![TOKEN.to_string()],
        ..config
    })
    .await
    .expect("the sandbox starts")
}

/// Writes the demo tenant, with `clients` registered besides its own, to `dir/state.json`.
pub fn demo_state_with_clients(dir: &Path, clients: Vec<serde_json::Value>) -> PathBuf {
    let mut state = steward::sandbox::seed::demo();
    if let Some(list) = state
        .get_mut("_sandbox")
        .and_then(|s| s.get_mut("clients"))
        .and_then(serde_json::Value::as_array_mut)
    {
        list.extend(clients);
    }
    let path = dir.join("state.json");
    std::fs::write(&path, serde_json::to_string(&state).unwrap_or_default())
        .expect("write the state");
    path
}
