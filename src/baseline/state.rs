//! The configuration `check --planned` grades: the tenant with the files applied.

use serde_json::{Map, Value};

use crate::model::{Address, Arity, Desired, Kind};

/// The tenant as applying `declared` would leave it: declared collection objects replace the
/// tenant's of the same name, declared singleton settings replace the tenant's (the rest are
/// left as they are), objects the plan deletes are gone, everything else stays.
pub fn planned(live: &Desired, declared: &Desired, deleted: &[Address]) -> Desired {
    let mut out = Desired::default();
    for &kind in Kind::ALL {
        let live_objects = live.resources(kind);
        let declared_objects = declared.resources(kind);
        let mut objects: Vec<Map<String, Value>> = Vec::new();
        match kind.arity() {
            Arity::Singleton => {
                let mut merged = live_objects
                    .into_iter()
                    .next()
                    .map(|(_, json)| json)
                    .unwrap_or_default();
                let mut any = !merged.is_empty();
                for (_, json) in declared_objects {
                    merge(&mut merged, json);
                    any = true;
                }
                if any {
                    objects.push(merged);
                }
            }
            Arity::Named | Arity::Repeated => {
                let declared_names: Vec<Option<&str>> =
                    declared_objects.iter().map(|(name, _)| *name).collect();
                for (name, json) in live_objects {
                    let replaced = name.is_some() && declared_names.contains(&name);
                    let gone = deleted
                        .iter()
                        .any(|a| a.kind == kind && a.name.as_deref() == name && name.is_some());
                    if !replaced && !gone {
                        objects.push(json);
                    }
                }
                objects.extend(declared_objects.into_iter().map(|(_, json)| json));
            }
        }
        for json in objects {
            // What the files and the tenant each validate merges into what both allow; a
            // mismatch would only lose that object from the grade, never invent one.
            let _ = out.insert(kind, Value::Object(json));
        }
    }
    out
}

/// Declared settings over the tenant's, object by object.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(new)) => merge(existing, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(items: &[(Kind, Value)]) -> Desired {
        let mut d = Desired::default();
        for (kind, json) in items {
            d.insert(*kind, json.clone()).expect("fits the model");
        }
        d
    }

    #[test]
    fn declared_objects_replace_the_tenants_and_deleted_ones_go() {
        let live = config(&[
            (
                Kind::NamedLocation,
                json!({"displayName": "HQ", "ipRanges": ["10.0.0.0/8"]}),
            ),
            (
                Kind::NamedLocation,
                json!({"displayName": "Old", "ipRanges": ["10.1.0.0/16"]}),
            ),
            (
                Kind::NamedLocation,
                json!({"displayName": "Other", "ipRanges": ["10.2.0.0/16"]}),
            ),
            (
                Kind::AuthorizationPolicy,
                json!({"allowInvitesFrom": "everyone", "blockMsolPowerShell": false}),
            ),
        ]);
        let declared = config(&[
            (
                Kind::NamedLocation,
                json!({"displayName": "HQ", "ipRanges": ["192.0.2.0/24"]}),
            ),
            (
                Kind::AuthorizationPolicy,
                json!({"allowInvitesFrom": "adminsAndGuestInviters"}),
            ),
        ]);
        let out = planned(
            &live,
            &declared,
            &[Address::named(Kind::NamedLocation, "Old")],
        );
        let names: Vec<_> = out
            .named_locations
            .iter()
            .map(|l| l.display_name.as_str())
            .collect();
        assert_eq!(names, vec!["Other", "HQ"]);
        let auth = serde_json::to_value(&out.authorization_policy).unwrap();
        assert_eq!(auth["allowInvitesFrom"], "adminsAndGuestInviters");
        assert_eq!(
            auth["blockMsolPowerShell"], false,
            "undeclared settings stay"
        );
    }
}
