//! Transitive group membership, read in `$batch`es: what the lockout guard needs to know who
//! an excluded (or included) group really holds, nested groups included.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::batch::BatchItem;
use super::client::GraphClient;
use super::error::GraphError;
use super::resolve::{ObjectKind, is_guid};

/// One transitive member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its object id, lower case.
    pub id: String,
    /// What it is (users, groups and service principals; anything else is `Other`).
    pub kind: ObjectKind,
    /// `@odata.type` without its namespace (`user`, `group`, `device`, …), for messages.
    pub type_name: String,
    /// UPN for users, display name otherwise (the id when Graph sends neither).
    pub name: String,
}

/// The transitive members of every group in `groups` (object ids), by lowercase group id.
///
/// One `GET groups/{id}/transitiveMembers` per group, sent as `$batch`es of 20 and each paged
/// to its end. A group that does not exist holds nobody; any other failure fails the whole
/// call: a guard must never judge from a membership it did not see.
pub async fn transitive_members(
    client: &GraphClient,
    groups: &[String],
) -> Result<BTreeMap<String, Vec<Member>>, GraphError> {
    let wanted: BTreeSet<String> = groups
        .iter()
        .map(|g| g.to_ascii_lowercase())
        .filter(|g| is_guid(g))
        .collect();
    let wanted: Vec<String> = wanted.into_iter().collect();
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    let items: Vec<BatchItem> = wanted
        .iter()
        .map(|id| {
            BatchItem::get(format!(
                "groups/{id}/transitiveMembers?$select=id,displayName,userPrincipalName&$top=999"
            ))
        })
        .collect();
    let mut out = BTreeMap::new();
    for (group, result) in wanted.iter().zip(client.batch(items).await?) {
        if result.status == 404 {
            // A deleted group still listed in a policy (tenants keep such orphans) holds
            // nobody: it excludes no one, which is how the guard must count it.
            out.insert(group.clone(), Vec::new());
            continue;
        }
        let url = result.url.clone();
        let body = result.into_result()?;
        let members = client.list_rest(&url, body).await?;
        out.insert(group.clone(), members.iter().filter_map(member).collect());
    }
    Ok(out)
}

fn member(v: &Value) -> Option<Member> {
    let id = v.get("id").and_then(Value::as_str)?.to_ascii_lowercase();
    let type_name = v
        .get("@odata.type")
        .and_then(Value::as_str)
        .unwrap_or("directoryObject")
        .trim_start_matches('#')
        .trim_start_matches("microsoft.graph.")
        .to_string();
    let kind = match type_name.to_ascii_lowercase().as_str() {
        "user" => ObjectKind::User,
        "group" => ObjectKind::Group,
        "serviceprincipal" => ObjectKind::ServicePrincipal,
        _ => ObjectKind::Other,
    };
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(String::from);
    let name = match kind {
        ObjectKind::User => text("userPrincipalName").or_else(|| text("displayName")),
        _ => text("displayName"),
    }
    .unwrap_or_else(|| id.clone());
    Some(Member {
        id,
        kind,
        type_name,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_typed_by_their_odata_type() {
        let user = member(&json!({
            "@odata.type": "#microsoft.graph.user",
            "id": "AAAAAAAA-0000-4000-8000-000000000001",
            "userPrincipalName": "bg1@contoso.com",
            "displayName": "Break glass"
        }))
        .expect("member");
        assert_eq!(user.kind, ObjectKind::User);
        assert_eq!(user.id, "aaaaaaaa-0000-4000-8000-000000000001");
        assert_eq!(user.name, "bg1@contoso.com");
        let device = member(&json!({
            "@odata.type": "#microsoft.graph.device",
            "id": "aaaaaaaa-0000-4000-8000-000000000002",
            "displayName": "Kiosk"
        }))
        .expect("member");
        assert_eq!(device.kind, ObjectKind::Other);
        assert_eq!(device.type_name, "device");
        assert_eq!(member(&json!({"displayName": "no id"})), None);
    }
}
