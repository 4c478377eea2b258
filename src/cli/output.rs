//! Shared output helpers: colour decisions and diagnostic rendering.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::{CommandError, CommandErrorKind};
use crate::config::{Diagnostic, Loaded};
use crate::model::checks::lockout::LockoutReport;
use crate::model::plan::Plan;
use crate::workflow::planning;

/// True when stderr should be coloured: a terminal, and no `NO_COLOR`.
pub fn colour_stderr() -> bool {
    colour_allowed(std::env::var_os("NO_COLOR").as_deref()) && std::io::stderr().is_terminal()
}

/// True when stdout should be coloured: a terminal, and no `NO_COLOR`.
pub fn colour_stdout() -> bool {
    colour_allowed(std::env::var_os("NO_COLOR").as_deref()) && std::io::stdout().is_terminal()
}

/// False when `NO_COLOR` holds a value; set but empty does not count (no-color.org).
fn colour_allowed(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// Renders a diagnostic the way a person reads it: snippet, label, help.
pub fn render_diagnostic(diagnostic: &Diagnostic, colour: bool) -> String {
    let theme = if colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        // GUIDs, UPNs and paths stay whole on one line, where they can be copied.
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    out
}

/// Prints diagnostics to stderr.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let colour = colour_stderr();
    for d in diagnostics {
        eprint!("{}", render_diagnostic(d, colour));
    }
}

/// "1 error", "2 warnings".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Loads policy files for a command that reads the tenant, printing their diagnostics; errors
/// stop the command.
pub fn load(paths: &[std::path::PathBuf]) -> Result<Loaded, CommandError> {
    let loaded = planning::load(paths);
    print_diagnostics(&planning::shown(&loaded));
    if loaded.has_errors() {
        return Err(CommandError::reported(CommandErrorKind::User));
    }
    Ok(loaded)
}

/// Acts on the lockout guard's findings for `plan`: a plan with changes is refused (`doing`
/// says what is refused), each finding printed as an error. A plan without changes leaves the
/// tenant as it is, so its findings are printed as warnings and nothing is refused.
pub fn check_lockout(
    loaded: &Loaded,
    report: &LockoutReport,
    plan: &Plan,
    doing: &str,
) -> Result<(), CommandError> {
    let Some(verdict) = planning::lockout_verdict(loaded, report, plan) else {
        return Ok(());
    };
    print_diagnostics(&verdict.diagnostics);
    let count = format!(
        "{} problem{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" }
    );
    if !verdict.refuse {
        eprintln!(
            "warning: the tenant as it is could lock the emergency-access accounts out ({count} above); there is nothing to apply, but any change will be refused until this is fixed"
        );
        return Ok(());
    }
    Err(CommandError::user(format!(
        "{doing}: {count} above could lock the emergency-access accounts out of the tenant this plan would leave"
    )))
}

pub use crate::render::one_line;

#[cfg(test)]
mod colour {
    use std::ffi::OsStr;

    #[test]
    fn only_a_non_empty_no_color_turns_colour_off() {
        assert!(super::colour_allowed(None));
        assert!(super::colour_allowed(Some(OsStr::new(""))));
        assert!(!super::colour_allowed(Some(OsStr::new("1"))));
        assert!(!super::colour_allowed(Some(OsStr::new("0"))));
    }
}
