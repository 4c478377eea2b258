//! Seed tenants for the sandbox.
