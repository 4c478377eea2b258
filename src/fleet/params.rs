//! Typed parameters: `param "breakglass-upns" type="upn" list=#true` declares one,
//! `exclude-users (param)"breakglass-upns"` uses it where a value goes, and each tenant's
//! `tenant.kdl` gives its values. A value is checked against its type where the tenant writes
//! it; an unset parameter is an error at the place that uses it, naming the tenant.

use std::collections::BTreeMap;
use std::sync::Arc;

use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use super::tenant::{TenantEntry, Value};
use crate::config::{Diagnostic, SourceFile};

/// What a parameter's values must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Any text.
    String,
    /// A user principal name (`name@domain`).
    Upn,
    /// An IPv4 or IPv6 range in CIDR notation.
    Cidr,
    /// A GUID.
    Guid,
    /// A group's display name (resolved in the tenant at plan time, like any name).
    Group,
    /// A user: a UPN or an object id.
    User,
    /// A DNS domain.
    Domain,
    /// `#true` or `#false`.
    Bool,
    /// A whole number.
    Int,
}

const TYPES: &[(&str, ParamType)] = &[
    ("string", ParamType::String),
    ("upn", ParamType::Upn),
    ("cidr", ParamType::Cidr),
    ("guid", ParamType::Guid),
    ("group", ParamType::Group),
    ("user", ParamType::User),
    ("domain", ParamType::Domain),
    ("bool", ParamType::Bool),
    ("int", ParamType::Int),
];

impl ParamType {
    fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("string", |(n, _)| n)
    }

    /// Why `value` is not of this type, if it is not.
    pub fn check(self, value: &KdlValue) -> Result<(), String> {
        let text = value.as_string();
        let ok = match self {
            ParamType::Bool => value.as_bool().is_some(),
            ParamType::Int => value.as_integer().is_some(),
            ParamType::String | ParamType::Group => text.is_some_and(|t| !t.trim().is_empty()),
            ParamType::Upn => text.is_some_and(is_upn),
            ParamType::User => text.is_some_and(|t| is_upn(t) || uuid::Uuid::parse_str(t).is_ok()),
            ParamType::Guid => text.is_some_and(|t| uuid::Uuid::parse_str(t).is_ok()),
            ParamType::Domain => text.is_some_and(super::tenant::is_domain),
            ParamType::Cidr => text.is_some_and(is_cidr),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            ParamType::Bool => "expected #true or #false".into(),
            ParamType::Int => "expected a whole number".into(),
            ParamType::Upn => "expected a user principal name, like admin@contoso.com".into(),
            ParamType::User => "expected a user principal name or an object id".into(),
            ParamType::Guid => "expected a GUID".into(),
            ParamType::Domain => "expected a domain, like contoso.com".into(),
            ParamType::Cidr => "expected an IP range in CIDR notation, like 203.0.113.0/24".into(),
            ParamType::String | ParamType::Group => "expected a non-empty string".into(),
        })
    }
}

fn is_upn(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains(char::is_whitespace)
                && super::tenant::is_domain(domain)
        }
        None => false,
    }
}

fn is_cidr(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// What its values must be.
    pub ty: ParamType,
    /// Whether it takes several values (used as arguments only).
    pub list: bool,
    /// The value when a tenant gives none (single-valued parameters only).
    pub default: Option<KdlValue>,
    /// Where it is declared.
    pub file: Arc<SourceFile>,
    /// Its node.
    pub span: SourceSpan,
}

