//! Layering: a lower layer's declaration of the same resource overrides the one above it
//! setting by setting. A setting is a child node; blocks (nodes with children) merge child by
//! child, keyed by name and arguments; plain settings are replaced whole, every node of that
//! name at once (repeated nodes form one list). `locked=#true` on a setting, a block or a whole
//! resource refuses any override of it, with an error at the override.

use std::sync::Arc;

use kdl::KdlNode;
use miette::SourceSpan;

use crate::config::{Diagnostic, SourceFile};

/// The property that locks a setting against lower layers.
pub const LOCKED: &str = "locked";

fn is_locked(node: &KdlNode) -> bool {
    node.entry(LOCKED)
        .is_some_and(|e| e.value().as_bool() == Some(true))
}

/// What an override is checked against, for its error.
pub struct Context<'a> {
    /// The combined text every span points into.
    pub file: &'a Arc<SourceFile>,
    /// The tenant being resolved.
    pub tenant: &'a str,
    /// The resource's address, as messages write it.
    pub address: &'a str,
}

/// Merges `lower` into `upper` (same resource), reporting overrides of locked settings.
pub fn merge(upper: &mut KdlNode, lower: KdlNode, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    merge_node(upper, lower, None, cx, out, "");
}

fn locked_error(cx: &Context<'_>, at: SourceSpan, lock: SourceSpan, what: &str) -> Diagnostic {
    Diagnostic::error(
        "steward::locked",
        cx.file,
        at,
        format!(
            "{what} of {} is locked by a layer above; tenant `{}` cannot override it",
            cx.address, cx.tenant
        ),
        "overrides a locked setting",
    )
    .with_help(
        "remove the override, or record a deviation in the tenant's files if the tenant must differ",
    )
    .with_related(Diagnostic::error(
        "steward::locked",
        cx.file,
        lock,
        "locked here".to_string(),
        "locked=#true",
    ))
}

fn merge_node(
    upper: &mut KdlNode,
    lower: KdlNode,
    locked_above: Option<SourceSpan>,
    cx: &Context<'_>,
    out: &mut Vec<Diagnostic>,
    path: &str,
) {
    let lock = locked_above.or_else(|| is_locked(upper).then(|| upper.span()));
    // Properties of the node itself (other than `locked`).
    for entry in lower.entries().iter().filter(|e| e.name().is_some()) {
        let key = entry
            .name()
            .map(|k| k.value().to_string())
            .unwrap_or_default();
        if key == LOCKED {
            continue;
        }
        if let Some(lock) = lock {
            out.push(locked_error(cx, entry.span(), lock, &format!("`{key}`")));
            continue;
        }
        let entries = upper.entries_mut();
        match entries
            .iter_mut()
            .find(|e| e.name().is_some_and(|n| n.value() == key))
        {
            Some(existing) => *existing = entry.clone(),
            None => entries.push(entry.clone()),
        }
    }
    let Some(lower_children) = lower.children() else {
        return;
    };
    let nodes: Vec<KdlNode> = lower_children.nodes().to_vec();
    if nodes.is_empty() {
        return;
    }
    if let Some(lock) = lock {
        let what = if path.is_empty() {
            "every setting".to_string()
        } else {
            format!("`{path}`")
        };
        out.push(locked_error(cx, nodes[0].span(), lock, &what));
        return;
    }
    let upper_children = upper.ensure_children();
    let mut done: Vec<String> = Vec::new();
    for (i, child) in nodes.iter().enumerate() {
        let name = child.name().value().to_string();
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        if child.children().is_some() {
            let key = block_key(child);
            match upper_children
                .nodes_mut()
                .iter_mut()
                .find(|u| u.children().is_some() && block_key(u) == key)
            {
                Some(existing) => merge_node(existing, child.clone(), None, cx, out, &here),
                None => upper_children.nodes_mut().push(child.clone()),
            }
            continue;
        }
        if done.contains(&name) {
            continue;
        }
        done.push(name.clone());
        // Every plain node of this name in the lower layer replaces every one above.
        let replacements: Vec<KdlNode> = nodes[i..]
            .iter()
            .filter(|n| n.children().is_none() && n.name().value() == name)
            .cloned()
            .collect();
        let existing = upper_children.nodes_mut();
        if let Some(locked) = existing
            .iter()
            .find(|u| u.children().is_none() && u.name().value() == name && is_locked(u))
        {
            out.push(locked_error(
                cx,
                child.span(),
                locked.span(),
                &format!("`{here}`"),
            ));
            continue;
        }
        let at = existing
            .iter()
            .position(|u| u.children().is_none() && u.name().value() == name);
        existing.retain(|u| !(u.children().is_none() && u.name().value() == name));
        let at = at.unwrap_or(existing.len()).min(existing.len());
        for (j, node) in replacements.into_iter().enumerate() {
            existing.insert(at + j, node);
        }
    }
}

