//! The differ against the false drift other tools are known for: each case varies the
//! tenant's JSON the way Graph may return it, and the plan must say nothing changes.

use serde_json::{Value, json};

use super::{LiveIds, PlanOptions, plan};
use crate::config::load_str;
use crate::graph::kinds::{self, Directory};
use crate::model::plan::Action;
use crate::model::reference::RefKind;
use crate::model::{Address, Desired, Kind};

const POLICY: &str = r#"
named-location "HQ" {
    ip-ranges "203.0.113.0/24" "2001:db8::/48"
    is-trusted #true
}
authentication-strength "FIDO or WHfB" {
    allowed-combinations "fido2" "windowsHelloForBusiness" "password,sms"
}
conditional-access-policy "CA1" {
    state enabled
    conditions {
        users {
            include-users All
            exclude-users "bg1@contoso.com" "bg2@contoso.com"
            exclude-groups "Finance" "HR"
            include-guests-or-external-users {
                guest-or-external-user-types internalGuest b2bCollaborationGuest
                external-tenants membership-kind=all
            }
        }
        applications { include-applications All; exclude-applications "797f4846-ba00-4fd7-ba43-dac1f8f63013" }
        client-app-types browser mobileAppsAndDesktopClients
        platforms { include-platforms all; exclude-platforms iOS android }
        locations { include-locations All; exclude-locations "HQ" }
    }
    grant-controls operator=OR { built-in-controls mfa compliantDevice }
}
sharepoint-settings {
    sharing-capability existingExternalUserSharingOnly
    sharing-allowed-domain-list "fabrikam.com" "contoso.com"
    is-resharing-by-external-users-enabled #false
}
authorization-policy {
    block-msol-power-shell #false
}
"#;

/// The tenant's Graph JSON for POLICY, as Graph returns it on create (every list present,
/// unset blocks null, server fields added).
fn tenant() -> Vec<(Kind, Value)> {
    vec![
        (
            Kind::NamedLocation,
            json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation", "id": "loc-1", "displayName": "HQ",
            "createdDateTime": "2024-01-01T00:00:00Z", "modifiedDateTime": "2024-01-01T00:00:00Z", "isTrusted": true,
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"},
                         {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/48"}]}),
        ),
        (
            Kind::AuthenticationStrength,
            json!({
            "id": "str-1", "displayName": "FIDO or WHfB", "description": null, "policyType": "custom",
            "requirementsSatisfied": "mfa", "allowedCombinations": ["fido2", "windowsHelloForBusiness", "password,sms"],
            "combinationConfigurations": []}),
        ),
        (
            Kind::ConditionalAccessPolicy,
            json!({
            "id": "ca-1", "displayName": "CA1", "createdDateTime": "2024-01-01T00:00:00Z", "modifiedDateTime": null,
            "templateId": null, "state": "enabled", "sessionControls": null,
            "conditions": {
                "userRiskLevels": [], "signInRiskLevels": [], "servicePrincipalRiskLevels": [],
                "clientAppTypes": ["browser", "mobileAppsAndDesktopClients"], "platforms": {"includePlatforms": ["all"], "excludePlatforms": ["iOS", "android"]},
                "locations": {"includeLocations": ["All"], "excludeLocations": ["HQ"]}, "devices": null, "clientApplications": null,
                "applications": {"includeApplications": ["All"], "excludeApplications": ["797f4846-ba00-4fd7-ba43-dac1f8f63013"], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
                "users": {"includeUsers": ["All"], "excludeUsers": ["bg1@contoso.com", "bg2@contoso.com"], "includeGroups": [], "excludeGroups": ["Finance", "HR"], "includeRoles": [], "excludeRoles": [],
                    "includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest", "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", "membershipKind": "all"}},
                    "excludeGuestsOrExternalUsers": null}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa", "compliantDevice"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": null}}),
        ),
        (
            Kind::SharepointSettings,
            json!({
            "sharingCapability": "existingExternalUserSharingOnly", "sharingAllowedDomainList": ["fabrikam.com", "contoso.com"],
            "isResharingByExternalUsersEnabled": false, "isLoopEnabled": true}),
        ),
        (
            Kind::AuthorizationPolicy,
            json!({"id": "authorizationPolicy", "displayName": "Authorization Policy", "blockMsolPowerShell": false}),
        ),
    ]
}

