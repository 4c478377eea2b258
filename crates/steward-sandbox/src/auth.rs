//! Bearer tokens, the permission each endpoint needs, and the OAuth2 token endpoint.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::reply::Reply;

/// Token lifetime, as Microsoft's endpoint reports it.
const EXPIRES_IN: u64 = 3599;
/// Audience of the tokens the sandbox issues.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Application id of "Office 365 SharePoint Online", SharePoint's resource.
pub const SHAREPOINT_APP_ID: &str = "00000003-0000-0ff1-ce00-000000000000";

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Principal {
    /// App-only token: application permissions (`roles`).
    App(Vec<String>),
    /// Signed-in admin: delegated scopes (`scp`).
    Delegated(Vec<String>),
    /// A `--accept-token` token: signed-in admin with every delegated scope.
    Admin,
}

/// The group of endpoints a permission rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    ConditionalAccess,
    AuthenticationStrengths,
    AuthenticationMethods,
    SecurityDefaults,
    Authorization,
    SharePoint,
    RetentionLabels,
    CrossTenantAccess,
    AccessReviews,
    TenantInformation,
    Users,
    Groups,
    ServicePrincipals,
    Roles,
    DirectoryObjects,
    Organization,
    Sites,
}

/// What an endpoint accepts: any one of `any_of`, and whether app-only tokens may call it.
struct Rule {
    any_of: &'static [&'static str],
    app_only_allowed: bool,
}

/// The permission table (docs/graph-quirks.md §10), in one place.
fn rule(area: Area, write: bool) -> Rule {
    use Area::*;
    const DIR_READ: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];
    let any_of: &'static [&'static str] = match (area, write) {
        (ConditionalAccess, false) => &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"],
        (ConditionalAccess, true) => &["Policy.ReadWrite.ConditionalAccess"],
        (AuthenticationStrengths, false) => &[
            "Policy.Read.All",
            "Policy.ReadWrite.ConditionalAccess",
            "Policy.ReadWrite.AuthenticationMethod",
        ],
        (AuthenticationStrengths, true) => &[
            "Policy.ReadWrite.ConditionalAccess",
            "Policy.ReadWrite.AuthenticationMethod",
        ],
        (AuthenticationMethods, false) => &[
            "Policy.Read.AuthenticationMethod",
            "Policy.Read.All",
            "Policy.ReadWrite.AuthenticationMethod",
        ],
        (AuthenticationMethods, true) => &["Policy.ReadWrite.AuthenticationMethod"],
        (SecurityDefaults, false) => &["Policy.Read.All", "Policy.ReadWrite.SecurityDefaults"],
        (SecurityDefaults, true) => &["Policy.ReadWrite.SecurityDefaults"],
        (Authorization, false) => &["Policy.Read.All", "Policy.ReadWrite.Authorization"],
        (Authorization, true) => &["Policy.ReadWrite.Authorization"],
        (SharePoint, false) => &[
            "SharePointTenantSettings.Read.All",
            "SharePointTenantSettings.ReadWrite.All",
        ],
        (SharePoint, true) => &["SharePointTenantSettings.ReadWrite.All"],
        (RetentionLabels, false) => &[
            "RecordsManagement.Read.All",
            "RecordsManagement.ReadWrite.All",
        ],
        (RetentionLabels, true) => &["RecordsManagement.ReadWrite.All"],
        (CrossTenantAccess, false) => &["Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess"],
        (CrossTenantAccess, true) => &["Policy.ReadWrite.CrossTenantAccess"],
        (AccessReviews, false) => &["AccessReview.Read.All", "AccessReview.ReadWrite.All"],
        (AccessReviews, true) => &["AccessReview.ReadWrite.All"],
        (TenantInformation, _) => &["CrossTenantInformation.ReadBasic.All"],
        (Users, _) => &[
            "User.Read.All",
            "User.ReadWrite.All",
            "User.ReadBasic.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        (Groups, _) => &[
            "GroupMember.Read.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        (ServicePrincipals, _) => &[
            "Application.Read.All",
            "Application.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        (Roles, _) => &[
            "RoleManagement.Read.Directory",
            "RoleManagement.Read.All",
            "RoleManagement.ReadWrite.Directory",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        (DirectoryObjects, _) => DIR_READ,
        (Sites, _) => &[
            "Sites.Read.All",
            "Sites.ReadWrite.All",
            "Sites.FullControl.All",
        ],
        (Organization, _) => &[
            "Organization.Read.All",
            "Organization.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    };
    Rule {
        any_of,
        // Retention labels have no application permission at all.
        app_only_allowed: area != RetentionLabels,
    }
}

/// `None` when the principal may call the endpoint; otherwise Graph's 403.
pub fn authorize(principal: &Principal, area: Area, write: bool) -> Option<Reply> {
    let rule = rule(area, write);
    let granted = match principal {
        Principal::Admin => return None,
        Principal::App(roles) => {
            if !rule.app_only_allowed {
                return Some(Reply::error(
                    403,
                    "Authorization_RequestDenied",
                    format!(
                        "This API does not support application permissions; a signed-in user with one of these delegated permissions is required: {}.",
                        rule.any_of.join(", ")
                    ),
                ));
            }
            roles
        }
        Principal::Delegated(scopes) => scopes,
    };
    if rule
        .any_of
        .iter()
        .any(|p| granted.iter().any(|g| g.eq_ignore_ascii_case(p)))
    {
        None
    } else {
        Some(Reply::error(
            403,
            "Authorization_RequestDenied",
            format!(
                "Insufficient privileges to complete the operation. Missing permission: one of {}.",
                rule.any_of.join(", ")
            ),
        ))
    }
}

fn unauthorized(message: &str) -> Reply {
    Reply::error(401, "InvalidAuthenticationToken", message)
}

/// The token of an `Authorization: Bearer …` header, if it has one.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The `tid` claim of a token, read without checking its signature: it only says which
/// tenant's key must then verify the token.
pub fn unverified_tenant(token: &str) -> Option<String> {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .ok()?
        .claims
        .get("tid")
        .and_then(Value::as_str)
        .map(String::from)
}

/// Graph's 401 for a request that names no tenant this sandbox serves.
pub fn no_tenant(header: Option<&str>) -> Reply {
    match bearer(header) {
        None => unauthorized("Access token is empty."),
        Some(_) => unauthorized("Access token validation failure."),
    }
}

/// Entra's answer for a tenant it does not know (AADSTS90002).
pub fn unknown_tenant(tenant: &str) -> Reply {
    oauth_error(
        400,
        "invalid_request",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    )
}

/// Checks the `Authorization` header and returns who is calling, or Graph's 401.
pub fn authenticate(
    header: Option<&str>,
    accept_tokens: &[String],
    signing_key: &[u8],
) -> Result<Principal, Reply> {
    let Some(header) = header else {
        return Err(unauthorized("Access token is empty."));
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return Err(unauthorized("Access token is empty."));
    }
    if accept_tokens.iter().any(|t| t == token) {
        return Ok(Principal::Admin);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[GRAPH_AUDIENCE, "00000003-0000-0000-c000-000000000000"]);
    validation.leeway = 0;
    let data =
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(signing_key), &validation)
            .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                unauthorized("Lifetime validation failed, the token is expired.")
            }
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                unauthorized("Access token validation failure. Invalid audience.")
            }
            _ => unauthorized("Access token validation failure."),
        })?;
    let claims = data.claims;
    if let Some(scp) = claims.get("scp").and_then(Value::as_str) {
        return Ok(Principal::Delegated(
            scp.split_whitespace().map(String::from).collect(),
        ));
    }
    let roles = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(Principal::App(roles))
}

