//! Access reviews: the model names what is reviewed and who reviews; Graph wants queries.
//! Writing builds the queries Microsoft documents (accessreviews-scope-concept.md,
//! accessreviewreviewerscope.md); reading recognises them again, after undoing what the
//! service does to them (`$count=true` inserted, `+` for spaces, `queryRoot: null`), and
//! reports any other query as something steward cannot express. Graph replaces the whole
//! definition on update (PUT), and recurrence is flattened to one block.

use serde_json::{Map, Value, json};

use super::{KindAdapter, Unexpressed};

/// How access reviews are read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph,
    to_graph,
    put_whole: true,
    ..KindAdapter::DEFAULT
};

const QUERY_SCOPE: &str = "#microsoft.graph.accessReviewQueryScope";
const MEMBERSHIPS_SCOPE: &str = "#microsoft.graph.principalResourceMembershipsScope";
const ALL_GROUPS: &str = "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))";
const ALL_TEAMS: &str = "/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team'))";
const GUEST_MEMBERS: &str = "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')";
const GUEST_USERS: &str = "/users?$filter=(userType eq 'Guest')";
const GUEST_FILTER: &str = "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')";

fn query(text: &str) -> Value {
    json!({"@odata.type": QUERY_SCOPE, "query": text, "queryType": "MicrosoftGraph"})
}

fn reviewer(text: &str) -> Value {
    json!({"query": text, "queryType": "MicrosoftGraph"})
}

/// A query as compared: without the `$count=true` the service adds, spaces, `+` and case.
fn canonical(text: &str) -> String {
    text.replace("$count=true&", "")
        .replace("&$count=true", "")
        .replace("?$count=true", "")
        .replace(['+', ' '], "")
        .to_ascii_lowercase()
}

/// The id in `{prefix}{id}{suffix}`, compared canonically.
fn id_between(text: &str, prefix: &str, suffix: &str) -> Option<String> {
    let text = canonical(text);
    let rest = text.strip_prefix(&canonical(prefix))?;
    let id = rest.strip_suffix(&canonical(suffix))?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

fn text_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Graph → the model's JSON form.
pub fn from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = raw.clone();
    let Some(map) = value.as_object_mut() else {
        return value;
    };
    // Set by the service: where the review is in its cycle, and a deprecated mirror of
    // fallbackReviewers.
    for key in ["status", "backupReviewers"] {
        map.remove(key);
    }
    let enumeration = map.remove("instanceEnumerationScope");
    if let Some(scope) = map.remove("scope") {
        match scope_from_graph(&scope, enumeration.as_ref()) {
            Some(model) => {
                map.insert("scope".into(), model);
            }
            None => unexpressed.push(Unexpressed {
                path: "/scope".into(),
                value: json!({"scope": scope, "instanceEnumerationScope": enumeration}),
            }),
        }
    }
    let reviewers = map.remove("reviewers");
    map.insert(
        "reviewers".into(),
        reviewers_from_graph(reviewers.as_ref(), "/reviewers", true, unexpressed),
    );
    if let Some(fallback) = map.remove("fallbackReviewers") {
        let model = reviewers_from_graph(Some(&fallback), "/fallbackReviewers", false, unexpressed);
        if model.as_object().is_some_and(|m| !m.is_empty()) {
            map.insert("fallbackReviewers".into(), model);
        }
    }
    if let Some(Value::Array(stages)) = map.get("stageSettings")
        && !stages.is_empty()
    {
        // Multi-stage reviews are not modelled: reported, never dropped.
        unexpressed.push(Unexpressed {
            path: "/stageSettings".into(),
            value: Value::Array(stages.clone()),
        });
    }
    map.remove("stageSettings");
    if let Some(Value::Object(settings)) = map.get_mut("settings") {
        settings_from_graph(settings);
    }
    value
}

