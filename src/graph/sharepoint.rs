//! SharePoint's admin API, for the SharePoint and OneDrive settings Graph does not expose.
//!
//! Reads are `GET /_api/SPO.Tenant` (verbose OData) on the tenant's admin host; writes are
//! CSOM `SetProperty` actions (and the Restricted SharePoint Search methods) posted to
//! `/_vti_bin/client.svc/ProcessQuery`, as SharePoint's own PowerShell writes them. The admin
//! host is discovered from Graph's `sites/root`, never guessed from a domain name. The client
//! is a sibling of the Graph client: it shares its limit on requests in flight, retry budget,
//! statistics and sign-in, with a token of its own audience, and exists only once a SharePoint
//! setting is read or written.

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value, json};
use url::Url;

use super::auth::Credential;
use super::cloud::{Cloud, is_loopback, validate_endpoint};
use super::error::GraphError;
use super::{GraphClient, GraphRequest, GraphResponse};

/// The path of CSOM's endpoint: a write request with this path goes to SharePoint, not Graph.
pub const CSOM_PATH: &str = "_vti_bin/client.svc/ProcessQuery";
/// The path of the REST read of the tenant's settings.
const TENANT_PATH: &str = "_api/SPO.Tenant";
/// CSOM's type id of the Tenant object.
const TENANT_TYPE_ID: &str = "{268004ae-ef6b-4e9b-8425-127220d84719}";
/// The pseudo-property for Restricted SharePoint Search, which CSOM sets through a method.
const SEARCH_MODE: &str = "RestrictedSearchMode";
/// The pseudo-property for its allowed sites, which CSOM changes through methods.
const ALLOWED_SITES: &str = "RestrictedSearchAllowedList";

/// Makes the credential for SharePoint's admin host (the token's audience), from the run's
/// sign-in.
pub type CredentialFactory = Arc<dyn Fn(&Url) -> Result<Credential, GraphError> + Send + Sync>;

/// How a run reaches SharePoint's admin API.
#[derive(Clone)]
pub struct Setup {
    /// The admin URL set by the user (`--sharepoint-admin-url`), which skips discovery.
    pub admin_url: Option<String>,
    /// The cloud: a discovered host must be one of its SharePoint hosts.
    pub cloud: Cloud,
    /// The credential for the admin host.
    pub credential: CredentialFactory,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("admin_url", &self.admin_url)
            .field("cloud", &self.cloud)
            .finish()
    }
}

/// Where a Graph client keeps its SharePoint setup and, once needed, its SharePoint client.
#[derive(Default)]
pub(crate) struct Slot {
    setup: OnceLock<Setup>,
    client: tokio::sync::OnceCell<SharePointClient>,
}

/// A client of SharePoint's admin API.
#[derive(Clone, Debug)]
pub struct SharePointClient {
    client: GraphClient,
    admin_url: Url,
}

impl GraphClient {
    /// Says how this run reaches SharePoint's admin API (once; later calls are ignored).
    pub fn set_sharepoint(&self, setup: Setup) {
        let _ = self.inner.sharepoint.setup.set(setup);
    }

    /// The SharePoint admin client, made on first use: discovers the admin host and signs in
    /// for it.
    pub async fn sharepoint(&self) -> Result<&SharePointClient, GraphError> {
        self.inner
            .sharepoint
            .client
            .get_or_try_init(|| async {
                let setup =
                    self.inner
                        .sharepoint
                        .setup
                        .get()
                        .ok_or_else(|| GraphError::Config {
                            message: "this run has no way to reach SharePoint's admin API".into(),
                        })?;
                let admin_url = match &setup.admin_url {
                    Some(url) => validate_endpoint(url, "SharePoint admin URL")?,
                    None => self.discover_admin_url(setup.cloud).await?,
                };
                // A local Graph (the sandbox) serves SharePoint on the same listener; tokens
                // still name the real admin host as their audience.
                let transport = if setup.admin_url.is_none() && is_loopback(self.base_url()) {
                    self.base_url().clone()
                } else {
                    admin_url.clone()
                };
                let credential = (setup.credential)(&admin_url)?;
                let client = self.sibling(transport, credential)?;
                Ok(SharePointClient { client, admin_url })
            })
            .await
    }