/// References in this test are already names on both sides.
struct Same;

impl Directory for Same {
    fn name_of(&self, _: RefKind, id: &str) -> Option<String> {
        Some(id.to_string())
    }
}

fn live_model(objects: &[(Kind, Value)]) -> (Desired, LiveIds) {
    let mut model = Desired::default();
    let mut ids = LiveIds::new();
    for (kind, raw) in objects {
        let name = raw
            .get("displayName")
            .and_then(Value::as_str)
            .map(String::from);
        let address = Address {
            kind: *kind,
            name: if kind.arity() == crate::model::Arity::Named {
                name
            } else {
                None
            },
            pin: None,
        };
        if let Some(id) = raw.get("id").and_then(Value::as_str) {
            ids.insert(address, id.to_string());
        }
        let (mut json, _) = kinds::to_model_json(*kind, raw);
        assert!(kinds::name_references(*kind, &mut json, &Same).is_empty());
        assert!(model.insert(*kind, Value::Object(json)).is_ok(), "{kind}");
    }
    (model, ids)
}

fn desired() -> Desired {
    let loaded = load_str("policy.kdl", POLICY);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.desired
}

/// Applies `vary` to the tenant JSON and asserts the plan has no changes.
fn assert_no_drift(case: &str, vary: impl Fn(&mut Vec<(Kind, Value)>)) {
    let mut objects = tenant();
    vary(&mut objects);
    let (live, ids) = live_model(&objects);
    let plan = plan(&desired(), &live, &ids, &PlanOptions::default()).expect("a plan");
    let changed: Vec<String> = plan
        .resources
        .iter()
        .filter(|r| r.action != Action::NoOp)
        .map(|r| format!("{} {:?} {:?}", r.address, r.action, r.changes))
        .collect();
    assert!(changed.is_empty(), "{case}: false drift: {changed:#?}");
}

fn policy(objects: &mut [(Kind, Value)]) -> &mut Value {
    &mut objects[2].1
}

#[test]
fn the_tenant_as_created_is_no_change() {
    assert_no_drift("as created", |_| {});
}

#[test]
fn null_empty_list_and_absent_lists_are_no_change() {
    assert_no_drift("null vs []", |o| {
        policy(o)["conditions"]["users"]["includeGroups"] = Value::Null;
        policy(o)["conditions"]["applications"]
            .as_object_mut()
            .map(|a| a.remove("includeUserActions"));
    });
}

#[test]
fn null_versus_false_is_no_change() {
    assert_no_drift("null vs false", |o| {
        o[4].1["blockMsolPowerShell"] = Value::Null;
        o[3].1["isResharingByExternalUsersEnabled"] = Value::Null;
    });
}

#[test]
fn reordered_user_group_application_and_location_lists_are_no_change() {
    assert_no_drift("reordered lists", |o| {
        policy(o)["conditions"]["users"]["excludeUsers"] =
            json!(["bg2@contoso.com", "bg1@contoso.com"]);
        policy(o)["conditions"]["users"]["excludeGroups"] = json!(["HR", "Finance"]);
        policy(o)["conditions"]["platforms"]["excludePlatforms"] = json!(["android", "iOS"]);
        policy(o)["grantControls"]["builtInControls"] = json!(["compliantDevice", "mfa"]);
        policy(o)["conditions"]["clientAppTypes"] =
            json!(["mobileAppsAndDesktopClients", "browser"]);
    });
}

