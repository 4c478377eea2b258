//! config layer.
