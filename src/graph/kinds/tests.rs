//! Reading Microsoft's documented responses into the model.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::model::{
    AuthenticationMethodsPolicy, AuthorizationPolicy, ConditionalAccessPolicy, NamedLocation,
    RetentionLabel, SecurityDefaults, SharepointSettings,
};

/// The documented response body of an example under tests/fixtures/graph-examples.
fn example(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/graph-examples/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let example: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    example["response_body"].clone()
}

/// Names every object `name-<id prefix>`, like a tenant where everything exists.
struct Everything;

impl Directory for Everything {
    fn name_of(&self, kind: RefKind, id: &str) -> Option<String> {
        Some(format!("{}-{}", kind.noun().replace(' ', "_"), &id[..8]))
    }
}

/// A tenant where nothing exists.
struct Nothing;

impl Directory for Nothing {
    fn name_of(&self, _: RefKind, _: &str) -> Option<String> {
        None
    }
}

#[test]
fn a_documented_ca_policy_reads_with_names_for_ids() {
    let raw = example("ca-policy-get");
    let (policy, unexpressed): (ConditionalAccessPolicy, _) =
        read(Kind::ConditionalAccessPolicy, &raw, &Everything).expect("readable");
    assert_eq!(policy.display_name, "Demo app for documentation");
    let users = policy.conditions.users.as_ref().expect("users");
    let excluded: Vec<String> = users
        .exclude_users
        .iter()
        .flatten()
        .map(|u| u.0.to_string())
        .collect();
    assert_eq!(excluded, ["user-124c5b6a", "GuestsOrExternalUsers"]);
    let roles: Vec<String> = users
        .include_roles
        .iter()
        .flatten()
        .map(|r| r.0.to_string())
        .collect();
    assert_eq!(
        roles,
        [
            "directory_role-9b895d92",
            "directory_role-cf1c38e5",
            "directory_role-c4e39bd9"
        ]
    );
    // The legacy "MFA trusted IPs" location is kept as its well-known id.
    let excluded_locations: Vec<String> = policy
        .conditions
        .locations
        .iter()
        .flat_map(|l| l.exclude_locations.iter().flatten())
        .map(|l| l.0.to_string())
        .collect();
    assert_eq!(
        excluded_locations,
        [
            "00000000-0000-0000-0000-000000000000",
            "named_location-d2136c9c"
        ]
    );
    assert_eq!(unexpressed, []);
}

#[test]
fn a_reference_to_a_missing_object_is_an_error_naming_it() {
    let raw = example("ca-policy-get");
    let err = read::<ConditionalAccessPolicy>(Kind::ConditionalAccessPolicy, &raw, &Nothing).err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some("user a702a13d-a437-4a07-8a7e-8c052de62dfd referenced at /conditions/users/includeUsers/0 does not exist in the tenant".to_string())
    );
}

#[test]
fn references_lists_every_id_once() {
    let (json, _) = to_model_json(Kind::ConditionalAccessPolicy, &example("ca-policy-get"));
    let refs = references(Kind::ConditionalAccessPolicy, &json);
    let users: BTreeSet<&str> = refs
        .iter()
        .filter(|(k, _)| *k == RefKind::User)
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(
        users,
        BTreeSet::from([
            "124c5b6a-ffa5-483a-9b88-04c3fce5574a",
            "a702a13d-a437-4a07-8a7e-8c052de62dfd"
        ])
    );
    assert!(!refs.iter().any(|(_, id)| id == "GuestsOrExternalUsers"));
}

#[test]
fn ip_and_country_locations_read_into_one_model_type() {
    let (ip, _): (NamedLocation, _) = read(
        Kind::NamedLocation,
        &example("named-location-get-ip"),
        &Nothing,
    )
    .expect("ip");
    assert_eq!(
        ip.ip_ranges.as_deref(),
        Some(
            &[
                "12.34.221.11/22".to_string(),
                "2001:0:9d38:90d6:0:0:0:0/63".to_string()
            ][..]
        )
    );
    assert_eq!(ip.is_trusted, Some(false));
    assert!(!ip.is_country());
    let (country, _): (NamedLocation, _) = read(
        Kind::NamedLocation,
        &example("named-location-get-country"),
        &Nothing,
    )
    .expect("country");
    assert_eq!(
        country.countries_and_regions.as_deref(),
        Some(&["US".to_string(), "GB".to_string()][..])
    );
    assert!(country.is_country());
}

