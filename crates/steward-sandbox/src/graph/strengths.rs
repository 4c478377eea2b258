//! The authentication-strength sub-API: built-in strengths, allowed combinations and their
//! configurations, `updateAllowedCombinations` and usage.

use super::*;

pub(super) const BUILT_IN_STRENGTHS: &[&str] = &[
    "00000000-0000-0000-0000-000000000002",
    "00000000-0000-0000-0000-000000000003",
    "00000000-0000-0000-0000-000000000004",
];

pub(super) const COMBINATIONS_KEY: &str =
    "identity/conditionalAccess/authenticationStrength/combinations";

pub(super) const MODES_KEY: &str =
    "identity/conditionalAccess/authenticationStrength/authenticationMethodModes";

/// Every combination Graph lists (documented `…/authenticationStrength/combinations`).
pub(super) const DEFAULT_COMBINATIONS: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
    "deviceBasedPush",
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "password,microsoftAuthenticatorPush",
    "password,softwareOath",
    "password,hardwareOath",
    "password,sms",
    "password,voice",
    "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor",
    "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor",
    "sms,federatedSingleFactor",
    "voice,federatedSingleFactor",
    "x509CertificateSingleFactor",
    "sms",
    "password",
    "federatedSingleFactor",
    "email",
];

/// Method modes as Graph documents them (id, displayName, authenticationMethod).
pub(super) const DEFAULT_MODES: &[(&str, &str, &str)] = &[
    ("password", "Password", "password"),
    ("voice", "Voice", "voice"),
    ("hardwareOath", "Hardware OATH tokens", "hardwareOath"),
    ("softwareOath", "Software OATH tokens", "softwareOath"),
    ("sms", "SMS", "sms"),
    ("fido2", "FIDO2 Security Key", "fido2"),
    (
        "windowsHelloForBusiness",
        "Windows Hello for Business",
        "windowsHelloForBusiness",
    ),
    (
        "microsoftAuthenticatorPush",
        "Microsoft Authenticator (push notification)",
        "microsoftAuthenticator",
    ),
    (
        "deviceBasedPush",
        "Microsoft Authenticator (Passwordless)",
        "microsoftAuthenticator",
    ),
    (
        "temporaryAccessPassOneTime",
        "Temporary Access Pass (one-time use)",
        "temporaryAccessPass",
    ),
    (
        "temporaryAccessPassMultiUse",
        "Temporary Access Pass (multi-use)",
        "temporaryAccessPass",
    ),
    ("email", "Email one-time passcode", "email"),
    (
        "x509CertificateSingleFactor",
        "Certificate-based authentication (single factor)",
        "x509Certificate",
    ),
    (
        "x509CertificateMultiFactor",
        "Certificate-based authentication (multifactor)",
        "x509Certificate",
    ),
    (
        "federatedSingleFactor",
        "Federation (single factor)",
        "federation",
    ),
    (
        "federatedMultiFactor",
        "Federation (multifactor)",
        "federation",
    ),
];

/// `"sms, password"` → `"password,sms"`: Graph's form (modes in enum order, no spaces).
pub(super) fn normalise_combination(c: &str) -> String {
    let members = schema()
        .enum_def("microsoft.graph.authenticationMethodModes")
        .map(|e| e.members.clone())
        .unwrap_or_default();
    let mut modes: Vec<&str> = c
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    modes.sort_by_key(|m| members.iter().position(|x| x == m).unwrap_or(usize::MAX));
    modes.dedup();
    modes.join(",")
}

pub(super) fn normalise_combinations(v: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for c in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
        let n = Value::String(normalise_combination(c));
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

pub(super) fn is_built_in_strength(v: &Value) -> bool {
    BUILT_IN_STRENGTHS.contains(&id_of(v))
        || v.get("policyType").and_then(Value::as_str) == Some("builtIn")
}

pub(super) fn strength_sub(
    app: &App,
    coll: &Coll,
    req: &Request,
    id: &str,
    sub: &[(String, Option<String>)],
) -> Reply {
    let name = sub
        .first()
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    match (name.as_str(), sub.len(), req.method) {
        ("updateallowedcombinations", 1, "POST") => update_allowed_combinations(app, coll, req, id),
        ("usage", 1, "GET") => strength_usage(app, coll, id),
        ("combinationconfigurations", 1 | 2, _) => {
            combination_configurations(app, coll, req, id, sub.get(1).map(|(s, _)| s.as_str()))
        }
        ("updateallowedcombinations" | "usage", 1, m) => method_not_allowed(m),
        _ => not_found_path(sub.first().map(|(s, _)| s.as_str()).unwrap_or("")),
    }
}

pub(super) fn ca_policies_using(store: &Store, strength_id: &str) -> Vec<Value> {
    items(&store.data, "identity/conditionalAccess/policies")
        .iter()
        .filter(|p| {
            p.pointer("/grantControls/authenticationStrength/id")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(strength_id))
        })
        .cloned()
        .collect()
}