/// A block's identity among its siblings: its name and arguments.
fn block_key(node: &KdlNode) -> String {
    let args: Vec<String> = node
        .entries()
        .iter()
        .filter(|e| e.name().is_none())
        .map(|e| e.value().to_string())
        .collect();
    format!("{} {}", node.name().value(), args.join(" "))
}

/// Removes `locked` from `node` and everything below it: a layering marker, not a setting.
pub fn strip_locks(node: &mut KdlNode) {
    node.entries_mut()
        .retain(|e| e.name().is_none_or(|n| n.value() != LOCKED));
    if let Some(children) = node.children_mut() {
        for child in children.nodes_mut() {
            strip_locks(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdl::KdlDocument;

    fn resolve(upper: &str, lower: &str) -> (String, Vec<Diagnostic>) {
        let text = format!("{upper}\n{lower}");
        let file = SourceFile::new("x.kdl", text.clone());
        let doc: KdlDocument = text.parse().unwrap_or_default();
        let mut nodes = doc.nodes().to_vec();
        let lower = nodes.pop().unwrap_or_else(|| KdlNode::new("missing"));
        let mut upper = nodes.pop().unwrap_or_else(|| KdlNode::new("missing"));
        let mut out = Vec::new();
        let cx = Context {
            file: &file,
            tenant: "contoso",
            address: "conditional-access-policy \"CA001\"",
        };
        merge(&mut upper, lower, &cx, &mut out);
        strip_locks(&mut upper);
        upper.autoformat();
        (upper.to_string().trim().to_string(), out)
    }

    #[test]
    fn a_lower_layer_overrides_setting_by_setting_and_keeps_the_rest() {
        let (merged, errors) = resolve(
            r#"p "CA001" { state "enabled"; conditions { users { include-users "All"; exclude-users "a" "b" } } }"#,
            r#"p "CA001" { conditions { users { exclude-users "c" } } }"#,
        );
        assert!(errors.is_empty());
        assert_eq!(
            merged,
            "p CA001 {\n    state enabled\n    conditions {\n        users {\n            include-users All\n            exclude-users c\n        }\n    }\n}"
        );
    }

    #[test]
    fn repeated_plain_settings_are_replaced_as_one_list() {
        let (merged, _) = resolve(
            r#"n "HQ" { ip-range "10.0.0.0/8"; ip-range "10.1.0.0/16"; trusted #true }"#,
            r#"n "HQ" { ip-range "192.0.2.0/24" }"#,
        );
        assert_eq!(
            merged,
            "n HQ {\n    ip-range \"192.0.2.0/24\"\n    trusted #true\n}"
        );
    }

    #[test]
    fn overriding_a_locked_setting_is_an_error_pointing_at_both_places() {
        let (merged, errors) = resolve(
            r#"p "CA001" { state "enabled" locked=#true; conditions { users { include-users "All" } } }"#,
            r#"p "CA001" { state "disabled" }"#,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "steward::locked");
        assert!(
            errors[0].message.contains("`state`"),
            "{}",
            errors[0].message
        );
        assert!(errors[0].message.contains("tenant `contoso`"));
        assert_eq!(errors[0].related.len(), 1);
        assert!(merged.contains("state enabled"), "{merged}");
        assert!(!merged.contains("locked"), "{merged}");
    }

    #[test]
    fn a_locked_block_or_resource_refuses_any_setting_below_it() {
        let (_, errors) = resolve(
            r#"p "CA001" { grant-controls locked=#true { operator OR } }"#,
            r#"p "CA001" { grant-controls { built-in-controls mfa } }"#,
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("`grant-controls`"));
        let (_, errors) = resolve(
            r#"p "CA001" locked=#true { state enabled }"#,
            r#"p "CA001" { state disabled }"#,
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("every setting"));
    }

    #[test]
    fn an_unlocked_sibling_of_a_locked_setting_may_be_overridden() {
        let (merged, errors) = resolve(
            r#"p "CA001" { state "enabled" locked=#true; description "x" }"#,
            r#"p "CA001" { description "y" }"#,
        );
        assert!(errors.is_empty());
        assert!(merged.contains("description y"), "{merged}");
    }
}
