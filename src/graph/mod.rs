//! graph layer.
pub mod kinds;
