//! The one error type of the Graph layer. No variant ever holds a token, secret or assertion.

use std::fmt;

/// An HTTP error answered by Graph (or by the token endpoint's Graph-shaped twin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// HTTP method of the failed request.
    pub method: String,
    /// Request path (relative to the host, query included).
    pub path: String,
    /// HTTP status code.
    pub status: u16,
    /// Graph's `error.code`, when the body had one.
    pub code: Option<String>,
    /// Graph's `error.message`, when the body had one.
    pub message: Option<String>,
    /// The `request-id` (response header, else `error.innerError["request-id"]`).
    pub request_id: Option<String>,
    /// The `client-request-id` (response header, else `error.innerError["client-request-id"]`).
    pub client_request_id: Option<String>,
}

impl HttpError {
    /// One line telling the admin what to do about this status, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        let licence = [&self.code, &self.message].iter().any(|t| {
            t.as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("licen"))
        });
        if licence
            && matches!(self.status, 400 | 403)
            && self
                .path
                .to_ascii_lowercase()
                .contains("identitygovernance/accessreviews")
        {
            return Some(
                "access reviews need Microsoft Entra ID Governance (or Microsoft Entra ID P2) \
                 licences in the tenant, for every reviewer and reviewed guest: buy or start a \
                 trial of Entra ID Governance, or remove the access-review declarations"
                    .to_string(),
            );
        }
        match self.status {
            401 => Some(
                "the token was rejected: check --tenant, the sign-in mode (--auth) and that the \
                 credential has not expired or been revoked"
                    .to_string(),
            ),
            403 => {
                let perm = self
                    .message
                    .as_deref()
                    .and_then(permission_in_message)
                    .or_else(|| required_permission(&self.method, &self.path));
                Some(match perm {
                    Some(p) => format!(
                        "the signed-in identity lacks a permission for this call: grant {p} \
                         (application permissions need admin consent; delegated sign-ins also \
                         need a suitable admin role)"
                    ),
                    None => {
                        "the signed-in identity lacks a permission or admin role for this call \
                             (application permissions need admin consent)"
                            .to_string()
                    }
                })
            }
            404 => Some(
                "the object or endpoint was not found: it may have been deleted, may not have \
                 replicated yet if just created, or may not exist in this cloud (--cloud)"
                    .to_string(),
            ),
            429 => Some(
                "Graph is throttling this tenant: wait a few minutes, and avoid running several \
                 steward jobs at once"
                    .to_string(),
            ),
            503 | 504 => Some("Graph is temporarily unavailable: try again later".to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        write!(
            f,
            "{} {}: HTTP {} {}",
            self.method, self.path, self.status, reason
        )?;
        let message = self.message.as_ref().filter(|m| !m.trim().is_empty());
        match (&self.code, message) {
            (Some(c), Some(m)) if !c.is_empty() => write!(f, "; Graph error {c}: {m}")?,
            (_, Some(m)) => write!(f, "; Graph error: {m}")?,
            (Some(c), None) if !c.is_empty() => write!(f, "; Graph error {c}")?,
            _ => {}
        }
        match &self.request_id {
            Some(id) => write!(f, " (request-id {id})")?,
            None => write!(f, " (no request-id)")?,
        }
        if let Some(h) = self.hint() {
            write!(f, ". Hint: {h}")?;
        }
        Ok(())
    }
}

/// Why a request never got an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect (DNS, refused, TLS, network down).
    Unreachable,
    /// No answer within the per-request timeout.
    Timeout,
    /// The connection broke while sending or receiving.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Unreachable => "is unreachable",
            TransportKind::Timeout => "did not answer in time (timeout)",
            TransportKind::Other => "broke the connection",
        })
    }
}

/// A name or id that did not resolve to exactly one directory object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Several objects share the name; the file must say which one (by id).
    #[error(
        "{kind} name `{name}`{} matches {} objects (ids: {}); names must be unique - rename one or reference it by id",
        referrer(.referenced_by), .ids.len(), .ids.join(", ")
    )]
    Ambiguous {
        /// Object kind ("group", "service principal", …).
        kind: String,
        /// The name as written.
        name: String,
        /// Every matching object id, sorted.
        ids: Vec<String>,
        /// The object whose reference this is, when the caller knows it.
        referenced_by: Option<String>,
    },
    /// No object has this name or id.
    #[error(
        "{kind} reference(s){} not found in the tenant: {}",
        referrer(.referenced_by), .references.join(", ")
    )]
    NotFound {
        /// Object kind ("user", "group", "directory object", …).
        kind: String,
        /// Every unresolved reference, sorted.
        references: Vec<String>,
        /// The object whose reference this is, when the caller knows it.
        referenced_by: Option<String>,
    },
}