    /// The admin host from Graph's `sites/root` (`contoso.sharepoint.com` →
    /// `https://contoso-admin.sharepoint.com`), which must be a SharePoint host of `cloud`.
    async fn discover_admin_url(&self, cloud: Cloud) -> Result<Url, GraphError> {
        let root = self.get("sites/root?$select=siteCollection,webUrl").await?;
        let host = root
            .pointer("/siteCollection/hostname")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                root.get("webUrl")
                    .and_then(Value::as_str)
                    .and_then(|u| Url::parse(u).ok())
                    .and_then(|u| u.host_str().map(str::to_string))
            })
            .ok_or_else(|| GraphError::InvalidResponse {
                method: "GET".into(),
                path: "/v1.0/sites/root".into(),
                detail: "the root site names no SharePoint host (siteCollection.hostname)".into(),
            })?;
        admin_url_for(&host, cloud)
    }
}

/// The admin URL of the SharePoint host `host` in `cloud`.
pub fn admin_url_for(host: &str, cloud: Cloud) -> Result<Url, GraphError> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let suffix = cloud
        .sharepoint_suffixes()
        .iter()
        .find(|s| host.ends_with(&format!(".{s}")));
    let (Some(suffix), Some((tenant, _))) = (suffix, host.split_once('.')) else {
        return Err(GraphError::Config {
            message: format!(
                "Graph names `{host}` as the tenant's SharePoint host, which is not a SharePoint \
                 host of the {cloud:?} cloud ({}); steward sends no token there. Set \
                 --sharepoint-admin-url (STEWARD_SHAREPOINT_ADMIN_URL) to the admin centre's \
                 URL, or check --cloud",
                cloud.sharepoint_suffixes().join(", ")
            ),
        });
    };
    if tenant.is_empty()
        || !tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(GraphError::Config {
            message: format!("`{host}` is not a SharePoint tenant host"),
        });
    }
    let tenant = tenant.strip_suffix("-my").unwrap_or(tenant);
    Url::parse(&format!("https://{tenant}-admin.{suffix}")).map_err(|e| GraphError::Config {
        message: format!("cannot make the SharePoint admin URL of `{host}`: {e}"),
    })
}

impl SharePointClient {
    /// The admin host's URL (the audience of its tokens).
    pub fn admin_url(&self) -> &Url {
        &self.admin_url
    }

    /// SharePoint's own settings, in the model's names and values (only those it knows);
    /// `search` reads the Restricted SharePoint Search mode too (one more request, a CSOM
    /// method call).
    pub async fn read_settings(&self, search: bool) -> Result<Map<String, Value>, GraphError> {
        let resp = self
            .client
            .send(GraphRequest::get(TENANT_PATH).header("Accept", "application/json;odata=verbose"))
            .await?;
        let tenant = resp
            .body
            .as_ref()
            .and_then(|b| b.get("d"))
            .and_then(Value::as_object)
            .ok_or_else(|| GraphError::Unusable {
                method: "GET".into(),
                path: format!("/{TENANT_PATH}"),
                request_id: resp.request_id.clone(),
                detail: "expected SharePoint's tenant object as {\"d\": {…}}".into(),
                advice: "nothing was planned or written; run again, and if it persists check \
                         any proxy between steward and SharePoint"
                    .into(),
            })?;
        let mut wire = tenant.clone();
        if search {
            let (answer, _) = self
                .process(&[
                    Action::Call("GetSPORestrictedSearchMode", None),
                    Action::Call("GetSPORestrictedSearchAllowedList", None),
                ])
                .await?;
            if let Some(mode) = answer.first() {
                wire.insert(SEARCH_MODE.into(), mode.clone());
            }
            if let Some(sites) = answer.get(1) {
                wire.insert(ALLOWED_SITES.into(), sites.clone());
            }
        }
        Ok(from_wire(&wire))
    }