pub(super) fn update_allowed_combinations(
    app: &App,
    coll: &Coll,
    req: &Request,
    id: &str,
) -> Reply {
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(k) = body
        .keys()
        .find(|k| *k != "allowedCombinations" && !k.contains('@'))
    {
        return Reply::bad_request(format!(
            "Invalid parameter '{k}' for action updateAllowedCombinations."
        ));
    }
    let mut combos = body
        .get("allowedCombinations")
        .cloned()
        .unwrap_or(Value::Null);
    if let Err(e) = schema().validate(
        &mut combos,
        "Collection(microsoft.graph.authenticationMethodModes)",
        false,
        "allowedCombinations",
    ) {
        return Reply::bad_request(e);
    }
    let current = normalise_combinations(&combos);
    if current.is_empty() {
        return Reply::bad_request("'allowedCombinations' must hold at least one combination.");
    }
    let mut store = app.lock();
    let Some(i) = find_index(items(&store.data, coll.key), coll.kind, id, None) else {
        return entity_not_found(coll.kind, id);
    };
    let policy = items(&store.data, coll.key)[i].clone();
    if is_built_in_strength(&policy) {
        return Reply::bad_request("Built-in authentication strength policies cannot be updated.");
    }
    let previous = policy
        .get("allowedCombinations")
        .cloned()
        .unwrap_or_else(|| json!([]));
    let refs: Vec<Value> = ca_policies_using(&store, id_of(&policy))
        .iter()
        .map(|p| Value::String(id_of(p).to_string()))
        .collect();
    let lowered = current
        .iter()
        .any(|c| !previous.as_array().is_some_and(|p| p.contains(c)));
    let name = policy
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let info = if lowered && !refs.is_empty() {
        Value::String(format!(
            "You have changed the allowed combinations of the {name} authentication strength. This Authentication Strength is referenced by one or more Conditional Access policies. Review conditionalAccessReferences to understand which Conditional Access policies were impacted by this change. To reverse your changes back, use updateAllowedCombinations action with the previousCombinations values."
        ))
    } else {
        Value::Null
    };
    let before = store.data.get(coll.key).cloned();
    if let Value::Object(m) = &mut items_mut(&mut store.data, coll.key)[i] {
        m.insert("allowedCombinations".into(), Value::Array(current.clone()));
        m.insert("modifiedDateTime".into(), Value::String(now()));
    }
    if let Err(r) = commit(&mut store, coll.key, before) {
        return r;
    }
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.updateAllowedCombinationsResult", app.base_url),
            "@odata.type": "#microsoft.graph.updateAllowedCombinationsResult",
            "previousCombinations": previous,
            "currentCombinations": current,
            "conditionalAccessReferences": refs,
            "additionalInformation": info,
        }),
    )
}

pub(super) fn strength_usage(app: &App, coll: &Coll, id: &str) -> Reply {
    let store = app.lock();
    let Some(i) = find_index(items(&store.data, coll.key), coll.kind, id, None) else {
        return entity_not_found(coll.kind, id);
    };
    let policy = &items(&store.data, coll.key)[i];
    let users = ca_policies_using(&store, id_of(policy));
    let mfa = policy.get("requirementsSatisfied").and_then(Value::as_str) == Some("mfa");
    let (mfa_list, none_list) = if mfa {
        (users, vec![])
    } else {
        (vec![], users)
    };
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.authenticationStrengthUsage", app.base_url),
            "mfa": mfa_list,
            "none": none_list,
        }),
    )
}

