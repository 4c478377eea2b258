//! SharePoint's admin API, as far as tenant settings go: `GET /_api/SPO.Tenant` (verbose OData,
//! PascalCase, enums as integers, `-1` for "no expiry", Int64 values as strings) and CSOM's
//! `POST /_vti_bin/client.svc/ProcessQuery` (XML requests; a JSON array answer, failures inside
//! it as `ErrorInfo` on HTTP 200), plus Graph's `sites/root`, which names the SharePoint host.
//!
//! SharePoint's own settings are kept under [`SPO_KEY`]; the ones Graph's
//! `/admin/sharepoint/settings` also exposes live only in Graph's object and are shown (and
//! written) here through it, so the two APIs always agree.

use serde_json::{Map, Value, json};

use super::auth::{self, Principal};
use super::reply::Reply;
use super::server::App;
use super::store::Store;
use super::xml::{self, Element};

/// State key of SharePoint's own tenant settings (PascalCase, wire values).
pub const SPO_KEY: &str = "spo/tenant";
/// State key of Graph's SharePoint settings, which hold the overlapping ones.
const GRAPH_KEY: &str = "admin/sharepoint/settings";
/// CSOM's type id of the Tenant object.
const TENANT_TYPE_ID: &str = "{268004ae-ef6b-4e9b-8425-127220d84719}";
const TENANT_TYPE: &str = "Microsoft.Online.SharePoint.TenantAdministration.Tenant";
/// Application permission SharePoint's admin API needs (on "Office 365 SharePoint Online").
pub const SITES_FULL_CONTROL: &str = "Sites.FullControl.All";

/// How one of SharePoint's own settings may be written.
#[derive(Clone, Copy)]
enum Check {
    Bool,
    /// Integers in `lo..=hi`.
    Range(i64, i64),
    /// Anyone-link expiry: 0 (stored as -1) or 1–730.
    Expiry,
}

/// SharePoint's own settings the sandbox keeps, with their checks and Microsoft's defaults.
const OWN: &[(&str, Check)] = &[
    ("CoreSharingCapability", Check::Range(0, 3)),
    ("ODBSharingCapability", Check::Range(0, 3)),
    ("DefaultSharingLinkType", Check::Range(0, 3)),
    ("DefaultLinkPermission", Check::Range(0, 2)),
    ("RequireAnonymousLinksExpireInDays", Check::Expiry),
    ("FileAnonymousLinkType", Check::Range(0, 2)),
    ("FolderAnonymousLinkType", Check::Range(0, 2)),
    ("ExternalUserExpirationRequired", Check::Bool),
    ("ExternalUserExpireInDays", Check::Range(30, 730)),
    ("EmailAttestationRequired", Check::Bool),
    ("EmailAttestationReAuthDays", Check::Range(1, 365)),
    ("ConditionalAccessPolicy", Check::Range(0, 2)),
    ("LimitedAccessFileType", Check::Range(0, 2)),
    ("AllowEditing", Check::Bool),
    ("AllowDownloadingNonWebViewableFiles", Check::Bool),
    ("BlockDownloadOfAllFilesForGuests", Check::Bool),
    ("EnableAIPIntegration", Check::Bool),
    ("EnableRestrictedAccessControl", Check::Bool),
];

/// SharePoint's out-of-the-box settings: Anyone links on, never expiring, editable.
pub fn defaults() -> Value {
    json!({
        "AllowDownloadingNonWebViewableFiles": true,
        "AllowEditing": true,
        "AllowedDomainListForSyncClient": [],
        "BlockDownloadOfAllFilesForGuests": false,
        "ConditionalAccessPolicy": 0,
        "CoreSharingCapability": 2,
        "DefaultLinkPermission": 2,
        "DefaultSharingLinkType": 3,
        "EmailAttestationEnabled": false,
        "EmailAttestationReAuthDays": 30,
        "EmailAttestationRequired": false,
        "EnableAIPIntegration": false,
        "EnableAzureADB2BIntegration": false,
        "EnableRestrictedAccessControl": false,
        "ExternalUserExpirationRequired": false,
        "ExternalUserExpireInDays": 60,
        "FileAnonymousLinkType": 2,
        "FolderAnonymousLinkType": 2,
        "LimitedAccessFileType": 1,
        "ODBSharingCapability": 2,
        "OneDriveStorageQuota": 1048576,
        "RequireAnonymousLinksExpireInDays": -1,
        "RestrictedSearchMode": 0,
        "RestrictedSearchAllowedList": [],
    })
}