/// Checks a bearer token sent to SharePoint's admin API: its audience must be the admin host
/// (or SharePoint's application id), and an app-only token obtained with a client secret is
/// refused, as SharePoint refuses it. `Err` holds SharePoint's reason.
pub fn sharepoint_principal(
    header: Option<&str>,
    accept_tokens: &[String],
    signing_key: &[u8],
    audience: &str,
) -> Result<Principal, String> {
    let token = header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return Err("The access token is missing.".into());
    }
    if accept_tokens.iter().any(|t| t == token) {
        return Ok(Principal::Admin);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience, SHAREPOINT_APP_ID]);
    validation.leeway = 0;
    let data =
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(signing_key), &validation)
            .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                "The token is expired.".to_string()
            }
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                format!("Invalid audience Uri; the token must be issued for {audience}.")
            }
            _ => "Invalid JWT token.".to_string(),
        })?;
    let claims = data.claims;
    if let Some(scp) = claims.get("scp").and_then(Value::as_str) {
        return Ok(Principal::Delegated(
            scp.split_whitespace().map(String::from).collect(),
        ));
    }
    if claims.get("appidacr").and_then(Value::as_str) == Some("1") {
        return Err("Unsupported app only token.".into());
    }
    let roles = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(Principal::App(roles))
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

