//! The collections Graph serves (one table line each) and their reads: listing with query
//! options, `$count`, and getting one item.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    CaPolicy,
    NamedLocation,
    AuthStrength,
    RetentionLabel,
    CrossTenantPartner,
    AccessReview,
    User,
    Group,
    ServicePrincipal,
    RoleTemplate,
    RoleDefinition,
    Organization,
}

/// A collection the sandbox serves.
pub(super) struct Coll {
    /// State-file key.
    pub(super) key: &'static str,
    /// URL paths (lower case) it is served under.
    pub(super) paths: &'static [&'static str],
    /// CSDL type of its items ("" when outside the metadata slice).
    pub(super) ty: &'static str,
    pub(super) area: Area,
    pub(super) kind: Kind,
    /// `@odata.context` after `$metadata#`.
    pub(super) context: &'static str,
}

pub(super) const COLLS: &[Coll] = &[
    Coll {
        key: "identity/conditionalAccess/policies",
        paths: &["identity/conditionalaccess/policies"],
        ty: "microsoft.graph.conditionalAccessPolicy",
        area: Area::ConditionalAccess,
        kind: Kind::CaPolicy,
        context: "identity/conditionalAccess/policies",
    },
    Coll {
        key: "identity/conditionalAccess/namedLocations",
        paths: &["identity/conditionalaccess/namedlocations"],
        ty: "microsoft.graph.namedLocation",
        area: Area::ConditionalAccess,
        kind: Kind::NamedLocation,
        context: "identity/conditionalAccess/namedLocations",
    },
    Coll {
        key: "policies/authenticationStrengthPolicies",
        paths: &[
            "policies/authenticationstrengthpolicies",
            "identity/conditionalaccess/authenticationstrength/policies",
        ],
        ty: "microsoft.graph.authenticationStrengthPolicy",
        area: Area::AuthenticationStrengths,
        kind: Kind::AuthStrength,
        context: "policies/authenticationStrengthPolicies",
    },
    Coll {
        key: "security/labels/retentionLabels",
        paths: &["security/labels/retentionlabels"],
        ty: "microsoft.graph.security.retentionLabel",
        area: Area::RetentionLabels,
        kind: Kind::RetentionLabel,
        context: "security/labels/retentionLabels",
    },
    Coll {
        key: "policies/crossTenantAccessPolicy/partners",
        paths: &["policies/crosstenantaccesspolicy/partners"],
        ty: "microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
        area: Area::CrossTenantAccess,
        kind: Kind::CrossTenantPartner,
        context: "policies/crossTenantAccessPolicy/partners",
    },
    Coll {
        key: "identityGovernance/accessReviews/definitions",
        paths: &["identitygovernance/accessreviews/definitions"],
        ty: "microsoft.graph.accessReviewScheduleDefinition",
        area: Area::AccessReviews,
        kind: Kind::AccessReview,
        context: "identityGovernance/accessReviews/definitions",
    },
    Coll {
        key: "users",
        paths: &["users"],
        ty: "",
        area: Area::Users,
        kind: Kind::User,
        context: "users",
    },
    Coll {
        key: "groups",
        paths: &["groups"],
        ty: "",
        area: Area::Groups,
        kind: Kind::Group,
        context: "groups",
    },
    Coll {
        key: "servicePrincipals",
        paths: &["serviceprincipals"],
        ty: "",
        area: Area::ServicePrincipals,
        kind: Kind::ServicePrincipal,
        context: "servicePrincipals",
    },
    Coll {
        key: "directoryRoleTemplates",
        paths: &["directoryroletemplates"],
        ty: "",
        area: Area::Roles,
        kind: Kind::RoleTemplate,
        context: "directoryRoleTemplates",
    },
    Coll {
        key: "roleManagement/directory/roleDefinitions",
        paths: &["rolemanagement/directory/roledefinitions"],
        ty: "",
        area: Area::Roles,
        kind: Kind::RoleDefinition,
        context: "roleManagement/directory/roleDefinitions",
    },
    Coll {
        key: "organization",
        paths: &["organization"],
        ty: "",
        area: Area::Organization,
        kind: Kind::Organization,
        context: "organization",
    },
];