impl ResolveError {
    /// Names the object (e.g. a policy) that holds the failing reference.
    pub fn referenced_by(mut self, object: impl Into<String>) -> Self {
        match &mut self {
            ResolveError::Ambiguous { referenced_by, .. }
            | ResolveError::NotFound { referenced_by, .. } => *referenced_by = Some(object.into()),
        }
        self
    }
}

fn correlation(id: &Option<String>) -> String {
    match id {
        Some(id) => format!("; correlation id {id}"),
        None => String::new(),
    }
}

fn referrer(r: &Option<String>) -> String {
    match r {
        Some(o) => format!(" (referenced by {o})"),
        None => String::new(),
    }
}

/// Every failure of the Graph layer.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error status.
    #[error("{0}")]
    Http(Box<HttpError>),
    /// The request never got an answer.
    #[error("{method} {path}: Graph host {host} {kind} after {attempts} attempt(s): {detail}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Host (and port) that was contacted.
        host: String,
        /// What went wrong.
        kind: TransportKind,
        /// How many times it was tried.
        attempts: u32,
        /// The underlying cause, without URL or headers.
        detail: String,
    },
    /// Throttling or server errors outlasted the retry budget.
    #[error(
        "{method} {path}: gave up after {attempts} attempt(s) in {elapsed_secs:.1}s ({throttled} throttled, {server_errors} server errors; {reason}); last response: {last}"
    )]
    RetryExhausted {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Attempts made for this request.
        attempts: u32,
        /// How many answers were 429.
        throttled: u32,
        /// How many answers were 503/504.
        server_errors: u32,
        /// Seconds spent on this request, waits included.
        elapsed_secs: f64,
        /// Which limit ran out.
        reason: String,
        /// The last error answer.
        last: Box<HttpError>,
    },
    /// Sign-in failed before any token endpoint answered (missing setting, unreadable file, …).
    #[error("sign-in ({mode}) failed: {message}")]
    SignIn {
        /// Sign-in mode.
        mode: String,
        /// What went wrong and what to do.
        message: String,
    },
    /// The token endpoint (or the token provider) refused.
    #[error("sign-in ({mode}) failed: HTTP {status} {error}: {description}{}", ids(.trace_id, .correlation_id))]
    TokenEndpoint {
        /// Sign-in mode.
        mode: String,
        /// HTTP status of the token endpoint.
        status: u16,
        /// OAuth `error`.
        error: String,
        /// OAuth `error_description` (AADSTS code and text).
        description: String,
        /// `trace_id` for Microsoft support.
        trace_id: Option<String>,
        /// `correlation_id` for Microsoft support.
        correlation_id: Option<String>,
    },
    /// A setting is invalid.
    #[error("{message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A plain-http endpoint that is not loopback.
    #[error(
        "{what} `{url}` is refused: use https, or http only for a loopback host (127.0.0.1, ::1, localhost)"
    )]
    InsecureUrl {
        /// Which setting.
        what: String,
        /// The refused URL.
        url: String,
    },
    /// The kind can only be managed by a signed-in admin, and this run is app-only.
    #[error(
        "{kind} can only be read or written by a signed-in administrator: Microsoft Graph has no application permission for it, and this run signed in as an application (app-only). Sign in as an admin with --auth azure-cli (after `az login`), --auth device-code, or --auth token (a delegated token in STEWARD_GRAPH_TOKEN)"
    )]
    NeedsSignedInAdmin {
        /// The resource kind, e.g. "retention label".
        kind: String,
    },
    /// A name or id did not resolve to exactly one object.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// SharePoint's admin API refused a CSOM request (it answers HTTP 200 with `ErrorInfo`).
    #[error("POST {path}: SharePoint refused: {message} ({error_type}{})", correlation(.correlation_id))]
    SharePoint {
        /// Request path.
        path: String,
        /// SharePoint's `ErrorMessage`.
        message: String,
        /// SharePoint's `ErrorTypeName`.
        error_type: String,
        /// SharePoint's `TraceCorrelationId`, for Microsoft support.
        correlation_id: Option<String>,
    },
    /// Graph answered 2xx with something the client cannot use.
    #[error("{method} {path}: unexpected response from Graph: {detail}")]
    InvalidResponse {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// What was wrong with it.
        detail: String,
    },
    /// Graph answered 2xx with a body steward must not use: not the object the request reads
    /// (HTML, empty, `null`, the wrong type, required properties missing), or past one of
    /// steward's limits (body size, pages per collection, a paging loop).
    #[error("{method} {path}: unusable answer from Graph: {detail} ({}). {advice}", request_ref(.request_id))]
    Unusable {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Graph's `request-id` of the answer, for Microsoft support.
        request_id: Option<String>,
        /// What was wrong with it.
        detail: String,
        /// What the admin can do.
        advice: String,
    },
}

impl From<HttpError> for GraphError {
    fn from(e: HttpError) -> Self {
        GraphError::Http(Box::new(e))
    }
}

