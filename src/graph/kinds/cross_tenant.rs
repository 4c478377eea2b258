//! Cross-tenant access: Graph's `targets` lists (`{target, targetType}`) become the model's
//! `users`, `groups` and `applications` lists, `AllUsers` / `AllApplications` become `All`,
//! and a partner, which Graph keys by `tenantId` and gives no display name, is named by its
//! tenant id.

use serde_json::{Map, Value, json};

use super::{KindAdapter, Unexpressed};

/// How the default configuration is read and written.
pub static DEFAULT_ADAPTER: KindAdapter = KindAdapter {
    from_graph: default_from_graph,
    to_graph: settings_to_graph,
    ..KindAdapter::DEFAULT
};

/// How partner configurations are read and written.
pub static PARTNER_ADAPTER: KindAdapter = KindAdapter {
    from_graph: partner_from_graph,
    to_graph: partner_to_graph,
    identity_key: Some("tenantId"),
    ..KindAdapter::DEFAULT
};

/// The settings blocks, by Graph name, and whether the users and groups they list are the
/// other organisation's (inbound) or this tenant's.
const BLOCKS: &[(&str, bool)] = &[
    ("b2bCollaborationInbound", true),
    ("b2bCollaborationOutbound", false),
    ("b2bDirectConnectInbound", true),
    ("b2bDirectConnectOutbound", false),
    ("tenantRestrictions", false),
];

/// Graph's target for everyone of a type, and the model's word for it.
const ALL_USERS: &str = "AllUsers";
const ALL_APPLICATIONS: &str = "AllApplications";
const ALL: &str = "All";

fn default_from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = settings_from_graph(raw, unexpressed);
    if let Some(map) = value.as_object_mut() {
        // Whether the tenant still has Microsoft's defaults: Graph's to say, not a setting.
        map.remove("isServiceDefault");
    }
    value
}

fn partner_from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = settings_from_graph(raw, unexpressed);
    if let Some(map) = value.as_object_mut() {
        if let Some(tenant) = map.remove("tenantId") {
            map.insert("displayName".into(), tenant);
        }
        // Read-only: set by the multitenant organisation feature.
        map.remove("isInMultiTenantOrganization");
    }
    value
}

fn partner_to_graph(value: &mut Value) {
    settings_to_graph(value);
    if let Some(map) = value.as_object_mut()
        && let Some(tenant) = map.remove("displayName")
    {
        map.insert("tenantId".into(), tenant);
    }
}

/// Graph's settings blocks → the model's.
fn settings_from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = raw.clone();
    let Some(map) = value.as_object_mut() else {
        return value;
    };
    for (block, _) in BLOCKS {
        let Some(Value::Object(setting)) = map.get_mut(*block) else {
            continue;
        };
        if let Some(devices) = setting.remove("devices")
            && !devices.is_null()
        {
            unexpressed.push(Unexpressed {
                path: format!("/{block}/devices"),
                value: devices,
            });
        }
        for part in ["usersAndGroups", "applications"] {
            if let Some(Value::Object(config)) = setting.get_mut(part) {
                let path = format!("/{block}/{part}");
                *config = targets_from_graph(config, &path, unexpressed);
            }
        }
    }
    value
}

/// `{accessType, targets}` → `{accessType, users, groups, applications}`.
fn targets_from_graph(
    config: &Map<String, Value>,
    path: &str,
    unexpressed: &mut Vec<Unexpressed>,
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(access) = config.get("accessType") {
        out.insert("accessType".into(), access.clone());
    }
    let mut lists: Vec<(&str, Vec<Value>)> = Vec::new();
    let targets = config.get("targets").and_then(Value::as_array);
    for (i, target) in targets.into_iter().flatten().enumerate() {
        let id = target.get("target").and_then(Value::as_str);
        let list = match target.get("targetType").and_then(Value::as_str) {
            Some("user") => "users",
            Some("group") => "groups",
            Some("application") => "applications",
            _ => "",
        };
        let Some(id) = id.filter(|_| !list.is_empty()) else {
            unexpressed.push(Unexpressed {
                path: format!("{path}/targets/{i}"),
                value: target.clone(),
            });
            continue;
        };
        let id = if id.eq_ignore_ascii_case(ALL_USERS) || id.eq_ignore_ascii_case(ALL_APPLICATIONS)
        {
            ALL
        } else {
            id
        };
        match lists.iter_mut().find(|(name, _)| *name == list) {
            Some((_, items)) => items.push(Value::String(id.to_string())),
            None => lists.push((list, vec![Value::String(id.to_string())])),
        }
    }
    for (name, items) in lists {
        out.insert(name.to_string(), Value::Array(items));
    }
    out
}

