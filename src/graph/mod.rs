//! graph layer.
pub mod kinds;
pub mod permissions;