impl GraphError {
    /// The HTTP status behind this error, if Graph answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Http(e) => Some(e.status),
            GraphError::RetryExhausted { last, .. } => Some(last.status),
            GraphError::TokenEndpoint { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn request_ref(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!("request-id {id}"),
        None => "no request-id".to_string(),
    }
}

fn ids(trace: &Option<String>, corr: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(t) = trace {
        s.push_str(&format!(" (trace-id {t}"));
        if let Some(c) = corr {
            s.push_str(&format!(", correlation-id {c}"));
        }
        s.push(')');
    } else if let Some(c) = corr {
        s.push_str(&format!(" (correlation-id {c})"));
    }
    s
}

/// Parses Graph's error body `{"error": {"code", "message", "innerError"|"innererror"}}`.
pub(crate) fn parse_error_body(
    body: Option<&serde_json::Value>,
) -> (Option<String>, Option<String>, Option<String>) {
    let Some(err) = body.and_then(|b| b.get("error")) else {
        return (None, None, None);
    };
    let s = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let inner = err.get("innerError").or_else(|| err.get("innererror"));
    let rid = inner.and_then(|i| s(i.get("request-id")).or_else(|| s(i.get("requestId"))));
    (s(err.get("code")), s(err.get("message")), rid)
}

/// The `client-request-id` in Graph's error body (`error.innerError`), when there is one.
pub(crate) fn client_request_id_in_body(body: Option<&serde_json::Value>) -> Option<String> {
    let err = body?.get("error")?;
    let inner = err.get("innerError").or_else(|| err.get("innererror"))?;
    inner
        .get("client-request-id")
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// A permission name Graph put in its message (e.g. "… requires one of 'Policy.Read.All'").
fn permission_in_message(msg: &str) -> Option<String> {
    let found: Vec<&str> = msg
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| w.contains(".Read") && w.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect();
    if found.is_empty() {
        None
    } else {
        Some(found.join(" or "))
    }
}

/// The least Graph permission a path family needs (from the endpoint reference pages).
pub(crate) fn required_permission(method: &str, path: &str) -> Option<String> {
    let p = path
        .trim_start_matches('/')
        .trim_start_matches("v1.0/")
        .to_ascii_lowercase();
    let write = !method.eq_ignore_ascii_case("GET");
    let (read, wr) = if p.starts_with("identity/conditionalaccess/policies")
        || p.starts_with("identity/conditionalaccess/namedlocations")
    {
        (
            "Policy.Read.All",
            "Policy.Read.All and Policy.ReadWrite.ConditionalAccess",
        )
    } else if p.starts_with("policies/authenticationstrengthpolicies")
        || p.starts_with("identity/conditionalaccess/authenticationstrength")
    {
        (
            "Policy.Read.All",
            "Policy.ReadWrite.ConditionalAccess or Policy.ReadWrite.AuthenticationMethod",
        )
    } else if p.starts_with("policies/authenticationmethodspolicy") {
        (
            "Policy.Read.AuthenticationMethod",
            "Policy.ReadWrite.AuthenticationMethod",
        )
    } else if p.starts_with("policies/identitysecuritydefaultsenforcementpolicy") {
        ("Policy.Read.All", "Policy.ReadWrite.SecurityDefaults")
    } else if p.starts_with("policies/authorizationpolicy") {
        ("Policy.Read.All", "Policy.ReadWrite.Authorization")
    } else if p.starts_with("admin/sharepoint/settings") {
        (
            "SharePointTenantSettings.Read.All",
            "SharePointTenantSettings.ReadWrite.All",
        )
    } else if p.starts_with("security/labels/retentionlabels") {
        (
            "RecordsManagement.Read.All (delegated only)",
            "RecordsManagement.ReadWrite.All (delegated only)",
        )
    } else if p.starts_with("policies/crosstenantaccesspolicy") {
        ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
    } else if p.starts_with("tenantrelationships/findtenantinformation") {
        (
            "CrossTenantInformation.ReadBasic.All",
            "CrossTenantInformation.ReadBasic.All",
        )
    } else if p.starts_with("identitygovernance/accessreviews") {
        ("AccessReview.Read.All", "AccessReview.ReadWrite.All")
    } else if p.starts_with("directoryobjects") {
        ("Directory.Read.All", "Directory.Read.All")
    } else if p.starts_with("users") {
        ("User.Read.All", "User.Read.All")
    } else if p.starts_with("groups") {
        ("GroupMember.Read.All", "GroupMember.Read.All")
    } else if p.starts_with("serviceprincipals") {
        ("Application.Read.All", "Application.Read.All")
    } else if p.starts_with("rolemanagement/directory") || p.starts_with("directoryroletemplates") {
        (
            "RoleManagement.Read.Directory",
            "RoleManagement.Read.Directory",
        )
    } else if p.starts_with("organization") {
        ("Organization.Read.All", "Organization.Read.All")
    } else {
        return None;
    };
    Some(if write { wr } else { read }.to_string())
}
