//! The Graph v1.0 endpoints: routing, reads with query options, and writes with Graph's rules,
//! one file per responsibility. This file holds the request and the helpers every handler uses.

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

mod collections;
mod directory;
mod reviews;
mod router;
mod singletons;
mod strengths;
mod validation;
mod writes;

use collections::*;
use directory::*;
use reviews::*;
use router::*;
pub use router::{handle, is_limited_write};
use singletons::*;
use strengths::*;
use validation::*;
use writes::*;

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

/// An item's key: its `id`, or for cross-tenant partners (keyed so by Graph) its `tenantId`.
fn id_of(v: &Value) -> &str {
    v.get("id")
        .or_else(|| v.get("tenantId"))
        .and_then(Value::as_str)
        .unwrap_or("")
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
