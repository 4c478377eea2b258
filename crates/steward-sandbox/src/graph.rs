//! The Graph v1.0 endpoints: routing, reads with query options, and writes with Graph's rules.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::auth::{Area, Principal, authorize};
use super::csdl::{full_type_name, merge, odata_type, schema};
use super::query::{self, Expr, MAX_TOP, Options};
use super::reply::Reply;
use super::seed::GROUP_MEMBERS;
use super::server::App;
use super::store::Store;

/// One Graph request (top-level or inside `$batch`).
pub struct Request<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// Path below `/v1.0/`, as received (percent-encoded).
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Headers, names lower-cased.
    pub headers: &'a HashMap<String, String>,
    /// Raw body.
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn eventual(&self) -> bool {
        self.header("consistencylevel")
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
    }

    /// The JSON body, which must be an object.
    fn json_object(&self) -> Result<Map<String, Value>, Reply> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Reply::bad_request("Empty Payload. JSON content expected."));
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(Reply::bad_request(
                "Invalid request body: a JSON object was expected.",
            )),
            Err(e) => Err(Reply::bad_request(format!(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ({e})"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CaPolicy,
    NamedLocation,
    AuthStrength,
    RetentionLabel,
    User,
    Group,
    ServicePrincipal,
    RoleTemplate,
    RoleDefinition,
    Organization,
}

/// A collection the sandbox serves.
struct Coll {
    /// State-file key.
    key: &'static str,
    /// URL paths (lower case) it is served under.
    paths: &'static [&'static str],
    /// CSDL type of its items ("" when outside the metadata slice).
    ty: &'static str,
    area: Area,
    kind: Kind,
    /// `@odata.context` after `$metadata#`.
    context: &'static str,
}

const COLLS: &[Coll] = &[
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

/// A singleton the sandbox serves.
struct Single {
    key: &'static str,
    path: &'static str,
    ty: &'static str,
    area: Area,
    /// PATCH answers 200 with the whole object (else 204).
    patch_returns_object: bool,
    /// Graph's fixed id, if any.
    fixed_id: Option<&'static str>,
    context: &'static str,
}

const SINGLES: &[Single] = &[
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
];

const BUILT_IN_STRENGTHS: &[&str] = &[
    "00000000-0000-0000-0000-000000000002",
    "00000000-0000-0000-0000-000000000003",
    "00000000-0000-0000-0000-000000000004",
];

const COMBINATIONS_KEY: &str = "identity/conditionalAccess/authenticationStrength/combinations";
const MODES_KEY: &str =
    "identity/conditionalAccess/authenticationStrength/authenticationMethodModes";

/// Every combination Graph lists (documented `…/authenticationStrength/combinations`).
const DEFAULT_COMBINATIONS: &[&str] = &[
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
const DEFAULT_MODES: &[(&str, &str, &str)] = &[
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

/// Whether a request is a Conditional Access or named-location write (Graph limits these to
/// one per second per tenant).
pub fn is_limited_write(method: &str, path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    matches!(method, "POST" | "PATCH" | "PUT" | "DELETE")
        && (p.starts_with("identity/conditionalaccess/policies")
            || p.starts_with("identity/conditionalaccess/namedlocations"))
}

/// A path segment, with an OData key in parentheses split off (`users('x')`,
/// `servicePrincipals(appId='y')`).
#[derive(Debug)]
struct Seg {
    name: String,
    key: Option<(Option<String>, String)>,
}

fn split_path(path: &str) -> Vec<Seg> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let s = percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned();
            if let Some(open) = s.find('(')
                && s.ends_with(')')
                && open > 0
            {
                let inner = &s[open + 1..s.len() - 1];
                let (prop, val) = match inner.split_once('=') {
                    Some((p, v)) if !p.contains('\'') => (Some(p.trim().to_string()), v),
                    _ => (None, inner),
                };
                let val = val.trim().trim_matches('\'').replace("''", "'");
                return Seg {
                    name: s[..open].to_string(),
                    key: Some((prop, val)),
                };
            }
            Seg { name: s, key: None }
        })
        .collect()
}

fn not_found_path(seg: &str) -> Reply {
    Reply::error(
        404,
        "ResourceNotFound",
        format!("Resource not found for the segment '{seg}'."),
    )
}

fn method_not_allowed(method: &str) -> Reply {
    Reply::error(
        405,
        "Request_BadRequest",
        format!("The HTTP method '{method}' is not supported for this resource."),
    )
}

/// Answers one Graph request for an authenticated principal.
pub fn handle(app: &App, principal: &Principal, req: &Request) -> Reply {
    let segs = split_path(req.path);
    if segs.is_empty() {
        return Reply::json(
            200,
            json!({"@odata.context": format!("{}/v1.0/$metadata", app.base_url), "value": []}),
        );
    }
    let lower: Vec<String> = segs.iter().map(|s| s.name.to_ascii_lowercase()).collect();
    let joined = lower.join("/");

    if joined == "directoryobjects/getbyids" {
        if let Some(r) = authorize(principal, Area::DirectoryObjects, false) {
            return r;
        }
        return if req.method == "POST" {
            get_by_ids(app, req)
        } else {
            method_not_allowed(req.method)
        };
    }
    if lower.len() == 2 && lower[0] == "directoryobjects" && segs[0].key.is_none() {
        if let Some(r) = authorize(principal, Area::DirectoryObjects, false) {
            return r;
        }
        if req.method != "GET" {
            return method_not_allowed(req.method);
        }
        let store = app.lock();
        return match find_directory_object(&store, &segs[1].name, None) {
            Some(obj) => Reply::json(
                200,
                with_context(obj, &app.base_url, "directoryObjects/$entity"),
            ),
            None => directory_not_found(&segs[1].name),
        };
    }
    for (path, ctx) in [
        (COMBINATIONS_KEY, "combinations"),
        (MODES_KEY, "authenticationMethodModes"),
    ] {
        let p = path.to_ascii_lowercase();
        if joined == p || joined.starts_with(&format!("{p}/")) {
            if let Some(r) = authorize(principal, Area::AuthenticationStrengths, false) {
                return r;
            }
            if req.method != "GET" {
                return method_not_allowed(req.method);
            }
            return strength_lists(app, ctx, &segs[lower.len().min(4)..]);
        }
    }
    for single in SINGLES {
        let parts: Vec<&str> = single.path.split('/').collect();
        if lower.len() >= parts.len() && lower[..parts.len()] == parts[..] {
            let write = req.method != "GET";
            let rest = &segs[parts.len()..];
            if let Some(r) = authorize(principal, single.area, write) {
                return r;
            }
            return singleton(app, single, req, rest);
        }
    }
    for coll in COLLS {
        for path in coll.paths {
            let parts: Vec<&str> = path.split('/').collect();
            if lower.len() >= parts.len() && lower[..parts.len()] == parts[..] {
                let write = req.method != "GET";
                if let Some(r) = authorize(principal, coll.area, write) {
                    return r;
                }
                // `users('x')` addresses an item like `users/x`.
                let last = &segs[parts.len() - 1];
                let mut rest: Vec<(String, Option<String>)> = Vec::new();
                if let Some((prop, val)) = &last.key {
                    rest.push((val.clone(), prop.clone()));
                }
                rest.extend(segs[parts.len()..].iter().map(|s| (s.name.clone(), None)));
                return collection(app, coll, req, &rest);
            }
        }
    }
    not_found_path(&segs[0].name)
}

fn with_context(mut obj: Value, base: &str, ctx: &str) -> Value {
    if let Value::Object(m) = &mut obj {
        let mut out = Map::new();
        out.insert(
            "@odata.context".into(),
            Value::String(format!("{base}/v1.0/$metadata#{ctx}")),
        );
        for (k, v) in std::mem::take(m) {
            if k != "@odata.context" {
                out.insert(k, v);
            }
        }
        return Value::Object(out);
    }
    obj
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn items<'a>(data: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    data.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn items_mut<'a>(data: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let entry = data
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    match entry {
        Value::Array(a) => a,
        _ => unreachable!("just made an array"),
    }
}

fn id_of(v: &Value) -> &str {
    v.get("id").and_then(Value::as_str).unwrap_or("")
}

fn find_index(list: &[Value], kind: Kind, key: &str, alt: Option<&str>) -> Option<usize> {
    list.iter().position(|v| {
        if let Some(prop) = alt {
            return v
                .get(prop)
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(key));
        }
        id_of(v).eq_ignore_ascii_case(key)
            || (kind == Kind::User
                && v.get("userPrincipalName")
                    .and_then(Value::as_str)
                    .is_some_and(|u| u.eq_ignore_ascii_case(key)))
    })
}

fn entity_not_found(kind: Kind, id: &str) -> Reply {
    match kind {
        Kind::User
        | Kind::Group
        | Kind::ServicePrincipal
        | Kind::RoleTemplate
        | Kind::Organization => directory_not_found(id),
        _ => Reply::error(
            404,
            "ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

fn directory_not_found(id: &str) -> Reply {
    Reply::error(
        404,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Persists the store; on failure restores `key` to `before` and answers 500.
fn commit(store: &mut Store, key: &str, before: Option<Value>) -> Result<(), Reply> {
    if let Err(e) = store.persist() {
        match before {
            Some(v) => {
                store.data.insert(key.to_string(), v);
            }
            None => {
                store.data.remove(key);
            }
        }
        return Err(Reply::error(
            500,
            "InternalServerError",
            format!("The sandbox could not persist the change: {e}"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Collections

fn collection(app: &App, coll: &Coll, req: &Request, rest: &[(String, Option<String>)]) -> Reply {
    match rest {
        [] => match req.method {
            "GET" => list(app, coll, req),
            "POST" => create(app, coll, req),
            m => method_not_allowed(m),
        },
        [(seg, None)] if seg == "$count" => count_only(app, coll, req),
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

fn is_directory(kind: Kind) -> bool {
    matches!(kind, Kind::User | Kind::Group | Kind::ServicePrincipal)
}

/// Properties Graph lets a client filter on, per collection (`None` = any).
fn filterable(kind: Kind) -> Option<&'static [&'static str]> {
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
    }
}

fn unsupported_query(message: impl Into<String>) -> Reply {
    Reply::error(400, "Request_UnsupportedQuery", message)
}

/// Filters, orders and counts a collection per the request's query options.
fn query_items(app: &App, coll: &Coll, req: &Request, opts: &Options) -> Result<Vec<Value>, Reply> {
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

fn shape(coll: &Coll, obj: &Value, opts: &Options) -> Value {
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
fn check_select(ty: &str, opts: &Options) -> Result<(), Reply> {
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

fn select_context(ctx: &str, opts: &Options) -> String {
    match &opts.select {
        Some(props) => format!("{ctx}({})", props.join(",")),
        None => ctx.to_string(),
    }
}

fn parse_top(opts: &Options) -> Result<Option<usize>, Reply> {
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

fn list(app: &App, coll: &Coll, req: &Request) -> Reply {
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

fn count_only(app: &App, coll: &Coll, req: &Request) -> Reply {
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

fn get_item(app: &App, coll: &Coll, req: &Request, id: &str, alt: Option<&str>) -> Reply {
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

fn read_only(coll: &Coll) -> Option<Reply> {
    if matches!(
        coll.kind,
        Kind::CaPolicy | Kind::NamedLocation | Kind::AuthStrength | Kind::RetentionLabel
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

fn require(body: &Map<String, Value>, props: &[&str]) -> Result<(), Reply> {
    for p in props {
        match body.get(*p) {
            None | Some(Value::Null) => {
                return Err(Reply::bad_request(format!(
                    "The property '{p}' is required when creating this resource."
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn validate(body: Map<String, Value>, ty: &str) -> Result<Map<String, Value>, Reply> {
    let mut v = Value::Object(body);
    schema()
        .validate_structured(&mut v, ty, "")
        .map_err(Reply::bad_request)?;
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(Reply::bad_request("A JSON object was expected.")),
    }
}

/// Retention labels: an event-based label names its event type, a disposition review has
/// stages, and every stage has a distinct number and reviewers.
fn retention_label_rules(body: &Map<String, Value>, creating: bool) -> Result<(), Reply> {
    let says = |key: &str, value: &str| body.get(key).and_then(Value::as_str) == Some(value);
    if creating
        && says("retentionTrigger", "dateOfEvent")
        && !body.contains_key("retentionEventType@odata.bind")
    {
        return Err(Reply::bad_request(
            "A label with retentionTrigger 'dateOfEvent' needs 'retentionEventType@odata.bind'.",
        ));
    }
    let stages = body
        .get("dispositionReviewStages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if creating && says("actionAfterRetentionPeriod", "startDispositionReview") && stages.is_empty()
    {
        return Err(Reply::bad_request(
            "A label with actionAfterRetentionPeriod 'startDispositionReview' needs 'dispositionReviewStages'.",
        ));
    }
    let mut numbers = std::collections::HashSet::new();
    for stage in stages {
        let number = stage
            .get("stageNumber")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !numbers.insert(number) {
            return Err(Reply::bad_request(format!(
                "Disposition review stage number '{number}' appears more than once."
            )));
        }
        if stage
            .get("reviewersEmailAddresses")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            return Err(Reply::bad_request(format!(
                "Disposition review stage '{number}' needs 'reviewersEmailAddresses'."
            )));
        }
    }
    if let Some(bind) = body.get("retentionEventType@odata.bind") {
        event_type_id(bind)?;
    }
    Ok(())
}

/// The event type id a `retentionEventType@odata.bind` names.
fn event_type_id(bind: &Value) -> Result<String, Reply> {
    bind.as_str()
        .and_then(|url| {
            let (_, tail) = url.split_once("security/triggerTypes/retentionEventTypes")?;
            let id = tail
                .strip_prefix("('")
                .and_then(|t| t.strip_suffix("')"))
                .or_else(|| tail.strip_prefix('/'))?;
            uuid::Uuid::parse_str(id).ok().map(|_| id.to_ascii_lowercase())
        })
        .ok_or_else(|| {
            Reply::bad_request(
                "'retentionEventType@odata.bind' must name security/triggerTypes/retentionEventTypes('{id}').",
            )
        })
}

/// Turns a label's event type binding into the (expanded) navigation property a read returns.
fn bind_event_type(kind: Kind, body: &mut Map<String, Value>) {
    if kind != Kind::RetentionLabel {
        return;
    }
    if let Some(bind) = body.remove("retentionEventType@odata.bind")
        && let Ok(id) = event_type_id(&bind)
    {
        body.insert(
            "retentionEventType".into(),
            json!({"@odata.type": "#microsoft.graph.security.retentionEventType", "id": id}),
        );
    }
}

/// Value rules the metadata cannot express, checked on create and (for what a PATCH names) on
/// update.
fn kind_rules(kind: Kind, body: &Map<String, Value>, creating: bool) -> Result<(), Reply> {
    match kind {
        Kind::RetentionLabel => retention_label_rules(body, creating)?,
        Kind::CaPolicy if creating => {
            let c = body.get("conditions").cloned().unwrap_or(Value::Null);
            if c.get("applications").is_none_or(Value::is_null) {
                return Err(Reply::bad_request("conditions.applications is required."));
            }
            if c.get("users").is_none_or(Value::is_null)
                && c.get("clientApplications").is_none_or(Value::is_null)
            {
                return Err(Reply::bad_request(
                    "conditions.users or conditions.clientApplications is required.",
                ));
            }
        }
        Kind::NamedLocation => {
            if let Some(ranges) = body.get("ipRanges").and_then(Value::as_array) {
                if ranges.is_empty() {
                    return Err(Reply::bad_request("ipRanges must hold at least one range."));
                }
                for r in ranges {
                    let ty = r.get("@odata.type").and_then(Value::as_str).unwrap_or("");
                    let cidr = r.get("cidrAddress").and_then(Value::as_str);
                    let ok = match (ty, cidr) {
                        ("#microsoft.graph.iPv4CidrRange", Some(c)) => valid_cidr(c, false),
                        ("#microsoft.graph.iPv6CidrRange", Some(c)) => valid_cidr(c, true),
                        (
                            "#microsoft.graph.iPv4CidrRange" | "#microsoft.graph.iPv6CidrRange",
                            None,
                        ) => false,
                        _ => true,
                    };
                    if !ok {
                        return Err(Reply::bad_request(format!(
                            "'{}' is not a valid {} CIDR range.",
                            cidr.unwrap_or(""),
                            if ty.contains("iPv6") { "IPv6" } else { "IPv4" }
                        )));
                    }
                }
            }
            if let Some(countries) = body.get("countriesAndRegions").and_then(Value::as_array) {
                for c in countries {
                    let ok = c.as_str().is_some_and(|s| {
                        s.len() == 2 && s.chars().all(|ch| ch.is_ascii_uppercase())
                    });
                    if !ok {
                        return Err(Reply::bad_request(format!(
                            "'{c}' is not a two-letter ISO 3166 country or region code."
                        )));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn valid_cidr(c: &str, v6: bool) -> bool {
    let Some((addr, prefix)) = c.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    if v6 {
        addr.parse::<std::net::Ipv6Addr>().is_ok() && prefix <= 128
    } else {
        addr.parse::<std::net::Ipv4Addr>().is_ok() && prefix <= 32
    }
}

/// Named locations must say which kind they are, and cannot be both.
fn named_location_type(body: &Map<String, Value>) -> Result<String, Reply> {
    if body.contains_key("ipRanges") && body.contains_key("countriesAndRegions") {
        return Err(Reply::bad_request(
            "A named location cannot have both 'ipRanges' and 'countriesAndRegions'.",
        ));
    }
    let Some(t) = body.get("@odata.type").and_then(Value::as_str) else {
        return Err(Reply::bad_request(
            "The '@odata.type' of the named location is required: '#microsoft.graph.ipNamedLocation' or '#microsoft.graph.countryNamedLocation'.",
        ));
    };
    let full = full_type_name(t);
    if full != "microsoft.graph.ipNamedLocation" && full != "microsoft.graph.countryNamedLocation" {
        return Err(Reply::bad_request(format!(
            "'{t}' is not a named location type."
        )));
    }
    Ok(full)
}

/// `"sms, password"` → `"password,sms"`: Graph's form (modes in enum order, no spaces).
fn normalise_combination(c: &str) -> String {
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

fn normalise_combinations(v: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for c in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
        let n = Value::String(normalise_combination(c));
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn create(app: &App, coll: &Coll, req: &Request) -> Reply {
    if let Some(r) = read_only(coll) {
        return r;
    }
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
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
        _ => &[],
    };
    if let Err(r) = require(&body, required) {
        return r;
    }
    if let Err(r) = kind_rules(coll.kind, &body, true) {
        return r;
    }
    bind_event_type(coll.kind, &mut body);
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

fn body_id_conflicts(body: &Map<String, Value>, id: &str) -> Option<Reply> {
    match body.get("id").and_then(Value::as_str) {
        Some(b) if !b.eq_ignore_ascii_case(id) => Some(Reply::bad_request(
            "The 'id' of an object cannot be changed.",
        )),
        _ => None,
    }
}

fn update_item(app: &App, coll: &Coll, req: &Request, id: &str) -> Reply {
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
    let mut updated = current.clone();
    if let Value::Object(m) = &mut updated {
        merge(m, &body);
        let stamp = match coll.kind {
            Kind::RetentionLabel => "lastModifiedDateTime",
            _ => "modifiedDateTime",
        };
        m.insert(stamp.into(), Value::String(now()));
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

const CA_KEY: &str = "identity/conditionalAccess/policies";
const NL_KEY: &str = "identity/conditionalAccess/namedLocations";
const STRENGTH_KEY: &str = "policies/authenticationStrengthPolicies";
/// Location values that are not named-location ids.
const SPECIAL_LOCATIONS: &[&str] = &["All", "AllTrusted", "00000000-0000-0000-0000-000000000000"];

/// Named-location and authentication-strength ids a CA policy refers to.
fn policy_references(policy: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    for field in ["includeLocations", "excludeLocations"] {
        for v in policy
            .pointer(&format!("/conditions/locations/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !SPECIAL_LOCATIONS.iter().any(|s| s.eq_ignore_ascii_case(v)) {
                refs.push(v.to_string());
            }
        }
    }
    if let Some(id) = policy
        .pointer("/grantControls/authenticationStrength/id")
        .and_then(Value::as_str)
    {
        refs.push(id.to_string());
    }
    refs
}

/// Graph refuses a CA policy that names a location or strength the tenant does not have.
fn dangling_references(store: &Store, policy: &Value) -> Option<Reply> {
    let exists = |key: &str, id: &str| {
        items(&store.data, key)
            .iter()
            .any(|v| id_of(v).eq_ignore_ascii_case(id))
    };
    for field in ["includeLocations", "excludeLocations"] {
        for v in policy
            .pointer(&format!("/conditions/locations/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !SPECIAL_LOCATIONS.iter().any(|s| s.eq_ignore_ascii_case(v)) && !exists(NL_KEY, v) {
                return Some(Reply::bad_request(format!(
                    "conditions.locations.{field}: the named location '{v}' does not exist."
                )));
            }
        }
    }
    if let Some(id) = policy
        .pointer("/grantControls/authenticationStrength/id")
        .and_then(Value::as_str)
        && !exists(STRENGTH_KEY, id)
    {
        return Some(Reply::bad_request(format!(
            "grantControls.authenticationStrength: the authentication strength '{id}' does not exist."
        )));
    }
    None
}

fn is_built_in_strength(v: &Value) -> bool {
    BUILT_IN_STRENGTHS.contains(&id_of(v))
        || v.get("policyType").and_then(Value::as_str) == Some("builtIn")
}

fn delete_item(app: &App, coll: &Coll, id: &str) -> Reply {
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

fn strength_sub(
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

fn ca_policies_using(store: &Store, strength_id: &str) -> Vec<Value> {
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

fn update_allowed_combinations(app: &App, coll: &Coll, req: &Request, id: &str) -> Reply {
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

fn strength_usage(app: &App, coll: &Coll, id: &str) -> Reply {
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

fn combination_configurations(
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

fn strength_lists(app: &App, which: &str, rest: &[Seg]) -> Reply {
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

fn singleton(app: &App, single: &Single, req: &Request, rest: &[Seg]) -> Reply {
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

fn method_configurations(app: &App, single: &Single, req: &Request, rest: &[Seg]) -> Reply {
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

/// `groups/{id}/members`, `…/members/$ref`, `…/members/{member}/$ref` and
/// `groups/{id}/transitiveMembers`.
fn group_members(app: &App, req: &Request, group: &str, sub: &[(String, Option<String>)]) -> Reply {
    let names: Vec<String> = sub.iter().map(|(s, _)| s.to_ascii_lowercase()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let group_id = {
        let store = app.lock();
        let list = items(&store.data, "groups");
        match find_index(list, Kind::Group, group, None) {
            Some(i) if store.visible("groups", id_of(&list[i])) => id_of(&list[i]).to_string(),
            _ => return directory_not_found(group),
        }
    };
    match (names.as_slice(), req.method) {
        (["members"], "GET") => {
            let store = app.lock();
            let found = direct_members(&store, &group_id)
                .iter()
                .filter_map(|id| find_directory_object(&store, id, None))
                .collect();
            drop(store);
            member_page(app, req, found)
        }
        (["transitivemembers"], "GET") => {
            let store = app.lock();
            let found = transitive_members(&store, &group_id)
                .iter()
                .filter_map(|id| find_directory_object(&store, id, None))
                .collect();
            drop(store);
            member_page(app, req, found)
        }
        (["members", "$ref"], "POST") => add_member(app, req, &group_id),
        (["members", member, "$ref"], "DELETE") => remove_member(app, &group_id, member),
        (["members"] | ["transitivemembers"] | ["members", "$ref"] | ["members", _, "$ref"], m) => {
            method_not_allowed(m)
        }
        _ => not_found_path(sub.first().map_or("", |(s, _)| s.as_str())),
    }
}

/// The ids of a group's direct members, as stored.
fn direct_members(store: &Store, group: &str) -> Vec<String> {
    store
        .data
        .get(GROUP_MEMBERS)
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(group))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// Every member of a group and of the groups nested in it, once each (nested groups
/// included, as Graph lists them); a nesting cycle ends where it closes.
fn transitive_members(store: &Store, group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut queue = vec![group.to_ascii_lowercase()];
    let mut expanded = std::collections::HashSet::new();
    while let Some(next) = queue.pop() {
        if !expanded.insert(next.clone()) {
            continue;
        }
        for member in direct_members(store, &next) {
            if member == group.to_ascii_lowercase() || out.contains(&member) {
                continue;
            }
            if items(&store.data, "groups")
                .iter()
                .any(|g| id_of(g).eq_ignore_ascii_case(&member))
            {
                queue.push(member.clone());
            }
            out.push(member);
        }
    }
    out
}

/// One page of directory objects, with `$select`, `$top` and `$skiptoken` as Graph pages them.
fn member_page(app: &App, req: &Request, all: Vec<Value>) -> Reply {
    let opts = Options::parse(req.query);
    let top = match parse_top(&opts) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let offset = match &opts.skiptoken {
        Some(t) => match query::parse_skiptoken(t) {
            Some(n) => n,
            None => return Reply::bad_request("The $skiptoken is not valid."),
        },
        None => 0,
    };
    let total = all.len();
    let (start, end) = query::page_bounds(total, offset, top.unwrap_or(app.page_size));
    let page: Vec<Value> = all
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|v| {
            let mut shown = match &opts.select {
                Some(props) => query::select(v, props),
                None => v.clone(),
            };
            // Members are a polymorphic collection: each keeps its type.
            if let (Value::Object(m), Some(ty)) = (&mut shown, v.get("@odata.type")) {
                m.insert("@odata.type".into(), ty.clone());
            }
            shown
        })
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(format!("{}/v1.0/$metadata#directoryObjects", app.base_url)),
    );
    if end < total {
        let mut pairs: Vec<(String, String)> = opts
            .pairs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
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

/// `POST groups/{id}/members/$ref` with `{"@odata.id": ".../directoryObjects/{member}"}`.
fn add_member(app: &App, req: &Request, group: &str) -> Reply {
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(reference) = body.get("@odata.id").and_then(Value::as_str) else {
        return Reply::bad_request("The request body needs an '@odata.id' reference.");
    };
    let member = reference
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut store = app.lock();
    if find_directory_object(&store, &member, None).is_none() {
        return directory_not_found(&member);
    }
    if direct_members(&store, group).contains(&member) {
        return Reply::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        );
    }
    let before = store.data.get(GROUP_MEMBERS).cloned();
    let all = store
        .data
        .entry(GROUP_MEMBERS.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !all.is_object() {
        *all = Value::Object(Map::new());
    }
    if let Value::Object(map) = all {
        let list = map
            .entry(group.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        if let Value::Array(list) = list {
            list.push(Value::String(member));
        }
    }
    match commit(&mut store, GROUP_MEMBERS, before) {
        Ok(()) => Reply::no_content(),
        Err(r) => r,
    }
}

/// `DELETE groups/{id}/members/{member}/$ref`.
fn remove_member(app: &App, group: &str, member: &str) -> Reply {
    let mut store = app.lock();
    if !direct_members(&store, group).contains(&member.to_ascii_lowercase()) {
        return directory_not_found(member);
    }
    let before = store.data.get(GROUP_MEMBERS).cloned();
    if let Some(Value::Object(map)) = store.data.get_mut(GROUP_MEMBERS) {
        for (key, list) in map.iter_mut() {
            if key.eq_ignore_ascii_case(group)
                && let Value::Array(list) = list
            {
                list.retain(|m| !m.as_str().is_some_and(|m| m.eq_ignore_ascii_case(member)));
            }
        }
    }
    match commit(&mut store, GROUP_MEMBERS, before) {
        Ok(()) => Reply::no_content(),
        Err(r) => r,
    }
}

// ---------------------------------------------------------------------------------------------
// Directory objects

const DIRECTORY_SETS: &[(&str, &str)] = &[
    ("users", "user"),
    ("groups", "group"),
    ("servicePrincipals", "servicePrincipal"),
    ("directoryRoleTemplates", "directoryRoleTemplate"),
    ("organization", "organization"),
];

fn find_directory_object(store: &Store, id: &str, types: Option<&[String]>) -> Option<Value> {
    for (key, ty) in DIRECTORY_SETS {
        if let Some(types) = types
            && !types.iter().any(|t| t.eq_ignore_ascii_case(ty))
        {
            continue;
        }
        if let Some(v) = items(&store.data, key)
            .iter()
            .find(|v| id_of(v).eq_ignore_ascii_case(id) && store.visible(key, id))
        {
            let mut v = v.clone();
            if let Value::Object(m) = &mut v
                && !m.contains_key("@odata.type")
            {
                let mut out = Map::new();
                out.insert("@odata.type".into(), Value::String(odata_type(ty)));
                out.extend(std::mem::take(m));
                *m = out;
            }
            return Some(v);
        }
    }
    None
}

fn get_by_ids(app: &App, req: &Request) -> Reply {
    let body = match req.json_object() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(ids) = body.get("ids").and_then(Value::as_array) else {
        return Reply::bad_request(
            "The 'ids' parameter is required and must be a collection of strings.",
        );
    };
    if ids.len() > 1000 {
        return Reply::bad_request("Too many ids: at most 1000 are allowed in one request.");
    }
    let types: Option<Vec<String>> = match body.get("types") {
        None | Some(Value::Null) => None,
        Some(Value::Array(t)) => Some(
            t.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim_start_matches("microsoft.graph.").to_string())
                .collect(),
        ),
        Some(_) => {
            return Reply::bad_request("The 'types' parameter must be a collection of strings.");
        }
    };
    let store = app.lock();
    // One pass over the directory per request, not one per id: a thousand ids against a
    // large tenant would otherwise hold the store for a noticeable time.
    let mut index: HashMap<String, (&str, &str, &Value)> = HashMap::new();
    for (key, ty) in DIRECTORY_SETS {
        if let Some(types) = types.as_deref()
            && !types.iter().any(|t| t.eq_ignore_ascii_case(ty))
        {
            continue;
        }
        for v in items(&store.data, key) {
            index
                .entry(id_of(v).to_ascii_lowercase())
                .or_insert((key, ty, v));
        }
    }
    let mut found = Vec::new();
    for id in ids {
        let Some(id) = id.as_str() else {
            return Reply::bad_request("Every id must be a string.");
        };
        let Some((key, ty, v)) = index.get(&id.to_ascii_lowercase()).copied() else {
            continue;
        };
        if !store.visible(key, id) {
            continue;
        }
        let mut v = v.clone();
        if let Value::Object(m) = &mut v
            && !m.contains_key("@odata.type")
        {
            let mut out = Map::new();
            out.insert("@odata.type".into(), Value::String(odata_type(ty)));
            out.extend(std::mem::take(m));
            *m = out;
        }
        found.push(v);
    }
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#directoryObjects", app.base_url),
            "value": found,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_ranges_are_checked_per_family() {
        assert!(
            valid_cidr("12.34.221.11/22", false),
            "host bits are accepted, as Graph does"
        );
        assert!(valid_cidr("2001:db8::/48", true));
        assert!(!valid_cidr("2001:db8::/48", false));
        assert!(!valid_cidr("10.0.0.0/33", false));
        assert!(!valid_cidr("10.0.0.0", false));
    }

    #[test]
    fn combinations_are_normalised_to_graphs_form() {
        assert_eq!(normalise_combination("sms, password"), "password,sms");
        assert_eq!(normalise_combination("fido2"), "fido2");
        assert_eq!(normalise_combination("password , voice"), "password,voice");
    }

    #[test]
    fn path_keys_in_parentheses_are_split() {
        let s = split_path("servicePrincipals(appId='00000003-0000-0000-c000-000000000000')");
        assert_eq!(s[0].name, "servicePrincipals");
        assert_eq!(
            s[0].key,
            Some((
                Some("appId".into()),
                "00000003-0000-0000-c000-000000000000".into()
            ))
        );
        let u = split_path("users('$x@contoso.com')");
        assert_eq!(u[0].key, Some((None, "$x@contoso.com".into())));
        let e = split_path("users/a%23EXT%23%40b.com");
        assert_eq!(e[1].name, "a#EXT#@b.com");
    }

    #[test]
    fn limited_writes_are_ca_and_named_locations_only() {
        assert!(is_limited_write(
            "POST",
            "identity/conditionalAccess/policies"
        ));
        assert!(is_limited_write(
            "PATCH",
            "identity/conditionalaccess/namedLocations/x"
        ));
        assert!(!is_limited_write(
            "GET",
            "identity/conditionalAccess/policies"
        ));
        assert!(!is_limited_write("PATCH", "policies/authorizationPolicy"));
    }
}