/// The model's settings blocks → Graph's.
fn settings_to_graph(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    for (block, _) in BLOCKS {
        let Some(Value::Object(setting)) = map.get_mut(*block) else {
            continue;
        };
        for part in ["usersAndGroups", "applications"] {
            if let Some(Value::Object(config)) = setting.get_mut(part) {
                *config = targets_to_graph(config);
            }
        }
    }
}

/// `{accessType, users, groups, applications}` → `{accessType, targets}`.
fn targets_to_graph(config: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(access) = config.get("accessType") {
        out.insert("accessType".into(), access.clone());
    }
    let mut targets = Vec::new();
    for (list, target_type, everyone) in [
        ("users", "user", ALL_USERS),
        ("groups", "group", ""),
        ("applications", "application", ALL_APPLICATIONS),
    ] {
        for item in config
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = item.as_str() else { continue };
            let id = if !everyone.is_empty() && id.eq_ignore_ascii_case(ALL) {
                everyone
            } else {
                id
            };
            targets.push(json!({"target": id, "targetType": target_type}));
        }
    }
    out.insert("targets".into(), Value::Array(targets));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_by_type_and_everyone_is_all() {
        let raw = json!({"accessType": "allowed", "targets": [
            {"target": "AllUsers", "targetType": "user"},
            {"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"},
        ]});
        let mut unexpressed = Vec::new();
        let model = targets_from_graph(raw.as_object().unwrap(), "/x", &mut unexpressed);
        assert_eq!(
            Value::Object(model.clone()),
            json!({"accessType": "allowed", "users": ["All"], "groups": ["6f546279-4da5-4b53-a095-09ea0cef9971"]})
        );
        assert!(unexpressed.is_empty());
        assert_eq!(Value::Object(targets_to_graph(&model)), raw);
    }

    #[test]
    fn a_target_of_an_unknown_type_is_reported_not_dropped() {
        let raw =
            json!({"accessType": "blocked", "targets": [{"target": "x", "targetType": "device"}]});
        let mut unexpressed = Vec::new();
        let model = targets_from_graph(
            raw.as_object().unwrap(),
            "/b2bCollaborationInbound/usersAndGroups",
            &mut unexpressed,
        );
        assert_eq!(Value::Object(model), json!({"accessType": "blocked"}));
        assert_eq!(unexpressed.len(), 1);
        assert_eq!(
            unexpressed[0].path,
            "/b2bCollaborationInbound/usersAndGroups/targets/0"
        );
    }

    /// Graph's documented default configuration, `GET /policies/crossTenantAccessPolicy/default`
    /// (microsoft-graph-docs-contrib, api-reference/v1.0/api/
    /// crosstenantaccesspolicyconfigurationdefault-get.md), reads completely into the model.
    #[test]
    fn the_documented_service_default_reads_completely() {
        let everyone = |access: &str| {
            json!({
                "usersAndGroups": {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]},
            })
        };
        let raw = json!({
            "isServiceDefault": true,
            "inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": false,
                "isHybridAzureADJoinedDeviceAccepted": false},
            "b2bCollaborationOutbound": everyone("allowed"),
            "b2bCollaborationInbound": everyone("allowed"),
            "b2bDirectConnectOutbound": everyone("blocked"),
            "b2bDirectConnectInbound": everyone("blocked"),
        });
        let (model, unexpressed) =
            super::super::to_model_json(crate::model::Kind::CrossTenantAccess, &raw);
        assert!(unexpressed.is_empty(), "{unexpressed:?}");
        assert_eq!(
            model.get("b2bDirectConnectInbound"),
            Some(&json!({
                "usersAndGroups": {"accessType": "blocked", "users": ["All"]},
                "applications": {"accessType": "blocked", "applications": ["All"]},
            }))
        );
        let parsed: Result<crate::model::CrossTenantAccess, _> =
            serde_json::from_value(Value::Object(model));
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn a_partner_is_named_by_its_tenant_id() {
        let raw = json!({"tenantId": "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a", "inboundTrust": null,
            "isInMultiTenantOrganization": false});
        let mut value = partner_from_graph(&raw, &mut Vec::new());
        assert_eq!(
            value,
            json!({"displayName": "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a", "inboundTrust": null})
        );
        partner_to_graph(&mut value);
        assert_eq!(
            value,
            json!({"tenantId": "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a", "inboundTrust": null})
        );
    }
}