/// Reads a `param` node; problems go to `diagnostics`.
pub fn declare(
    node: &KdlNode,
    file: &Arc<SourceFile>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Param> {
    let mut error = |span: SourceSpan, message: String, help: &str| {
        diagnostics
            .push(Diagnostic::error("steward::param", file, span, message, "here").with_help(help));
    };
    let name = match node.entries().iter().find(|e| e.name().is_none()) {
        Some(e) => match e.value().as_string() {
            Some(n) if !n.trim().is_empty() => n.to_string(),
            _ => {
                error(
                    e.span(),
                    "a parameter's name is a string".into(),
                    "write param \"breakglass-upns\" type=\"upn\" list=#true",
                );
                return None;
            }
        },
        None => {
            error(
                node.span(),
                "`param` needs a name".into(),
                "write param \"breakglass-upns\" type=\"upn\" list=#true",
            );
            return None;
        }
    };
    let mut param = Param {
        name,
        ty: ParamType::String,
        list: false,
        default: None,
        file: file.clone(),
        span: node.span(),
    };
    for entry in node.entries().iter().filter(|e| e.name().is_some()) {
        let key = entry.name().map(|k| k.value()).unwrap_or_default();
        match key {
            "type" => match entry
                .value()
                .as_string()
                .and_then(|t| TYPES.iter().find(|(n, _)| *n == t))
            {
                Some((_, ty)) => param.ty = *ty,
                None => error(
                    entry.span(),
                    format!("unknown parameter type {}", entry.value()),
                    &format!(
                        "a parameter's type is one of: {}",
                        TYPES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                ),
            },
            "list" => match entry.value().as_bool() {
                Some(list) => param.list = list,
                None => error(
                    entry.span(),
                    "`list` is #true or #false".into(),
                    "write list=#true",
                ),
            },
            "default" => param.default = Some(entry.value().clone()),
            "description" => {}
            other => error(
                entry.span(),
                format!("unknown parameter setting `{other}`"),
                "a parameter takes type=, list=, default= and description=",
            ),
        }
    }
    if let Some(default) = &param.default {
        if param.list {
            error(
                node.span(),
                format!("list parameter `{}` cannot have a default", param.name),
                "give every tenant its values in its tenant.kdl",
            );
            param.default = None;
        } else if let Err(why) = param.ty.check(default) {
            error(
                node.span(),
                format!("the default of `{}`: {why}", param.name),
                "fix the default",
            );
            param.default = None;
        }
    }
    Some(param)
}

/// The parameters and one tenant's values, checked against each other.
pub struct Values<'a> {
    params: &'a BTreeMap<String, Param>,
    given: BTreeMap<&'a str, &'a Value>,
    tenant: &'a TenantEntry,
    /// Parameters whose values the tenant gives wrong (already reported where it writes them).
    invalid: std::collections::BTreeSet<&'a str>,
}

impl<'a> Values<'a> {
    /// Checks `tenant`'s values against `params`: unknown names, wrong types, empty lists.
    pub fn check(
        params: &'a BTreeMap<String, Param>,
        tenant: &'a TenantEntry,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Values<'a> {
        let mut given = BTreeMap::new();
        let mut invalid = std::collections::BTreeSet::new();
        for value in &tenant.values {
            let error = |span: SourceSpan, message: String, help: String| {
                Diagnostic::error("steward::param", &tenant.file, span, message, "here")
                    .with_help(help)
            };
            let Some(param) = params.get(&value.name) else {
                let help = match crate::config::diagnostic::suggest(
                    &value.name,
                    params.keys().map(String::as_str),
                ) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => {
                        "declare it in baseline/ or a group: param \"NAME\" type=\"string\"".into()
                    }
                };
                diagnostics.push(error(
                    value.span,
                    format!(
                        "tenant `{}` sets `{}`, which no layer declares as a parameter",
                        tenant.name, value.name
                    ),
                    help,
                ));
                continue;
            };
            if given.insert(value.name.as_str(), value).is_some() {
                diagnostics.push(error(
                    value.span,
                    format!("`{}` is set twice", value.name),
                    "set it once".into(),
                ));
            }
            if value.values.is_empty() {
                invalid.insert(value.name.as_str());
                diagnostics.push(error(
                    value.span,
                    format!("`{}` has no value for tenant `{}`", value.name, tenant.name),
                    "give it a value; a parameter that names no one must not become an empty list"
                        .into(),
                ));
            } else if !param.list && value.values.len() > 1 {
                invalid.insert(value.name.as_str());
                diagnostics.push(error(
                    value.values[1].1,
                    format!("`{}` takes one value", value.name),
                    "declare the parameter with list=#true to give several".into(),
                ));
            }
            for (v, span) in &value.values {
                if let Err(why) = param.ty.check(v) {
                    invalid.insert(value.name.as_str());
                    diagnostics.push(error(
                        *span,
                        format!("`{}` is a {} parameter: {why}", value.name, param.ty.name()),
                        format!("fix the value in {}", tenant.file.name),
                    ));
                }
            }
        }
        Values {
            params,
            given,
            tenant,
            invalid,
        }
    }

    /// Replaces every `(param)"name"` entry in `node` (and below) with the tenant's values.
    /// The values keep the using entry's span, so later errors point at where they are used.
    /// True when a parameter could not be filled in (reported already): what the model says of
    /// the node then only repeats that error.
    pub fn substitute(
        &self,
        node: &mut KdlNode,
        file: &Arc<SourceFile>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> bool {
        let mut broken = false;
        let mut entries = Vec::with_capacity(node.entries().len());
        for entry in node.entries_mut().drain(..) {
            if entry.ty().map(|t| t.value()) != Some("param") {
                entries.push(entry);
                continue;
            }
            let span = entry.span();
            let error = |message: String, help: String| {
                Diagnostic::error("steward::param", file, span, message, "parameter used here")
                    .with_help(help)
            };
            let Some(name) = entry.value().as_string() else {
                diagnostics.push(error(
                    "a parameter is named by a string".into(),
                    "write (param)\"NAME\"".into(),
                ));
                broken = true;
                continue;
            };
            let Some(param) = self.params.get(name) else {
                let help = match crate::config::diagnostic::suggest(
                    name,
                    self.params.keys().map(String::as_str),
                ) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("declare it: param \"{name}\" type=\"string\""),
                };
                diagnostics.push(error(format!("no parameter `{name}` is declared"), help));
                broken = true;
                continue;
            };
            let values: Vec<KdlValue> = match (self.given.get(name), &param.default) {
                (Some(given), _) => given.values.iter().map(|(v, _)| v.clone()).collect(),
                (None, Some(default)) => vec![default.clone()],
                (None, None) => {
                    diagnostics.push(error(
                        format!(
                            "parameter `{name}` has no value for tenant `{}`",
                            self.tenant.name
                        ),
                        format!(
                            "add it to the values block of {}: values {{ {name} … }}",
                            self.tenant.file.name
                        ),
                    ));
                    broken = true;
                    continue;
                }
            };
            if entry.name().is_some() && param.list {
                diagnostics.push(error(
                    format!("list parameter `{name}` cannot be a property's value"),
                    "use it where a list of arguments goes".into(),
                ));
                broken = true;
                continue;
            }
            broken |= self.invalid.contains(name);
            for value in values {
                let mut replaced = match entry.name() {
                    Some(key) => KdlEntry::new_prop(key.clone(), value),
                    None => KdlEntry::new(value),
                };
                replaced.set_span(span);
                entries.push(replaced);
            }
        }
        *node.entries_mut() = entries;
        if let Some(children) = node.children_mut() {
            for child in children.nodes_mut() {
                broken |= self.substitute(child, file, diagnostics);
            }
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_against_their_type() {
        let ok = |ty: ParamType, v: &str| ty.check(&KdlValue::String(v.into())).is_ok();
        assert!(ok(ParamType::Upn, "bg1@contoso.onmicrosoft.com"));
        assert!(!ok(ParamType::Upn, "bg1"));
        assert!(ok(ParamType::Cidr, "203.0.113.0/24"));
        assert!(ok(ParamType::Cidr, "2001:db8::/32"));
        assert!(!ok(ParamType::Cidr, "203.0.113.0/33"));
        assert!(!ok(ParamType::Cidr, "203.0.113.0"));
        assert!(ok(ParamType::Guid, "0b4a8f5e-1111-4222-8333-444455556666"));
        assert!(!ok(ParamType::Guid, "not-a-guid"));
        assert!(ok(ParamType::User, "0b4a8f5e-1111-4222-8333-444455556666"));
        assert!(!ok(ParamType::Group, "  "));
        assert!(ParamType::Bool.check(&KdlValue::Bool(true)).is_ok());
        assert!(
            ParamType::Bool
                .check(&KdlValue::String("true".into()))
                .is_err()
        );
    }
}
