//! The singleton policies (security defaults, authorization, methods, SharePoint settings) and
//! the authentication methods policy's per-method configurations.

use super::*;

/// A singleton the sandbox serves.
pub(super) struct Single {
    pub(super) key: &'static str,
    pub(super) path: &'static str,
    pub(super) ty: &'static str,
    pub(super) area: Area,
    /// PATCH answers 200 with the whole object (else 204).
    pub(super) patch_returns_object: bool,
    /// Graph's fixed id, if any.
    pub(super) fixed_id: Option<&'static str>,
    pub(super) context: &'static str,
}

pub(super) const SINGLES: &[Single] = &[
    Single {
        key: "policies/authenticationMethodsPolicy",
        path: "policies/authenticationmethodspolicy",
        ty: "microsoft.graph.authenticationMethodsPolicy",
        area: Area::AuthenticationMethods,
        patch_returns_object: true,
        fixed_id: Some("authenticationMethodsPolicy"),
        context: "authenticationMethodsPolicy",
    },
    Single {
        key: "policies/identitySecurityDefaultsEnforcementPolicy",
        path: "policies/identitysecuritydefaultsenforcementpolicy",
        ty: "microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
        area: Area::SecurityDefaults,
        patch_returns_object: false,
        fixed_id: Some("00000000-0000-0000-0000-000000000005"),
        context: "policies/identitySecurityDefaultsEnforcementPolicy",
    },
    Single {
        key: "policies/authorizationPolicy",
        path: "policies/authorizationpolicy",
        ty: "microsoft.graph.authorizationPolicy",
        area: Area::Authorization,
        patch_returns_object: false,
        fixed_id: Some("authorizationPolicy"),
        context: "policies/authorizationPolicy/$entity",
    },
    Single {
        key: "admin/sharepoint/settings",
        path: "admin/sharepoint/settings",
        ty: "microsoft.graph.sharepointSettings",
        area: Area::SharePoint,
        patch_returns_object: true,
        fixed_id: None,
        context: "admin/sharepoint/settings/$entity",
    },
    Single {
        key: "policies/crossTenantAccessPolicy/default",
        path: "policies/crosstenantaccesspolicy/default",
        ty: "microsoft.graph.crossTenantAccessPolicyConfigurationDefault",
        area: Area::CrossTenantAccess,
        patch_returns_object: false,
        fixed_id: None,
        context: "policies/crossTenantAccessPolicy/default/$entity",
    },
];

const CROSS_TENANT_DEFAULT_KEY: &str = "policies/crossTenantAccessPolicy/default";

pub(super) fn singleton(app: &App, single: &Single, req: &Request, rest: &[Seg]) -> Reply {
    if single.key == "policies/authenticationMethodsPolicy" && !rest.is_empty() {
        if !rest[0]
            .name
            .eq_ignore_ascii_case("authenticationMethodConfigurations")
        {
            return not_found_path(&rest[0].name);
        }
        return method_configurations(app, single, req, &rest[1..]);
    }
    if let Some(extra) = rest.first() {
        return not_found_path(&extra.name);
    }
    match req.method {
        "GET" => {
            let opts = Options::parse(req.query);
            if let Err(r) = check_select(single.ty, &opts) {
                return r;
            }
            let store = app.lock();
            let Some(obj) = store.data.get(single.key).filter(|v| v.is_object()) else {
                return not_found_path(single.path.rsplit('/').next().unwrap_or(single.path));
            };
            let mut obj = obj.clone();
            if let (Some(fixed), Value::Object(m)) = (single.fixed_id, &mut obj) {
                m.entry("id").or_insert(Value::String(fixed.into()));
            }
            let obj = match &opts.select {
                Some(props) => query::select(&obj, props),
                None => obj,
            };
            Reply::json(200, with_context(obj, &app.base_url, single.context))
        }
        "PATCH" => {
            let body = match req.json_object() {
                Ok(b) => b,
                Err(r) => return r,
            };
            let mut store = app.lock();
            let Some(current) = store
                .data
                .get(single.key)
                .filter(|v| v.is_object())
                .cloned()
            else {
                return not_found_path(single.path.rsplit('/').next().unwrap_or(single.path));
            };
            let id = current
                .get("id")
                .and_then(Value::as_str)
                .or(single.fixed_id)
                .unwrap_or("")
                .to_string();
            if let Some(r) = body_id_conflicts(&body, &id) {
                return r;
            }
            if let Some(t) = body.get("@odata.type").and_then(Value::as_str)
                && full_type_name(t) != single.ty
            {
                return Reply::bad_request(format!("'{t}' is not the type of this resource."));
            }
            let mut body = match validate(body, single.ty) {
                Ok(b) => b,
                Err(r) => return r,
            };
            body.remove("id");
            let mut updated = current;
            if let Value::Object(m) = &mut updated {
                merge(m, &body);
                if single.key == CROSS_TENANT_DEFAULT_KEY {
                    // A customised default is no longer the service default.
                    m.insert("isServiceDefault".into(), Value::Bool(false));
                }
                if schema()
                    .property(single.ty, "lastModifiedDateTime")
                    .is_some()
                {
                    m.insert("lastModifiedDateTime".into(), Value::String(now()));
                }
            }
            let before = store.data.get(single.key).cloned();
            store.data.insert(single.key.to_string(), updated.clone());
            if let Err(r) = commit(&mut store, single.key, before) {
                return r;
            }
            if single.patch_returns_object {
                Reply::json(200, with_context(updated, &app.base_url, single.context))
            } else {
                Reply::no_content()
            }
        }
        m => method_not_allowed(m),
    }
}