// ---------------------------------------------------------------------------------------------
// The overlap with Graph

const SHARING: &[(&str, i64)] = &[
    ("disabled", 0),
    ("externalUserSharingOnly", 1),
    ("externalUserAndGuestSharing", 2),
    ("existingExternalUserSharingOnly", 3),
];
const DOMAIN_MODES: &[(&str, i64)] = &[("none", 0), ("allowList", 1), ("blockList", 2)];

/// How a setting Graph also exposes looks on SharePoint's side.
#[derive(Clone, Copy)]
enum Shared {
    Enum(&'static [(&'static str, i64)]),
    Bool,
    Inverted,
    Int,
    /// A string collection in Graph, space-separated on SharePoint.
    Spaced,
}

/// (SharePoint name, Graph name, how it maps).
const OVERLAP: &[(&str, &str, Shared)] = &[
    (
        "SharingCapability",
        "sharingCapability",
        Shared::Enum(SHARING),
    ),
    (
        "SharingDomainRestrictionMode",
        "sharingDomainRestrictionMode",
        Shared::Enum(DOMAIN_MODES),
    ),
    (
        "SharingAllowedDomainList",
        "sharingAllowedDomainList",
        Shared::Spaced,
    ),
    (
        "SharingBlockedDomainList",
        "sharingBlockedDomainList",
        Shared::Spaced,
    ),
    (
        "PreventExternalUsersFromResharing",
        "isResharingByExternalUsersEnabled",
        Shared::Inverted,
    ),
    (
        "OrphanedPersonalSitesRetentionPeriod",
        "deletedUserPersonalSiteRetentionPeriodInDays",
        Shared::Int,
    ),
    (
        "RequireAcceptingAccountMatchInvitedAccount",
        "isRequireAcceptingUserToMatchInvitedUserEnabled",
        Shared::Bool,
    ),
    (
        "LegacyAuthProtocolsEnabled",
        "isLegacyAuthProtocolsEnabled",
        Shared::Bool,
    ),
    (
        "IsUnmanagedSyncClientForTenantRestricted",
        "isUnmanagedSyncAppForTenantRestricted",
        Shared::Bool,
    ),
];

fn to_spo(graph: &Value, how: Shared) -> Value {
    match how {
        Shared::Enum(table) => graph
            .as_str()
            .and_then(|s| table.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)))
            .map_or(Value::Null, |(_, i)| json!(i)),
        Shared::Bool | Shared::Int => graph.clone(),
        Shared::Inverted => graph.as_bool().map_or(Value::Null, |b| json!(!b)),
        Shared::Spaced => {
            let list: Vec<&str> = graph
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            json!(list.join(" "))
        }
    }
}

fn to_graph(spo: &str, how: Shared) -> Result<Value, String> {
    let int = || {
        spo.trim()
            .parse::<i64>()
            .map_err(|_| format!("'{spo}' is not a number"))
    };
    let boolean = || match spo.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("'{spo}' is not a Boolean")),
    };
    Ok(match how {
        Shared::Enum(table) => {
            let i = int()?;
            let (name, _) = table
                .iter()
                .find(|(_, v)| *v == i)
                .ok_or_else(|| format!("{i} is not a valid value"))?;
            json!(name)
        }
        Shared::Bool => json!(boolean()?),
        Shared::Inverted => json!(!boolean()?),
        Shared::Int => json!(int()?),
        Shared::Spaced => json!(
            spo.split([' ', ','])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        ),
    })
}

