//! Access review definitions: the queries Graph accepts for scopes and reviewers, what the
//! service does to them on the way in (`$count=true`, `queryRoot: null`, recurrence filled in),
//! updates by PUT of the whole object, and the properties a PUT cannot change. Instances are
//! not served.

use super::*;

/// Properties Graph does not update: changing one needs a new definition.
const IMMUTABLE: &[&str] = &["scope", "instanceEnumerationScope", "stageSettings"];

const QUERY_TYPES: &[&str] = &[
    "#microsoft.graph.accessReviewQueryScope",
    "#microsoft.graph.accessReviewInactiveUsersQueryScope",
];

/// Other organisations' tenants, for `findTenantInformationByDomainName`: the state file's
/// `_sandbox.externalTenants` (`[{"tenantId", "displayName", "defaultDomainName", "domains"}]`),
/// else Fabrikam, the partner of Microsoft's cross-tenant examples.
pub(super) fn tenant_information(app: &App, domain: &str) -> Reply {
    let store = app.lock();
    let listed = store
        .data
        .get("_sandbox")
        .and_then(|s| s.get("externalTenants"))
        .and_then(Value::as_array)
        .cloned();
    drop(store);
    let tenants = listed.unwrap_or_else(|| {
        vec![json!({
            "tenantId": "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a",
            "displayName": "Fabrikam",
            "defaultDomainName": "fabrikam.onmicrosoft.com",
            "domains": ["fabrikam.com", "fabrikam.onmicrosoft.com"],
        })]
    });
    let found = tenants.iter().find(|t| {
        t.get("domains")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| d.eq_ignore_ascii_case(domain))
    });
    match found {
        Some(t) => Reply::json(
            200,
            with_context(
                json!({
                    "tenantId": t.get("tenantId").cloned().unwrap_or(Value::Null),
                    "federationBrandName": null,
                    "displayName": t.get("displayName").cloned().unwrap_or(Value::Null),
                    "defaultDomainName": t.get("defaultDomainName").cloned().unwrap_or(Value::Null),
                }),
                &app.base_url,
                "microsoft.graph.tenantInformation",
            ),
        ),
        None => Reply::error(
            404,
            "Request_ResourceNotFound",
            format!("No tenant was found for the domain '{domain}'."),
        ),
    }
}

/// `None` when the tenant is licensed for access reviews (the default); the state file's
/// `_sandbox.governanceLicence: false` makes every call to them fail as in an unlicensed tenant.
pub(super) fn unlicensed(app: &App) -> Option<Reply> {
    let store = app.lock();
    let licensed = store
        .data
        .get("_sandbox")
        .and_then(|s| s.get("governanceLicence"))
        .is_none_or(|v| v != &Value::Bool(false));
    drop(store);
    (!licensed).then(|| {
        Reply::error(
            403,
            "Forbidden",
            "The tenant does not have a valid license for access reviews: Microsoft Entra ID Governance or Microsoft Entra ID P2 is required.",
        )
    })
}

/// Graph takes a scope without `@odata.type` (its own examples send one) as a query scope.
/// It also drops `backupReviewers`: Graph still echoes the deprecated property, clients send it
/// back, and it is not in the v1.0 metadata.
pub(super) fn typed_scopes(body: &mut Map<String, Value>) {
    body.remove("backupReviewers");
    for key in ["scope", "instanceEnumerationScope"] {
        if let Some(Value::Object(scope)) = body.get_mut(key) {
            scope
                .entry("@odata.type")
                .or_insert(Value::String(QUERY_TYPES[0].into()));
        }
    }
}

fn bad(message: impl Into<String>) -> Result<(), Reply> {
    Err(Reply::bad_request(message))
}

fn is_guid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

/// A scope query Graph accepts: one of the documented patterns.
fn scope_query_ok(query: &str) -> bool {
    let q = query.replace('+', " ");
    let guid_after = |prefix: &str| {
        q.strip_prefix(prefix)
            .map(|rest| rest.split('/').next().unwrap_or(""))
            .is_some_and(is_guid)
    };
    q.starts_with("./members")
        || q.starts_with("/users")
        || q == "/groups"
        || guid_after("/groups/")
        || guid_after("/servicePrincipals/")
        || q.starts_with("/roleManagement/directory/")
        || q.starts_with("/identityGovernance/entitlementManagement/")
        || q.starts_with("/teams/")
}

fn check_query_scope(scope: &Value, what: &str) -> Result<(), Reply> {
    let ty = scope.get("@odata.type").and_then(Value::as_str);
    if ty.is_some_and(|t| !QUERY_TYPES.contains(&t)) {
        return bad(format!(
            "'{}' is not a query scope type for {what}.",
            ty.unwrap_or("")
        ));
    }
    if scope.get("queryType").and_then(Value::as_str) != Some("MicrosoftGraph") {
        return bad(format!("{what}: queryType must be 'MicrosoftGraph'."));
    }
    let query = scope.get("query").and_then(Value::as_str).unwrap_or("");
    if !scope_query_ok(query) {
        return bad(format!(
            "{what}: the query '{query}' is not a supported scope query."
        ));
    }
    Ok(())
}