pub(super) fn collection(
    app: &App,
    coll: &Coll,
    req: &Request,
    rest: &[(String, Option<String>)],
) -> Reply {
    if coll.kind == Kind::AccessReview
        && let Some(r) = unlicensed(app)
    {
        return r;
    }
    match rest {
        [] => match req.method {
            "GET" => list(app, coll, req),
            "POST" => create(app, coll, req),
            m => method_not_allowed(m),
        },
        [(seg, None)] if seg == "$count" => count_only(app, coll, req),
        [(id, _)] if coll.kind == Kind::AccessReview => match req.method {
            "GET" => get_item(app, coll, req, id, None),
            // Graph documents no PATCH for definitions: an update is a PUT of the whole object.
            "PUT" => put_review(app, coll, req, id),
            "DELETE" => delete_item(app, coll, id),
            m => method_not_allowed(m),
        },
        [(id, alt)] => match req.method {
            "GET" => get_item(app, coll, req, id, alt.as_deref()),
            "PATCH" => update_item(app, coll, req, id),
            "DELETE" => delete_item(app, coll, id),
            m => method_not_allowed(m),
        },
        [(id, _), (r, _)] if r == "$ref" && coll.kind == Kind::AuthStrength => {
            // The delete page's example ends in `/$ref`; accept it as the plain form.
            match req.method {
                "DELETE" => delete_item(app, coll, id),
                m => method_not_allowed(m),
            }
        }
        [(id, _), sub @ ..] if coll.kind == Kind::AuthStrength => {
            strength_sub(app, coll, req, id, sub)
        }
        [(id, _), sub @ ..] if coll.kind == Kind::Group => group_members(app, req, id, sub),
        [(_, _), (sub, _), ..] => not_found_path(sub),
    }
}

pub(super) fn is_directory(kind: Kind) -> bool {
    matches!(kind, Kind::User | Kind::Group | Kind::ServicePrincipal)
}

/// Properties Graph lets a client filter on, per collection (`None` = any).
pub(super) fn filterable(kind: Kind) -> Option<&'static [&'static str]> {
    match kind {
        Kind::CaPolicy | Kind::NamedLocation => None,
        Kind::AuthStrength => Some(&[
            "displayName",
            "policyType",
            "allowedCombinations",
            "policyName",
        ]),
        Kind::User => Some(&[
            "id",
            "userPrincipalName",
            "displayName",
            "givenName",
            "surname",
            "mail",
            "mailNickname",
            "accountEnabled",
            "userType",
            "jobTitle",
            "department",
            "assignedLicenses",
            "identities",
            "otherMails",
            "proxyAddresses",
            "city",
            "country",
            "companyName",
            "employeeId",
            "createdDateTime",
            "onPremisesSyncEnabled",
            "usageLocation",
            "state",
            "officeLocation",
            "preferredLanguage",
            "mobilePhone",
            "businessPhones",
            "creationType",
            "externalUserState",
            "imAddresses",
        ]),
        Kind::Group => Some(&[
            "id",
            "displayName",
            "mail",
            "mailNickname",
            "mailEnabled",
            "securityEnabled",
            "groupTypes",
            "hasMembersWithLicenseErrors",
            "isAssignableToRole",
            "description",
            "createdDateTime",
            "onPremisesSyncEnabled",
            "proxyAddresses",
            "assignedLicenses",
            "membershipRule",
            "membershipRuleProcessingState",
            "visibility",
        ]),
        Kind::ServicePrincipal => Some(&[
            "id",
            "appId",
            "displayName",
            "servicePrincipalType",
            "accountEnabled",
            "servicePrincipalNames",
            "tags",
            "appOwnerOrganizationId",
            "alternativeNames",
            "appDisplayName",
        ]),
        Kind::RoleDefinition => Some(&["id", "displayName", "isBuiltIn", "templateId"]),
        Kind::RetentionLabel | Kind::RoleTemplate | Kind::Organization => Some(&[]),
        Kind::CrossTenantPartner => Some(&["tenantId"]),
        Kind::AccessReview => Some(&["displayName"]),
    }
}

pub(super) fn unsupported_query(message: impl Into<String>) -> Reply {
    Reply::error(400, "Request_UnsupportedQuery", message)
}

