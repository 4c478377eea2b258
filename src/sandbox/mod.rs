//! The sandbox tenant: a local Microsoft Graph–compatible server.
//!
//! It stores raw Graph JSON and shares no types with [`crate::model`], so it catches mapping
//! mistakes instead of mirroring them.

pub mod seed;