/// Microsoft's OAuth error body.
fn oauth_error(status: u16, error: &str, code: u32, description: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Handles `POST /{tenant}/oauth2/v2.0/token` (client-credentials grant).
// Each argument is a separate fact the server holds; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn token_endpoint(
    form: &[(String, String)],
    basic_auth: Option<(String, String)>,
    tenant: &str,
    token_url: &str,
    clients: &[Value],
    tenant_id: &str,
    signing_key: &[u8],
    sharepoint_audience: &str,
) -> Reply {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    match get("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
        None => {
            return oauth_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let (basic_id, basic_secret) = match basic_auth {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (None, None),
    };
    let Some(client_id) = get("client_id").map(String::from).or(basic_id) else {
        return oauth_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    // The resource asked for: Graph, or the tenant's SharePoint admin host.
    let mut audience = GRAPH_AUDIENCE.to_string();
    match get("scope") {
        Some(scope) => {
            let ok = scope.split_whitespace().all(|s| {
                let s = s.trim_end_matches('/');
                if s.eq_ignore_ascii_case(&format!("{sharepoint_audience}/.default"))
                    || s.eq_ignore_ascii_case(&format!("{SHAREPOINT_APP_ID}/.default"))
                {
                    audience = sharepoint_audience.to_string();
                    return true;
                }
                s.eq_ignore_ascii_case("https://graph.microsoft.com/.default")
                    || s.eq_ignore_ascii_case("00000003-0000-0000-c000-000000000000/.default")
            });
            if !ok {
                return oauth_error(
                    400,
                    "invalid_scope",
                    1002012,
                    &format!(
                        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                    ),
                );
            }
        }
        None => {
            return oauth_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        }
    }
    let Some(client) = clients.iter().find(|c| {
        c.get("clientId")
            .and_then(Value::as_str)
            .is_some_and(|id| id.eq_ignore_ascii_case(&client_id))
    }) else {
        return oauth_error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        );
    };
    let secret = get("client_secret").map(String::from).or(basic_secret);
    // How the client proved itself: "1" a secret, "2" a certificate or federated assertion.
    let acr = if secret.is_some() { "1" } else { "2" };
    if let Some(secret) = secret {
        let registered = client.get("secret").and_then(Value::as_str);
        if registered != Some(secret.as_str()) {
            return oauth_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
            );
        }
    } else if let Some(assertion) = get("client_assertion") {
        if get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return oauth_error(
                400,
                "invalid_request",
                50027,
                &format!("Invalid client_assertion_type: expected '{ASSERTION_TYPE}'."),
            );
        }
        if let Err(reply) = verify_assertion(assertion, &client_id, client, token_url, tenant) {
            return reply;
        }
    } else {
        return oauth_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    // A SharePoint token carries the client's SharePoint permissions, not its Graph ones.
    let roles_key = if audience == GRAPH_AUDIENCE {
        "roles"
    } else {
        "sharepointRoles"
    };
    let roles: Vec<Value> = client
        .get(roles_key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "aud": audience,
        "appidacr": acr,
        "iss": format!("https://sts.windows.net/{tenant_id}/"),
        "iat": now,
        "nbf": now,
        "exp": now + EXPIRES_IN as i64,
        "appid": client_id,
        "app_displayname": client.get("displayName").cloned().unwrap_or(Value::Null),
        "idtyp": "app",
        "oid": client.get("objectId").cloned().unwrap_or_else(|| Value::String(client_id.clone())),
        "roles": roles,
        "sub": client_id,
        "tid": tenant_id,
        "ver": "1.0",
    });
    match jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(signing_key),
    ) {
        Ok(token) => Reply::json(
            200,
            json!({
                "token_type": "Bearer",
                "expires_in": EXPIRES_IN,
                "ext_expires_in": EXPIRES_IN,
                "access_token": token,
            }),
        ),
        Err(e) => oauth_error(
            500,
            "server_error",
            50000,
            &format!("Token signing failed: {e}"),
        ),
    }
}

