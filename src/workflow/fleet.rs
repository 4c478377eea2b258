//! Running a command for one tenant of a fleet: its authority, its app registration and
//! credential, and its own sandbox state.

use std::path::PathBuf;

use crate::fleet::TenantEntry;
use crate::workflow::planning::TargetArgs;

/// Where `--sandbox` keeps a fleet tenant's state.
pub fn sandbox_state(tenant: &TenantEntry) -> PathBuf {
    PathBuf::from(".steward/fleet").join(format!("{}.json", tenant.name))
}

/// The id and domain a fleet tenant's sandbox has: its own where tenant.kdl gives them, else
/// made up from its name (a GUID from a hash, `<name>.onmicrosoft.com`).
pub fn sandbox_identity(tenant: &TenantEntry) -> (String, String) {
    use sha2::{Digest, Sha256};
    let id = tenant.tenant_id.clone().unwrap_or_else(|| {
        let hash = hex::encode(Sha256::digest(tenant.name.as_bytes()));
        format!(
            "{}-{}-4{}-8{}-{}",
            &hash[0..8],
            &hash[8..12],
            &hash[13..16],
            &hash[17..20],
            &hash[20..32]
        )
    });
    let domain = tenant
        .domain
        .clone()
        .unwrap_or_else(|| format!("{}.onmicrosoft.com", tenant.name.to_ascii_lowercase()));
    (id, domain)
}

/// Where `apply` journals a fleet tenant's writes.
pub fn journal(tenant: &TenantEntry) -> PathBuf {
    PathBuf::from(".steward/fleet").join(format!("{}.journal.jsonl", tenant.name))
}

/// Points `target` at `tenant`: signs in with the tenant's authority (its id, else its
/// domain), with its own app and credential variables where its tenant.kdl names them.
/// `Err` when a variable the tenant names is not set: falling back to the fleet's own
/// credential would sign in to a customer with an app it did not choose.
pub fn point_at(target: &mut TargetArgs, tenant: &TenantEntry) -> Result<(), String> {
    target.graph.tenant = tenant.authority().map(str::to_string);
    target.sandbox_tenant = Some(sandbox_identity(tenant));
    if let Some(cloud) = tenant.sign_in.cloud {
        target.graph.cloud = cloud;
    }
    if let Some(id) = &tenant.sign_in.client_id {
        target.graph.client_id = Some(id.clone());
    }
    let sign_in = &tenant.sign_in;
    let own = [
        ("AZURE_CLIENT_SECRET", &sign_in.secret_env),
        ("AZURE_CLIENT_CERTIFICATE_PATH", &sign_in.certificate_env),
        ("AZURE_FEDERATED_TOKEN_FILE", &sign_in.federated_token_env),
    ];
    target.graph.redirect.clear();
    if own.iter().all(|(_, variable)| variable.is_none()) {
        target.sandbox_state = Some(sandbox_state(tenant));
        return Ok(());
    }
    for (standard, variable) in own {
        let Some(variable) = variable else {
            // The tenant's own credential only: never the fleet's next to it.
            target.graph.redirect.push((standard.to_string(), None));
            continue;
        };
        if !target.sandbox && std::env::var_os(variable).is_none_or(|v| v.is_empty()) {
            return Err(format!(
                "tenant `{}` signs in with {variable} ({}), which is not set",
                tenant.name, tenant.file.name
            ));
        }
        target
            .graph
            .redirect
            .push((standard.to_string(), Some(variable.clone())));
    }
    target.sandbox_state = Some(sandbox_state(tenant));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::SignIn;
    use crate::graph::Cloud;
    use crate::workflow::graph_args::GraphArgs;

    fn tenant(sign_in: SignIn) -> TenantEntry {
        TenantEntry {
            name: "fabrikam".into(),
            dir: PathBuf::from("tenants/fabrikam"),
            file: crate::config::SourceFile::new("tenants/fabrikam/tenant.kdl", String::new()),
            tenant_id: Some("00000002-0000-4000-8000-000000000002".into()),
            domain: None,
            groups: Vec::new(),
            values: Vec::new(),
            sign_in,
        }
    }

    fn target() -> TargetArgs {
        TargetArgs {
            sandbox: true,
            graph: GraphArgs {
                client_id: Some("fleet-app".into()),
                ..GraphArgs::default()
            },
            sandbox_state: None,
            sandbox_tenant: None,
        }
    }

    #[test]
    fn a_tenant_signs_in_at_its_authority_in_its_cloud_with_its_own_app() {
        let mut args = target();
        let own = SignIn {
            client_id: Some("own-app".into()),
            cloud: Some(Cloud::UsGov),
            secret_env: Some("FABRIKAM_SECRET".into()),
            ..SignIn::default()
        };
        point_at(&mut args, &tenant(own)).expect("pointed");
        assert_eq!(
            args.graph.tenant.as_deref(),
            Some("00000002-0000-4000-8000-000000000002")
        );
        assert_eq!(args.graph.cloud, Cloud::UsGov);
        assert_eq!(args.graph.client_id.as_deref(), Some("own-app"));
        // Its own secret; the fleet's certificate and federated token are hidden from it.
        assert_eq!(
            args.graph.variable("AZURE_CLIENT_SECRET"),
            Some("FABRIKAM_SECRET")
        );
        assert_eq!(args.graph.variable("AZURE_CLIENT_CERTIFICATE_PATH"), None);
        assert_eq!(args.graph.variable("AZURE_FEDERATED_TOKEN_FILE"), None);
        assert_eq!(
            args.sandbox_state,
            Some(PathBuf::from(".steward/fleet/fabrikam.json"))
        );
    }

    #[test]
    fn a_tenant_without_overrides_uses_the_fleets_app_and_credentials() {
        let mut args = target();
        point_at(&mut args, &tenant(SignIn::default())).expect("pointed");
        assert_eq!(args.graph.cloud, Cloud::Global);
        assert_eq!(args.graph.client_id.as_deref(), Some("fleet-app"));
        assert_eq!(
            args.graph.variable("AZURE_CLIENT_SECRET"),
            Some("AZURE_CLIENT_SECRET")
        );
    }
}
