//! Graph's rules for write bodies: the metadata check, required properties, and the per-kind
//! rules (named-location ranges, retention label durations, references a policy may hold).

use super::*;

pub(super) fn require(body: &Map<String, Value>, props: &[&str]) -> Result<(), Reply> {
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

pub(super) fn validate(body: Map<String, Value>, ty: &str) -> Result<Map<String, Value>, Reply> {
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
pub(super) fn retention_label_rules(
    body: &Map<String, Value>,
    creating: bool,
) -> Result<(), Reply> {
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
pub(super) fn event_type_id(bind: &Value) -> Result<String, Reply> {
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
pub(super) fn bind_event_type(kind: Kind, body: &mut Map<String, Value>) {
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
pub(super) fn kind_rules(
    kind: Kind,
    body: &Map<String, Value>,
    creating: bool,
) -> Result<(), Reply> {
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

pub(super) fn valid_cidr(c: &str, v6: bool) -> bool {
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
pub(super) fn named_location_type(body: &Map<String, Value>) -> Result<String, Reply> {
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

pub(super) fn body_id_conflicts(body: &Map<String, Value>, id: &str) -> Option<Reply> {
    match body.get("id").and_then(Value::as_str) {
        Some(b) if !b.eq_ignore_ascii_case(id) => Some(Reply::bad_request(
            "The 'id' of an object cannot be changed.",
        )),
        _ => None,
    }
}

pub(super) const CA_KEY: &str = "identity/conditionalAccess/policies";

pub(super) const NL_KEY: &str = "identity/conditionalAccess/namedLocations";

pub(super) const STRENGTH_KEY: &str = "policies/authenticationStrengthPolicies";

/// Location values that are not named-location ids.
pub(super) const SPECIAL_LOCATIONS: &[&str] =
    &["All", "AllTrusted", "00000000-0000-0000-0000-000000000000"];

/// Named-location and authentication-strength ids a CA policy refers to.
pub(super) fn policy_references(policy: &Value) -> Vec<String> {
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
pub(super) fn dangling_references(store: &Store, policy: &Value) -> Option<Reply> {
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
