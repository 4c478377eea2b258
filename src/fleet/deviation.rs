//! `deviation "kind" "name" { reason "…"; expires "YYYY-MM-DD"; ignore "path" … }` in a
//! tenant's (or a group's) files: a difference accepted on purpose, until it expires.

use std::sync::Arc;

use kdl::KdlNode;
use miette::SourceSpan;

use crate::config::{Diagnostic, SourceFile};
use crate::model::{Arity, Kind};

pub use crate::model::{Accepted, Deviation};

/// A parsed deviation with where its parts are written, before it is checked against the
/// tenant's resources and today's date.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The deviation.
    pub deviation: Deviation,
    /// Its node.
    pub span: SourceSpan,
    /// Its `expires` value.
    pub expires_span: SourceSpan,
    /// Each `ignore` path's span.
    pub ignore_spans: Vec<SourceSpan>,
}

const SHAPE: &str = "write deviation \"conditional-access-policy\" \"CA004 …\" { reason \"…\"; expires \"2027-06-30\"; ignore \"conditions.users.exclude-groups\" }";

/// Reads a `deviation` node; problems go to `diagnostics`.
pub fn parse(
    node: &KdlNode,
    file: &Arc<SourceFile>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Recorded> {
    let mut error = |span: SourceSpan, message: String, help: &str| {
        diagnostics.push(
            Diagnostic::error("steward::deviation", file, span, message, "here").with_help(help),
        );
    };
    let args: Vec<_> = node
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .collect();
    let Some(kind_arg) = args.first() else {
        error(
            node.span(),
            "`deviation` needs the resource's kind and name".into(),
            SHAPE,
        );
        return None;
    };
    let kind_name = kind_arg.value().as_string().unwrap_or_default();
    let Some(kind) = Kind::from_node_name(kind_name).filter(|k| k.is_resource()) else {
        let names = Kind::ALL
            .iter()
            .filter(|k| k.is_resource())
            .map(|k| k.node_name());
        let help = match crate::config::diagnostic::suggest(kind_name, names) {
            Some(close) => format!("did you mean `{close}`?"),
            None => SHAPE.to_string(),
        };
        error(
            kind_arg.span(),
            format!("`{kind_name}` is not a resource kind"),
            &help,
        );
        return None;
    };
    let name = match (kind.arity(), args.get(1)) {
        (Arity::Named, Some(arg)) => match arg.value().as_string() {
            Some(n) if !n.trim().is_empty() => Some(n.to_string()),
            _ => {
                error(
                    arg.span(),
                    "the resource's display name is a string".into(),
                    SHAPE,
                );
                return None;
            }
        },
        (Arity::Named, None) => {
            error(
                node.span(),
                format!("a `{kind}` deviation names the resource"),
                SHAPE,
            );
            return None;
        }
        (_, Some(arg)) => {
            error(
                arg.span(),
                format!("`{kind}` is a single setting block: it has no name"),
                &format!("write deviation \"{kind}\" {{ … }}"),
            );
            return None;
        }
        (_, None) => None,
    };
    let mut reason = None;
    let mut expires = None;
    let mut ignore = Vec::new();
    for child in node.children().map(|c| c.nodes()).unwrap_or_default() {
        let text = child.entries().first().and_then(|e| {
            e.value()
                .as_string()
                .map(|s| (s.trim().to_string(), e.span()))
        });
        match (child.name().value(), text) {
            ("reason", Some((t, _))) if !t.is_empty() => reason = Some(t),
            ("expires", Some((t, span))) => match chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            {
                Ok(_) => expires = Some((t, span)),
                Err(_) => error(
                    span,
                    format!("`expires` must be a date, not {t:?}"),
                    "write expires \"2027-06-30\"",
                ),
            },
            ("ignore", Some(_)) => {
                for e in child.entries() {
                    match e.value().as_string() {
                        Some(p) if !p.trim().is_empty() => {
                            ignore.push((p.trim().to_string(), e.span()))
                        }
                        _ => error(
                            e.span(),
                            "an ignored setting is a dotted path string".into(),
                            "write ignore \"conditions.users.exclude-groups\"",
                        ),
                    }
                }
            }
            (other, _) => error(
                child.span(),
                format!("`{other}` is not part of a deviation"),
                "a deviation holds reason, expires and ignore (none: the whole resource)",
            ),
        }
    }
    let Some(reason) = reason else {
        error(
            node.span(),
            "a deviation needs its `reason`".into(),
            "say why the tenant differs: reason \"…\"",
        );
        return None;
    };
    let Some((expires, expires_span)) = expires else {
        error(
            node.span(),
            "a deviation needs an `expires` date".into(),
            "accepted differences are reviewed: expires \"2027-06-30\"",
        );
        return None;
    };
    Some(Recorded {
        deviation: Deviation {
            kind,
            name,
            reason,
            expires,
            ignore: ignore.iter().map(|(p, _)| p.clone()).collect(),
            location: file.location(node.span().offset()),
        },
        span: node.span(),
        expires_span,
        ignore_spans: ignore.iter().map(|(_, s)| *s).collect(),
    })
}

/// True when the deviation is still in force on `today` (it expires at the end of its day).
pub fn in_force(deviation: &Deviation, today: chrono::NaiveDate) -> bool {
    chrono::NaiveDate::parse_from_str(&deviation.expires, "%Y-%m-%d").is_ok_and(|d| d >= today)
}
