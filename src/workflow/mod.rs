//! The workflow every command runs: connect → read → plan → apply, drift, saved plans and
//! export. The command-line layer parses arguments, calls this module, prints and maps its
//! [`Error`] to an exit code; tests and benches drive the same functions.

pub mod apply;
pub mod check;
pub mod export;
pub mod fleet;
pub mod graph_args;
pub mod plan;
pub mod planning;
pub mod report;

use crate::config::Diagnostic;
use crate::graph::GraphError;

pub use graph_args::GraphArgs;
pub use planning::{Planned, Target, TargetArgs};

/// Why a step of the workflow failed. Graph's failures stay [`GraphError`]s (status, code,
/// request-id), with what steward was doing when they happened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Signing in, or setting up the Graph client, failed.
    #[error(transparent)]
    Connect(Box<GraphError>),
    /// A Graph request failed while `doing`.
    #[error("{doing}: {source}")]
    Graph {
        /// What steward was doing, e.g. "cannot read the tenant".
        doing: &'static str,
        /// Graph's error.
        #[source]
        source: Box<GraphError>,
    },
    /// The tenant could not be read.
    #[error("cannot read the tenant: {0}")]
    Read(Box<crate::graph::read::ReadTenantError>),
    /// The `--sandbox` tenant did not start.
    #[error("cannot start the sandbox tenant: {0}")]
    Sandbox(String),
    /// A file or directory could not be read or written.
    #[error("{doing}: {source}")]
    Io {
        /// What failed, with the path, e.g. "cannot write plan.json".
        doing: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Declarations name objects the tenant does not have (`diagnostics` say where).
    #[error(
        "{} declaration(s) in the files do not resolve in the tenant; nothing was planned",
        .diagnostics.len()
    )]
    Unresolved {
        /// One per unresolved declaration, located in the files where possible.
        diagnostics: Vec<Diagnostic>,
    },
    /// No plan could be made (too many deletes, an ambiguous name).
    #[error(transparent)]
    Plan(#[from] crate::reconcile::PlanError),
    /// A saved plan cannot be used: another tenant, an old format, stale, edited, unreadable.
    #[error("{0}")]
    SavedPlan(String),
    /// Export cannot write where it was asked to.
    #[error("{0}")]
    Destination(String),
    /// A value could not be turned into JSON.
    #[error("{doing}: {source}")]
    Json {
        /// What failed.
        doing: &'static str,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// A failure to sign in or set up the client.
    pub fn connect(source: GraphError) -> Error {
        Error::Connect(Box::new(source))
    }

    /// A failure to read the tenant.
    pub fn read(source: crate::graph::read::ReadTenantError) -> Error {
        Error::Read(Box::new(source))
    }

    /// A Graph failure while `doing`.
    pub fn graph(doing: &'static str) -> impl FnOnce(GraphError) -> Error {
        move |source| Error::Graph {
            doing,
            source: Box::new(source),
        }
    }

    /// An I/O failure; `doing` names the path.
    pub fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let doing = doing.into();
        move |source| Error::Io { doing, source }
    }
}

/// A shorthand for this layer's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