/// SharePoint's own settings as stored (defaults for a state file from before they existed).
fn own(store: &Store) -> Map<String, Value> {
    let mut out = match defaults() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(Value::Object(saved)) = store.data.get(SPO_KEY) {
        for (k, v) in saved {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The whole tenant object as SharePoint shows it: its own settings plus the overlap.
fn tenant(store: &Store) -> Map<String, Value> {
    let mut out = own(store);
    // Restricted SharePoint Search is methods, not properties.
    out.remove("RestrictedSearchMode");
    out.remove("RestrictedSearchAllowedList");
    let graph = store.data.get(GRAPH_KEY).cloned().unwrap_or(Value::Null);
    for (spo, graph_name, how) in OVERLAP {
        if let Some(v) = graph.get(*graph_name) {
            out.insert((*spo).to_string(), to_spo(v, *how));
        }
    }
    // Narrowing SharePoint narrows OneDrive with it: OneDrive is never wider.
    if let (Some(sp), Some(od)) = (
        out.get("SharingCapability").and_then(Value::as_i64),
        out.get("ODBSharingCapability").and_then(Value::as_i64),
    ) && breadth(od) > breadth(sp)
    {
        out.insert("ODBSharingCapability".into(), json!(sp));
    }
    let mut sorted: Vec<(String, Value)> = out.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.into_iter().collect()
}

/// The SharePoint host name of the tenant (`contoso.sharepoint.com`), from its initial domain.
pub fn host(store: &Store) -> String {
    let initial = store
        .initial_domain()
        .unwrap_or_else(|| super::seed::DEMO_DOMAIN.to_string());
    let prefix = initial.split('.').next().unwrap_or("contoso");
    format!("{prefix}.sharepoint.com")
}

/// The admin host's URL, the audience of SharePoint admin tokens.
pub fn admin_url(store: &Store) -> String {
    let host = host(store);
    let (tenant, rest) = host.split_once('.').unwrap_or((&host, "sharepoint.com"));
    format!("https://{tenant}-admin.{rest}")
}

// ---------------------------------------------------------------------------------------------
// Graph's `sites/root`

/// `GET /v1.0/sites/root`: the root site, which names the SharePoint host.
pub fn site_root(app: &App) -> Reply {
    let store = app.lock();
    let host = host(&store);
    let tenant_id = store.tenant_id().unwrap_or_default();
    drop(store);
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#sites/$entity", app.base_url),
            "createdDateTime": "2023-01-09T08:30:00Z",
            "description": "",
            "id": format!("{host},{tenant_id},5eed5173-0000-4000-8000-000000000001"),
            "lastModifiedDateTime": "2024-05-14T13:45:12Z",
            "name": "",
            "webUrl": format!("https://{host}"),
            "displayName": "Communication site",
            "root": {},
            "siteCollection": {"hostname": host},
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// The admin API

/// Whether `path` is one of SharePoint's admin endpoints.
pub fn is_sharepoint_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.starts_with("/_api/") || p.starts_with("/_vti_bin/")
}

/// SharePoint's 401 for a token no tenant of this sandbox issued or accepts.
pub fn unauthorized(header: Option<&str>) -> Reply {
    match auth::bearer(header) {
        None => refused(401, "The access token is missing."),
        Some(_) => refused(401, "Invalid JWT token."),
    }
}

/// SharePoint's refusal of a token.
fn refused(status: u16, reason: &str) -> Reply {
    Reply::json(status, json!({"error_description": reason}))
        .with_header(
            "x-ms-diagnostics",
            format!("3000003;reason=\"{reason}\";category=\"invalid_client\""),
        )
        .with_header(
            "WWW-Authenticate",
            "Bearer realm=\"\", client_id=\"00000003-0000-0ff1-ce00-000000000000\"",
        )
}

fn odata_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"code": code, "message": {"lang": "en-US", "value": message}}}),
    )
}