/// The scope, instance enumeration scope and reviewer queries of a definition.
fn review_rules(body: &Map<String, Value>) -> Result<(), Reply> {
    let scope = body.get("scope").cloned().unwrap_or(Value::Null);
    match scope.get("@odata.type").and_then(Value::as_str) {
        Some("#microsoft.graph.principalResourceMembershipsScope") => {
            for list in ["principalScopes", "resourceScopes"] {
                let items = scope.get(list).and_then(Value::as_array);
                if items.is_none_or(Vec::is_empty) {
                    return bad(format!("scope.{list} must hold at least one scope."));
                }
                for item in items.into_iter().flatten() {
                    check_query_scope(item, &format!("scope.{list}"))?;
                }
            }
        }
        _ => check_query_scope(&scope, "scope")?,
    }
    let enumeration = body
        .get("instanceEnumerationScope")
        .filter(|v| !v.is_null());
    if let Some(e) = enumeration {
        let query = e.get("query").and_then(Value::as_str).unwrap_or("");
        if !query.starts_with("/groups?$filter=") {
            return bad(format!(
                "instanceEnumerationScope: the query '{query}' does not enumerate groups."
            ));
        }
        let relative = scope
            .get("query")
            .and_then(Value::as_str)
            .is_some_and(|q| q.starts_with("./"));
        if !relative {
            return bad("A scope enumerated per group must be relative to the group ('./…').");
        }
    } else if scope
        .get("query")
        .and_then(Value::as_str)
        .is_some_and(|q| q.starts_with("./"))
    {
        return bad("A relative scope query ('./…') needs an instanceEnumerationScope.");
    }
    for list in ["reviewers", "fallbackReviewers"] {
        for (i, r) in body
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let query = r.get("query").and_then(Value::as_str).unwrap_or("");
            let root = r.get("queryRoot").and_then(Value::as_str);
            let guid = |prefix: &str, suffix: &str| {
                query
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix(suffix))
                    .is_some_and(is_guid)
            };
            let ok = (query == "./owners" && list == "reviewers")
                || (query == "./manager" && root == Some("decisions") && list == "reviewers")
                || guid("/users/", "")
                || guid("/groups/", "/transitiveMembers");
            if !ok {
                return bad(format!(
                    "{list}[{i}]: '{query}' is not a valid reviewer query."
                ));
            }
        }
    }
    Ok(())
}

/// What the service does to a definition it stores: the queries it rewrites, the defaults it
/// fills in, the fields it sets.
fn as_stored(body: &mut Map<String, Value>) {
    if let Some(Value::Object(scope)) = body.get_mut("scope") {
        scope.entry("queryRoot").or_insert(Value::Null);
        if let Some(Value::String(q)) = scope.get_mut("query")
            && q.starts_with("./members")
            && !q.contains("$count=true")
        {
            *q = q.replacen("/?", "/?$count=true&", 1);
        }
    }
    if let Some(Value::Object(e)) = body.get_mut("instanceEnumerationScope") {
        e.entry("queryRoot").or_insert(Value::Null);
        if let Some(Value::String(q)) = e.get_mut("query")
            && !q.contains("$count=true")
        {
            q.push_str("&$count=true");
        }
    }
    for list in ["reviewers", "fallbackReviewers"] {
        if let Some(Value::Array(items)) = body.get_mut(list) {
            for item in items {
                if let Value::Object(m) = item {
                    m.entry("queryRoot").or_insert(Value::Null);
                }
            }
        }
    }
    body.entry("additionalNotificationRecipients")
        .or_insert(Value::Array(Vec::new()));
    if let Some(Value::Object(settings)) = body.get_mut("settings") {
        settings
            .entry("applyActions")
            .or_insert(Value::Array(Vec::new()));
        settings
            .entry("defaultDecision")
            .or_insert(Value::String("None".into()));
        if let Some(Value::Object(rec)) = settings.get_mut("recurrence") {
            if let Some(Value::Object(p)) = rec.get_mut("pattern") {
                p.entry("month").or_insert(json!(0));
                p.entry("dayOfMonth").or_insert(json!(0));
                p.entry("daysOfWeek").or_insert(json!([]));
                p.entry("firstDayOfWeek").or_insert(json!("sunday"));
                p.entry("index").or_insert(json!("first"));
            }
            if let Some(Value::Object(r)) = rec.get_mut("range") {
                if let Some(Value::String(start)) = r.get_mut("startDate") {
                    *start = start.chars().take(10).collect();
                }
                r.entry("numberOfOccurrences").or_insert(json!(0));
                r.entry("recurrenceTimeZone").or_insert(Value::Null);
                r.entry("endDate").or_insert(json!("null"));
            }
        }
    }
}