/// Filters, orders and counts a collection per the request's query options.
pub(super) fn query_items(
    app: &App,
    coll: &Coll,
    req: &Request,
    opts: &Options,
) -> Result<Vec<Value>, Reply> {
    if coll.kind == Kind::RoleTemplate && opts.has_any() {
        return Err(unsupported_query(
            "This resource does not support OData query parameters.",
        ));
    }
    if is_directory(coll.kind) && opts.skip.is_some() {
        return Err(unsupported_query(
            "'$skip' is not supported by the service.",
        ));
    }
    let filter: Option<Expr> = match &opts.filter {
        Some(f) => Some(query::parse_filter(f).map_err(Reply::bad_request)?),
        None => None,
    };
    if let (Some(expr), Some(allowed)) = (&filter, filterable(coll.kind)) {
        for p in expr.properties() {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&p)) {
                return Err(unsupported_query(format!(
                    "Unsupported or invalid query filter clause specified for property '{p}' of resource '{}'.",
                    coll.context
                )));
            }
        }
    }
    if is_directory(coll.kind) {
        let advanced = filter.as_ref().is_some_and(Expr::is_advanced)
            || (filter.is_some() && opts.orderby.is_some())
            || opts.search.is_some();
        // $count needs ConsistencyLevel: eventual; advanced queries need it and $count=true.
        let needs_eventual = advanced || opts.wants_count();
        let satisfied = req.eventual() && (!advanced || opts.wants_count());
        if needs_eventual && !satisfied {
            return Err(unsupported_query(
                "This query is an advanced query: it needs the header 'ConsistencyLevel: eventual' and '$count=true'.",
            ));
        }
    } else if opts.search.is_some() {
        return Err(unsupported_query(
            "'$search' is not supported on this resource.",
        ));
    }
    let store = app.lock();
    let mut out: Vec<Value> = items(&store.data, coll.key)
        .iter()
        .filter(|v| store.visible(coll.key, id_of(v)))
        .filter(|v| filter.as_ref().is_none_or(|f| f.matches(v)))
        .cloned()
        .collect();
    drop(store);
    if let Some(search) = &opts.search {
        // `"property:text"` clauses, matched as case-insensitive substrings.
        let clauses: Vec<(String, String)> = search
            .split(" AND ")
            .filter_map(|c| {
                let c = c.trim().trim_matches('"');
                c.split_once(':')
                    .map(|(p, t)| (p.trim().to_string(), t.trim().to_lowercase()))
            })
            .collect();
        out.retain(|v| {
            clauses.iter().all(|(p, t)| {
                v.get(p)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.to_lowercase().contains(t))
            })
        });
    }
    if let Some(spec) = &opts.orderby {
        query::order_by(&mut out, spec).map_err(Reply::bad_request)?;
    }
    Ok(out)
}

pub(super) fn shape(coll: &Coll, obj: &Value, opts: &Options) -> Value {
    let mut v = match &opts.select {
        Some(props) => query::select(obj, props),
        None => obj.clone(),
    };
    if coll.kind == Kind::User
        && let Value::Object(m) = &mut v
    {
        // A user's @odata.type is only shown in polymorphic answers (getByIds).
        m.remove("@odata.type");
    }
    v
}

/// Graph refuses a `$select` that names a property the type does not have.
pub(super) fn check_select(ty: &str, opts: &Options) -> Result<(), Reply> {
    if ty.is_empty() {
        return Ok(()); // directory objects are open types here
    }
    for p in opts.select.iter().flatten() {
        if p != "*" && !p.starts_with('@') && !schema().selectable(ty, p) {
            return Err(Reply::bad_request(format!(
                "Could not find a property named '{p}' on type '{ty}'."
            )));
        }
    }
    Ok(())
}

pub(super) fn select_context(ctx: &str, opts: &Options) -> String {
    match &opts.select {
        Some(props) => format!("{ctx}({})", props.join(",")),
        None => ctx.to_string(),
    }
}

pub(super) fn parse_top(opts: &Options) -> Result<Option<usize>, Reply> {
    match &opts.top {
        None => Ok(None),
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_TOP).contains(&n) => Ok(Some(n)),
            _ => Err(Reply::bad_request(format!(
                "Invalid page size specified: '{t}'. Must be between 1 and {MAX_TOP} inclusive."
            ))),
        },
    }
}