/// Serves one request to SharePoint's admin API.
pub fn handle(
    app: &App,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Reply {
    let audience = admin_url(&app.lock());
    let principal = match app.sharepoint_principal(authorization, &audience) {
        Ok(p) => p,
        Err(reason) => return refused(401, &reason),
    };
    match &principal {
        Principal::App(roles)
            if !roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case(SITES_FULL_CONTROL)) =>
        {
            return odata_error(
                403,
                "-2147024891, System.UnauthorizedAccessException",
                "Access denied. You do not have permission to perform this action or access this resource.",
            );
        }
        _ => {}
    }
    let lower = path.to_ascii_lowercase();
    let lower = lower.trim_end_matches('/');
    if lower == "/_api/spo.tenant" {
        if method != "GET" {
            return odata_error(
                405,
                "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                "The HTTP method is not supported for this resource; SPO.Tenant's properties are written through ProcessQuery.",
            );
        }
        if let Some(fault) = app.fault("GET", path) {
            return fault;
        }
        return rest_tenant(app, &audience);
    }
    if lower == "/_vti_bin/client.svc/processquery" {
        if method != "POST" {
            return odata_error(
                405,
                "-1, System.NotSupportedException",
                "ProcessQuery only accepts POST.",
            );
        }
        let text = String::from_utf8_lossy(body);
        let request = match xml::parse(&text) {
            Ok(r) => r,
            Err(e) => {
                return csom_error(
                    &format!("The request is not valid XML: {e}"),
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                );
            }
        };
        let writes = request
            .child("Actions")
            .is_some_and(|a| a.children.iter().any(is_write));
        let as_method = if writes { "POST" } else { "GET" };
        if let Some(fault) = app.fault(as_method, path) {
            return fault;
        }
        let reply = process_query(app, &request);
        return app.after_write(as_method, path, reply);
    }
    odata_error(
        404,
        "-1, Microsoft.SharePoint.Client.ResourceNotFoundException",
        "The sandbox serves SharePoint's /_api/SPO.Tenant and /_vti_bin/client.svc/ProcessQuery only.",
    )
}

/// `GET /_api/SPO.Tenant`, verbose OData: `{"d": {…}}`, collections wrapped in `results`,
/// Int64 values as strings.
fn rest_tenant(app: &App, audience: &str) -> Reply {
    let store = app.lock();
    let tenant = tenant(&store);
    drop(store);
    let uri = format!("{audience}/_api/SPO.Tenant");
    let mut d = Map::new();
    d.insert(
        "__metadata".into(),
        json!({"id": uri, "uri": uri, "type": TENANT_TYPE}),
    );
    d.insert(
        "Sites".into(),
        json!({"__deferred": {"uri": format!("{uri}/Sites")}}),
    );
    for (k, v) in tenant {
        let v = match (k.as_str(), v) {
            (_, Value::Array(items)) => json!({
                "__metadata": {"type": "Collection(Edm.Guid)"},
                "results": items,
            }),
            ("OneDriveStorageQuota", Value::Number(n)) => Value::String(n.to_string()),
            (_, v) => v,
        };
        d.insert(k, v);
    }
    Reply::json(200, json!({ "d": d }))
}

fn is_write(action: &Element) -> bool {
    action.name == "SetProperty"
        || (action.name == "Method"
            && action.attr("Name").is_some_and(|n| {
                n.starts_with("Set")
                    || n.starts_with("Add")
                    || n.starts_with("Remove")
                    || n == "Update"
            }))
}

fn header(error: Value) -> Value {
    json!({
        "SchemaVersion": "15.0.0.0",
        "LibraryVersion": "16.0.25919.12007",
        "ErrorInfo": error,
        "TraceCorrelationId": uuid::Uuid::new_v4().to_string(),
    })
}