#[test]
fn the_documented_methods_policy_reads_each_method_into_its_field() {
    let raw = example("auth-methods-policy-get");
    let (policy, unexpressed): (AuthenticationMethodsPolicy, _) =
        read(Kind::AuthenticationMethodsPolicy, &raw, &Everything).expect("readable");
    assert_eq!(
        policy.fido2.as_ref().map(|m| m.state.as_str()),
        Some("disabled")
    );
    assert_eq!(
        policy.sms.as_ref().map(|m| m.state.as_str()),
        Some("enabled")
    );
    assert_eq!(
        policy
            .temporary_access_pass
            .as_ref()
            .and_then(|m| m.maximum_lifetime_in_minutes),
        Some(480)
    );
    // The old example's Authenticator target carries properties v1.0 no longer has: reported.
    let paths: Vec<&str> = unexpressed.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/microsoftAuthenticator/includeTargets/0/outlookMobileAllowedState",
            "/microsoftAuthenticator/includeTargets/0/displayAppInformationRequiredState",
            "/microsoftAuthenticator/includeTargets/0/numberMatchingRequiredState",
        ]
    );
}

#[test]
fn singletons_read_without_their_fixed_name_and_description() {
    let (defaults, unexpressed): (SecurityDefaults, _) = read(
        Kind::SecurityDefaults,
        &example("security-defaults-get"),
        &Nothing,
    )
    .expect("readable");
    assert!(defaults.is_enabled);
    assert_eq!(unexpressed, []);
    let (authz, unexpressed): (AuthorizationPolicy, _) = read(
        Kind::AuthorizationPolicy,
        &example("authorization-policy-get"),
        &Nothing,
    )
    .expect("readable");
    assert_eq!(
        authz.allow_invites_from.map(|a| a.as_str()),
        Some("everyone")
    );
    assert_eq!(unexpressed, []);
    let (sharepoint, _): (SharepointSettings, _) = read(
        Kind::SharepointSettings,
        &example("sharepoint-settings-get"),
        &Nothing,
    )
    .expect("readable");
    assert_eq!(
        sharepoint.deleted_user_personal_site_retention_period_in_days,
        Some(344)
    );
}

#[test]
fn a_retention_duration_in_days_reads_as_days() {
    let raw = example("retention-label-get");
    let label = raw.get("value").cloned().unwrap_or(raw);
    let (label, _): (RetentionLabel, _) =
        read(Kind::RetentionLabel, &label, &Nothing).expect("readable");
    assert_eq!(label.retention_duration.and_then(|d| d.days), Some(730));
    let forever = json!({"displayName": "Keep", "behaviorDuringRetentionPeriod": "retain",
        "retentionDuration": {"@odata.type": "#microsoft.graph.security.retentionDurationForever"}});
    let (label, _): (RetentionLabel, _) =
        read(Kind::RetentionLabel, &forever, &Nothing).expect("readable");
    assert_eq!(label.retention_duration.and_then(|d| d.forever), Some(true));
}

#[test]
fn an_enum_value_the_model_lacks_is_reported_not_dropped_silently() {
    let raw = json!({"displayName": "P", "state": "enabled", "conditions": {
        "clientAppTypes": ["all", "somethingNew"], "users": {"includeUsers": ["All"]},
        "applications": {"includeApplications": ["All"]}}, "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
        "newTopLevelSetting": {"on": true}});
    let (_, unexpressed) = to_model_json(Kind::ConditionalAccessPolicy, &raw);
    let paths: Vec<&str> = unexpressed.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/conditions/clientAppTypes/1", "/newTopLevelSetting"]
    );
}

