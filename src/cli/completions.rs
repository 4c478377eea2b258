//! `steward completions`: shell completion scripts, generated from the command definitions.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{CommandError, Done};

/// Print a shell completion script for steward on stdout.
///
/// bash: `steward completions bash > /etc/bash_completion.d/steward`;
/// zsh: `steward completions zsh > "${fpath[1]}/_steward"`;
/// fish: `steward completions fish > ~/.config/fish/completions/steward.fish`;
/// PowerShell: `steward completions powershell >> $PROFILE`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args) -> Result<Done, CommandError> {
    let mut command = super::Cli::command();
    // Generate into memory first so a closed stdout is reported, not a panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "steward", &mut script);
    std::io::stdout()
        .write_all(&script)
        .map_err(|e| CommandError::io(format!("cannot write the completion script: {e}")))?;
    Ok(Done::Clean)
}