    /// Sets SharePoint's own settings, given in their wire names and values (one CSOM
    /// request); answers as Graph's client does, for the journal.
    pub async fn write(
        &self,
        properties: &Map<String, Value>,
    ) -> Result<GraphResponse, GraphError> {
        let mut actions: Vec<Action> = Vec::new();
        for (name, value) in properties {
            match name.as_str() {
                SEARCH_MODE => actions.push(Action::Call(
                    "SetSPORestrictedSearchMode",
                    Some(value.clone()),
                )),
                ALLOWED_SITES => {
                    // The list changes by additions and removals: what is there now decides.
                    let (now, _) = self
                        .process(&[Action::Call("GetSPORestrictedSearchAllowedList", None)])
                        .await?;
                    let have = site_list(now.first().unwrap_or(&Value::Null));
                    let want = site_list(value);
                    let missing = |from: &[String], of: &[String]| -> Vec<Value> {
                        from.iter()
                            .filter(|s| !of.iter().any(|o| o.eq_ignore_ascii_case(s)))
                            .map(|s| json!(s))
                            .collect()
                    };
                    let (add, remove) = (missing(&want, &have), missing(&have, &want));
                    if !remove.is_empty() {
                        actions.push(Action::Call(
                            "RemoveSPORestrictedSearchAllowedList",
                            Some(Value::Array(remove)),
                        ));
                    }
                    if !add.is_empty() {
                        actions.push(Action::Call(
                            "AddSPORestrictedSearchAllowedList",
                            Some(Value::Array(add)),
                        ));
                    }
                }
                _ => actions.push(Action::Set(name.as_str(), value.clone())),
            }
        }
        if actions.is_empty() {
            return Ok(GraphResponse {
                status: 200,
                body: None,
                request_id: None,
            });
        }
        let (_, request_id) = self.process(&actions).await?;
        Ok(GraphResponse {
            status: 200,
            body: None,
            request_id,
        })
    }