#[test]
fn reordered_allowed_domains_are_no_change() {
    assert_no_drift("reordered domains", |o| {
        o[3].1["sharingAllowedDomainList"] = json!(["contoso.com", "fabrikam.com"]);
    });
}

#[test]
fn enum_and_guid_casing_is_no_change() {
    assert_no_drift("casing", |o| {
        policy(o)["conditions"]["platforms"]["excludePlatforms"] = json!(["IOS", "Android"]);
        policy(o)["conditions"]["applications"]["excludeApplications"] =
            json!(["797F4846-BA00-4FD7-BA43-DAC1F8F63013"]);
        policy(o)["conditions"]["users"]["excludeUsers"] =
            json!(["BG1@contoso.com", "bg2@CONTOSO.com"]);
    });
}

#[test]
fn guest_types_in_another_order_are_no_change() {
    assert_no_drift("guest types order", |o| {
        policy(o)["conditions"]["users"]["includeGuestsOrExternalUsers"]["guestOrExternalUserTypes"] =
            json!("b2bCollaborationGuest,internalGuest");
    });
}

#[test]
fn combinations_with_spaces_are_no_change() {
    assert_no_drift("combination spacing", |o| {
        o[1].1["allowedCombinations"] =
            json!(["password, sms", "windowsHelloForBusiness", "fido2"]);
    });
}

#[test]
fn server_default_session_controls_are_no_change() {
    assert_no_drift("default session controls", |o| {
        policy(o)["sessionControls"] = json!({"applicationEnforcedRestrictions": null, "cloudAppSecurity": null,
            "persistentBrowser": null, "signInFrequency": {"isEnabled": false, "value": null, "type": null}, "disableResilienceDefaults": false});
    });
}

#[test]
fn server_added_template_id_and_timestamps_are_no_change() {
    assert_no_drift("server fields", |o| {
        policy(o)["templateId"] = json!("c7503427-338e-4c5e-902d-abe252abfb43");
        policy(o)["modifiedDateTime"] = json!("2025-06-01T10:00:00Z");
        policy(o)["deletedDateTime"] = Value::Null;
    });
}

#[test]
fn odata_type_present_or_not_is_no_change() {
    assert_no_drift("@odata.type", |o| {
        o[0].1["ipRanges"] =
            json!([{"cidrAddress": "203.0.113.0/24"}, {"cidrAddress": "2001:db8:0:0:0:0:0:0/48"}]);
        policy(o)["@odata.type"] = json!("#microsoft.graph.conditionalAccessPolicy");
    });
}

#[test]
fn an_undeclared_property_is_left_alone() {
    assert_no_drift("partial management", |o| {
        o[3].1["isLoopEnabled"] = json!(false);
        o[3].1["sharingBlockedDomainList"] = json!(["rival.example"]);
    });
}

#[test]
fn a_real_change_is_shown_with_set_elements_added_and_removed() {
    let mut objects = tenant();
    policy(&mut objects)["conditions"]["users"]["excludeUsers"] =
        json!(["bg1@contoso.com", "intern@contoso.com"]);
    policy(&mut objects)["state"] = json!("enabledForReportingButNotEnforced");
    let (live, ids) = live_model(&objects);
    let plan = plan(&desired(), &live, &ids, &PlanOptions::default()).expect("a plan");
    let ca = plan
        .resources
        .iter()
        .find(|r| r.kind == Kind::ConditionalAccessPolicy)
        .expect("the policy");
    assert_eq!(ca.action, Action::Update);
    assert_eq!(ca.id.as_deref(), Some("ca-1"));
    let paths: Vec<&str> = ca.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["state", "conditions.users.exclude-users"]);
    assert_eq!(ca.changes[1].added, [json!("bg2@contoso.com")]);
    assert_eq!(ca.changes[1].removed, [json!("intern@contoso.com")]);
    assert_eq!(plan.summary.change, 1);
}

