//! Named locations: Graph's polymorphic IP ranges become CIDR strings.

use serde_json::{Map, Value};

use super::Unexpressed;

/// Graph → the model's JSON form.
pub fn from_graph(raw: &Value, unexpressed: &mut Vec<Unexpressed>) -> Value {
    let mut value = raw.clone();
    if let Some(ranges) = value.get_mut("ipRanges").and_then(Value::as_array_mut) {
        let mut cidrs = Vec::new();
        for (i, range) in ranges.iter().enumerate() {
            match range.get("cidrAddress").and_then(Value::as_str) {
                Some(cidr) => cidrs.push(Value::String(cidr.to_string())),
                // iPv4Range/iPv6Range (lower–upper) have no CIDR form in steward's language yet.
                None => unexpressed.push(Unexpressed {
                    path: format!("/ipRanges/{i}"),
                    value: range.clone(),
                }),
            }
        }
        *ranges = cidrs;
    }
    value
}

/// Graph's `@odata.type` for a named location.
pub fn odata_type(json: &Map<String, Value>) -> &'static str {
    if json.contains_key("countriesAndRegions")
        || json.contains_key("includeUnknownCountriesAndRegions")
    {
        "#microsoft.graph.countryNamedLocation"
    } else {
        "#microsoft.graph.ipNamedLocation"
    }
}
