//! `steward sandbox`.

use std::process::ExitCode;

use super::CommandError;

/// Placeholder arguments until the command lands.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<ExitCode, CommandError> {
    Err(CommandError::User("not yet available".into()))
}
