//! Reconciliation: desired and live models in, a plan out. A pure function of its inputs,
//! knowing nothing of HTTP or KDL.

pub mod apply;
pub mod deviation;
pub mod diff;
pub mod guard;
pub mod normalise;
pub mod plan;
pub mod risk;

pub use plan::{LiveIds, PlanError, PlanOptions, plan};

#[cfg(test)]
mod tests;
