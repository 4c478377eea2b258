//! graph layer.
