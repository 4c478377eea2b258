//! Shared helpers for the sandbox tests: start a sandbox from a state object, call it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use steward::sandbox::{RunningSandbox, SandboxConfig, start};

/// The fixed admin token every test sandbox accepts.
pub const ADMIN: &str = "test-admin-token";

/// A running sandbox plus the temporary directory holding its state file.
pub struct Sandbox {
    pub running: RunningSandbox,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

impl Sandbox {
    /// `http://127.0.0.1:PORT/v1.0/<path>`.
    pub fn graph(&self, path: &str) -> String {
        format!(
            "{}/v1.0/{}",
            self.running.url(),
            path.trim_start_matches('/')
        )
    }

    /// The state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }

    /// GET as admin.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.graph(path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("request")
    }

    /// A request with a JSON body as admin.
    pub async fn send(&self, method: &str, path: &str, body: Value) -> reqwest::Response {
        self.client
            .request(method.parse().expect("method"), self.graph(path))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}

/// Writes `state` to a fresh state file and starts a sandbox on it, accepting [`ADMIN`].
pub async fn start_with(state: Value, tweak: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    write_state(&path, &state);
    let mut config = SandboxConfig {
        state: Some(path),
        accept_tokens: vec![ADMIN.to_string()],
        ..SandboxConfig::default()
    };
    tweak(&mut config);
    let running = start(config).await.expect("sandbox starts");
    Sandbox {
        running,
        dir,
        client: reqwest::Client::new(),
    }
}

/// Writes a state object to a file.
pub fn write_state(path: &Path, state: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(state).expect("json")).expect("write state");
}

/// A small tenant: the three built-in authentication strengths, one custom, the singletons,
/// a few directory objects and two registered clients.
pub fn small_tenant() -> Value {
    json!({
        "_sandbox": {"clients": [
            {"clientId": "11111111-aaaa-4000-8000-000000000001", "displayName": "reader",
             "secret": "reader-secret", "roles": ["Policy.Read.All"]},
            {"clientId": "11111111-aaaa-4000-8000-000000000002", "displayName": "writer",
             "secret": "writer-secret",
             "roles": ["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess",
                       "RecordsManagement.ReadWrite.All", "Directory.Read.All"]}
        ]},
        "identity/conditionalAccess/policies": [],
        "identity/conditionalAccess/namedLocations": [],
        "policies/authenticationStrengthPolicies": [
            {"id": "00000000-0000-0000-0000-000000000002", "displayName": "Multifactor authentication",
             "policyType": "builtIn", "requirementsSatisfied": "mfa",
             "allowedCombinations": ["password,sms", "fido2"], "combinationConfigurations": []},
            {"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
             "policyType": "builtIn", "requirementsSatisfied": "mfa",
             "allowedCombinations": ["fido2", "windowsHelloForBusiness"], "combinationConfigurations": []},
            {"id": "5f4e2e8a-0000-4000-8000-00000000cafe", "displayName": "Custom",
             "policyType": "custom", "requirementsSatisfied": "mfa",
             "allowedCombinations": ["fido2"], "combinationConfigurations": []}
        ],
        "policies/authenticationMethodsPolicy": {
            "id": "authenticationMethodsPolicy", "displayName": "Authentication Methods Policy",
            "policyVersion": "1.5",
            "authenticationMethodConfigurations": [
                {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                 "id": "Fido2", "state": "disabled", "isAttestationEnforced": false,
                 "isSelfServiceRegistrationAllowed": true, "excludeTargets": []},
                {"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
                 "id": "TemporaryAccessPass", "state": "disabled", "defaultLifetimeInMinutes": 60,
                 "excludeTargets": []}
            ]
        },
        "policies/identitySecurityDefaultsEnforcementPolicy": {
            "id": "00000000-0000-0000-0000-000000000005", "displayName": "Security Defaults",
            "isEnabled": true
        },
        "policies/authorizationPolicy": {
            "id": "authorizationPolicy", "displayName": "Authorization Policy",
            "allowedToUseSSPR": true, "allowInvitesFrom": "everyone",
            "defaultUserRolePermissions": {"allowedToCreateApps": true,
                "allowedToCreateSecurityGroups": true, "allowedToReadOtherUsers": true,
                "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]}
        },
        "admin/sharepoint/settings": {
            "sharingCapability": "externalUserAndGuestSharing",
            "sharingDomainRestrictionMode": "none",
            "sharingAllowedDomainList": [],
            "deletedUserPersonalSiteRetentionPeriodInDays": 30
        },
        "security/labels/retentionLabels": [],
        "users": [
            {"id": "0a000000-0000-4000-8000-000000000001", "displayName": "Adele Vance",
             "userPrincipalName": "AdeleV@contoso.onmicrosoft.com", "mail": "AdeleV@contoso.com"},
            {"id": "0a000000-0000-4000-8000-000000000002", "displayName": "Alex Wilber",
             "userPrincipalName": "AlexW@contoso.onmicrosoft.com", "mail": "AlexW@contoso.com"},
            {"id": "0a000000-0000-4000-8000-000000000003", "displayName": "Megan Bowen",
             "userPrincipalName": "MeganB@contoso.onmicrosoft.com", "mail": "MeganB@contoso.com"},
            {"id": "0a000000-0000-4000-8000-000000000004", "displayName": "Break Glass 1",
             "userPrincipalName": "breakglass1@contoso.onmicrosoft.com", "mail": null},
            {"id": "0a000000-0000-4000-8000-000000000005", "displayName": "Break Glass 2",
             "userPrincipalName": "breakglass2@contoso.onmicrosoft.com", "mail": null}
        ],
        "groups": [
            {"id": "0b000000-0000-4000-8000-000000000001", "displayName": "All Staff",
             "securityEnabled": true, "groupTypes": []}
        ],
        "servicePrincipals": [
            {"id": "0c000000-0000-4000-8000-000000000001", "appId": "00000003-0000-0000-c000-000000000000",
             "displayName": "Microsoft Graph"}
        ],
        "organization": [
            {"id": "0d000000-0000-4000-8000-000000000001", "displayName": "Contoso"}
        ]
    })
}

/// Requests a token with the client-credentials grant (secret form).
pub async fn token(sb: &Sandbox, client_id: &str, secret: &str) -> reqwest::Response {
    sb.client
        .post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            sb.running.url()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request")
}

/// Asserts Graph's error body and the request-id headers.
pub async fn assert_graph_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    assert!(
        resp.headers().contains_key("request-id"),
        "request-id header"
    );
    assert!(
        resp.headers().contains_key("client-request-id"),
        "client-request-id header"
    );
    let body: Value = resp.json().await.expect("json error body");
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    assert!(body["error"]["message"].is_string(), "message in {body}");
    for k in ["date", "request-id", "client-request-id"] {
        assert!(
            body["error"]["innerError"][k].is_string(),
            "innerError.{k} in {body}"
        );
    }
    body
}