#[test]
fn comma_joined_guest_types_become_a_list() {
    let raw = json!({"displayName": "P", "state": "enabled", "conditions": {"users": {
        "includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest",
        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", "membershipKind": "all"}}},
        "applications": {"includeApplications": ["All"]}}, "grantControls": {"operator": "OR", "builtInControls": ["mfa"],
        "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA"}}});
    let (policy, unexpressed): (ConditionalAccessPolicy, _) =
        read(Kind::ConditionalAccessPolicy, &raw, &Everything).expect("readable");
    let guests = policy
        .conditions
        .users
        .and_then(|u| u.include_guests_or_external_users)
        .expect("guests");
    assert_eq!(guests.guest_or_external_user_types.len(), 2);
    assert_eq!(
        policy
            .grant_controls
            .and_then(|g| g.authentication_strength)
            .map(|s| s.0.to_string()),
        Some("authentication_strength-00000000".to_string())
    );
    assert_eq!(unexpressed, []);
}

/// The response of the documented create example (security-labelsroot-post-retentionlabel.md,
/// v1.0), its missing comma restored, with the event type expanded as `$expand` returns it.
fn documented_created_label() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.security.retentionLabel",
        "id": "64a99fb4-07be-0481-8746-44c15c0eef1f",
        "displayName": "Retention Schedule 10005",
        "behaviorDuringRetentionPeriod": "retain",
        "actionAfterRetentionPeriod": "startDispositionReview",
        "retentionTrigger": "dateOfEvent",
        "retentionEventType": {"id": "E095F4FC-B966-4C40-94DE-FB8A383658E4"},
        "retentionDuration": {
            "@odata.type": "microsoft.graph.security.retentionDurationInDays",
            "days": 2555
        },
        "dispositionReviewStages": [
            {"stageNumber": 1, "name": "Stage1",
             "reviewersEmailAddresses ": ["Admin@contoso.onmicrosoft.com"]}
        ],
        "isInUse": "true",
        "descriptionForAdmins": "retain for 7 years",
        "descriptionForUsers": "retain for 7 years",
        "defaultRecordBehavior": "startLocked"
    })
}

#[test]
fn the_documented_event_based_label_with_review_stages_reads_completely() {
    let (label, unexpressed): (RetentionLabel, _) =
        read(Kind::RetentionLabel, &documented_created_label(), &Nothing).expect("readable");
    assert_eq!(unexpressed, []);
    assert_eq!(
        label.retention_event_type.as_deref(),
        Some("e095f4fc-b966-4c40-94de-fb8a383658e4")
    );
    let stages = label.disposition_review_stages.unwrap_or_default();
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0].stage_number, 1);
    assert_eq!(stages[0].name, "Stage1");
    assert_eq!(
        stages[0].reviewers_email_addresses,
        ["Admin@contoso.onmicrosoft.com"]
    );
    // Graph's metadata types the stage number as a string: read the same.
    let mut as_string = documented_created_label();
    as_string["dispositionReviewStages"][0]["stageNumber"] = json!("1");
    let (again, _): (RetentionLabel, _) =
        read(Kind::RetentionLabel, &as_string, &Nothing).expect("readable");
    assert_eq!(
        again.disposition_review_stages.map(|s| s[0].stage_number),
        Some(1)
    );
}

#[test]
fn an_event_based_label_is_written_with_its_event_type_bound_and_string_stage_numbers() {
    let mut value = json!({
        "displayName": "Retention Schedule 10005",
        "retentionTrigger": "dateOfEvent",
        "retentionEventType": "e095f4fc-b966-4c40-94de-fb8a383658e4",
        "retentionDuration": {"days": 2555},
        "dispositionReviewStages": [
            {"stageNumber": 1, "name": "Stage1", "reviewersEmailAddresses": ["Admin@contoso.onmicrosoft.com"]}
        ]
    });
    retention_label::to_graph(&mut value);
    assert_eq!(
        value,
        json!({
            "displayName": "Retention Schedule 10005",
            "retentionTrigger": "dateOfEvent",
            "retentionEventType@odata.bind": "https://graph.microsoft.com/v1.0/security/triggerTypes/retentionEventTypes('e095f4fc-b966-4c40-94de-fb8a383658e4')",
            "retentionDuration": {"@odata.type": "#microsoft.graph.security.retentionDurationInDays", "days": 2555},
            "dispositionReviewStages": [
                {"stageNumber": "1", "name": "Stage1", "reviewersEmailAddresses": ["Admin@contoso.onmicrosoft.com"]}
            ]
        })
    );
}
