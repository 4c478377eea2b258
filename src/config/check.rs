//! Checks that need the whole configuration, after every file is loaded.

use std::collections::HashSet;

use super::{Diagnostic, Loaded, Origin, diagnostic};
use crate::model::reference::RefTarget;
use crate::model::{self, Address, Kind, checks};

/// Checks that need the whole configuration: references to declared objects, the lockout guard.
pub(super) fn check_configuration(loaded: &mut Loaded) {
    let mut diagnostics = Vec::new();
    let declared_locations: Vec<&str> = loaded
        .desired
        .named_locations
        .iter()
        .map(|l| l.display_name.as_str())
        .collect();
    let declared_strengths: Vec<&str> = loaded
        .desired
        .authentication_strengths
        .iter()
        .map(|s| s.display_name.as_str())
        .collect();
    // Looked up once per reference: thousands of policies must not scan every location each.
    let location_set: HashSet<&str> = declared_locations.iter().copied().collect();
    let strength_set: HashSet<&str> = declared_strengths.iter().copied().collect();
    for policy in &loaded.desired.conditional_access_policies {
        let address = Address {
            kind: Kind::ConditionalAccessPolicy,
            name: Some(policy.display_name.clone()),
            pin: policy.id.as_deref().map(str::to_ascii_lowercase),
        };
        let Some(origin) = loaded.origins.get(&address) else {
            continue;
        };
        let locations = policy.conditions.locations.as_ref();
        for (pointer, list) in [
            (
                "/conditions/locations/includeLocations",
                locations.and_then(|l| l.include_locations.as_ref()),
            ),
            (
                "/conditions/locations/excludeLocations",
                locations.and_then(|l| l.exclude_locations.as_ref()),
            ),
        ] {
            for (i, location) in list.into_iter().flatten().enumerate() {
                if let RefTarget::Name(name) = &location.0
                    && !location_set.contains(name.as_str())
                {
                    diagnostics.push(undeclared_reference(
                        origin,
                        &format!("{pointer}/{i}"),
                        "named location",
                        name,
                        &declared_locations,
                    ));
                }
            }
        }
        if let Some(strength) = policy
            .grant_controls
            .as_ref()
            .and_then(|g| g.authentication_strength.as_ref())
            && let RefTarget::Name(name) = &strength.0
            && !strength_set.contains(name.as_str())
            && !BUILT_IN_STRENGTHS
                .iter()
                .any(|b| b.eq_ignore_ascii_case(name))
        {
            diagnostics.push(undeclared_reference(
                origin,
                "/grantControls/authenticationStrength",
                "authentication strength",
                name,
                &declared_strengths,
            ));
        }
    }
    for (address, finding) in checks::configuration(&loaded.desired) {
        // By kind and name: a declaration's address also carries the id it pins.
        let origin = loaded
            .origins
            .iter()
            .find(|(a, _)| a.kind == address.kind && a.name == address.name);
        if let Some((_, origin)) = origin {
            diagnostics.push(origin.diagnostic(&finding));
        }
    }
    loaded.diagnostics.extend(diagnostics);
}

/// Microsoft's built-in authentication strengths, which exist in every tenant.
pub const BUILT_IN_STRENGTHS: &[&str] = &[
    "Multifactor authentication",
    "Passwordless MFA",
    "Phishing-resistant MFA",
    "Phishing resistant MFA",
];

fn undeclared_reference(
    origin: &Origin,
    pointer: &str,
    noun: &str,
    name: &str,
    declared: &[&str],
) -> Diagnostic {
    let help = match diagnostic::suggest(name, declared.iter().copied()) {
        Some(close) => {
            format!("did you mean {close:?}? (if {name:?} exists in the tenant, this is fine)")
        }
        None => format!(
            "declare {noun} {name:?}, or make sure it exists in the tenant: the plan fails if it does not"
        ),
    };
    let mut d = Diagnostic::error(
        "steward::undeclared-reference",
        &origin.file,
        origin.span_of(pointer),
        format!("{noun} {name:?} is not declared in these files"),
        "not declared",
    )
    .with_help(help);
    d.severity = model::Severity::Warning;
    d
}
