//! Every CLI and end-to-end test, in one binary: one link of the crate instead of one per
//! file. `graph_azcli` stays a binary of its own because it changes the process's PATH.

// Support modules are shared by many test modules; each uses only part of them.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fault_proxy;
#[allow(dead_code)]
mod graph_support;
#[allow(dead_code)]
mod sandbox_support;

mod access_reviews_sandbox;
mod apply_crash_property;
mod apply_faults;
mod apply_sandbox;
mod apply_saved_plan;
mod check_cli;
mod cli_fmt_schema;
mod cli_help;
mod cli_permissions;
mod cli_policies;
mod cli_robustness;
mod cli_validate;
mod cross_tenant_sandbox;
mod docs;
mod docs_sandbox_snippet;
mod drift_weakening;
mod export_sandbox;
mod fleet_cli;
mod fleet_deploy;
mod fleet_sandbox;
mod gitops_cli;
#[cfg(unix)]
mod gitops_scripts;
mod graph_auth;
mod graph_batch;
mod graph_client;
mod graph_limits;
mod graph_resolve;
mod limits_cli;
mod lockout_guard;
mod model_matches_graph;
mod plan_sandbox;
mod reads_validated;
mod real_tenants;
mod render_plan;
mod report_cli;
mod retention_labels_sandbox;
mod sandbox_behaviour;
mod sandbox_cli;
mod sandbox_examples;
mod sandbox_members;
mod sandbox_tenants;
mod sandbox_v1_shapes;
mod saved_plan_paths;
mod sharepoint_sandbox;
mod sharepoint_workflow;
mod tenant_invariant;