fn scope_from_graph(scope: &Value, enumeration: Option<&Value>) -> Option<Value> {
    let kind = text_of(scope, "@odata.type");
    let enumerated = enumeration
        .filter(|e| !e.is_null())
        .map(|e| canonical(text_of(e, "query")));
    if let Some(groups) = enumerated {
        if kind != QUERY_SCOPE || canonical(text_of(scope, "query")) != canonical(GUEST_MEMBERS) {
            return None;
        }
        // Microsoft's own example spells the teams filter with a stray `')`.
        let groups = groups.replace("'team')')", "'team'))");
        return if groups == canonical(ALL_GROUPS) {
            Some(json!({"guestsIn": "allMicrosoft365Groups"}))
        } else if groups == canonical(ALL_TEAMS) {
            Some(json!({"guestsIn": "allTeams"}))
        } else {
            None
        };
    }
    if kind == QUERY_SCOPE {
        let id = id_between(text_of(scope, "query"), "/groups/", GUEST_FILTER)?;
        return Some(json!({"groups": [id]}));
    }
    if kind != MEMBERSHIPS_SCOPE {
        return None;
    }
    let principals = scope.get("principalScopes").and_then(Value::as_array)?;
    let guests = principals.len() == 1
        && canonical(text_of(&principals[0], "query")) == canonical(GUEST_USERS);
    if !guests {
        return None;
    }
    let mut groups = Vec::new();
    let mut applications = Vec::new();
    for resource in scope.get("resourceScopes").and_then(Value::as_array)? {
        let text = text_of(resource, "query");
        if let Some(id) = id_between(text, "/groups/", "") {
            groups.push(Value::String(id));
        } else if let Some(id) = id_between(text, "/servicePrincipals/", "") {
            applications.push(Value::String(id));
        } else {
            return None;
        }
    }
    let mut out = Map::new();
    if !groups.is_empty() {
        out.insert("groups".into(), Value::Array(groups));
    }
    if !applications.is_empty() {
        out.insert("applications".into(), Value::Array(applications));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn reviewers_from_graph(
    list: Option<&Value>,
    path: &str,
    primary: bool,
    unexpressed: &mut Vec<Unexpressed>,
) -> Value {
    let items: Vec<Value> = list.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Map::new();
    if items.is_empty() && primary {
        // No reviewer: each guest reviews their own access.
        out.insert("selfReview".into(), Value::Bool(true));
    }
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let text = text_of(item, "query");
        let plain = canonical(text);
        if primary && plain == "./owners" {
            out.insert("groupOwners".into(), Value::Bool(true));
        } else if primary && plain == "./manager" {
            out.insert("managers".into(), Value::Bool(true));
        } else if let Some(id) = id_between(text, "/users/", "") {
            users.push(Value::String(id));
        } else if let Some(id) = id_between(text, "/groups/", "/transitiveMembers") {
            groups.push(Value::String(id));
        } else {
            unexpressed.push(Unexpressed {
                path: format!("{path}/{i}"),
                value: item.clone(),
            });
        }
    }
    if !users.is_empty() {
        out.insert("users".into(), Value::Array(users));
    }
    if !groups.is_empty() {
        out.insert("groups".into(), Value::Array(groups));
    }
    Value::Object(out)
}

fn settings_from_graph(settings: &mut Map<String, Value>) {
    if let Some(Value::Array(actions)) = settings.get_mut("applyActions") {
        for action in actions.iter_mut() {
            let name = text_of(action, "@odata.type")
                .trim_start_matches("#microsoft.graph.")
                .to_string();
            *action = Value::String(name);
        }
    }
    if let Some(recurrence) = settings.remove("recurrence")
        && !recurrence.is_null()
    {
        let pattern = recurrence.get("pattern").cloned().unwrap_or(Value::Null);
        let range = recurrence.get("range").cloned().unwrap_or(Value::Null);
        let date = |key: &str| {
            range
                .get(key)
                .and_then(Value::as_str)
                // The service answers `"null"` as well as null for no end.
                .filter(|d| !d.is_empty() && *d != "null" && !d.starts_with("0001-01-01"))
                .map(|d| Value::String(d.chars().take(10).collect()))
        };
        let mut out = Map::new();
        out.insert(
            "type".into(),
            pattern.get("type").cloned().unwrap_or(Value::Null),
        );
        out.insert(
            "interval".into(),
            pattern.get("interval").cloned().unwrap_or(json!(1)),
        );
        if let Some(day) = pattern
            .get("dayOfMonth")
            .filter(|d| d.as_i64().is_some_and(|d| d > 0))
        {
            out.insert("dayOfMonth".into(), day.clone());
        }
        if let Some(start) = date("startDate") {
            out.insert("startDate".into(), start);
        }
        if text_of(&range, "type") == "endDate"
            && let Some(end) = date("endDate")
        {
            out.insert("endDate".into(), end);
        }
        settings.insert("recurrence".into(), Value::Object(out));
    }
}

/// The model's JSON form → Graph's request body (after names became ids).
pub fn to_graph(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    if let Some(scope) = map.remove("scope") {
        let ids = |key: &str| -> Vec<String> {
            scope
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        };
        let (groups, applications) = (ids("groups"), ids("applications"));
        match text_of(&scope, "guestsIn") {
            "allMicrosoft365Groups" | "allTeams" => {
                let enumeration = if text_of(&scope, "guestsIn") == "allTeams" {
                    ALL_TEAMS
                } else {
                    ALL_GROUPS
                };
                map.insert(
                    "instanceEnumerationScope".into(),
                    json!({"query": enumeration, "queryType": "MicrosoftGraph"}),
                );
                map.insert("scope".into(), query(GUEST_MEMBERS));
            }
            _ if groups.len() == 1 && applications.is_empty() => {
                map.insert(
                    "scope".into(),
                    query(&format!("/groups/{}{GUEST_FILTER}", groups[0])),
                );
            }
            _ => {
                let resources: Vec<Value> = groups
                    .iter()
                    .map(|g| query(&format!("/groups/{g}")))
                    .chain(
                        applications
                            .iter()
                            .map(|a| query(&format!("/servicePrincipals/{a}"))),
                    )
                    .collect();
                map.insert(
                    "scope".into(),
                    json!({
                        "@odata.type": MEMBERSHIPS_SCOPE,
                        "principalScopes": [query(GUEST_USERS)],
                        "resourceScopes": resources,
                    }),
                );
            }
        }
    }
    if let Some(reviewers) = map.remove("reviewers") {
        map.insert("reviewers".into(), reviewers_to_graph(&reviewers));
    }
    if let Some(fallback) = map.remove("fallbackReviewers") {
        map.insert("fallbackReviewers".into(), reviewers_to_graph(&fallback));
    }
    if let Some(Value::Object(settings)) = map.get_mut("settings") {
        if let Some(Value::Array(actions)) = settings.get_mut("applyActions") {
            for action in actions.iter_mut() {
                let name = action.as_str().unwrap_or_default().to_string();
                *action = json!({"@odata.type": format!("#microsoft.graph.{name}")});
            }
        }
        if let Some(recurrence) = settings.remove("recurrence") {
            let mut pattern = json!({
                "type": recurrence.get("type").cloned().unwrap_or(Value::Null),
                "interval": recurrence.get("interval").cloned().unwrap_or(json!(1)),
            });
            if let (Some(day), Some(p)) = (recurrence.get("dayOfMonth"), pattern.as_object_mut()) {
                p.insert("dayOfMonth".into(), day.clone());
            }
            let range = match recurrence.get("endDate") {
                Some(end) => json!({
                    "type": "endDate",
                    "startDate": recurrence.get("startDate").cloned().unwrap_or(Value::Null),
                    "endDate": end,
                }),
                None => json!({
                    "type": "noEnd",
                    "startDate": recurrence.get("startDate").cloned().unwrap_or(Value::Null),
                }),
            };
            settings.insert(
                "recurrence".into(),
                json!({"pattern": pattern, "range": range}),
            );
        }
    }
}

fn reviewers_to_graph(model: &Value) -> Value {
    let mut out = Vec::new();
    if model.get("groupOwners") == Some(&Value::Bool(true)) {
        out.push(reviewer("./owners"));
    }
    if model.get("managers") == Some(&Value::Bool(true)) {
        out.push(
            json!({"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}),
        );
    }
    for user in model
        .get("users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(reviewer(&format!(
            "/users/{}",
            user.as_str().unwrap_or_default()
        )));
    }
    for group in model
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(reviewer(&format!(
            "/groups/{}/transitiveMembers",
            group.as_str().unwrap_or_default()
        )));
    }
    // Self-review is the empty list.
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "02f3bafb-448c-487c-88c2-5fd65ce49a41";

    fn round_trip(model: Value) -> (Value, Value) {
        let mut graph = model.clone();
        to_graph(&mut graph);
        let mut unexpressed = Vec::new();
        let back = from_graph(&graph, &mut unexpressed);
        assert!(unexpressed.is_empty(), "{unexpressed:?}");
        (graph, back)
    }

    #[test]
    fn a_review_of_guests_in_every_team_builds_microsofts_queries_and_reads_back() {
        let model = json!({"displayName": "R", "scope": {"guestsIn": "allTeams"},
            "reviewers": {"groupOwners": true}, "settings": {}});
        let (graph, back) = round_trip(model.clone());
        assert_eq!(graph["instanceEnumerationScope"]["query"], ALL_TEAMS);
        assert_eq!(graph["scope"]["query"], GUEST_MEMBERS);
        assert_eq!(
            graph["reviewers"],
            json!([{"query": "./owners", "queryType": "MicrosoftGraph"}])
        );
        assert_eq!(back, model);
    }

    #[test]
    fn the_service_rewritten_queries_read_as_what_was_written() {
        // As the create page's response shows them: `$count=true` added, `+` for spaces.
        let raw = json!({
            "displayName": "R",
            "instanceEnumerationScope": {"query": "/groups?$filter=(groupTypes/any(c:c+eq+'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team'))&$count=true", "queryType": "MicrosoftGraph", "queryRoot": null},
            "scope": {"@odata.type": QUERY_SCOPE, "query": "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph", "queryRoot": null},
            "reviewers": [{"query": "./owners", "queryType": "MicrosoftGraph", "queryRoot": null}],
            "fallbackReviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph", "queryRoot": null}],
            "backupReviewers": [],
            "status": "InProgress",
            "settings": {"applyActions": [], "recurrence": {
                "pattern": {"type": "absoluteMonthly", "interval": 3, "month": 0, "dayOfMonth": 5, "daysOfWeek": [], "firstDayOfWeek": "sunday", "index": "first"},
                "range": {"type": "noEnd", "numberOfOccurrences": 0, "recurrenceTimeZone": null, "startDate": "2021-05-05", "endDate": "null"}}},
        });
        let mut unexpressed = Vec::new();
        let model = from_graph(&raw, &mut unexpressed);
        assert!(unexpressed.is_empty(), "{unexpressed:?}");
        assert_eq!(model["scope"], json!({"guestsIn": "allTeams"}));
        assert_eq!(
            model["fallbackReviewers"],
            json!({"users": ["fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"]})
        );
        assert_eq!(
            model["settings"]["recurrence"],
            json!({"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 5, "startDate": "2021-05-05"})
        );
        assert!(model.get("status").is_none());
    }

    #[test]
    fn one_group_is_a_query_scope_and_several_are_memberships() {
        let one = json!({"displayName": "R", "scope": {"groups": [G]}, "reviewers": {"selfReview": true}, "settings": {}});
        let (graph, back) = round_trip(one.clone());
        assert_eq!(
            graph["scope"]["query"],
            format!(
                "/groups/{G}/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')"
            )
        );
        assert_eq!(graph["reviewers"], json!([]));
        assert_eq!(back, one);
        let two = json!({"displayName": "R", "scope": {"groups": [G], "applications": ["a1"]},
            "reviewers": {"users": ["u1"], "managers": true}, "settings": {}});
        let (graph, back) = round_trip(two.clone());
        assert_eq!(graph["scope"]["@odata.type"], MEMBERSHIPS_SCOPE);
        assert_eq!(
            graph["scope"]["resourceScopes"][1]["query"],
            "/servicePrincipals/a1"
        );
        assert_eq!(back["scope"], two["scope"]);
        assert_eq!(
            back["reviewers"],
            json!({"managers": true, "users": ["u1"]})
        );
    }

    #[test]
    fn a_query_steward_does_not_build_is_reported_not_guessed() {
        let raw = json!({"displayName": "R", "scope": {"@odata.type": QUERY_SCOPE,
            "query": "/roleManagement/directory/roleDefinitions/x", "queryType": "MicrosoftGraph"},
            "reviewers": [], "settings": {}});
        let mut unexpressed = Vec::new();
        let model = from_graph(&raw, &mut unexpressed);
        assert!(model.get("scope").is_none());
        assert_eq!(unexpressed[0].path, "/scope");
    }
}
