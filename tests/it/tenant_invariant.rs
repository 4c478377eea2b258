//! The invariant that makes adoption safe, over generated tenants: for any tenant the sandbox
//! can hold — orphaned ids, duplicate and case-variant names, types steward does not model,
//! empty values — `export` succeeds, its files validate, and `plan` of them reports no
//! changes; and nothing in an undeclared object changes the plan of a declared one.

use crate::common;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use steward::sandbox::SandboxConfig;

/// Names drawn with repeats and case variants on purpose.
const GROUP_NAMES: &[&str] = &["Finance", "finance", "HR", "Sales", "Finance"];
const POLICY_NAMES: &[&str] = &[
    "Require MFA",
    "require mfa",
    "Block legacy",
    "Template",
    "Template",
];
const LOCATION_NAMES: &[&str] = &["HQ", "hq", "Branch"];

/// What one generated tenant holds, as indices into the pools above.
#[derive(Debug, Clone)]
struct Tenant {
    groups: Vec<usize>,
    users: usize,
    /// (location name, kind: 0 ip, 1 country, 2 unsupported type)
    locations: Vec<(usize, u8)>,
    policies: Vec<Policy>,
}

#[derive(Debug, Clone)]
struct Policy {
    name: usize,
    state: u8,
    /// Indices into users (u < users), groups, or past them: deleted objects.
    include_users: Vec<usize>,
    exclude_groups: Vec<usize>,
    exclude_location: Option<usize>,
    /// Lists Graph leaves empty written as `null` instead of `[]`.
    nulls: bool,
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        0..POLICY_NAMES.len(),
        0u8..3,
        prop::collection::vec(0usize..6, 0..3),
        prop::collection::vec(0usize..7, 0..3),
        prop::option::of(0usize..4),
        any::<bool>(),
    )
        .prop_map(
            |(name, state, include_users, exclude_groups, exclude_location, nulls)| Policy {
                name,
                state,
                include_users,
                exclude_groups,
                exclude_location,
                nulls,
            },
        )
}

fn tenant() -> impl Strategy<Value = Tenant> {
    (
        prop::collection::vec(0..GROUP_NAMES.len(), 0..5),
        1usize..4,
        prop::collection::vec((0..LOCATION_NAMES.len(), 0u8..3), 0..4),
        prop::collection::vec(policy(), 0..6),
    )
        .prop_map(|(groups, users, locations, policies)| Tenant {
            groups,
            users,
            locations,
            policies,
        })
}

fn id(ns: u32, n: usize) -> String {
    format!("{ns:08x}-0000-4000-8000-{n:012x}")
}

/// The fixed, declared policy every generated tenant holds, and the file declaring it.
const FIXED: &str = "Fixed - Require MFA for everyone";
const FIXED_FILE: &str = r#"conditional-access-policy "Fixed - Require MFA for everyone" {
    state enabledForReportingButNotEnforced
    conditions {
        users {
            include-users All
            exclude-users "fixed.user@contoso.test"
        }
        applications { include-applications All }
        client-app-types all
    }
    grant-controls operator=OR { built-in-controls mfa }
}
"#;

fn ca_policy(
    id: &str,
    name: &str,
    state: &str,
    users: Value,
    locations: Value,
    nulls: bool,
) -> Value {
    let empty = if nulls { Value::Null } else { json!([]) };
    json!({
        "id": id,
        "templateId": null,
        "displayName": name,
        "createdDateTime": "2024-01-01T00:00:00Z",
        "modifiedDateTime": null,
        "state": state,
        "sessionControls": null,
        "conditions": {
            "userRiskLevels": empty,
            "signInRiskLevels": [],
            "clientAppTypes": ["all"],
            "platforms": null,
            "locations": locations,
            "devices": null,
            "clientApplications": null,
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": empty,
                "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [],
                "applicationFilter": null
            },
            "users": users
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": empty
        }
    })
}

