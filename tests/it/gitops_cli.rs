//! `steward completions` and `steward man`.

use std::process::Command;

fn steward(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bash_completion_knows_the_subcommands_and_their_flags() {
    let (code, out, err) = steward(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("_steward()"), "{out}");
    for word in [
        "plan",
        "drift",
        "validate",
        "completions",
        "--detailed-exitcode",
    ] {
        assert!(out.contains(word), "no {word} in the bash completion");
    }
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = steward(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains("plan"), "{shell}: {out}");
    }
    let (code, _, err) = steward(&["completions", "tcsh"]);
    assert_eq!(
        code, 64,
        "a usage error exits 64, never 2 (changes or drift)"
    );
    assert!(err.contains("possible values"), "{err}");
}

#[test]
fn man_page_is_roff_for_steward() {
    let (code, out, err) = steward(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".TH steward"), "{out}");
    // roff escapes the hyphens.
    assert!(
        out.contains("policy\\-as\\-code for Microsoft 365"),
        "{out}"
    );
    // Subcommands are listed, so `man steward` leads on to each command's help.
    for command in ["plan", "drift", "validate", "permissions"] {
        assert!(
            out.contains(&format!("steward\\-{command}(1)")),
            "{command}: {out}"
        );
    }
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let bad_cloud = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["drift", "policies"])
        .env("STEWARD_CLOUD", "azure")
        .output()
        .unwrap();
    assert_eq!(bad_cloud.status.code(), Some(64), "a bad STEWARD_CLOUD");
    assert!(bad_cloud.stdout.is_empty(), "nothing on stdout");
    assert!(String::from_utf8_lossy(&bad_cloud.stderr).contains("error:"));
    let (code, _, _) = steward(&["plan", "--format", "yaml"]);
    assert_eq!(code, 64, "a bad value");
    let (code, _, _) = steward(&["plann"]);
    assert_eq!(code, 64, "an unknown command");
    let (code, out, _) = steward(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("64 a usage error"), "{out}");
    let (code, _, _) = steward(&["plan", "--help"]);
    assert_eq!(code, 0);
}
