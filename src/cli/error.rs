//! The error every command returns, and how it maps to an exit code.

use std::process::ExitCode;

/// A command's failure: what to tell the admin, and the exit code (1 unless said otherwise).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A problem the user can fix (bad flag combination, unreadable file, …).
    #[error("{0}")]
    User(String),
    /// Already reported to the user (e.g. diagnostics printed); exit with this code silently.
    #[error("")]
    Reported(u8),
    /// Anything else, shown with its full miette report.
    #[error("{0}")]
    Diagnostic(miette::Report),
}

impl CommandError {
    /// Prints the error to stderr and returns the exit code.
    pub fn report(self) -> ExitCode {
        match self {
            CommandError::User(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(1)
            }
            CommandError::Reported(code) => ExitCode::from(code),
            CommandError::Diagnostic(report) => {
                eprintln!("{report:?}");
                ExitCode::from(1)
            }
        }
    }
}

impl From<std::io::Error> for CommandError {
    fn from(err: std::io::Error) -> Self {
        CommandError::User(err.to_string())
    }
}

impl From<miette::Report> for CommandError {
    fn from(report: miette::Report) -> Self {
        CommandError::Diagnostic(report)
    }
}