fn state_of(t: &Tenant) -> Map<String, Value> {
    let mut state = steward::sandbox::seed::empty();
    let users: Vec<Value> = (0..=t.users)
        .map(|u| {
            let upn = if u == 0 {
                "fixed.user@contoso.test".to_string()
            } else {
                format!("user{u}@contoso.test")
            };
            json!({"id": id(0xaaaa_0001, u), "displayName": format!("User {u}"),
                   "userPrincipalName": upn, "accountEnabled": true})
        })
        .collect();
    let groups: Vec<Value> = t
        .groups
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"id": id(0xaaaa_0002, i), "displayName": GROUP_NAMES[*n],
                   "mailEnabled": false, "securityEnabled": true, "groupTypes": []})
        })
        .collect();
    let locations: Vec<Value> = t
        .locations
        .iter()
        .enumerate()
        .map(|(i, (n, kind))| {
            let name = LOCATION_NAMES[*n];
            let lid = id(0xaaaa_0003, i);
            match kind {
                0 => json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": lid,
                    "displayName": name, "isTrusted": false,
                    "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange",
                                  "cidrAddress": format!("192.0.2.{}/32", i)}]}),
                1 => json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": lid,
                    "displayName": name, "countriesAndRegions": ["FR"],
                    "includeUnknownCountriesAndRegions": false,
                    "countryLookupMethod": "clientIpAddress"}),
                _ => json!({"@odata.type": "#microsoft.graph.compliantNetworkNamedLocation",
                    "id": lid, "displayName": name,
                    "compliantNetworkType": "allTenantCompliantNetworks", "isTrusted": true}),
            }
        })
        .collect();
    let mut policies = vec![ca_policy(
        &id(0xaaaa_0004, 999),
        FIXED,
        "enabledForReportingButNotEnforced",
        json!({"includeUsers": ["All"], "excludeUsers": [id(0xaaaa_0001, 0)],
               "includeGroups": [], "excludeGroups": [], "includeRoles": [], "excludeRoles": [],
               "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}),
        Value::Null,
        false,
    )];
    for (i, p) in t.policies.iter().enumerate() {
        // Past the ends of the pools: objects deleted since the policy was written.
        let include_users: Vec<String> = if p.include_users.is_empty() {
            vec!["All".into()]
        } else {
            p.include_users
                .iter()
                .map(|u| id(0xaaaa_0001, *u + 1))
                .collect()
        };
        let exclude_groups: Vec<String> = p
            .exclude_groups
            .iter()
            .map(|g| id(0xaaaa_0002, *g))
            .collect();
        let locations = match p.exclude_location {
            Some(l) => {
                json!({"includeLocations": ["All"], "excludeLocations": [id(0xaaaa_0003, l)]})
            }
            None => Value::Null,
        };
        let state = ["enabled", "disabled", "enabledForReportingButNotEnforced"][p.state as usize];
        policies.push(ca_policy(
            &id(0xaaaa_0004, i),
            POLICY_NAMES[p.name],
            state,
            json!({"includeUsers": include_users, "excludeUsers": [],
                   "includeGroups": [], "excludeGroups": exclude_groups,
                   "includeRoles": [], "excludeRoles": [],
                   "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}),
            locations,
            p.nulls,
        ));
    }
    state.insert("users".into(), Value::Array(users));
    state.insert("groups".into(), Value::Array(groups));
    state.insert(
        "identity/conditionalAccess/namedLocations".into(),
        Value::Array(locations),
    );
    state.insert(
        "identity/conditionalAccess/policies".into(),
        Value::Array(policies),
    );
    state
}

async fn check(t: Tenant) -> Result<(), TestCaseError> {
    let scratch = common::Scratch::new();
    let path = scratch.write(
        "state.json",
        serde_json::to_string(&state_of(&t)).unwrap_or_default(),
    );
    let sandbox = steward::sandbox::start(SandboxConfig {
        state: Some(path),
        accept_tokens: vec![common::TOKEN.to_string()],
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| TestCaseError::fail(format!("sandbox: {e}")))?;
    let url = sandbox.url();
    let env = [
        ("STEWARD_GRAPH_URL", url.as_str()),
        ("STEWARD_GRAPH_TOKEN", common::TOKEN),
    ];
    let kinds = "conditional-access-policy,named-location";
    let exported = common::steward_async(
        scratch.path(),
        &["export", "--out", "out", "--kinds", kinds],
        &env,
    )
    .await;
    prop_assert_eq!(exported.code, 0, "export: {}", exported.stderr);
    let validated = common::steward_async(scratch.path(), &["validate", "out"], &env).await;
    prop_assert_eq!(validated.code, 0, "validate: {}", validated.stderr);
    let planned = common::steward_async(
        scratch.path(),
        &["plan", "out", "--detailed-exitcode"],
        &env,
    )
    .await;
    prop_assert_eq!(
        planned.code,
        0,
        "plan of the export: {}\n{}",
        planned.stdout,
        planned.stderr
    );

    // The declared policy plans clean whatever else the tenant holds.
    scratch.write("declared/fixed.kdl", FIXED_FILE);
    let fixed = common::steward_async(
        scratch.path(),
        &[
            "plan",
            "declared",
            "--detailed-exitcode",
            "--format",
            "json",
        ],
        &env,
    )
    .await;
    prop_assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    let plan: Value = serde_json::from_str(&fixed.stdout)
        .map_err(|e| TestCaseError::fail(format!("plan JSON: {e}")))?;
    prop_assert_eq!(
        &plan["resource_changes"][0]["actions"],
        &json!(["no-op"]),
        "{}",
        fixed.stdout
    );
    sandbox.shutdown().await;
    Ok(())
}

proptest! {
    // Each case starts a sandbox and runs the binary four times: a few cases cover the mix.
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_tenant_exports_files_that_validate_and_plan_clean(t in tenant()) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(format!("runtime: {e}")))?;
        runtime.block_on(check(t))?;
    }
}
