//! Creating, updating and deleting collection items.

use super::*;

pub(super) fn create(app: &App, coll: &Coll, req: &Request) -> Reply {
    if let Some(r) = read_only(coll) {
        return r;
    }
    let mut body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
    if coll.kind == Kind::AccessReview {
        typed_scopes(&mut body);
    }
    let mut ty = coll.ty.to_string();
    if coll.kind == Kind::NamedLocation {
        match named_location_type(&body) {
            Ok(t) => ty = t,
            Err(r) => return r,
        }
    }
    let mut body = match validate(body, coll.ty) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let required: &[&str] = match coll.kind {
        Kind::CaPolicy => &["displayName", "state", "conditions"],
        Kind::NamedLocation if ty.ends_with("ipNamedLocation") => &["displayName", "ipRanges"],
        Kind::NamedLocation => &["displayName", "countriesAndRegions"],
        Kind::AuthStrength => &["displayName", "allowedCombinations"],
        Kind::RetentionLabel => &[
            "displayName",
            "behaviorDuringRetentionPeriod",
            "actionAfterRetentionPeriod",
            "retentionTrigger",
            "retentionDuration",
        ],
        Kind::CrossTenantPartner => &["tenantId"],
        Kind::AccessReview => &["displayName", "scope", "settings"],
        _ => &[],
    };
    if let Err(r) = require(&body, required) {
        return r;
    }
    if let Err(r) = kind_rules(coll.kind, &body, true) {
        return r;
    }
    bind_event_type(coll.kind, &mut body);
    if coll.kind == Kind::CrossTenantPartner {
        return create_partner(app, coll, body);
    }
    if coll.kind == Kind::AccessReview {
        return create_review(app, coll, body);
    }
    let now = now();
    let id = uuid::Uuid::new_v4().to_string();
    for server_set in [
        "id",
        "createdDateTime",
        "modifiedDateTime",
        "lastModifiedDateTime",
    ] {
        body.remove(server_set);
    }
    let mut obj = Map::new();
    if let Some(t) = body.remove("@odata.type") {
        obj.insert("@odata.type".into(), t);
    }
    obj.insert("id".into(), Value::String(id.clone()));
    obj.extend(body);
    match coll.kind {
        Kind::CaPolicy => {
            obj.insert("createdDateTime".into(), Value::String(now.clone()));
            obj.insert("modifiedDateTime".into(), Value::Null);
            if let Some(Value::Object(c)) = obj.get_mut("conditions")
                && c.get("clientAppTypes").is_none_or(Value::is_null)
            {
                c.insert("clientAppTypes".into(), json!(["all"]));
            }
        }
        Kind::NamedLocation => {
            obj.insert("createdDateTime".into(), Value::String(now.clone()));
            obj.insert("modifiedDateTime".into(), Value::String(now.clone()));
            if ty.ends_with("ipNamedLocation") {
                obj.entry("isTrusted").or_insert(Value::Bool(false));
            } else {
                obj.entry("countryLookupMethod")
                    .or_insert(Value::String("clientIpAddress".into()));
                obj.entry("includeUnknownCountriesAndRegions")
                    .or_insert(Value::Bool(false));
            }
        }
        Kind::AuthStrength => {
            obj.insert("createdDateTime".into(), Value::String(now.clone()));
            obj.insert("modifiedDateTime".into(), Value::String(now.clone()));
            obj.insert("policyType".into(), Value::String("custom".into()));
            obj.insert("requirementsSatisfied".into(), Value::String("mfa".into()));
            let combos =
                normalise_combinations(obj.get("allowedCombinations").unwrap_or(&Value::Null));
            if combos.is_empty() {
                return Reply::bad_request(
                    "'allowedCombinations' must hold at least one combination.",
                );
            }
            obj.insert("allowedCombinations".into(), Value::Array(combos));
            let mut configs = Vec::new();
            for mut c in obj
                .remove("combinationConfigurations")
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
            {
                if let Value::Object(m) = &mut c {
                    m.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
                }
                configs.push(c);
            }
            obj.insert("combinationConfigurations".into(), Value::Array(configs));
        }
        Kind::RetentionLabel => {
            obj.insert(
                "@odata.type".into(),
                Value::String("#microsoft.graph.security.retentionLabel".into()),
            );
            let who = json!({"user": {"id": null, "displayName": "Sandbox administrator"}});
            obj.insert("createdBy".into(), who.clone());
            obj.insert("lastModifiedBy".into(), who);
            obj.insert("createdDateTime".into(), Value::String(now.clone()));
            obj.insert("lastModifiedDateTime".into(), Value::String(now.clone()));
            obj.insert("isInUse".into(), Value::Bool(false));
        }
        _ => {}
    }
    let mut value = Value::Object(obj);
    schema().fill_defaults(&mut value, &ty);
    let mut store = app.lock();
    if coll.kind == Kind::CaPolicy
        && let Some(r) = dangling_references(&store, &value)
    {
        return r;
    }
    let before = store.data.get(coll.key).cloned();
    items_mut(&mut store.data, coll.key).push(value.clone());
    if let Err(r) = commit(&mut store, coll.key, before) {
        return r;
    }
    if app.consistency_delay_ms > 0 {
        store.hide_until(
            coll.key,
            &id,
            Instant::now() + Duration::from_millis(app.consistency_delay_ms),
        );
    }
    drop(store);
    let ctx = match coll.kind {
        Kind::NamedLocation => "namedLocations/$entity".to_string(),
        Kind::CaPolicy => "identity/conditionalAccess/policies/$entity".to_string(),
        _ => format!("{}/$entity", coll.context),
    };
    Reply::json(201, with_context(value, &app.base_url, &ctx))
}