/// CSOM's failure: HTTP 200, the error in the answer's first element.
fn csom_error(message: &str, type_name: &str) -> Reply {
    Reply::json(
        200,
        json!([header(json!({
            "ErrorMessage": message,
            "ErrorValue": null,
            "TraceCorrelationId": uuid::Uuid::new_v4().to_string(),
            "ErrorCode": -2146232832,
            "ErrorTypeName": type_name,
        }))]),
    )
}

/// Carries out a CSOM request's actions in order; the first failure stops it (what came
/// before stays done, as in SharePoint).
fn process_query(app: &App, request: &Element) -> Reply {
    let mut tenant_paths: Vec<String> = Vec::new();
    for path in request
        .child("ObjectPaths")
        .map(|p| p.children.as_slice())
        .unwrap_or_default()
    {
        let id = path.attr("Id").unwrap_or("").to_string();
        let is_tenant = match path.name.as_str() {
            "Constructor" => path
                .attr("TypeId")
                .is_some_and(|t| t.eq_ignore_ascii_case(TENANT_TYPE_ID)),
            "Identity" => path.attr("Name").is_some_and(|n| n.ends_with("\nTenant")),
            _ => false,
        };
        if is_tenant {
            tenant_paths.push(id);
        }
    }
    let mut out = vec![Value::Null];
    let mut store = app.lock();
    let before = (
        store.data.get(SPO_KEY).cloned(),
        store.data.get(GRAPH_KEY).cloned(),
    );
    let mut changed = false;
    let actions = request
        .child("Actions")
        .map(|a| a.children.as_slice())
        .unwrap_or_default();
    let mut failure = None;
    for action in actions {
        let id = action.attr("Id").unwrap_or("0");
        let id_num: Value = id.parse::<i64>().map_or_else(|_| json!(id), |n| json!(n));
        let on_tenant = action
            .attr("ObjectPathId")
            .is_some_and(|p| tenant_paths.iter().any(|t| t == p));
        if !on_tenant {
            failure = Some((
                "The object path of the action is not the Tenant object the sandbox serves."
                    .to_string(),
                "Microsoft.SharePoint.Client.InvalidClientQueryException",
            ));
            break;
        }
        match action.name.as_str() {
            "ObjectPath" => {
                out.push(id_num);
                out.push(json!({"IsNull": false}));
            }
            "Query" => {
                let mut object = Map::new();
                object.insert("_ObjectType_".into(), json!(TENANT_TYPE));
                object.insert(
                    "_ObjectIdentity_".into(),
                    json!(format!(
                        "{}|908bed80-a04a-4433-b4a0-883d9847d11d:{}\nTenant",
                        uuid::Uuid::nil(),
                        store.tenant_id().unwrap_or_default()
                    )),
                );
                let all = action
                    .child("Query")
                    .and_then(|q| q.attr("SelectAllProperties"))
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                let wanted: Vec<&str> = action
                    .child("Query")
                    .and_then(|q| q.child("Properties"))
                    .map(|p| p.children.iter().filter_map(|c| c.attr("Name")).collect())
                    .unwrap_or_default();
                for (k, v) in tenant(&store) {
                    if all || wanted.contains(&k.as_str()) {
                        object.insert(k, v);
                    }
                }
                out.push(id_num);
                out.push(Value::Object(object));
            }
            "SetProperty" => {
                let name = action.attr("Name").unwrap_or("");
                let value = action
                    .child("Parameter")
                    .map(|p| p.text.as_str())
                    .unwrap_or("");
                match set_property(&mut store, name, value) {
                    Ok(()) => changed = true,
                    Err(e) => {
                        failure = Some((e, "Microsoft.SharePoint.Client.ServerException"));
                        break;
                    }
                }
            }
            "Method" => {
                let name = action.attr("Name").unwrap_or("");
                let param = action
                    .child("Parameters")
                    .and_then(|p| p.child("Parameter"))
                    .map(|p| p.text.as_str());
                match (name, param) {
                    ("Update", _) => {}
                    ("GetSPORestrictedSearchMode", _) => {
                        let mode = own(&store)
                            .get("RestrictedSearchMode")
                            .cloned()
                            .unwrap_or(json!(0));
                        out.push(id_num);
                        out.push(mode);
                    }
                    ("SetSPORestrictedSearchMode", Some(mode)) => match mode.trim() {
                        "0" | "1" => {
                            set_own(
                                &mut store,
                                "RestrictedSearchMode",
                                json!(mode.trim().parse::<i64>().unwrap_or(0)),
                            );
                            changed = true;
                        }
                        other => {
                            failure = Some((
                                format!(
                                    "'{other}' is not a valid RestrictedSearchMode (0 Disabled, 1 Enabled)."
                                ),
                                "System.ArgumentException",
                            ));
                            break;
                        }
                    },
                    ("GetSPORestrictedSearchAllowedList", _) => {
                        let sites = own(&store)
                            .get("RestrictedSearchAllowedList")
                            .cloned()
                            .unwrap_or(json!([]));
                        out.push(id_num);
                        out.push(sites);
                    }
                    (
                        "AddSPORestrictedSearchAllowedList"
                        | "RemoveSPORestrictedSearchAllowedList",
                        _,
                    ) => {
                        let given: Vec<String> = action
                            .child("Parameters")
                            .and_then(|p| p.child("Parameter"))
                            .map(|p| p.children.iter().map(|o| o.text.clone()).collect())
                            .unwrap_or_default();
                        match allowed_sites(&mut store, name.starts_with("Add"), &given) {
                            Ok(()) => changed = true,
                            Err(e) => {
                                failure = Some((e, "Microsoft.SharePoint.Client.ServerException"));
                                break;
                            }
                        }
                    }
                    (other, _) => {
                        failure = Some((
                            format!(
                                "The method '{other}' is not supported by the sandbox's Tenant object."
                            ),
                            "Microsoft.SharePoint.Client.InvalidClientQueryException",
                        ));
                        break;
                    }
                }
            }
            other => {
                failure = Some((
                    format!("The action '{other}' is not supported by the sandbox."),
                    "Microsoft.SharePoint.Client.InvalidClientQueryException",
                ));
                break;
            }
        }
    }
    if changed && let Err(e) = store.persist() {
        match before.0 {
            Some(v) => store.data.insert(SPO_KEY.into(), v),
            None => store.data.remove(SPO_KEY),
        };
        if let Some(v) = before.1 {
            store.data.insert(GRAPH_KEY.into(), v);
        }
        return csom_error(
            &format!("The sandbox could not persist the change: {e}"),
            "Microsoft.SharePoint.Client.ServerException",
        );
    }
    drop(store);
    if let Some((message, type_name)) = failure {
        return csom_error(&message, type_name);
    }
    out[0] = header(Value::Null);
    Reply::json(200, Value::Array(out))
}