#[test]
fn a_missing_resource_is_a_create_ordered_before_the_policies_using_it() {
    let mut objects = tenant();
    objects.remove(0); // the named location
    objects.remove(1); // the policy
    let (live, ids) = live_model(&objects);
    let plan = plan(&desired(), &live, &ids, &PlanOptions::default()).expect("a plan");
    let order: Vec<(Kind, Action)> = plan.resources.iter().map(|r| (r.kind, r.action)).collect();
    assert_eq!(order[0], (Kind::NamedLocation, Action::Create));
    assert_eq!(order[2], (Kind::ConditionalAccessPolicy, Action::Create));
    assert_eq!(plan.summary.add, 2);
}

#[test]
fn undeclared_objects_are_unmanaged_unless_pruned_and_deletes_are_capped() {
    let mut objects = tenant();
    let mut extra = objects[2].1.clone();
    extra["displayName"] = json!("Legacy policy");
    extra["id"] = json!("ca-2");
    objects.push((Kind::ConditionalAccessPolicy, extra));
    let (live, ids) = live_model(&objects);
    let p = plan(&desired(), &live, &ids, &PlanOptions::default()).expect("a plan");
    assert_eq!(p.unmanaged.len(), 1);
    assert_eq!(p.unmanaged[0].name, "Legacy policy");
    assert_eq!(p.summary.destroy, 0);

    let mut pruning = desired();
    pruning.prune.push(crate::model::Prune {
        kind: crate::model::PruneKind::ConditionalAccessPolicy,
        name_prefix: Some("Legacy".into()),
    });
    let err = plan(&pruning, &live, &ids, &PlanOptions::default()).err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some("the plan would delete 1 object but --max-deletes is 0: conditional-access-policy \"Legacy policy\"; if these deletes are intended, raise --max-deletes, else narrow the prune scope".to_string())
    );
    let p = plan(&pruning, &live, &ids, &PlanOptions { max_deletes: 1 }).expect("a plan");
    let last = p.resources.last().expect("a delete");
    assert_eq!(
        (last.action, last.id.as_deref()),
        (Action::Delete, Some("ca-2"))
    );
    assert_eq!(
        p.risks.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["ca-deleted"]
    );
}

#[test]
fn a_renamed_resource_is_an_update_of_its_name() {
    let mut objects = tenant();
    objects[2].1["displayName"] = json!("CA1 old name");
    let mut wanted = desired();
    wanted.conditional_access_policies[0].renamed_from = Some("CA1 old name".into());
    let (live, ids) = live_model(&objects);
    let p = plan(&wanted, &live, &ids, &PlanOptions::default()).expect("a plan");
    let ca = p
        .resources
        .iter()
        .find(|r| r.kind == Kind::ConditionalAccessPolicy)
        .expect("policy");
    assert_eq!(ca.action, Action::Update);
    assert_eq!(ca.changes.len(), 1);
    assert_eq!(
        (ca.changes[0].path.as_str(), &ca.changes[0].after),
        ("display-name", &json!("CA1"))
    );
}

#[test]
fn risky_changes_are_called_out() {
    let mut objects = tenant();
    policy(&mut objects)["grantControls"]["operator"] = json!("AND");
    objects[3].1["sharingCapability"] = json!("disabled");
    let mut wanted = desired();
    wanted.conditional_access_policies[0].state =
        crate::model::conditional_access::PolicyState::Disabled;
    let (live, ids) = live_model(&objects);
    let p = plan(&wanted, &live, &ids, &PlanOptions::default()).expect("a plan");
    let codes: Vec<&str> = p.risks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["ca-disabled", "weaker-grant", "sharing-widened"]);
}