/// A query or scope as compared for immutability: without the service's rewrites.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !(k.as_str() == "queryRoot" && v.is_null()))
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::String(s) => Value::String(
            s.replace("$count=true&", "")
                .replace("&$count=true", "")
                .replace('+', " "),
        ),
        other => other.clone(),
    }
}

pub(super) fn create_review(app: &App, coll: &Coll, mut body: Map<String, Value>) -> Reply {
    if let Err(r) = review_rules(&body) {
        return r;
    }
    let now = now();
    for server_set in [
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "status",
        "createdBy",
    ] {
        body.remove(server_set);
    }
    as_stored(&mut body);
    let id = uuid::Uuid::new_v4().to_string();
    let mut obj = Map::new();
    obj.insert("id".into(), Value::String(id));
    obj.extend(body);
    obj.insert("status".into(), Value::String("NotStarted".into()));
    obj.insert(
        "createdBy".into(),
        json!({"id": null, "displayName": "Sandbox administrator", "userPrincipalName": null}),
    );
    obj.insert("createdDateTime".into(), Value::String(now.clone()));
    obj.insert("lastModifiedDateTime".into(), Value::String(now));
    let value = Value::Object(obj);
    let mut store = app.lock();
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

/// PUT: the body replaces the definition, which must keep its scopes and stages.
pub(super) fn put_review(app: &App, coll: &Coll, req: &Request, id: &str) -> Reply {
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut store = app.lock();
    let Some(i) = find_index(items(&store.data, coll.key), coll.kind, id, None) else {
        return entity_not_found(coll.kind, id);
    };
    let current = items(&store.data, coll.key)[i].clone();
    if let Some(r) = body_id_conflicts(&body, id_of(&current)) {
        return r;
    }
    let mut body = body;
    typed_scopes(&mut body);
    let mut body = match validate(body, coll.ty) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = require(&body, &["displayName", "scope", "settings"]) {
        return r;
    }
    for key in IMMUTABLE {
        let was = canonical(current.get(*key).unwrap_or(&Value::Null));
        let now = canonical(body.get(*key).unwrap_or(&Value::Null));
        let empty = |v: &Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
        if was != now && !(empty(&was) && empty(&now)) {
            return Reply::bad_request(format!(
                "The property '{key}' cannot be updated: create a new access review definition."
            ));
        }
    }
    if let Err(r) = review_rules(&body) {
        return r;
    }
    as_stored(&mut body);
    let mut updated = Map::new();
    for key in ["id", "createdBy", "createdDateTime", "status"] {
        if let Some(v) = current.get(key) {
            updated.insert(key.into(), v.clone());
        }
    }
    for key in [
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "status",
        "createdBy",
    ] {
        body.remove(key);
    }
    updated.extend(body);
    updated.insert("lastModifiedDateTime".into(), Value::String(now()));
    let before = store.data.get(coll.key).cloned();
    items_mut(&mut store.data, coll.key)[i] = Value::Object(updated);
    if let Err(r) = commit(&mut store, coll.key, before) {
        return r;
    }
    Reply::no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_scopes_and_reviewers_pass_and_others_do_not() {
        let ok = json!({
            "instanceEnumerationScope": {"query": "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", "queryType": "MicrosoftGraph"},
            "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope", "query": "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph"},
            "reviewers": [{"query": "./owners", "queryType": "MicrosoftGraph"}],
            "fallbackReviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph"}],
        });
        assert!(review_rules(ok.as_object().unwrap()).is_ok());
        let mut no_enumeration = ok.clone();
        no_enumeration
            .as_object_mut()
            .unwrap()
            .remove("instanceEnumerationScope");
        assert!(review_rules(no_enumeration.as_object().unwrap()).is_err());
        let mut bad_reviewer = ok.clone();
        bad_reviewer["reviewers"] =
            json!([{"query": "/users/alice@contoso.com", "queryType": "MicrosoftGraph"}]);
        assert!(review_rules(bad_reviewer.as_object().unwrap()).is_err());
    }

    #[test]
    fn stored_queries_compare_equal_to_what_was_sent() {
        let mut body = json!({"scope": {"query": "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')"},
            "instanceEnumerationScope": {"query": "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))"}})
        .as_object()
        .cloned()
        .unwrap();
        let sent = body.clone();
        as_stored(&mut body);
        assert_eq!(
            body["scope"]["query"],
            "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"
        );
        for key in ["scope", "instanceEnumerationScope"] {
            assert_eq!(canonical(&body[key]), canonical(&sent[key]));
        }
    }
}
