//! The "Clouds, sandboxes and other hosts" snippet of docs/graph.md works as written: it is taken
//! from the page and run with bash against the real binary, on loopback only.

use std::path::Path;
use std::process::{Command, Stdio};

/// The ```bash block that follows `marker` in docs/graph.md.
fn readme_block(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/graph.md"))
            .expect("docs/graph.md");
    let at = readme.find(marker).expect("the marker is in docs/graph.md");
    let start = at
        + readme[at..]
            .find("```bash\n")
            .expect("a bash block follows")
        + 8;
    let end = start + readme[start..].find("```\n").expect("the block ends");
    readme[start..end].to_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn readme_sandbox_snippet_plans_against_a_served_sandbox() {
    let snippet = readme_block("For a sandbox server");
    assert!(snippet.contains("steward sandbox serve"), "{snippet}");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
        &dir.path().join("policies"),
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_steward"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // stderr goes to a file: a sandbox the snippet failed to stop cannot hold the test open.
    let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
    let mut cmd = Command::new("timeout");
    cmd.args(["-k", "5", "60", "bash", "-euo", "pipefail", "-c", &snippet])
        .current_dir(dir.path())
        .env("PATH", path)
        .stdin(Stdio::null())
        .stderr(stderr);
    for (key, _) in std::env::vars() {
        if key.starts_with("STEWARD_") || key.starts_with("AZURE_") || key.ends_with("_PROXY") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Plan: 8 to add, 5 to change, 0 to destroy."),
        "{stdout}\n{stderr}"
    );
    assert!(
        !dir.path().join(".steward").exists(),
        "a served sandbox keeps no state in the directory"
    );
}

#[test]
fn readme_says_where_sandbox_state_lives_and_how_to_reset_it() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/graph.md"))
            .expect("docs/graph.md");
    let section = &readme[readme.find("## Clouds, sandboxes").expect("the section")..];
    let section = &section[..section[4..].find("\n## ").map_or(section.len(), |i| i + 4)];
    for needle in [
        "--accept-token",
        "`.steward/sandbox.json`",
        "Delete that file",
        "`.gitignore`",
    ] {
        assert!(section.contains(needle), "{needle}: {section}");
    }
    assert!(!section.contains("steward sandbox &"), "{section}");
    assert!(!section.contains("8080"), "{section}");
}