pub(super) fn list(app: &App, coll: &Coll, req: &Request) -> Reply {
    let opts = Options::parse(req.query);
    if let Err(r) = check_select(coll.ty, &opts) {
        return r;
    }
    let all = match query_items(app, coll, req, &opts) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let top = match parse_top(&opts) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let skip = match &opts.skip {
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) => n,
            Err(_) => return Reply::bad_request(format!("Invalid $skip value '{s}'.")),
        },
        None => 0,
    };
    let offset = match &opts.skiptoken {
        Some(t) => match query::parse_skiptoken(t) {
            Some(n) => n,
            None => return Reply::bad_request("The $skiptoken is not valid."),
        },
        None => skip,
    };
    let total = all.len();
    let paged = coll.kind != Kind::RoleTemplate;
    let page_size = if paged {
        top.unwrap_or(app.page_size)
    } else {
        usize::MAX
    };
    let (start, end) = query::page_bounds(total, offset, page_size);
    let page: Vec<Value> = all
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|v| shape(coll, v, &opts))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(format!(
            "{}/v1.0/$metadata#{}",
            app.base_url,
            select_context(coll.context, &opts)
        )),
    );
    if opts.wants_count() && opts.skiptoken.is_none() {
        body.insert("@odata.count".into(), Value::from(total));
    }
    if end < total {
        let mut pairs: Vec<(String, String)> = opts
            .pairs
            .iter()
            .filter(|(k, _)| {
                !k.eq_ignore_ascii_case("$skiptoken") && !k.eq_ignore_ascii_case("$skip")
            })
            .cloned()
            .collect();
        pairs.push(("$skiptoken".into(), query::skiptoken(end)));
        body.insert(
            "@odata.nextLink".into(),
            Value::String(format!(
                "{}/v1.0/{}?{}",
                app.base_url,
                req.path.trim_matches('/'),
                query::encode_query(&pairs)
            )),
        );
    }
    body.insert("value".into(), Value::Array(page));
    Reply::json(200, Value::Object(body))
}

pub(super) fn count_only(app: &App, coll: &Coll, req: &Request) -> Reply {
    if req.method != "GET" {
        return method_not_allowed(req.method);
    }
    if !matches!(
        coll.kind,
        Kind::User | Kind::Group | Kind::ServicePrincipal | Kind::CaPolicy | Kind::NamedLocation
    ) {
        return not_found_path("$count");
    }
    if is_directory(coll.kind) && !req.eventual() {
        return unsupported_query(
            "Count is not currently supported without the header 'ConsistencyLevel: eventual'.",
        );
    }
    let opts = Options::parse(req.query);
    let mut forced = opts.clone();
    forced.count = Some("true".into());
    match query_items(app, coll, req, &forced) {
        Ok(items) => Reply::text(200, items.len().to_string()),
        Err(r) => r,
    }
}

pub(super) fn get_item(
    app: &App,
    coll: &Coll,
    req: &Request,
    id: &str,
    alt: Option<&str>,
) -> Reply {
    let opts = Options::parse(req.query);
    if coll.kind == Kind::RoleTemplate && opts.has_any() {
        return unsupported_query("This resource does not support OData query parameters.");
    }
    if let Err(r) = check_select(coll.ty, &opts) {
        return r;
    }
    let store = app.lock();
    let list = items(&store.data, coll.key);
    let Some(i) = find_index(list, coll.kind, id, alt) else {
        return entity_not_found(coll.kind, id);
    };
    if !store.visible(coll.key, id_of(&list[i])) {
        return entity_not_found(coll.kind, id);
    }
    let obj = shape(coll, &list[i], &opts);
    Reply::json(
        200,
        with_context(
            obj,
            &app.base_url,
            &format!("{}/$entity", select_context(coll.context, &opts)),
        ),
    )
}

pub(super) fn read_only(coll: &Coll) -> Option<Reply> {
    if matches!(
        coll.kind,
        Kind::CaPolicy
            | Kind::NamedLocation
            | Kind::AuthStrength
            | Kind::RetentionLabel
            | Kind::CrossTenantPartner
            | Kind::AccessReview
    ) {
        None
    } else {
        Some(Reply::error(
            405,
            "Request_BadRequest",
            format!("The sandbox serves '{}' read-only.", coll.context),
        ))
    }
}