/// Most sites Restricted SharePoint Search's allowed list holds.
const MAX_ALLOWED_SITES: usize = 100;

/// Adds sites to (or removes them from) Restricted SharePoint Search's allowed list.
fn allowed_sites(store: &mut Store, add: bool, given: &[String]) -> Result<(), String> {
    let mut sites: Vec<String> = own(store)
        .get("RestrictedSearchAllowedList")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for site in given {
        let known = sites.iter().position(|s| s.eq_ignore_ascii_case(site));
        match (add, known) {
            (true, None) => {
                if !site.starts_with("https://") {
                    return Err(format!("'{site}' is not a valid site URL."));
                }
                sites.push(site.clone());
            }
            (false, Some(i)) => {
                sites.remove(i);
            }
            _ => {}
        }
    }
    if sites.len() > MAX_ALLOWED_SITES {
        return Err(format!(
            "The allowed list can hold at most {MAX_ALLOWED_SITES} sites."
        ));
    }
    set_own(store, "RestrictedSearchAllowedList", json!(sites));
    Ok(())
}

fn set_own(store: &mut Store, name: &str, value: Value) {
    let mut saved = own(store);
    saved.insert(name.to_string(), value);
    store.data.insert(SPO_KEY.into(), Value::Object(saved));
}

/// One `SetProperty`, with SharePoint's checks; a refused one changes nothing.
fn set_property(store: &mut Store, name: &str, raw: &str) -> Result<(), String> {
    let before = (
        store.data.get(SPO_KEY).cloned(),
        store.data.get(GRAPH_KEY).cloned(),
    );
    let result = set_property_unchecked(store, name, raw);
    if result.is_err() {
        match before.0 {
            Some(v) => store.data.insert(SPO_KEY.into(), v),
            None => store.data.remove(SPO_KEY),
        };
        if let Some(v) = before.1 {
            store.data.insert(GRAPH_KEY.into(), v);
        }
    }
    result
}

