//! What a successful read must look like, per kind: Graph's type and the properties every
//! object of the kind carries. A 200 whose body is anything else (HTML from a proxy, an empty
//! body, `{}`, `null`, a string, an array, another type) is a read error, never an empty
//! object: planning from it would show "no drift" on a drifted tenant, or PATCH without the
//! tenant's values.

use serde_json::Value;

use crate::model::Kind;

/// The shape of one object of a kind, as Graph returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// Graph's type name without namespace, e.g. `authorizationPolicy`.
    pub type_name: &'static str,
    /// True when derived types are read too: any `@odata.type` whose name ends with
    /// `type_name` (named locations are `ipNamedLocation`, `countryNamedLocation`, …).
    pub derived: bool,
    /// Properties every object of the kind has, with a non-null value.
    pub required: &'static [&'static str],
}

/// The shape of `kind`'s objects; None for kinds that are not read from Graph.
pub fn expected(kind: Kind) -> Option<Expected> {
    let (type_name, derived, required): (&'static str, bool, &'static [&'static str]) = match kind {
        Kind::EmergencyAccess | Kind::Prune | Kind::CheckException => return None,
        Kind::NamedLocation => ("namedLocation", true, &["id", "displayName"]),
        Kind::AuthenticationStrength => (
            "authenticationStrengthPolicy",
            false,
            &["id", "displayName"],
        ),
        Kind::ConditionalAccessPolicy => ("conditionalAccessPolicy", false, &["id", "displayName"]),
        Kind::RetentionLabel => ("retentionLabel", false, &["id", "displayName"]),
        Kind::AuthenticationMethodsPolicy => ("authenticationMethodsPolicy", false, &["id"]),
        Kind::SecurityDefaults => (
            "identitySecurityDefaultsEnforcementPolicy",
            false,
            &["id", "isEnabled"],
        ),
        Kind::AuthorizationPolicy => ("authorizationPolicy", false, &["id"]),
        // Graph's sharepointSettings has no id: its one always-present setting stands in.
        Kind::SharepointSettings => ("sharepointSettings", false, &["sharingCapability"]),
        Kind::CrossTenantAccess => (
            "crossTenantAccessPolicyConfigurationDefault",
            false,
            &["isServiceDefault"],
        ),
        Kind::AccessReview => (
            "accessReviewScheduleDefinition",
            false,
            &["id", "displayName"],
        ),
        // Partners have no id: Graph keys them by tenant id.
        Kind::CrossTenantPartner => (
            "crossTenantAccessPolicyConfigurationPartner",
            false,
            &["tenantId"],
        ),
    };
    Some(Expected {
        type_name,
        derived,
        required,
    })
}

impl Expected {
    /// Checks one object; the error says what the body is instead, in a few words.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let object = match value {
            Value::Object(o) => o,
            other => {
                return Err(format!(
                    "expected {}, got {}",
                    self.object(),
                    describe(other)
                ));
            }
        };
        if object.is_empty() {
            return Err(format!(
                "expected {}, got an empty JSON object `{{}}`",
                self.object()
            ));
        }
        match object.get("@odata.type") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if self.type_matches(t) => {}
            Some(other) => {
                return Err(format!(
                    "expected {}, got @odata.type {}",
                    self.object(),
                    shorten(&other.to_string(), 80)
                ));
            }
        }
        for name in self.required {
            match object.get(*name) {
                None | Some(Value::Null) => {
                    return Err(format!(
                        "the {} object has no `{name}`, which Graph always sends",
                        self.type_name
                    ));
                }
                Some(Value::String(s)) if s.trim().is_empty() => {
                    return Err(format!("the {} object's `{name}` is empty", self.type_name));
                }
                Some(_) => {}
            }
        }
        if let Some(id) = object.get("id")
            && !id.is_string()
        {
            return Err(format!(
                "the {} object's `id` is not a string",
                self.type_name
            ));
        }
        Ok(())
    }

    /// "a namedLocation object", "an authorizationPolicy object".
    pub fn object(&self) -> String {
        let article = match self.type_name.chars().next() {
            Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
            _ => "a",
        };
        format!("{article} {} object", self.type_name)
    }

    /// True when `odata_type` (`#microsoft.graph.x`, `microsoft.graph.security.x` or bare `x`,
    /// all seen in Graph's answers) names this type, or a derived one where allowed.
    fn type_matches(&self, odata_type: &str) -> bool {
        let name = odata_type
            .trim_start_matches('#')
            .rsplit('.')
            .next()
            .unwrap_or_default();
        if self.derived {
            name.len() >= self.type_name.len()
                && name[name.len() - self.type_name.len()..].eq_ignore_ascii_case(self.type_name)
        } else {
            name.eq_ignore_ascii_case(self.type_name)
        }
    }
}