#[test]
fn opening_collaboration_to_everyone_and_trusting_a_partners_mfa_are_risky_in_a_plan() {
    let files = load_str(
        "x.kdl",
        r#"cross-tenant-access {
    b2b-collaboration-inbound {
        users-and-groups access-type=allowed { users All; }
    }
}
cross-tenant-partner "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a" {
    inbound-trust is-mfa-accepted=#true
}
"#,
    );
    assert!(!files.has_errors(), "{:?}", files.diagnostics);
    let mut live = Desired::default();
    let closed = json!({"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "blocked", "users": ["All"]}}});
    assert!(live.insert(Kind::CrossTenantAccess, closed).is_ok());
    let p = plan(
        &files.desired,
        &live,
        &LiveIds::new(),
        &PlanOptions::default(),
    )
    .expect("a plan");
    let risks: Vec<(&str, &str, Option<&str>)> = p
        .risks
        .iter()
        .map(|r| (r.code.as_str(), r.address.as_str(), r.path.as_deref()))
        .collect();
    assert_eq!(
        risks,
        [
            (
                "collaboration-opened",
                "cross-tenant-access",
                Some("b2b-collaboration-inbound.users-and-groups")
            ),
            (
                "mfa-trust-granted",
                "cross-tenant-partner \"3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\"",
                Some("inbound-trust.is-mfa-accepted")
            ),
        ]
    );
    assert_eq!(
        p.risks[0].message,
        "B2B collaboration into this tenant opened to every user of every other organisation"
    );
}

/// An access review as the files say it, with `scope` and a reviewer description.
fn guest_review(scope: &str, description: &str) -> Desired {
    let files = load_str(
        "r.kdl",
        &format!(
            "access-review \"R\" {{\n    description-for-reviewers \"{description}\"\n    scope {scope}\n    reviewers self-review=#true\n    settings {{ auto-apply-decisions-enabled #true; }}\n}}\n"
        ),
    );
    assert!(!files.has_errors(), "{:?}", files.diagnostics);
    files.desired
}

#[test]
fn a_new_review_scope_forces_replacement_and_a_new_description_does_not() {
    let mut live = guest_review("guests-in=allMicrosoft365Groups", "a");
    live.access_reviews[0].id = Some("r1".into());
    let ids = LiveIds::new();
    let described = plan(
        &guest_review("guests-in=allMicrosoft365Groups", "b"),
        &live,
        &ids,
        &PlanOptions::default(),
    )
    .expect("a plan");
    assert_eq!(described.resources[0].action, Action::Update);
    let rescoped = plan(
        &guest_review("guests-in=allTeams", "a"),
        &live,
        &ids,
        &PlanOptions::default(),
    )
    .expect("a plan");
    let change = &rescoped.resources[0];
    assert_eq!(change.action, Action::Replace);
    assert_eq!(change.forcing_replacement(), ["scope.guests-in"]);
    assert_eq!(
        (
            rescoped.summary.add,
            rescoped.summary.change,
            rescoped.summary.destroy
        ),
        (1, 0, 1)
    );
    let codes: Vec<&str> = rescoped.risks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["review-replaced"]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Whatever order Graph returns lists in, an unchanged tenant plans no change.
        #[test]
        fn list_order_never_matters(seed in any::<u64>()) {
            let mut objects = tenant();
            let mut rng = seed;
            let mut shuffle = |v: &mut Value| {
                if let Some(items) = v.as_array_mut() {
                    for i in (1..items.len()).rev() {
                        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        items.swap(i, (rng >> 33) as usize % (i + 1));
                    }
                }
            };
            shuffle(&mut policy(&mut objects)["conditions"]["users"]["excludeUsers"]);
            shuffle(&mut policy(&mut objects)["conditions"]["users"]["excludeGroups"]);
            shuffle(&mut policy(&mut objects)["grantControls"]["builtInControls"]);
            shuffle(&mut objects[1].1["allowedCombinations"]);
            shuffle(&mut objects[0].1["ipRanges"]);
            shuffle(&mut objects[3].1["sharingAllowedDomainList"]);
            let (live, ids) = live_model(&objects);
            let plan = plan(&desired(), &live, &ids, &PlanOptions::default()).expect("a plan");
            prop_assert!(plan.summary.is_empty(), "{:?}", plan.resources);
        }

        /// A declared set differs from the tenant's exactly by the elements added and removed.
        #[test]
        fn set_changes_report_exact_differences(keep in proptest::collection::vec(any::<bool>(), 2), extra in "[a-z]{3,8}") {
            let mut objects = tenant();
            let mut users: Vec<Value> = ["bg1@contoso.com", "bg2@contoso.com"]
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(u, _)| json!(u))
                .collect();
            let stranger = format!("{extra}@fabrikam.com");
            users.push(json!(stranger.clone()));
            policy(&mut objects)["conditions"]["users"]["excludeUsers"] = Value::Array(users);
            let (live, ids) = live_model(&objects);
            let plan = plan(&desired(), &live, &ids, &PlanOptions::default()).expect("a plan");
            let ca = plan.resources.iter().find(|r| r.kind == Kind::ConditionalAccessPolicy).expect("policy");
            let change = ca.changes.iter().find(|c| c.path == "conditions.users.exclude-users").expect("a change");
            let expected_added: Vec<Value> = ["bg1@contoso.com", "bg2@contoso.com"]
                .iter()
                .zip(&keep)
                .filter(|(_, k)| !**k)
                .map(|(u, _)| json!(u))
                .collect();
            prop_assert_eq!(&change.added, &expected_added);
            prop_assert_eq!(&change.removed, &vec![json!(stranger)]);
        }
    }
}