fn set_property_unchecked(store: &mut Store, name: &str, raw: &str) -> Result<(), String> {
    if let Some((spo, graph_name, how)) = OVERLAP.iter().find(|(n, _, _)| *n == name) {
        let value = to_graph(raw, *how).map_err(|e| format!("Invalid value for {spo}: {e}."))?;
        let graph = store
            .data
            .entry(GRAPH_KEY.to_string())
            .or_insert_with(|| json!({}));
        if let Value::Object(m) = graph {
            m.insert((*graph_name).to_string(), value);
        }
        return Ok(());
    }
    let Some((_, check)) = OWN.iter().find(|(n, _)| *n == name) else {
        return Err(format!(
            "Property '{name}' does not exist on type '{TENANT_TYPE}', or it cannot be set."
        ));
    };
    let int = || {
        raw.trim()
            .parse::<i64>()
            .map_err(|_| format!("Invalid value for {name}: '{raw}' is not a number."))
    };
    let value = match check {
        Check::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => {
                return Err(format!(
                    "Invalid value for {name}: '{raw}' is not a Boolean."
                ));
            }
        },
        Check::Range(lo, hi) => {
            let v = int()?;
            if !(*lo..=*hi).contains(&v) {
                return Err(format!(
                    "The value of {name} must be between {lo} and {hi}."
                ));
            }
            json!(v)
        }
        Check::Expiry => match int()? {
            0 | -1 => json!(-1),
            v if (1..=730).contains(&v) => json!(v),
            _ => {
                return Err(format!(
                    "The value of {name} must be 0 (no expiration) or between 1 and 730."
                ));
            }
        },
    };
    set_own(store, name, value);
    if name == "ODBSharingCapability" {
        check_sharing_levels(store)?;
    }
    Ok(())
}

/// How widely a sharing capability value (0..=3) shares: larger is wider.
fn breadth(v: i64) -> i64 {
    match v {
        0 => 0,
        3 => 1,
        1 => 2,
        _ => 3,
    }
}

/// OneDrive may not be more permissive than SharePoint.
fn check_sharing_levels(store: &Store) -> Result<(), String> {
    let tenant = own(store);
    let graph = store.data.get(GRAPH_KEY).cloned().unwrap_or(Value::Null);
    let sharepoint = graph
        .get("sharingCapability")
        .map(|v| to_spo(v, Shared::Enum(SHARING)))
        .and_then(|v| v.as_i64());
    let level = |k: &str| tenant.get(k).and_then(Value::as_i64);
    if let (Some(od), Some(sp)) = (level("ODBSharingCapability"), sharepoint)
        && breadth(od) > breadth(sp)
    {
        return Err("The sharing capability of OneDrive cannot be more permissive than the sharing capability of SharePoint.".into());
    }
    Ok(())
}

/// Who calls SharePoint's admin API: the token's audience must be the admin host, and app-only
/// tokens from a client secret are refused, as SharePoint refuses them.
pub fn principal(
    header: Option<&str>,
    accept_tokens: &[String],
    signing_key: &[u8],
    audience: &str,
) -> Result<Principal, String> {
    auth::sharepoint_principal(header, accept_tokens, signing_key, audience)
}
