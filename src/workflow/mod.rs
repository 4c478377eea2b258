//! The workflow every command runs: connect → read → plan → apply, drift, saved plans and
//! export. The command-line layer parses arguments, calls this module and prints.

pub mod export;
pub mod graph_args;
pub mod plan;
pub mod planning;
