//! How every command ends, and the one table that maps its outcome to an exit code.
//!
//! Commands return [`Done`] or a [`CommandError`]; [`exit`] prints the error and picks the exit
//! code. No other place chooses an exit code.

use std::process::ExitCode;

use crate::config::Diagnostic;
use crate::graph::GraphError;
use crate::workflow;

/// The exit code of a command-line usage error (an unknown flag, a bad value): sysexits'
/// `EX_USAGE`, so that it is never mistaken for 2, "changes or drift".
pub const EXIT_USAGE: u8 = 64;

/// How a command that did its work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Nothing (more) to do: exit 0.
    Clean,
    /// Changes to apply (`plan --detailed-exitcode`) or drift found (`drift`): exit 2.
    Changes,
}

/// What kind of failure a [`CommandError`] is; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandErrorKind {
    /// Something the admin can fix: the files, a flag combination, a saved plan, what the
    /// tenant holds, a refused or cancelled apply.
    User,
    /// The command line itself: an unknown flag, a bad value, a bad `STEWARD_` variable.
    Usage,
    /// Microsoft Graph, or signing in to it, failed.
    Graph,
    /// A file, a directory or the terminal could not be read or written.
    Io,
    /// Work was carried out and reported, but not all of it succeeded (an incomplete or
    /// unverified apply, a check that found problems).
    Incomplete,
    /// steward itself failed (the async runtime, serialising its own output).
    Internal,
}

impl CommandErrorKind {
    /// The exit code of this kind of failure.
    pub fn exit_code(self) -> u8 {
        match self {
            CommandErrorKind::Usage => EXIT_USAGE,
            CommandErrorKind::User
            | CommandErrorKind::Graph
            | CommandErrorKind::Io
            | CommandErrorKind::Incomplete
            | CommandErrorKind::Internal => 1,
        }
    }
}

/// A command's failure: its kind, what to tell the admin, and diagnostics to show first.
#[derive(Debug)]
pub struct CommandError {
    /// What kind of failure it is.
    pub kind: CommandErrorKind,
    /// Printed as `error: …`; `None` when the command has already said everything.
    message: Option<String>,
    /// Located problems, printed before the message.
    diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or_default())
    }
}

impl std::error::Error for CommandError {}

impl CommandError {
    /// A failure of `kind`, told as `message`.
    pub fn new(kind: CommandErrorKind, message: impl Into<String>) -> CommandError {
        CommandError {
            kind,
            message: Some(message.into()),
            diagnostics: Vec::new(),
        }
    }

    /// Something the admin can fix.
    pub fn user(message: impl Into<String>) -> CommandError {
        CommandError::new(CommandErrorKind::User, message)
    }

    /// An I/O failure.
    pub fn io(message: impl Into<String>) -> CommandError {
        CommandError::new(CommandErrorKind::Io, message)
    }

    /// steward's own failure.
    pub fn internal(message: impl Into<String>) -> CommandError {
        CommandError::new(CommandErrorKind::Internal, message)
    }

    /// A failure the command has already reported in full: only the exit code is left.
    pub fn reported(kind: CommandErrorKind) -> CommandError {
        CommandError {
            kind,
            message: None,
            diagnostics: Vec::new(),
        }
    }

    /// Shows `diagnostics` before the message.
    pub fn with_diagnostics(mut self, diagnostics: Vec<Diagnostic>) -> CommandError {
        self.diagnostics = diagnostics;
        self
    }

    /// Prints the error to stderr and returns its exit code.
    pub fn report(self) -> ExitCode {
        super::output::print_diagnostics(&self.diagnostics);
        if let Some(message) = &self.message {
            eprintln!("error: {message}");
        }
        ExitCode::from(self.kind.exit_code())
    }
}

/// The exit code of a command's outcome, printing its error if it failed.
pub fn exit(result: Result<Done, CommandError>) -> ExitCode {
    match result {
        Ok(Done::Clean) => ExitCode::SUCCESS,
        Ok(Done::Changes) => ExitCode::from(2),
        Err(err) => err.report(),
    }
}

impl From<std::io::Error> for CommandError {
    fn from(err: std::io::Error) -> Self {
        CommandError::io(err.to_string())
    }
}

impl From<GraphError> for CommandError {
    fn from(err: GraphError) -> Self {
        CommandError::new(CommandErrorKind::Graph, err.to_string())
    }
}

impl From<workflow::Error> for CommandError {
    fn from(err: workflow::Error) -> Self {
        use workflow::Error as E;
        let kind = match &err {
            E::Connect(_) | E::Graph { .. } | E::Read(_) => CommandErrorKind::Graph,
            E::Io { .. } => CommandErrorKind::Io,
            E::Sandbox(_)
            | E::Unresolved { .. }
            | E::Plan(_)
            | E::SavedPlan(_)
            | E::Destination(_) => CommandErrorKind::User,
            E::Json { .. } => CommandErrorKind::Internal,
        };
        let message = err.to_string();
        let diagnostics = match err {
            E::Unresolved { diagnostics } => diagnostics,
            _ => Vec::new(),
        };
        CommandError::new(kind, message).with_diagnostics(diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_usage_errors_exit_64_and_every_other_failure_exits_1() {
        use CommandErrorKind::*;
        for kind in [User, Graph, Io, Incomplete, Internal] {
            assert_eq!(kind.exit_code(), 1, "{kind:?}");
        }
        assert_eq!(Usage.exit_code(), 64);
    }

    #[test]
    fn graph_failures_of_the_workflow_are_graph_errors_and_keep_their_text() {
        let err = workflow::Error::graph("cannot read the tenant")(GraphError::Config {
            message: "bad".into(),
        });
        let command = CommandError::from(err);
        assert_eq!(command.kind, CommandErrorKind::Graph);
        assert_eq!(command.to_string(), "cannot read the tenant: bad");
    }
}
