//! Microsoft Graph client core: sign-in, a polite HTTP client (paging, `$batch`, retries,
//! throttling, errors, statistics) and batched name ⇄ id look-ups.
//!
//! The client speaks `serde_json::Value`; mapping to the model lives elsewhere.

pub mod auth;
pub mod batch;
pub mod client;
pub mod cloud;
pub mod error;
pub mod resolve;
pub mod stats;

pub use auth::{AuthMode, Credential, Secret};
pub use batch::{BatchItem, BatchResult};
pub use client::{ClientConfig, GraphClient, GraphRequest, GraphResponse, RetryPolicy};
pub use cloud::{Cloud, validate_endpoint};
pub use error::{GraphError, HttpError, ResolveError, TransportKind};
pub use resolve::{DirectoryObject, ObjectKind, Resolver, RoleCatalog};
pub use stats::StatsSnapshot;
