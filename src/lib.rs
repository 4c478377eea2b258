//! steward: policy-as-code for Microsoft 365.
//!
//! Data flows one way: files → [`config`] → desired [`model`]; Microsoft Graph → [`graph`] → live
//! [`model`]; both → reconcile → plan → render or apply, steps that [`workflow`] runs for the
//! commands ([`cli`] parses, prints and picks exit codes). The [`sandbox`] is a Graph emulator (the
//! `steward-sandbox` crate, behind the default `sandbox` feature) that shares no types with the
//! model, so it catches mapping bugs instead of mirroring them.

pub mod baseline;
pub mod cli;
pub mod config;
pub mod fleet;
pub mod graph;
pub mod model;
pub mod reconcile;
pub mod render;
#[cfg(feature = "sandbox")]
pub use steward_sandbox as sandbox;
#[cfg(not(feature = "sandbox"))]
#[path = "no_sandbox.rs"]
pub mod sandbox;
pub mod workflow;
