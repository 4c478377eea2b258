//! Named locations: Graph's polymorphic IP ranges become CIDR strings.

use serde_json::{Map, Value, json};

use super::{KindAdapter, Unexpressed};

/// How named locations are read and written.
pub static ADAPTER: KindAdapter = KindAdapter {
    from_graph,
    to_graph,
    // Graph requires the derived type on every named-location PATCH.
    patch_carries: &["@odata.type"],
    ..KindAdapter::DEFAULT
};

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

/// The model's JSON form → Graph's: the derived type, and CIDR strings as typed ranges.
pub fn to_graph(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let ty = odata_type(map);
    map.insert("@odata.type".into(), json!(ty));
    if let Some(Value::Array(ranges)) = map.get_mut("ipRanges") {
        for range in ranges.iter_mut() {
            if let Some(cidr) = range.as_str().map(String::from) {
                let v6 = cidr.contains(':');
                *range = json!({
                    "@odata.type": if v6 { "#microsoft.graph.iPv6CidrRange" } else { "#microsoft.graph.iPv4CidrRange" },
                    "cidrAddress": cidr,
                });
            }
        }
    }
}