/// Partners are keyed by the partner's tenant id, not a new id: a second configuration for
/// the same tenant is a conflict, as Graph answers.
fn create_partner(app: &App, coll: &Coll, mut body: Map<String, Value>) -> Reply {
    let tenant = body
        .get("tenantId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if uuid::Uuid::parse_str(&tenant).is_err() {
        return Reply::bad_request(format!("'{tenant}' is not a valid tenant id."));
    }
    body.insert("tenantId".into(), Value::String(tenant.clone()));
    body.remove("id");
    body.entry("isServiceProvider")
        .or_insert(Value::Bool(false));
    body.entry("isInMultiTenantOrganization")
        .or_insert(Value::Bool(false));
    let mut store = app.lock();
    if find_index(items(&store.data, coll.key), coll.kind, &tenant, None).is_some() {
        return Reply::error(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            format!("A partner configuration for tenant '{tenant}' already exists."),
        );
    }
    let value = Value::Object(body);
    let before = store.data.get(coll.key).cloned();
    items_mut(&mut store.data, coll.key).push(value.clone());
    if let Err(r) = commit(&mut store, coll.key, before) {
        return r;
    }
    drop(store);
    Reply::json(
        201,
        with_context(value, &app.base_url, &format!("{}/$entity", coll.context)),
    )
}

pub(super) fn update_item(app: &App, coll: &Coll, req: &Request, id: &str) -> Reply {
    if let Some(r) = read_only(coll) {
        return r;
    }
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut store = app.lock();
    let Some(i) = find_index(items(&store.data, coll.key), coll.kind, id, None) else {
        return entity_not_found(coll.kind, id);
    };
    let current = items(&store.data, coll.key)[i].clone();
    let stored_type = current
        .get("@odata.type")
        .and_then(Value::as_str)
        .map(full_type_name);
    match coll.kind {
        Kind::NamedLocation => match named_location_type(&body) {
            Ok(t) if stored_type.as_deref().is_none_or(|s| s == t) => {}
            Ok(t) => {
                return Reply::bad_request(format!(
                    "The named location is a '{}', not a '{t}'.",
                    stored_type.unwrap_or_default()
                ));
            }
            Err(r) => return r,
        },
        Kind::AuthStrength => {
            if is_built_in_strength(&current) {
                return Reply::bad_request(
                    "Built-in authentication strength policies cannot be updated.",
                );
            }
            if body.contains_key("allowedCombinations") {
                return Reply::bad_request(
                    "'allowedCombinations' cannot be changed by PATCH: use the updateAllowedCombinations action.",
                );
            }
        }
        _ => {}
    }
    if let Some(r) = body_id_conflicts(&body, id_of(&current)) {
        return r;
    }
    let ty = stored_type.unwrap_or_else(|| coll.ty.to_string());
    let mut body = match validate(body, &ty) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = kind_rules(coll.kind, &body, false) {
        return r;
    }
    bind_event_type(coll.kind, &mut body);
    body.remove("id");
    if coll.kind == Kind::CrossTenantPartner
        && body
            .get("tenantId")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.eq_ignore_ascii_case(id_of(&current)))
    {
        return Reply::bad_request("The 'tenantId' of a partner configuration cannot be changed.");
    }
    let mut updated = current.clone();
    if let Value::Object(m) = &mut updated {
        merge(m, &body);
        let stamp = match coll.kind {
            Kind::RetentionLabel => Some("lastModifiedDateTime"),
            Kind::CrossTenantPartner => None,
            _ => Some("modifiedDateTime"),
        };
        if let Some(stamp) = stamp {
            m.insert(stamp.into(), Value::String(now()));
        }
    }
    // Only what the PATCH names is checked, so a hand-edited state file with a stale
    // reference does not block unrelated updates.
    if coll.kind == Kind::CaPolicy
        && let Some(r) = dangling_references(&store, &Value::Object(body.clone()))
    {
        return r;
    }
    let before = store.data.get(coll.key).cloned();
    items_mut(&mut store.data, coll.key)[i] = updated;
    if let Err(r) = commit(&mut store, coll.key, before) {
        return r;
    }
    Reply::no_content()
}

pub(super) fn delete_item(app: &App, coll: &Coll, id: &str) -> Reply {
    if let Some(r) = read_only(coll) {
        return r;
    }
    let mut store = app.lock();
    let Some(i) = find_index(items(&store.data, coll.key), coll.kind, id, None) else {
        return entity_not_found(coll.kind, id);
    };
    if coll.kind == Kind::AuthStrength && is_built_in_strength(&items(&store.data, coll.key)[i]) {
        return Reply::bad_request("Built-in authentication strength policies cannot be deleted.");
    }
    let target = id_of(&items(&store.data, coll.key)[i]).to_string();
    if matches!(coll.kind, Kind::NamedLocation | Kind::AuthStrength) {
        let users: Vec<String> = items(&store.data, CA_KEY)
            .iter()
            .filter(|p| {
                policy_references(p)
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&target))
            })
            .map(|p| id_of(p).to_string())
            .collect();
        if !users.is_empty() {
            return Reply::bad_request(format!(
                "'{target}' cannot be deleted: it is used by Conditional Access policies {}.",
                users.join(", ")
            ));
        }
    }
    let before = store.data.get(coll.key).cloned();
    items_mut(&mut store.data, coll.key).remove(i);
    if let Err(r) = commit(&mut store, coll.key, before) {
        return r;
    }
    Reply::no_content()
}

// ---------------------------------------------------------------------------------------------
// Authentication strengths: actions, usage, combination configurations, lists