    /// Posts one CSOM request; the results of the actions that return one, in order, and the
    /// answer's request id (SharePoint's correlation id when no header carries one). CSOM
    /// answers failures with HTTP 200 and `ErrorInfo` in the answer's first element.
    async fn process(
        &self,
        actions: &[Action<'_>],
    ) -> Result<(Vec<Value>, Option<String>), GraphError> {
        let body = csom_request(actions);
        let resp = self
            .client
            .send(
                GraphRequest::new(reqwest::Method::POST, CSOM_PATH)
                    .text("text/xml", body)
                    .header("Accept", "application/json"),
            )
            .await?;
        let path = format!("/{CSOM_PATH}");
        let unusable = |detail: String| GraphError::Unusable {
            method: "POST".into(),
            path: path.clone(),
            request_id: resp.request_id.clone(),
            detail,
            advice: "SharePoint may or may not have carried it out; run again".into(),
        };
        let Some(Value::Array(items)) = &resp.body else {
            return Err(unusable("expected CSOM's JSON array".into()));
        };
        let error = items.first().and_then(|h| h.get("ErrorInfo"));
        if let Some(error) = error.filter(|e| !e.is_null()) {
            let s = |k: &str| {
                error
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            return Err(GraphError::SharePoint {
                path,
                message: s("ErrorMessage"),
                error_type: s("ErrorTypeName"),
                correlation_id: items
                    .first()
                    .and_then(|h| h.get("TraceCorrelationId"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        let request_id = resp.request_id.clone().or_else(|| {
            items
                .first()
                .and_then(|h| h.get("TraceCorrelationId"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        // After the header: pairs of action id and result.
        let results = items.iter().skip(1).skip(1).step_by(2).cloned().collect();
        Ok((results, request_id))
    }
}

/// One CSOM action on the Tenant object.
enum Action<'a> {
    /// `SetProperty` with a typed parameter.
    Set(&'a str, Value),
    /// A method, with its one parameter if it has one.
    Call(&'static str, Option<Value>),
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A list of site URLs as CSOM or verbose OData gives it.
fn site_list(value: &Value) -> Vec<String> {
    let items = value
        .get("results")
        .and_then(Value::as_array)
        .or_else(|| value.as_array());
    items
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn parameter(value: &Value) -> String {
    if let Value::Array(items) = value {
        let objects: String = items
            .iter()
            .map(|i| {
                let text = i.as_str().map_or_else(|| i.to_string(), str::to_string);
                format!("<Object Type=\"String\">{}</Object>", escape(&text))
            })
            .collect();
        return format!("<Parameter Type=\"Array\">{objects}</Parameter>");
    }
    let (ty, text) = match value {
        Value::Bool(b) => ("Boolean", b.to_string()),
        Value::Number(n) => ("Int32", n.to_string()),
        Value::String(s) => ("String", escape(s)),
        other => ("String", escape(&other.to_string())),
    };
    format!("<Parameter Type=\"{ty}\">{text}</Parameter>")
}

/// The CSOM request for `actions`, against a Tenant object made with its constructor.
fn csom_request(actions: &[Action]) -> String {
    let mut xml = String::from(
        "<Request AddExpandoFieldTypeSuffix=\"true\" SchemaVersion=\"15.0.0.0\" \
         LibraryVersion=\"16.0.0.0\" ApplicationName=\"steward\" \
         xmlns=\"http://schemas.microsoft.com/sharepoint/clientquery/2009\"><Actions>",
    );
    for (i, action) in actions.iter().enumerate() {
        let id = 10 + i;
        match action {
            Action::Set(name, value) => xml.push_str(&format!(
                "<SetProperty Id=\"{id}\" ObjectPathId=\"1\" Name=\"{}\">{}</SetProperty>",
                escape(name),
                parameter(value)
            )),
            Action::Call(name, None) => xml.push_str(&format!(
                "<Method Name=\"{name}\" Id=\"{id}\" ObjectPathId=\"1\" />"
            )),
            Action::Call(name, Some(value)) => xml.push_str(&format!(
                "<Method Name=\"{name}\" Id=\"{id}\" ObjectPathId=\"1\"><Parameters>{}</Parameters></Method>",
                parameter(value).replace("Type=\"Int32\"", "Type=\"Enum\"")
            )),
        }
    }
    xml.push_str(&format!(
        "</Actions><ObjectPaths><Constructor Id=\"1\" TypeId=\"{TENANT_TYPE_ID}\" /></ObjectPaths></Request>"
    ));
    xml
}

// ---------------------------------------------------------------------------------------------
// The settings: model names and values ⇄ SharePoint's

/// How a setting's value travels.
#[derive(Debug, Clone, Copy)]
enum Codec {
    Bool,
    Int,
    /// Anyone-link expiry: SharePoint reads "none" back as -1, written 0.
    Expiry,
    /// Names ⇄ integers; writing takes a name's first entry, reading an integer's first.
    Enum(&'static [(&'static str, i64)]),
    /// A list of strings.
    List,
}

const SHARING: &[(&str, i64)] = &[
    ("disabled", 0),
    ("externalUserSharingOnly", 1),
    ("externalUserAndGuestSharing", 2),
    ("existingExternalUserSharingOnly", 3),
];
const ANYONE_LINKS: &[(&str, i64)] = &[("none", 0), ("view", 1), ("edit", 2)];

/// SharePoint's own settings: (model name, SharePoint name, codec), in the order they are
/// written (sharing levels first: the link settings depend on them).
const SETTINGS: &[(&str, &str, Codec)] = &[
    (
        "coreSharingCapability",
        "CoreSharingCapability",
        Codec::Enum(SHARING),
    ),
    (
        "oneDriveSharingCapability",
        "ODBSharingCapability",
        Codec::Enum(SHARING),
    ),
    (
        "defaultSharingLinkType",
        "DefaultSharingLinkType",
        Codec::Enum(&[
            ("none", 0),
            ("specific-people", 1),
            ("organization", 2),
            ("anyone", 3),
        ]),
    ),
    (
        "defaultLinkPermission",
        "DefaultLinkPermission",
        // SharePoint's "none" behaves as edit.
        Codec::Enum(&[("view", 1), ("edit", 2), ("edit", 0)]),
    ),
    (
        "requireAnonymousLinksExpireInDays",
        "RequireAnonymousLinksExpireInDays",
        Codec::Expiry,
    ),
    (
        "fileAnonymousLinkType",
        "FileAnonymousLinkType",
        Codec::Enum(ANYONE_LINKS),
    ),
    (
        "folderAnonymousLinkType",
        "FolderAnonymousLinkType",
        Codec::Enum(ANYONE_LINKS),
    ),
    (
        "externalUserExpirationRequired",
        "ExternalUserExpirationRequired",
        Codec::Bool,
    ),
    (
        "externalUserExpireInDays",
        "ExternalUserExpireInDays",
        Codec::Int,
    ),
    (
        "emailAttestationRequired",
        "EmailAttestationRequired",
        Codec::Bool,
    ),
    (
        "emailAttestationReAuthDays",
        "EmailAttestationReAuthDays",
        Codec::Int,
    ),
    (
        "unmanagedDeviceAccess",
        "ConditionalAccessPolicy",
        Codec::Enum(&[("full-access", 0), ("limited-access", 1), ("block", 2)]),
    ),
    (
        "limitedAccessFileType",
        "LimitedAccessFileType",
        Codec::Enum(&[
            ("office-online-files-only", 0),
            ("web-previewable-files", 1),
            ("other-files", 2),
        ]),
    ),
    ("allowEditing", "AllowEditing", Codec::Bool),
    (
        "allowDownloadingNonWebViewableFiles",
        "AllowDownloadingNonWebViewableFiles",
        Codec::Bool,
    ),
    (
        "blockDownloadOfAllFilesForGuests",
        "BlockDownloadOfAllFilesForGuests",
        Codec::Bool,
    ),
    ("enableAipIntegration", "EnableAIPIntegration", Codec::Bool),
    (
        "enableRestrictedAccessControl",
        "EnableRestrictedAccessControl",
        Codec::Bool,
    ),
    (
        "restrictedSearchMode",
        SEARCH_MODE,
        Codec::Enum(&[("disabled", 0), ("enabled", 1)]),
    ),
    ("restrictedSearchAllowedSites", ALLOWED_SITES, Codec::List),
];

/// True when `field` (a model name of `sharepoint-settings`) lives in SharePoint's admin API.
pub fn is_admin_setting(field: &str) -> bool {
    SETTINGS.iter().any(|(model, _, _)| *model == field)
}

/// True when a `sharepoint-settings` declaration (its JSON form) holds a setting of
/// SharePoint's admin API.
pub fn declares_admin_settings(json: &Map<String, Value>) -> bool {
    json.keys().any(|k| is_admin_setting(k))
}

/// SharePoint's tenant object (wire names, integers) → the model's names and values. A
/// value the model cannot name is left out.
pub fn from_wire(tenant: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (model, wire, codec) in SETTINGS {
        let Some(v) = tenant.get(*wire) else { continue };
        // Int64 values may come as strings.
        let int = v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
        let value = match codec {
            Codec::Bool => v.as_bool().map(Value::Bool),
            Codec::Int => int.map(|i| json!(i)),
            Codec::Expiry => int.map(|i| json!(i.max(0))),
            Codec::Enum(table) => int
                .and_then(|i| table.iter().find(|(_, n)| *n == i))
                .map(|(name, _)| json!(name)),
            Codec::List => Some(json!(site_list(v))),
        };
        if let Some(value) = value {
            out.insert((*model).to_string(), value);
        }
    }
    out
}

/// One model setting → its SharePoint name and wire value; `None` for a setting that is not
/// SharePoint's or a value the table cannot carry.
pub fn to_wire(field: &str, value: &Value) -> Option<(&'static str, Value)> {
    let (_, wire, codec) = SETTINGS.iter().find(|(model, _, _)| *model == field)?;
    let out = match codec {
        Codec::Bool => Value::Bool(value.as_bool()?),
        Codec::Int | Codec::Expiry => json!(value.as_i64()?),
        Codec::Enum(table) => {
            let name = value.as_str()?;
            json!(table.iter().find(|(n, _)| *n == name)?.1)
        }
        Codec::List => Value::Array(value.as_array()?.clone()),
    };
    Some((wire, out))
}

/// SharePoint's own settings as they take effect, given Graph's `sharingCapability` in the same
/// object: a OneDrive or SharePoint-sites level wider than the organisation's acts as the
/// organisation's, and the Anyone-link settings SharePoint keeps while Anyone links are off
/// (and ignores) are left out. So what is read, and exported, is always a valid declaration.
pub fn effective(settings: &mut Map<String, Value>) {
    let Some(level) = settings
        .get("sharingCapability")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let breadth = |v: &str| match v {
        "disabled" => 0,
        "existingExternalUserSharingOnly" => 1,
        "externalUserSharingOnly" => 2,
        _ => 3,
    };
    for key in ["coreSharingCapability", "oneDriveSharingCapability"] {
        let wider = settings
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| breadth(v) > breadth(&level));
        if wider {
            settings.insert(key.to_string(), json!(level));
        }
    }
    // OneDrive no wider than SharePoint's sites either.
    if let Some(core) = settings
        .get("coreSharingCapability")
        .and_then(Value::as_str)
        .map(str::to_string)
        && settings
            .get("oneDriveSharingCapability")
            .and_then(Value::as_str)
            .is_some_and(|od| breadth(od) > breadth(&core))
    {
        settings.insert("oneDriveSharingCapability".into(), json!(core));
    }
    if level != "externalUserAndGuestSharing" {
        for key in [
            "requireAnonymousLinksExpireInDays",
            "fileAnonymousLinkType",
            "folderAnonymousLinkType",
        ] {
            settings.remove(key);
        }
        if settings.get("defaultSharingLinkType") == Some(&json!("anyone")) {
            settings.remove("defaultSharingLinkType");
        }
    }
}

/// Where a setting comes in the write order.
pub fn write_rank(field: &str) -> usize {
    SETTINGS
        .iter()
        .position(|(model, _, _)| *model == field)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_host_is_the_root_sites_host_with_admin_in_each_cloud() {
        for (host, cloud, admin) in [
            (
                "contoso.sharepoint.com",
                Cloud::Global,
                "https://contoso-admin.sharepoint.com/",
            ),
            (
                "Contoso.SharePoint.com.",
                Cloud::Global,
                "https://contoso-admin.sharepoint.com/",
            ),
            (
                "contoso.sharepoint.us",
                Cloud::UsGov,
                "https://contoso-admin.sharepoint.us/",
            ),
            (
                "contoso.sharepoint-mil.us",
                Cloud::UsGovDod,
                "https://contoso-admin.sharepoint-mil.us/",
            ),
            (
                "contoso.sharepoint.cn",
                Cloud::China,
                "https://contoso-admin.sharepoint.cn/",
            ),
        ] {
            let url = admin_url_for(host, cloud).map(|u| u.to_string());
            assert_eq!(url.ok().as_deref(), Some(admin), "{host}");
        }
        // Another cloud's host, or a host that is not SharePoint's, gets no token.
        for (host, cloud) in [
            ("contoso.sharepoint.us", Cloud::Global),
            ("contoso.sharepoint.com", Cloud::China),
            ("evil.example.com", Cloud::Global),
            ("sharepoint.com", Cloud::Global),
        ] {
            assert!(admin_url_for(host, cloud).is_err(), "{host}");
        }
    }

    #[test]
    fn wire_values_read_as_names_and_no_expiry_and_none_permission_normalise() {
        let wire = json!({
            "ODBSharingCapability": 3, "DefaultSharingLinkType": 3, "DefaultLinkPermission": 0,
            "RequireAnonymousLinksExpireInDays": -1, "FileAnonymousLinkType": 2,
            "ExternalUserExpireInDays": "60", "ConditionalAccessPolicy": 1,
            "EnableAIPIntegration": false, "RestrictedSearchMode": 1,
            "FolderAnonymousLinkType": 9, "SharingCapability": 2
        });
        let model = from_wire(wire.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            Value::Object(model),
            json!({
                "oneDriveSharingCapability": "existingExternalUserSharingOnly",
                "defaultSharingLinkType": "anyone",
                "defaultLinkPermission": "edit",
                "requireAnonymousLinksExpireInDays": 0,
                "fileAnonymousLinkType": "edit",
                "externalUserExpireInDays": 60,
                "unmanagedDeviceAccess": "limited-access",
                "enableAipIntegration": false,
                "restrictedSearchMode": "enabled"
            })
        );
        assert_eq!(
            to_wire("defaultLinkPermission", &json!("edit")),
            Some(("DefaultLinkPermission", json!(2)))
        );
        assert_eq!(
            to_wire("requireAnonymousLinksExpireInDays", &json!(0)),
            Some(("RequireAnonymousLinksExpireInDays", json!(0)))
        );
        // Settings Graph owns are never SharePoint's.
        assert_eq!(to_wire("sharingCapability", &json!("disabled")), None);
        assert!(!is_admin_setting("isResharingByExternalUsersEnabled"));
    }

    #[test]
    fn what_is_read_is_what_takes_effect_so_it_always_validates() {
        let mut read = json!({
            "sharingCapability": "existingExternalUserSharingOnly",
            "coreSharingCapability": "externalUserAndGuestSharing",
            "oneDriveSharingCapability": "externalUserSharingOnly",
            "defaultSharingLinkType": "anyone",
            "requireAnonymousLinksExpireInDays": 0,
            "fileAnonymousLinkType": "edit",
            "folderAnonymousLinkType": "edit",
            "defaultLinkPermission": "edit"
        });
        if let Some(map) = read.as_object_mut() {
            effective(map);
        }
        assert_eq!(
            read,
            json!({
                "sharingCapability": "existingExternalUserSharingOnly",
                "coreSharingCapability": "existingExternalUserSharingOnly",
                "oneDriveSharingCapability": "existingExternalUserSharingOnly",
                "defaultLinkPermission": "edit"
            })
        );
        let settings: crate::model::SharepointSettings =
            serde_json::from_value(read).unwrap_or_default();
        assert!(crate::model::Resource::checks(&settings).is_empty());
        // With Anyone sharing, the Anyone-link settings are kept as they are.
        let mut anyone = json!({
            "sharingCapability": "externalUserAndGuestSharing",
            "fileAnonymousLinkType": "edit",
            "defaultSharingLinkType": "anyone"
        });
        let before = anyone.clone();
        if let Some(map) = anyone.as_object_mut() {
            effective(map);
        }
        assert_eq!(anyone, before);
    }

    #[test]
    fn a_csom_request_sets_typed_parameters_and_calls_the_search_method() {
        let xml = csom_request(&[
            Action::Set("ODBSharingCapability", json!(0)),
            Action::Set("EmailAttestationRequired", json!(true)),
            Action::Call("SetSPORestrictedSearchMode", Some(json!(1))),
        ]);
        assert!(xml.contains("<SetProperty Id=\"10\" ObjectPathId=\"1\" Name=\"ODBSharingCapability\"><Parameter Type=\"Int32\">0</Parameter></SetProperty>"));
        assert!(xml.contains("<Parameter Type=\"Boolean\">true</Parameter>"));
        assert!(xml.contains("<Method Name=\"SetSPORestrictedSearchMode\" Id=\"12\" ObjectPathId=\"1\"><Parameters><Parameter Type=\"Enum\">1</Parameter></Parameters></Method>"));
        assert!(xml.ends_with("<Constructor Id=\"1\" TypeId=\"{268004ae-ef6b-4e9b-8425-127220d84719}\" /></ObjectPaths></Request>"));
    }
}