/// A few words on what a JSON value that is not an object is.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "`null`".to_string(),
        Value::Bool(b) => format!("the JSON boolean `{b}`"),
        Value::Number(_) => "a JSON number".to_string(),
        Value::Array(a) => format!("a JSON array of {} item(s)", a.len()),
        Value::String(s) => {
            let start = s.trim_start();
            if start.starts_with('<') {
                "HTML or XML, not JSON (a proxy, captive portal or error page answered?)"
                    .to_string()
            } else {
                format!("text, not a JSON object ({} bytes)", s.len())
            }
        }
        Value::Object(_) => "a JSON object".to_string(),
    }
}

/// At most `max` characters of `text`, marked when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn authz() -> Expected {
        expected(Kind::AuthorizationPolicy).unwrap()
    }

    #[test]
    fn every_kind_read_from_graph_has_an_expectation() {
        for kind in Kind::ALL {
            assert_eq!(
                expected(*kind).is_some(),
                kind.graph_path().is_some(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn the_documented_singleton_passes() {
        let body = json!({"@odata.context": "x", "id": "authorizationPolicy", "allowInvitesFrom": "everyone"});
        assert_eq!(authz().check(&body), Ok(()));
        let typed = json!({"@odata.type": "#microsoft.graph.authorizationPolicy", "id": "authorizationPolicy"});
        assert_eq!(authz().check(&typed), Ok(()));
    }

    #[test]
    fn a_body_that_is_not_the_object_is_refused_with_what_it_is() {
        let cases = [
            (json!(null), "got `null`"),
            (json!("<html><body>Sign in</body></html>"), "HTML or XML"),
            (json!("service unavailable"), "text, not a JSON object"),
            (json!([]), "a JSON array of 0 item(s)"),
            (json!(3), "a JSON number"),
            (json!({}), "an empty JSON object"),
            (
                json!({"@odata.type": "#microsoft.graph.user", "id": "x"}),
                "got @odata.type \"#microsoft.graph.user\"",
            ),
            (json!({"@odata.type": 7, "id": "x"}), "got @odata.type 7"),
            (
                json!({"allowInvitesFrom": "everyone"}),
                "has no `id`, which Graph always sends",
            ),
            (json!({"id": ""}), "`id` is empty"),
            (json!({"id": 5}), "`id` is not a string"),
        ];
        for (body, expected) in cases {
            let err = authz().check(&body).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn sharepoint_settings_have_no_id_but_a_sharing_capability() {
        let sp = expected(Kind::SharepointSettings).unwrap();
        let body = json!({"@odata.type": "#microsoft.graph.sharepointSettings", "sharingCapability": "disabled"});
        assert_eq!(sp.check(&body), Ok(()));
        assert!(
            sp.check(&json!({"@odata.type": "#microsoft.graph.sharepointSettings"}))
                .unwrap_err()
                .contains("no `sharingCapability`")
        );
    }

    #[test]
    fn derived_named_location_types_and_namespaced_forms_match() {
        let nl = expected(Kind::NamedLocation).unwrap();
        for t in [
            "#microsoft.graph.ipNamedLocation",
            "#microsoft.graph.countryNamedLocation",
            "microsoft.graph.compliantNetworkNamedLocation",
            "namedLocation",
        ] {
            assert_eq!(
                nl.check(&json!({"@odata.type": t, "id": "1", "displayName": "x"})),
                Ok(()),
                "{t}"
            );
        }
        assert!(
            nl.check(
                &json!({"@odata.type": "#microsoft.graph.group", "id": "1", "displayName": "x"})
            )
            .is_err()
        );
        let label = expected(Kind::RetentionLabel).unwrap();
        assert_eq!(
            label.check(&json!({"@odata.type": "#microsoft.graph.security.retentionLabel", "id": "1", "displayName": "x"})),
            Ok(())
        );
        assert!(
            authz()
                .check(&json!({"@odata.type": "#microsoft.graph.xauthorizationPolicy", "id": "a"}))
                .is_err(),
            "only derived families match by suffix"
        );
    }
}