/// Verifies a client assertion: a certificate-signed JWT, or a federated IdP token.
fn verify_assertion(
    assertion: &str,
    client_id: &str,
    client: &Value,
    token_url: &str,
    tenant: &str,
) -> Result<(), Reply> {
    let invalid = |code: u32, msg: &str| Err(oauth_error(401, "invalid_client", code, msg));
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return invalid(50027, "JWT token is invalid or malformed.");
    };
    if header.alg != Algorithm::RS256 {
        return invalid(
            5002738,
            "Invalid JWT token. The client assertion must be signed with RS256.",
        );
    }
    // Certificate form: the header's x5t names the registered certificate.
    if let (Some(cert), Some(x5t)) = (client.get("certificate"), header.x5t.as_deref()) {
        let thumb = cert.get("thumbprint").and_then(Value::as_str).unwrap_or("");
        if thumb == x5t {
            let pem = cert
                .get("publicKeyPem")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) else {
                return invalid(700027, "The registered certificate key cannot be read.");
            };
            let audiences = [
                token_url.to_string(),
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
                format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            ];
            let mut v = Validation::new(Algorithm::RS256);
            v.set_audience(&audiences);
            v.set_issuer(&[client_id]);
            v.sub = Some(client_id.to_string());
            v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
            v.leeway = 0;
            return match jsonwebtoken::decode::<Value>(assertion, &key, &v) {
                Ok(_) => Ok(()),
                Err(e) => match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid(
                        700024,
                        "Client assertion is not within its valid time range.",
                    ),
                    jsonwebtoken::errors::ErrorKind::InvalidAudience => invalid(
                        700212,
                        "No matching federated identity record found for presented assertion audience.",
                    ),
                    jsonwebtoken::errors::ErrorKind::InvalidIssuer
                    | jsonwebtoken::errors::ErrorKind::InvalidSubject => invalid(
                        700021,
                        "Client assertion application identifier doesn't match 'client_id' parameter.",
                    ),
                    jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => invalid(
                        50027,
                        "JWT token is invalid or malformed: a required claim is missing.",
                    ),
                    _ => invalid(
                        7000274,
                        "Key was found, but use of the key to verify the signature failed.",
                    ),
                },
            };
        }
    }
    // Federated form: an external IdP's token matched on issuer and subject.
    let Ok(unverified) = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion) else {
        return invalid(50027, "JWT token is invalid or malformed.");
    };
    let iss = unverified
        .claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or("");
    let sub = unverified
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or("");
    let creds = client
        .get("federatedCredentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(cred) = creds.iter().find(|c| {
        c.get("issuer").and_then(Value::as_str) == Some(iss)
            && c.get("subject").and_then(Value::as_str) == Some(sub)
    }) else {
        if client.get("certificate").is_some() && creds.is_empty() {
            return invalid(
                700027,
                "The certificate with identifier used to sign the client assertion is not registered on application.",
            );
        }
        return invalid(
            70021,
            &format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'."
            ),
        );
    };
    let pem = cred
        .get("publicKeyPem")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) else {
        return invalid(700027, "The federated credential's key cannot be read.");
    };
    let audiences: Vec<String> = cred
        .get("audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_else(|| vec!["api://AzureADTokenExchange".to_string()]);
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&audiences);
    v.set_issuer(&[iss]);
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    v.leeway = 0;
    match jsonwebtoken::decode::<Value>(assertion, &key, &v) {
        Ok(_) => Ok(()),
        Err(e) => match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid(
                700024,
                "Client assertion is not within its valid time range.",
            ),
            jsonwebtoken::errors::ErrorKind::InvalidAudience => invalid(
                700212,
                "No matching federated identity record found for presented assertion audience.",
            ),
            _ => invalid(
                7000274,
                "Key was found, but use of the key to verify the signature failed.",
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_only_tokens_never_reach_retention_labels() {
        let app = Principal::App(vec!["RecordsManagement.ReadWrite.All".into()]);
        let r = authorize(&app, Area::RetentionLabels, false).unwrap();
        assert_eq!(r.status, 403);
        let user = Principal::Delegated(vec!["RecordsManagement.Read.All".into()]);
        assert!(authorize(&user, Area::RetentionLabels, false).is_none());
        assert!(authorize(&user, Area::RetentionLabels, true).is_some());
    }

    #[test]
    fn directory_read_all_covers_directory_reads() {
        let app = Principal::App(vec!["Directory.Read.All".into()]);
        for area in [
            Area::Users,
            Area::Groups,
            Area::ServicePrincipals,
            Area::Roles,
            Area::DirectoryObjects,
            Area::Organization,
        ] {
            assert!(authorize(&app, area, false).is_none(), "{area:?}");
        }
        assert!(authorize(&app, Area::ConditionalAccess, false).is_some());
    }

    #[test]
    fn a_token_with_scp_acts_as_a_signed_in_user() {
        let key = b"k".to_vec();
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"aud": GRAPH_AUDIENCE, "exp": now + 60,
            "scp": "Policy.Read.All RecordsManagement.Read.All"});
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&key),
        )
        .unwrap();
        let p = authenticate(Some(&format!("Bearer {token}")), &[], &key).unwrap();
        assert!(authorize(&p, Area::RetentionLabels, false).is_none());
        assert!(authorize(&p, Area::ConditionalAccess, true).is_some());
        let expired = json!({"aud": GRAPH_AUDIENCE, "exp": now - 60, "roles": []});
        let old = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &expired,
            &EncodingKey::from_secret(&key),
        )
        .unwrap();
        let r = authenticate(Some(&format!("Bearer {old}")), &[], &key).unwrap_err();
        assert_eq!(r.status, 401);
    }

    #[test]
    fn read_permission_does_not_grant_writes() {
        let app = Principal::App(vec!["Policy.Read.All".into()]);
        assert!(authorize(&app, Area::ConditionalAccess, false).is_none());
        let denied = authorize(&app, Area::ConditionalAccess, true).unwrap();
        assert_eq!(denied.status, 403);
    }
}
