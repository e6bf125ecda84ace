//! The published Rust SDK `wacht` 0.1.0-beta.9, unchanged, against Latchkey: every
//! `client.oauth()` call succeeds and reads back what was written.

use latchkey_core::Id;
use latchkey_core::audit::Actor;
use latchkey_core::grant::GrantedResource;
use latchkey_store::deployments::DEFAULT_DEPLOYMENT_ID;
use latchkey_store::grants::NewGrant;
use latchkey_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;
use wacht::models::{
    CreateOAuthAppRequest, CreateOAuthClientRequest, OAuthScopeDefinition, SetOAuthScopeMappingRequest, UpdateOAuthAppRequest,
    UpdateOAuthClientRequest, UpdateOAuthScopeRequest,
};
use wacht::{WachtClient, WachtConfig};

fn sdk(s: &TestServer) -> WachtClient {
    let mut config = WachtConfig::new(s.api_key.clone(), "http://unused.invalid");
    config.base_url = s.base.clone();
    WachtClient::new(config).expect("client")
}

fn scope_def(scope: &str, display: &str, category: &str) -> OAuthScopeDefinition {
    OAuthScopeDefinition {
        scope: scope.into(),
        display_name: display.into(),
        description: format!("{display} access"),
        archived: false,
        category: category.into(),
        organization_permission: None,
        workspace_permission: None,
    }
}