pub(super) fn combination_configurations(
    app: &App,
    coll: &Coll,
    req: &Request,
    id: &str,
    config_id: Option<&str>,
) -> Reply {
    const TY: &str = "microsoft.graph.authenticationCombinationConfiguration";
    let mut store = app.lock();
    let Some(i) = find_index(items(&store.data, coll.key), coll.kind, id, None) else {
        return entity_not_found(coll.kind, id);
    };
    let policy = items(&store.data, coll.key)[i].clone();
    let configs: Vec<Value> = policy
        .get("combinationConfigurations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ctx = format!(
        "policies/authenticationStrengthPolicies('{}')/combinationConfigurations",
        id_of(&policy)
    );
    let write = |store: &mut Store, configs: Vec<Value>| -> Result<(), Reply> {
        let before = store.data.get(coll.key).cloned();
        if let Value::Object(m) = &mut items_mut(&mut store.data, coll.key)[i] {
            m.insert("combinationConfigurations".into(), Value::Array(configs));
            m.insert("modifiedDateTime".into(), Value::String(now()));
        }
        commit(store, coll.key, before)
    };
    let built_in = is_built_in_strength(&policy);
    match (config_id, req.method) {
        (None, "GET") => Reply::json(
            200,
            json!({
                "@odata.context": format!("{}/v1.0/$metadata#{ctx}", app.base_url),
                "value": configs,
            }),
        ),
        (None, "POST") => {
            if built_in {
                return Reply::bad_request(
                    "Combination configurations can only be added to custom authentication strengths.",
                );
            }
            let body = match req.json_object() {
                Ok(b) => b,
                Err(r) => return r,
            };
            if body.get("@odata.type").is_none() {
                return Reply::bad_request(
                    "The '@odata.type' of the combination configuration is required, such as '#microsoft.graph.fido2CombinationConfiguration'.",
                );
            }
            let mut body = match validate(body, TY) {
                Ok(b) => b,
                Err(r) => return r,
            };
            if let Err(r) = require(&body, &["appliesToCombinations"]) {
                return r;
            }
            // A configuration can only narrow combinations the strength allows.
            let allowed = policy
                .get("allowedCombinations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for c in body
                .get("appliesToCombinations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let normal = Value::String(normalise_combination(c.as_str().unwrap_or("")));
                if !allowed.contains(&normal) {
                    return Reply::bad_request(format!(
                        "appliesToCombinations: {c} is not one of the strength's allowedCombinations."
                    ));
                }
            }
            body.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
            let mut new = configs;
            let value = Value::Object(body);
            new.push(value.clone());
            if let Err(r) = write(&mut store, new) {
                return r;
            }
            Reply::json(
                201,
                with_context(value, &app.base_url, &format!("{ctx}/$entity")),
            )
        }
        (Some(cid), m) => {
            let Some(j) = configs
                .iter()
                .position(|c| id_of(c).eq_ignore_ascii_case(cid))
            else {
                return entity_not_found(Kind::AuthStrength, cid);
            };
            match m {
                "GET" => Reply::json(
                    200,
                    with_context(configs[j].clone(), &app.base_url, &format!("{ctx}/$entity")),
                ),
                "PATCH" => {
                    if built_in {
                        return Reply::bad_request(
                            "Built-in authentication strength policies cannot be updated.",
                        );
                    }
                    let body = match req.json_object() {
                        Ok(b) => b,
                        Err(r) => return r,
                    };
                    if let Some(r) = body_id_conflicts(&body, cid) {
                        return r;
                    }
                    let ty = configs[j]
                        .get("@odata.type")
                        .and_then(Value::as_str)
                        .map(full_type_name)
                        .unwrap_or_else(|| "microsoft.graph.fido2CombinationConfiguration".into());
                    let mut body = match validate(body, &ty) {
                        Ok(b) => b,
                        Err(r) => return r,
                    };
                    body.remove("id");
                    let mut new = configs;
                    if let Value::Object(o) = &mut new[j] {
                        merge(o, &body);
                    }
                    match write(&mut store, new) {
                        Ok(()) => Reply::no_content(),
                        Err(r) => r,
                    }
                }
                "DELETE" => {
                    let mut new = configs;
                    new.remove(j);
                    match write(&mut store, new) {
                        Ok(()) => Reply::no_content(),
                        Err(r) => r,
                    }
                }
                other => method_not_allowed(other),
            }
        }
        (None, other) => method_not_allowed(other),
    }
}

pub(super) fn strength_lists(app: &App, which: &str, rest: &[Seg]) -> Reply {
    let store = app.lock();
    let base = &app.base_url;
    if which == "combinations" {
        if !rest.is_empty() {
            return not_found_path(&rest[0].name);
        }
        let values = match store.data.get(COMBINATIONS_KEY) {
            Some(Value::Array(a)) => a.clone(),
            _ => DEFAULT_COMBINATIONS.iter().map(|c| json!(c)).collect(),
        };
        return Reply::json(
            200,
            json!({
                "@odata.context": format!("{base}/v1.0/$metadata#identity/conditionalAccess/authenticationStrength/combinations"),
                "value": values,
            }),
        );
    }
    let modes: Vec<Value> = match store.data.get(MODES_KEY) {
        Some(Value::Array(a)) => a.clone(),
        _ => DEFAULT_MODES
            .iter()
            .map(|(id, name, method)| json!({"id": id, "displayName": name, "authenticationMethod": method}))
            .collect(),
    };
    match rest {
        [] => Reply::json(
            200,
            json!({
                "@odata.context": format!("{base}/v1.0/$metadata#authenticationMethodModeDetail"),
                "value": modes,
            }),
        ),
        [one] => match modes
            .iter()
            .find(|m| id_of(m).eq_ignore_ascii_case(&one.name))
        {
            Some(m) => Reply::json(
                200,
                with_context(m.clone(), base, "authenticationMethodModeDetail/$entity"),
            ),
            None => entity_not_found(Kind::AuthStrength, &one.name),
        },
        [_, more, ..] => not_found_path(&more.name),
    }
}

// ---------------------------------------------------------------------------------------------
// Singletons and method configurations
