//! Directory objects: group membership (direct and transitive, add and remove) and
//! `directoryObjects/getByIds`.

use super::*;

/// `groups/{id}/members`, `…/members/$ref`, `…/members/{member}/$ref` and
/// `groups/{id}/transitiveMembers`.
pub(super) fn group_members(
    app: &App,
    req: &Request,
    group: &str,
    sub: &[(String, Option<String>)],
) -> Reply {
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
pub(super) fn direct_members(store: &Store, group: &str) -> Vec<String> {
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
pub(super) fn transitive_members(store: &Store, group: &str) -> Vec<String> {
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
pub(super) fn member_page(app: &App, req: &Request, all: Vec<Value>) -> Reply {
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
pub(super) fn add_member(app: &App, req: &Request, group: &str) -> Reply {
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
pub(super) fn remove_member(app: &App, group: &str, member: &str) -> Reply {
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

pub(super) const DIRECTORY_SETS: &[(&str, &str)] = &[
    ("users", "user"),
    ("groups", "group"),
    ("servicePrincipals", "servicePrincipal"),
    ("directoryRoleTemplates", "directoryRoleTemplate"),
    ("organization", "organization"),
];

pub(super) fn find_directory_object(
    store: &Store,
    id: &str,
    types: Option<&[String]>,
) -> Option<Value> {
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

pub(super) fn get_by_ids(app: &App, req: &Request) -> Reply {
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
