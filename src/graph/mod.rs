//! Microsoft Graph: sign-in, a polite HTTP client (paging, `$batch`, retries, throttling,
//! errors, statistics), batched name ⇄ id look-ups, and the per-kind mapping between Graph
//! JSON and the model.

pub mod apply;
pub mod auth;
pub mod batch;
pub mod client;
pub mod cloud;
pub mod desired;
pub mod error;
pub mod expect;
pub mod kinds;
pub mod membership;
pub mod permissions;
pub mod read;
pub mod resolve;
pub mod sharepoint;
pub mod stats;
pub mod tenant;

pub use auth::{AuthMode, Credential, Secret};
pub use batch::{BatchItem, BatchResult};
pub use client::{ClientConfig, GraphClient, GraphRequest, GraphResponse, RetryPolicy};
pub use cloud::{Cloud, validate_endpoint};
pub use error::{GraphError, HttpError, ResolveError, TransportKind};
pub use resolve::{DirectoryObject, Lookup, ObjectKind, Resolver, RoleCatalog};
pub use stats::StatsSnapshot;
