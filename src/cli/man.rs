//! `steward man`: the manual page, generated from the command definitions.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use super::CommandError;

/// Print steward's man page (roff) on stdout.
///
/// Install it with `steward man > /usr/local/share/man/man1/steward.1`, or read it at once
/// with `steward man | man -l -`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<ExitCode, CommandError> {
    let man = clap_mangen::Man::new(super::Cli::command());
    let mut page = Vec::new();
    man.render(&mut page)
        .map_err(|e| CommandError::User(format!("cannot render the man page: {e}")))?;
    std::io::stdout()
        .write_all(&page)
        .map_err(|e| CommandError::User(format!("cannot write the man page: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
