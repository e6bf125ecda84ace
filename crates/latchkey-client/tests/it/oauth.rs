//! Every management builder of `client.oauth()` round-trips against a real server.

use latchkey_client::models::{
    AccessTokenFormat, ClientAuthMethod, CreateOAuthAppRequest, CreateOAuthClientRequest, GrantStatus, GrantType, KeyStatus, Registration,
    ScopeCategory, ScopeDefinitionInput, SetOAuthScopeMappingRequest, UpdateOAuthAppRequest, UpdateOAuthClientRequest,
    UpdateOAuthScopeRequest,
};
use latchkey_client::{Error, LatchkeyClient, LatchkeyConfig};
use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::resource;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63,
    0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
    0x82,
];

fn api_error(e: Error) -> (u16, String) {
    match e {
        Error::Api { status, code, .. } => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn apps_and_scopes() {
    let s = TestServer::start().await;
    let oauth = resource::client(&s).oauth();

    let mut req = CreateOAuthAppRequest::new("acme", "Acme");
    req.description = Some("The Acme API".into());
    req.supported_scopes = Some(vec!["read".into(), "write".into(), "mcp:invoke".into()]);
    req.scope_definitions = Some(vec![ScopeDefinitionInput {
        display_name: Some("Call tools".into()),
        description: Some("Invoke MCP tools".into()),
        ..ScopeDefinitionInput::new("mcp:invoke")
    }]);
    let app = oauth.create_oauth_app(req).send().await.expect("create");
    assert_eq!((app.slug.as_str(), app.name.as_str()), ("acme", "Acme"));
    assert_eq!(app.description.as_deref(), Some("The Acme API"));
    assert_eq!(app.supported_scopes, vec!["read", "write", "mcp:invoke"]);
    assert_eq!(app.fqdn, "");
    assert!(app.is_active && !app.allow_dynamic_client_registration && app.logo_url.is_none());
    let def = app.scope_definitions.iter().find(|d| d.scope == "mcp:invoke").unwrap();
    assert_eq!((def.display_name.as_str(), def.category), ("Call tools", ScopeCategory::Unset));

    // The SDKs' multipart form, with a logo.
    let mut req = CreateOAuthAppRequest::new("beta", "Beta");
    req.supported_scopes = Some(vec!["read".into()]);
    req.allow_dynamic_client_registration = Some(true);
    let beta = oauth
        .create_oauth_app(req)
        .logo(PNG.to_vec(), "logo.png")
        .send()
        .await
        .expect("multipart");
    assert!(beta.allow_dynamic_client_registration);
    let logo_url = beta.logo_url.clone().expect("logo_url");
    let logo = s.http.get(&logo_url).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);

    let apps = oauth.list_oauth_apps().send().await.expect("list");
    assert_eq!(apps.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(), vec!["acme", "beta"]);
    assert_eq!(oauth.get_oauth_app("acme").send().await.expect("get"), app);

    let updated = oauth
        .update_oauth_app(
            "acme",
            UpdateOAuthAppRequest {
                name: Some("Acme Corp".into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .expect("update");
    assert_eq!(updated.name, "Acme Corp");
    assert_eq!(
        updated.scope_definitions, app.scope_definitions,
        "a PATCH keeps what it was not sent"
    );
    assert!(updated.updated_at >= app.updated_at);
    let disabled = oauth
        .update_oauth_app(
            "acme",
            UpdateOAuthAppRequest {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .send()
        .await
        .expect("disable");
    assert!(!disabled.is_active);

    // Scopes, addressed by percent-encoded names.
    let scopes = oauth.list_oauth_scopes("acme").send().await.expect("scopes");
    assert_eq!(scopes.len(), 3);
    let a = oauth
        .update_oauth_scope(
            "acme",
            "mcp:invoke",
            UpdateOAuthScopeRequest {
                display_name: Some("Use tools".into()),
                description: None,
            },
        )
        .send()
        .await
        .expect("update scope");
    let def = a.scope_definitions.iter().find(|d| d.scope == "mcp:invoke").unwrap();
    assert_eq!(
        (def.display_name.as_str(), def.description.as_str()),
        ("Use tools", "Invoke MCP tools")
    );
    let a = oauth.archive_oauth_scope("acme", "mcp:invoke").send().await.expect("archive");
    assert!(a.scope_definitions.iter().find(|d| d.scope == "mcp:invoke").unwrap().archived);
    let a = oauth.unarchive_oauth_scope("acme", "mcp:invoke").send().await.expect("unarchive");
    assert!(!a.scope_definitions.iter().find(|d| d.scope == "mcp:invoke").unwrap().archived);
    let a = oauth
        .set_oauth_scope_mapping(
            "acme",
            "write",
            SetOAuthScopeMappingRequest {
                category: ScopeCategory::Organization,
                organization_permission: Some("projects:edit".into()),
                workspace_permission: None,
            },
        )
        .send()
        .await
        .expect("mapping");
    let def = a.scope_definitions.iter().find(|d| d.scope == "write").unwrap();
    assert_eq!(def.category, ScopeCategory::Organization);
    assert_eq!(def.organization_permission.as_deref(), Some("projects:edit"));

    // Errors carry the server's status and code.
    assert_eq!(
        api_error(oauth.get_oauth_app("nope").send().await.unwrap_err()),
        (404, "not_found".into())
    );
    assert_eq!(
        api_error(oauth.archive_oauth_scope("acme", "no:such/scope").send().await.unwrap_err()),
        (404, "not_found".into())
    );
    assert_eq!(
        api_error(oauth.verify_oauth_app_domain("acme").send().await.unwrap_err()),
        (409, "conflict".into()),
        "no custom domain to verify"
    );
    let e = oauth
        .create_oauth_app(CreateOAuthAppRequest::new("X!", ""))
        .send()
        .await
        .unwrap_err();
    match e {
        Error::Api {
            status: 422,
            code,
            details: Some(details),
            ..
        } => {
            assert_eq!(code, "validation_failed");
            assert!(details["errors"].is_array() || details["errors"].is_object(), "{details}");
        }
        other => panic!("{other:?}"),
    }
    let stranger = LatchkeyClient::new(LatchkeyConfig::new(
        "lk_api_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        s.base.clone(),
    ))
    .unwrap();
    assert_eq!(
        api_error(stranger.oauth().list_oauth_apps().send().await.unwrap_err()),
        (401, "unauthorized".into())
    );
}

#[tokio::test]
async fn clients_and_secrets() {
    let s = TestServer::start().await;
    let oauth = resource::client(&s).oauth();
    oauth
        .create_oauth_app(CreateOAuthAppRequest {
            supported_scopes: Some(vec!["read".into()]),
            ..CreateOAuthAppRequest::new("acme", "Acme")
        })
        .send()
        .await
        .expect("app");

    let mut req = CreateOAuthClientRequest::new(
        ClientAuthMethod::ClientSecretBasic,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        vec!["https://app.example.com/callback".into()],
    );
    req.client_name = Some("Example".into());
    req.access_token_ttl_seconds = Some(600);
    req.contacts = Some(vec!["ops@example.com".into()]);
    let created = oauth.create_oauth_client("acme", req).send().await.expect("create");
    let secret = created.client_secret.clone().expect("secret shown once");
    assert!(secret.expose().starts_with("lk_cs_"), "{secret:?}");
    assert!(!format!("{created:?}").contains(secret.expose()), "Debug redacts the secret");
    assert_eq!(created.client_auth_method, ClientAuthMethod::ClientSecretBasic);
    assert_eq!(created.grant_types, vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    assert_eq!(created.access_token_ttl_seconds, 600);
    assert_eq!(created.access_token_format, AccessTokenFormat::Opaque);
    assert_eq!(created.registration, Registration::Manual);
    assert_eq!(created.contacts, vec!["ops@example.com"]);
    assert!(created.is_active);

    let listed = oauth.list_oauth_clients("acme").send().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].client_secret.is_none(), "never listed with secrets");
    let by_id = oauth.get_oauth_client("acme", &created.id).send().await.expect("get by id");
    let by_client_id = oauth
        .get_oauth_client("acme", &created.client_id)
        .send()
        .await
        .expect("get by client_id");
    assert_eq!(by_id, by_client_id);
    assert_eq!(by_id.client_secret, None);

    let updated = oauth
        .update_oauth_client(
            "acme",
            &created.id,
            UpdateOAuthClientRequest {
                client_name: Some("Renamed".into()),
                redirect_uris: Some(vec!["https://app.example.com/cb2".into()]),
                ..Default::default()
            },
        )
        .send()
        .await
        .expect("update");
    assert_eq!(updated.client_name.as_deref(), Some("Renamed"));
    assert_eq!(updated.redirect_uris, vec!["https://app.example.com/cb2"]);
    assert_eq!(updated.access_token_ttl_seconds, 600, "untouched");

    let off = oauth
        .deactivate_oauth_client("acme", &created.client_id)
        .send()
        .await
        .expect("deactivate");
    assert!(!off.is_active);
    let on = oauth.reactivate_oauth_client("acme", &created.id).send().await.expect("reactivate");
    assert!(on.is_active);

    let rotated = oauth.rotate_oauth_client_secret("acme", &created.id).send().await.expect("rotate");
    assert!(rotated.client_secret.expose().starts_with("lk_cs_"));
    assert_ne!(rotated.client_secret, secret);
    assert_eq!(rotated.client_id, created.client_id);
    assert!(rotated.previous_secret_valid_until.is_none());
    let overlapped = oauth
        .rotate_oauth_client_secret("acme", &created.client_id)
        .overlap_seconds(3600)
        .send()
        .await
        .expect("rotate with overlap");
    let until = overlapped.previous_secret_valid_until.expect("overlap");
    assert_eq!((until - overlapped.secret.created_at).whole_seconds(), 3600);
    let secrets = oauth.list_oauth_client_secrets("acme", &created.id).send().await.expect("secrets");
    // Newest first, expired ones included: the new one, the one in its overlap, the first
    // (expired at the first rotation).
    assert_eq!(secrets.len(), 3, "{secrets:?}");
    assert_eq!(
        (secrets[0].id.as_str(), secrets[0].expires_at),
        (overlapped.secret.id.as_str(), None)
    );
    assert_eq!(secrets[1].expires_at, Some(until));
    assert_eq!(secrets[2].expires_at, Some(rotated.secret.created_at));
    assert!(secrets.iter().all(|x| x.hint.len() < 10 && x.created_by.is_some()));

    let e = oauth
        .create_oauth_client(
            "acme",
            CreateOAuthClientRequest::new(
                ClientAuthMethod::None,
                vec![GrantType::AuthorizationCode],
                vec!["https://app.example.com/cb#frag".into()],
            ),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(api_error(e), (422, "validation_failed".into()));
    assert_eq!(
        api_error(oauth.get_oauth_client("acme", "lkc_nope").send().await.unwrap_err()).0,
        404
    );
}

#[tokio::test]
async fn grants_and_signing_keys() {
    let s = TestServer::start().await;
    let st = latchkey_testkit::oauth::setup(&s).await;
    let mut b = Browser::new();
    resource::token(&s, &st, &mut b, "read", None).await;
    let oauth = resource::client(&s).oauth();

    let grants = oauth.list_oauth_grants("acme", &st.client_id).send().await.expect("grants");
    assert_eq!(grants.len(), 1);
    let g = &grants[0];
    assert_eq!(g.status, GrantStatus::Active);
    assert_eq!(g.api_auth_app_slug, "acme");
    assert_eq!(g.oauth_client_id, st.client_record_id);
    assert_eq!(g.client_id.as_deref(), Some(st.client_id.as_str()));
    assert_eq!(g.resource, format!("urn:latchkey:user:{}", st.user_id));
    assert_eq!(g.scopes, vec!["read"]);
    assert_eq!(g.user_id.as_deref(), Some(st.user_id.as_str()));
    assert_eq!(&oauth.get_oauth_grant(&g.id).send().await.expect("get"), g);
    assert_eq!(oauth.list_user_oauth_grants(&st.user_id).send().await.expect("user grants"), grants);
    assert!(
        oauth
            .list_oauth_grants("acme", &st.client_record_id)
            .status(GrantStatus::Revoked)
            .send()
            .await
            .expect("revoked only")
            .is_empty()
    );

    let revoked = oauth
        .revoke_oauth_grant("acme", &st.client_id, &g.id)
        .reason("user asked")
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status, GrantStatus::Revoked);
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoke_reason.as_deref(), Some("user asked"));
    let listed = oauth
        .list_oauth_grants("acme", &st.client_id)
        .status(GrantStatus::Revoked)
        .limit(10)
        .send()
        .await
        .expect("revoked");
    assert_eq!(listed.len(), 1);
    // Revoking again is idempotent; an unknown grant is a 404.
    oauth.revoke_oauth_grant("acme", &st.client_id, &g.id).send().await.expect("again");
    assert_eq!(
        api_error(oauth.revoke_oauth_grant("acme", &st.client_id, "12345").send().await.unwrap_err()),
        (404, "not_found".into())
    );
    assert_eq!(
        api_error(oauth.list_oauth_grants("acme", &st.client_id).limit(0).send().await.unwrap_err()).0,
        400
    );

    // Signing keys.
    let keys = oauth.list_signing_keys("acme").send().await.expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].status, keys[0].algorithm.as_str()), (KeyStatus::Active, "RS256"));
    assert!(keys[0].public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let new = oauth.rotate_signing_key("acme").send().await.expect("rotate");
    assert_eq!(new.status, KeyStatus::Active);
    assert_ne!(new.kid, keys[0].kid);
    let keys2 = oauth.list_signing_keys("acme").send().await.expect("keys");
    let old = keys2.iter().find(|k| k.kid == keys[0].kid).expect("old key listed");
    assert_eq!(old.status, KeyStatus::Retired);
    assert!(old.retired_at.is_some());
    let gone = oauth.compromise_signing_key("acme", &old.kid).send().await.expect("compromise");
    assert_eq!(gone.status, KeyStatus::Compromised);
    assert!(gone.compromised_at.is_some());
    assert_eq!(
        api_error(oauth.compromise_signing_key("acme", "no-such-kid").send().await.unwrap_err()),
        (404, "not_found".into())
    );
}