pub(super) fn method_configurations(
    app: &App,
    single: &Single,
    req: &Request,
    rest: &[Seg],
) -> Reply {
    const FIELD: &str = "authenticationMethodConfigurations";
    let base = &app.base_url;
    let mut store = app.lock();
    let configs: Vec<Value> = store
        .data
        .get(single.key)
        .and_then(|p| p.get(FIELD))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match (rest, req.method) {
        ([], "GET") => Reply::json(
            200,
            json!({
                "@odata.context": format!("{base}/v1.0/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations"),
                "value": configs,
            }),
        ),
        ([], m) => method_not_allowed(m),
        ([one], m) => {
            // Configuration ids are PascalCase in bodies and camelCase in URLs.
            let Some(j) = configs
                .iter()
                .position(|c| id_of(c).eq_ignore_ascii_case(&one.name))
            else {
                return entity_not_found(Kind::AuthStrength, &one.name);
            };
            match m {
                "GET" => Reply::json(
                    200,
                    with_context(
                        configs[j].clone(),
                        base,
                        "authenticationMethodConfigurations/$entity",
                    ),
                ),
                "PATCH" => {
                    let body = match req.json_object() {
                        Ok(b) => b,
                        Err(r) => return r,
                    };
                    let stored_type = configs[j]
                        .get("@odata.type")
                        .and_then(Value::as_str)
                        .map(full_type_name)
                        .unwrap_or_default();
                    let Some(t) = body.get("@odata.type").and_then(Value::as_str) else {
                        return Reply::bad_request(format!(
                            "The '@odata.type' of the method configuration is required: '{}'.",
                            odata_type(&stored_type)
                        ));
                    };
                    if !full_type_name(t).eq_ignore_ascii_case(&stored_type) {
                        return Reply::bad_request(format!(
                            "'{t}' does not match the configuration's type '{}'.",
                            odata_type(&stored_type)
                        ));
                    }
                    if let Some(r) = body_id_conflicts(&body, id_of(&configs[j])) {
                        return r;
                    }
                    let mut body = match validate(body, &stored_type) {
                        Ok(b) => b,
                        Err(r) => return r,
                    };
                    body.remove("id");
                    let before = store.data.get(single.key).cloned();
                    if let Some(Value::Array(list)) = store
                        .data
                        .get_mut(single.key)
                        .and_then(|p| p.get_mut(FIELD))
                        && let Some(Value::Object(o)) = list.get_mut(j)
                    {
                        merge(o, &body);
                    }
                    if let Some(Value::Object(p)) = store.data.get_mut(single.key) {
                        p.insert("lastModifiedDateTime".into(), Value::String(now()));
                    }
                    match commit(&mut store, single.key, before) {
                        Ok(()) => Reply::no_content(),
                        Err(r) => r,
                    }
                }
                other => method_not_allowed(other),
            }
        }
        ([_, more, ..], _) => not_found_path(&more.name),
    }
}

// ---------------------------------------------------------------------------------------------
// Group membership
