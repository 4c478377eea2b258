//! Routing: which handler serves a method and path, after authorisation.

use super::*;

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
pub(super) struct Seg {
    pub(super) name: String,
    pub(super) key: Option<(Option<String>, String)>,
}

pub(super) fn split_path(path: &str) -> Vec<Seg> {
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

pub(super) fn not_found_path(seg: &str) -> Reply {
    Reply::error(
        404,
        "ResourceNotFound",
        format!("Resource not found for the segment '{seg}'."),
    )
}

pub(super) fn method_not_allowed(method: &str) -> Reply {
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
    if lower.len() == 2
        && lower[0] == "tenantrelationships"
        && lower[1] == "findtenantinformationbydomainname"
    {
        if let Some(r) = authorize(principal, Area::TenantInformation, false) {
            return r;
        }
        if req.method != "GET" {
            return method_not_allowed(req.method);
        }
        let domain = segs[1].key.as_ref().map(|(_, v)| v.as_str()).unwrap_or("");
        return tenant_information(app, domain);
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
    if joined == "sites/root" {
        if let Some(r) = authorize(principal, Area::Sites, false) {
            return r;
        }
        if req.method != "GET" {
            return method_not_allowed(req.method);
        }
        return crate::sharepoint::site_root(app);
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
