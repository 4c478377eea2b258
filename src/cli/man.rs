//! `steward man`: the manual pages, generated from the command definitions.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;

use super::{CommandError, Done};

/// Write steward's manual pages (roff): steward(1) and one page per command.
///
/// With --dir, writes steward.1 and steward-COMMAND.1 for each command (steward-plan.1,
/// steward-sandbox-serve.1, …) into that directory; install them with
/// `steward man --dir /usr/local/share/man/man1`. Without it, prints every page on stdout, one
/// after the other, to read at once with `steward man | man -l -`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write steward.1 and steward-COMMAND.1 into (created if missing).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The EXIT STATUS section every page carries (the same codes as `steward --help`).
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success; nothing to do."),
    (
        "1",
        "An error: invalid files, a failed change, a Graph or sign-in failure.",
    ),
    (
        "2",
        "Changes to make (plan --detailed-exitcode) or drift found (drift).",
    ),
    (
        "64",
        "A usage error: an unknown flag, a bad value, a bad STEWARD_ variable.",
    ),
];

/// Variables read by every command, not tied to a flag.
const COMMON_ENV: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "When set to a non-empty value, human output has no colour.",
    ),
    ("CI", "When set, no progress spinner."),
    (
        super::logging::LOG_VAR,
        "Log each Graph request to stderr, as -v does: a level (debug) for steward's own events, \
         or tracing filter directives (steward=debug,hyper=info).",
    ),
];

pub fn run(args: Args) -> Result<Done, CommandError> {
    let pages =
        pages().map_err(|e| CommandError::internal(format!("cannot render the man pages: {e}")))?;
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                CommandError::io(format!(
                    "cannot create {}: {e}; pass a directory you can write to",
                    dir.display()
                ))
            })?;
            for (file, page) in &pages {
                let path = dir.join(file);
                std::fs::write(&path, page).map_err(|e| {
                    CommandError::io(format!(
                        "cannot write {}: {e}; pass a directory you can write to",
                        path.display()
                    ))
                })?;
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            for (_, page) in &pages {
                out.write_all(page)
                    .map_err(|e| CommandError::io(format!("cannot write the man page: {e}")))?;
            }
        }
    }
    Ok(Done::Clean)
}

/// Every page as (file name, roff): steward.1 first, then each command depth first.
fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    // Builds the display names (steward-plan, steward-sandbox-serve) the pages are named by.
    cmd.build();
    let mut names = Vec::new();
    collect_names(&cmd, &mut names);
    let mut pages = Vec::new();
    render(&cmd, true, &names, &mut pages)?;
    Ok(pages)
}

fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name().unwrap_or(cmd.get_name()).to_owned()
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

fn collect_names(cmd: &clap::Command, names: &mut Vec<String>) {
    names.push(page_name(cmd));
    for sub in visible_subcommands(cmd) {
        collect_names(sub, names);
    }
}

fn render(
    cmd: &clap::Command,
    top: bool,
    names: &[String],
    pages: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut shown = cmd.clone();
    if top {
        // The exit codes get their own section below.
        shown = shown.after_long_help(clap::builder::Resettable::Reset);
    }
    let man = clap_mangen::Man::new(shown);
    let mut page = Vec::new();
    man.render(&mut page)?;
    page.extend_from_slice(extra_sections(cmd, top, names).as_bytes());
    pages.push((man.get_filename(), page));
    for sub in visible_subcommands(cmd) {
        render(sub, false, names, pages)?;
    }
    Ok(())
}

/// ENVIRONMENT, EXIT STATUS and SEE ALSO, which clap_mangen does not write.
fn extra_sections(cmd: &clap::Command, top: bool, names: &[String]) -> String {
    let mut env = Vec::new();
    if top {
        collect_env(cmd, &mut env);
    } else {
        env_of(cmd, &mut env);
    }
    let mut roff = String::from(".SH ENVIRONMENT\n");
    for (name, flag, help) in &env {
        let _ = write!(
            roff,
            ".TP\n\\fB{}\\fR\n{} (as \\fB\\-\\-{}\\fR).\n",
            escape(name),
            escape(help),
            escape(flag)
        );
    }
    for (name, help) in COMMON_ENV {
        let _ = write!(roff, ".TP\n\\fB{}\\fR\n{}\n", escape(name), escape(help));
    }
    roff.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUS {
        let _ = write!(roff, ".TP\n\\fB{code}\\fR\n{}\n", escape(meaning));
    }
    roff.push_str(".SH \"SEE ALSO\"\n");
    let own = page_name(cmd);
    let others: Vec<String> = names
        .iter()
        .filter(|n| **n != own)
        .map(|n| format!("\\fB{}\\fR(1)", escape(n)))
        .collect();
    roff.push_str(&others.join(",\n"));
    roff.push('\n');
    roff
}

/// The environment variables of `cmd`'s own flags, as (variable, long flag, help).
fn env_of(cmd: &clap::Command, env: &mut Vec<(String, String, String)>) {
    for arg in cmd.get_arguments() {
        let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        if arg.is_hide_set() || arg.is_hide_env_set() {
            continue;
        }
        let var = var.to_string_lossy().into_owned();
        if env.iter().any(|(v, _, _)| *v == var) {
            continue;
        }
        let help = arg
            .get_help()
            .map(|h| h.to_string())
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_owned();
        env.push((var, long.to_owned(), help));
    }
}

/// The environment variables of `cmd` and all its commands, each once.
fn collect_env(cmd: &clap::Command, env: &mut Vec<(String, String, String)>) {
    env_of(cmd, env);
    for sub in visible_subcommands(cmd) {
        collect_env(sub, env);
    }
}

/// Escapes text for roff: backslashes and hyphens, and a leading dot or quote.
fn escape(text: &str) -> String {
    let body = text.replace('\\', "\\\\").replace('-', "\\-");
    if body.starts_with('.') || body.starts_with('\'') {
        format!("\\&{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_command_and_every_page_it_names_exists() {
        let pages = pages().expect("renders");
        let files: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(files[0], "steward.1");
        for command in ["validate", "plan", "drift", "apply", "sandbox", "man"] {
            assert!(
                files.contains(&format!("steward-{command}.1").as_str()),
                "{files:?}"
            );
        }
        for (file, page) in &pages {
            let text = String::from_utf8_lossy(page);
            let mut rest = text.as_ref();
            while let Some(at) = rest.find("(1)") {
                let before = &rest[..at];
                let start = before
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '\\' || c == '-'))
                    .map_or(0, |i| i + 1);
                let named = before[start..]
                    .trim_start_matches("\\fB")
                    .trim_end_matches("\\fR")
                    .replace("\\-", "-");
                assert!(
                    files.contains(&format!("{named}.1").as_str()),
                    "{file} names {named}(1), which has no page"
                );
                rest = &rest[at + 3..];
            }
        }
    }

    #[test]
    fn every_page_has_exit_status_and_environment() {
        for (file, page) in pages().expect("renders") {
            let text = String::from_utf8_lossy(&page);
            assert!(text.contains(".SH \"EXIT STATUS\""), "{file}");
            assert!(text.contains(".TP\n\\fB64\\fR\n"), "{file}");
            assert!(text.contains(".SH ENVIRONMENT"), "{file}");
            assert!(text.contains("\\fBSTEWARD_LOG\\fR"), "{file}");
        }
    }

    #[test]
    fn escape_protects_roff_control_characters() {
        assert_eq!(escape("a-b\\c"), "a\\-b\\\\c");
        assert_eq!(escape(".x"), "\\&.x");
    }
}