#[tokio::test]
async fn every_oauth_call_of_the_wacht_crate_works() {
    let s = TestServer::start().await;
    let client = sdk(&s);
    let oauth = client.oauth();

    assert!(oauth.list_oauth_apps().send().await.unwrap().is_empty());

    // Create (multipart, with a logo), then read back through list.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let app = oauth
        .create_oauth_app(CreateOAuthAppRequest {
            slug: "acme".into(),
            name: "Acme".into(),
            description: Some("Acme's API".into()),
            fqdn: None,
            supported_scopes: Some(vec!["read".into(), "write".into(), "mcp:invoke".into()]),
            scope_definitions: Some(vec![
                scope_def("read", "Read", "personal"),
                scope_def("mcp:invoke", "Invoke tools", ""),
            ]),
            allow_dynamic_client_registration: Some(true),
            logo_file: Some(png.clone()),
            logo_filename: Some("logo.png".into()),
        })
        .send()
        .await
        .expect("create app");
    assert_eq!(app.slug, "acme");
    assert_eq!(app.supported_scopes, ["read", "write", "mcp:invoke"]);
    assert!(app.allow_dynamic_client_registration);
    assert_eq!(app.scope_definitions[0].display_name, "Read");
    assert_eq!(app.scope_definitions[0].category, "personal");
    let logo_url = app.logo_url.clone().expect("logo url");
    let logo = reqwest::get(&logo_url).await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), png.as_slice());
    let listed = oauth.list_oauth_apps().send().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, app.id);

    // Scope operations (scope names with ':' are URL-encoded by the SDK).
    let app2 = oauth
        .update_oauth_scope(
            "acme",
            "mcp:invoke",
            UpdateOAuthScopeRequest {
                display_name: Some("Call MCP tools".into()),
                description: None,
            },
        )
        .send()
        .await
        .expect("update scope");
    let def = app2.scope_definitions.iter().find(|d| d.scope == "mcp:invoke").unwrap();
    assert_eq!(def.display_name, "Call MCP tools");
    assert_eq!(def.description, "Invoke tools access", "description not sent, kept");

    let mapped = oauth
        .set_oauth_scope_mapping(
            "acme",
            "write",
            SetOAuthScopeMappingRequest {
                category: "organization".into(),
                organization_permission: Some("org:write".into()),
                workspace_permission: None,
            },
        )
        .send()
        .await
        .expect("mapping");
    let w = mapped.scope_definitions.iter().find(|d| d.scope == "write").unwrap();
    assert_eq!(
        (w.category.as_str(), w.organization_permission.as_deref()),
        ("organization", Some("org:write"))
    );

    let archived = oauth.archive_oauth_scope("acme", "mcp:invoke").send().await.expect("archive");
    assert!(
        archived
            .scope_definitions
            .iter()
            .find(|d| d.scope == "mcp:invoke")
            .unwrap()
            .archived
    );

    // PATCH the app without scope definitions: archive flag and mapping survive.
    let patched = oauth
        .update_oauth_app(
            "acme",
            UpdateOAuthAppRequest {
                name: Some("Acme Corp".into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .expect("update app");
    assert_eq!(patched.name, "Acme Corp");
    assert!(patched.scope_definitions.iter().find(|d| d.scope == "mcp:invoke").unwrap().archived);
    assert_eq!(
        patched
            .scope_definitions
            .iter()
            .find(|d| d.scope == "write")
            .unwrap()
            .organization_permission
            .as_deref(),
        Some("org:write")
    );

    let unarchived = oauth.unarchive_oauth_scope("acme", "mcp:invoke").send().await.expect("unarchive");
    assert!(
        !unarchived
            .scope_definitions
            .iter()
            .find(|d| d.scope == "mcp:invoke")
            .unwrap()
            .archived
    );

    // Disable and enable through is_active.
    let off = oauth
        .update_oauth_app(
            "acme",
            UpdateOAuthAppRequest {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    assert!(!off.is_active);
    let on = oauth
        .update_oauth_app(
            "acme",
            UpdateOAuthAppRequest {
                is_active: Some(true),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    assert!(on.is_active);

    // Domain verification needs an fqdn; this one cannot resolve, so it is not verified.
    oauth
        .create_oauth_app(CreateOAuthAppRequest {
            slug: "branded".into(),
            name: "Branded".into(),
            description: None,
            fqdn: Some("auth.branded.invalid".into()),
            supported_scopes: None,
            scope_definitions: None,
            allow_dynamic_client_registration: None,
            logo_file: None,
            logo_filename: None,
        })
        .send()
        .await
        .expect("create branded");
    let v = oauth.verify_oauth_app_domain("branded").send().await.expect("verify domain");
    assert_eq!(v.domain, "auth.branded.invalid");
    assert_eq!(v.cname_target, "localhost");
    assert!(!v.verified);

    // Clients.
    let created = oauth
        .create_oauth_client(
            "acme",
            CreateOAuthClientRequest {
                client_auth_method: "client_secret_post".into(),
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                redirect_uris: vec!["https://app.example.com/callback".into()],
                client_name: Some("Example".into()),
                client_uri: Some("https://app.example.com".into()),
                logo_uri: None,
                tos_uri: None,
                policy_uri: None,
                contacts: Some(vec!["dev@example.com".into()]),
                software_id: None,
                software_version: None,
                token_endpoint_auth_signing_alg: None,
                jwks_uri: None,
                jwks: None,
                public_key_pem: None,
                post_logout_redirect_uris: None,
                id_token_signing_alg: None,
                access_token_format: Some("jwt".into()),
                access_token_ttl_seconds: Some(900),
                skip_consent: None,
            },
        )
        .send()
        .await
        .expect("create client");
    let first_secret = created.client_secret.clone().expect("secret shown once");
    assert!(first_secret.starts_with("lk_cs_"));
    assert_eq!(created.oauth_app_id, app.id);
    assert_eq!(created.access_token_format, "jwt");
    assert_eq!(created.access_token_ttl_seconds, 900);
    let clients = oauth.list_oauth_clients("acme").send().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert!(clients[0].client_secret.is_none(), "listing never shows secrets");

    let updated = oauth
        .update_oauth_client(
            "acme",
            &created.id,
            UpdateOAuthClientRequest {
                client_name: Some("Example 2".into()),
                redirect_uris: Some(vec!["https://app.example.com/callback".into(), "http://127.0.0.1/cb".into()]),
                ..Default::default()
            },
        )
        .send()
        .await
        .expect("update client");
    assert_eq!(updated.client_name.as_deref(), Some("Example 2"));
    assert_eq!(updated.redirect_uris.len(), 2);
    assert_eq!(updated.access_token_ttl_seconds, 900, "unsent fields keep their values");

    // The public client_id is accepted in paths too.
    let rotated = oauth
        .rotate_oauth_client_secret("acme", &created.client_id)
        .send()
        .await
        .expect("rotate");
    assert!(rotated.client_secret.starts_with("lk_cs_"));
    assert_ne!(rotated.client_secret, first_secret);

    // Grants: seeded through the store (they come from end-user consent), listed and revoked
    // through the SDK.
    let (status, user) = s.post("/users", json!({"email": "ada@example.com", "name": "Ada"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let user_id: Id = user["id"].as_str().unwrap().parse().unwrap();
    let grant = s
        .state
        .store
        .upsert_grant(
            DEFAULT_DEPLOYMENT_ID,
            &NewGrant {
                app_id: app.id.parse().unwrap(),
                client_record_id: created.id.parse().unwrap(),
                user_id,
                resource: GrantedResource::User(user_id),
                scopes: vec!["read".into()],
                expires_at: None,
            },
            &Actor::system(),
        )
        .await
        .unwrap();
    let grants = oauth.list_oauth_grants("acme", &created.id).send().await.expect("grants");
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].id, grant.id.to_string());
    assert_eq!(grants[0].status, "active");
    assert_eq!(grants[0].api_auth_app_slug, "acme");
    assert_eq!(grants[0].resource, format!("urn:latchkey:user:{user_id}"));
    oauth
        .revoke_oauth_grant("acme", &created.id, &grants[0].id)
        .send()
        .await
        .expect("revoke");
    oauth
        .revoke_oauth_grant("acme", &created.id, &grants[0].id)
        .send()
        .await
        .expect("revoke twice is fine");
    let grants = oauth.list_oauth_grants("acme", &created.id).send().await.unwrap();
    assert_eq!(grants[0].status, "revoked");
    assert!(grants[0].revoked_at.is_some());
    assert!(
        oauth.revoke_oauth_grant("acme", &created.id, "12345").send().await.is_err(),
        "unknown grant is an error"
    );

    oauth.deactivate_oauth_client("acme", &created.id).send().await.expect("deactivate");
    assert!(!oauth.list_oauth_clients("acme").send().await.unwrap()[0].is_active);

    // Signing keys.
    let keys = oauth.list_signing_keys("acme").send().await.expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].status.as_str(), keys[0].algorithm.as_str()), ("active", "RS256"));
    assert!(keys[0].public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let rotated = oauth.rotate_signing_key("acme").send().await.expect("rotate key");
    assert_eq!(rotated.new.status, "active");
    let keys = oauth.list_signing_keys("acme").send().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.iter().find(|k| k.kid != rotated.new.kid).unwrap().status, "retired");
    oauth
        .compromise_signing_key("acme", &rotated.new.kid)
        .send()
        .await
        .expect("compromise");
    let keys = oauth.list_signing_keys("acme").send().await.unwrap();
    assert_eq!(keys.iter().find(|k| k.kid == rotated.new.kid).unwrap().status, "compromised");
    assert_eq!(keys.iter().filter(|k| k.status == "active").count(), 1, "a replacement took over");

    // Errors surface as the SDK's API error with the server's message.
    match oauth.update_oauth_app("nope", UpdateOAuthAppRequest::default()).send().await {
        Err(wacht::Error::Api { status, message, .. }) => {
            assert_eq!(status.as_u16(), 404);
            assert!(message.contains("not found"), "{message}");
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}
