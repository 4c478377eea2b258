//! sandbox layer.