/// A `sharepoint-settings` configuration from its JSON form.
fn sharepoint(json: Value) -> Desired {
    let mut desired = Desired::default();
    assert!(desired.insert(Kind::SharepointSettings, json).is_ok());
    desired
}

#[test]
fn sharepoints_own_settings_weakened_are_risky_in_apply_and_in_drift() {
    let strict = sharepoint(json!({
        "sharingCapability": "externalUserAndGuestSharing",
        "oneDriveSharingCapability": "existingExternalUserSharingOnly",
        "defaultSharingLinkType": "specific-people",
        "defaultLinkPermission": "view",
        "requireAnonymousLinksExpireInDays": 30,
        "fileAnonymousLinkType": "view",
        "folderAnonymousLinkType": "none",
        "externalUserExpirationRequired": true,
        "unmanagedDeviceAccess": "block",
        "restrictedSearchMode": "enabled"
    }));
    let loose = sharepoint(json!({
        "sharingCapability": "externalUserAndGuestSharing",
        "oneDriveSharingCapability": "externalUserAndGuestSharing",
        "defaultSharingLinkType": "anyone",
        "defaultLinkPermission": "edit",
        "requireAnonymousLinksExpireInDays": 0,
        "fileAnonymousLinkType": "edit",
        "folderAnonymousLinkType": "edit",
        "externalUserExpirationRequired": false,
        "unmanagedDeviceAccess": "full-access",
        "restrictedSearchMode": "disabled"
    }));
    let expected = [
        "sharing-widened",
        "sharing-widened",
        "links-editable",
        "anyone-links-longer-lived",
        "anyone-links-editable",
        "anyone-links-editable",
        "guest-expiry-removed",
        "unmanaged-devices-full-access",
        "search-restriction-off",
    ];
    // Apply would loosen the tenant.
    let p = plan(&loose, &strict, &LiveIds::new(), &PlanOptions::default()).expect("a plan");
    let codes: Vec<&str> = p.risks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, expected);
    // Someone loosened the tenant the files keep strict.
    let p = plan(&strict, &loose, &LiveIds::new(), &PlanOptions::default()).expect("a plan");
    let drift = super::risk::assess(&p.resources, crate::model::plan::Direction::Drift);
    let codes: Vec<&str> = drift.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, expected);
    // Tightening is not risky.
    assert!(p.risks.is_empty(), "{:?}", p.risks);
}
