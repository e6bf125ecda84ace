//! The SDK's gateway check against a real server, with real tokens from the whole flow.

use latchkey_client::gateway::{GatewayAuthzOptions, GatewayDenyReason, GatewayPrincipalType, GatewayTokenType};
use latchkey_client::{Error, LatchkeyClient, LatchkeyConfig, TokenDenyReason};
use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::resource;

/// The seed's Rust snippet, adapted only by crate name (`wacht` → `latchkey_client`) and
/// config constructor (`WachtConfig::new` → `LatchkeyConfig::new`).
#[tokio::test]
async fn seed_snippet() {
    let s = TestServer::start().await;
    let st = resource::setup(&s).await;
    let mut b = Browser::new();
    let token = resource::token(&s, &st, &mut b, "read write", Some(resource::RESOURCE)).await;
    let (api_key, base_url) = (s.api_key.clone(), s.base.clone());

    // --- the snippet ---
    let client = LatchkeyClient::new(LatchkeyConfig::new(api_key, base_url)).expect("client");
    let authz = client
        .gateway()
        .check_authz_with_principal_type(
            GatewayPrincipalType::OauthAccessToken,
            &token,
            "POST",
            "mcp",
            GatewayAuthzOptions {
                required_permissions: Some(vec!["read".into()]),
                ..Default::default()
            },
        )
        .await
        .expect("token accepted");
    let principal = authz.resolve_principal_context();
    let scopes = principal.metadata.scopes.clone();
    let granted_resource = principal.metadata.granted_resource.clone();
    // --- end of the snippet ---

    assert!(authz.allowed);
    assert_eq!(authz.reason, None);
    assert!(!authz.request_id.is_empty());
    assert_eq!(scopes, vec!["read", "write"]);
    assert_eq!(granted_resource, Some(format!("urn:latchkey:user:{}", st.user_id)));
    assert_eq!(principal.token_type, GatewayTokenType::OauthToken);
    assert_eq!(principal.identity.principal_type, GatewayPrincipalType::OauthAccessToken);
    assert_eq!(principal.identity.key_name, st.client_id);
    assert_eq!(principal.identity.key_id.to_string(), st.client_record_id);
    assert_eq!(principal.identity.app_slug, "acme");
    let user_id: i64 = st.user_id.parse().unwrap();
    assert_eq!(principal.identity.owner_user_id, Some(user_id));
    assert_eq!(principal.owner_user_id, Some(user_id));
    assert_eq!(principal.metadata.oauth_resource.as_deref(), Some(resource::RESOURCE));
    let expires_at = principal.metadata.expires_at.as_deref().expect("expires_at");
    let expires_at = time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339).expect("RFC 3339");
    let ttl = expires_at - time::OffsetDateTime::now_utc();
    assert!(ttl > time::Duration::minutes(55) && ttl <= time::Duration::minutes(61), "{ttl}");
    assert_eq!(principal.permissions, vec!["read", "write"]);
    assert_eq!(principal.metadata.permissions_checked, vec!["read", "write"]);
    assert!(principal.organization_id.is_none() && principal.metadata.organization_permissions.is_empty());
    assert_eq!(authz.headers.get("x-wacht-oauth-client-id"), Some(&st.client_id));
    assert_eq!(principal.metadata.raw["client_id"], st.client_id.as_str());
}

#[tokio::test]
async fn denials_are_typed() {
    let s = TestServer::start().await;
    let st = resource::setup(&s).await;
    let mut b = Browser::new();
    let token = resource::token(&s, &st, &mut b, "read", None).await;
    let client = resource::client(&s);
    let gateway = client.gateway();
    let check = |perms: &[&str], token: String| {
        let gateway = gateway.clone();
        let perms: Vec<String> = perms.iter().map(|p| p.to_string()).collect();
        async move {
            gateway
                .check_authz_with_principal_type(
                    GatewayPrincipalType::OauthAccessToken,
                    &token,
                    "GET",
                    "mcp",
                    GatewayAuthzOptions {
                        required_permissions: Some(perms),
                        client_ip: Some("203.0.113.9".into()),
                        user_agent: Some("test".into()),
                    },
                )
                .await
        }
    };

    // A permission the token lacks: Ok, allowed false, with the missing permissions.
    let r = check(&["read", "admin"], token.clone()).await.expect("200");
    assert!(!r.allowed);
    assert_eq!(r.reason, Some(GatewayDenyReason::PermissionDenied));
    assert_eq!(r.missing_permissions(), vec!["admin"]);
    assert_eq!(r.key_name, st.client_id);

    // Token-level refusals: Err(Denied) with the reason.
    for (bad, reason) in [
        ("garbage", TokenDenyReason::Malformed),
        ("lk_at_nonexistentnonexistentnonexistentnonexis", TokenDenyReason::UnknownToken),
    ] {
        match check(&[], bad.into()).await {
            Err(Error::Denied {
                status: 401,
                reason: r,
                request_id: Some(_),
                message,
            }) => {
                assert_eq!(r, reason);
                assert!(!message.is_empty());
            }
            other => panic!("{bad}: {other:?}"),
        }
    }

    // The user's grant is revoked through the SDK: the very next check is GrantRevoked.
    assert!(check(&["read"], token.clone()).await.expect("ok").allowed);
    let oauth = client.oauth();
    let grants = oauth.list_oauth_grants("acme", &st.client_id).send().await.expect("grants");
    assert_eq!(grants.len(), 1);
    oauth
        .revoke_oauth_grant("acme", &st.client_id, &grants[0].id)
        .reason("test")
        .send()
        .await
        .expect("revoked");
    let e = check(&["read"], token.clone()).await.expect_err("denied");
    assert!(
        matches!(
            e,
            Error::Denied {
                reason: TokenDenyReason::GrantRevoked,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.deny_reason(), Some(&TokenDenyReason::GrantRevoked));

    // A caller with an unknown API key: Denied, Unauthenticated (the caller's problem).
    let stranger = LatchkeyClient::new(LatchkeyConfig::new(
        "lk_api_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        s.base.clone(),
    ))
    .unwrap();
    let e = stranger
        .gateway()
        .check_authz_with_principal_type(GatewayPrincipalType::OauthAccessToken, &token, "GET", "mcp", Default::default())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            &e,
            Error::Denied {
                reason: TokenDenyReason::Unauthenticated,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.deny_reason().unwrap().is_token_problem());

    // A malformed check is an API error (400), not a denial.
    let e = gateway
        .check_authz_with_principal_type(GatewayPrincipalType::OauthAccessToken, &token, "GET", "", Default::default())
        .await
        .expect_err("400");
    assert!(
        matches!(&e, Error::Api { status: 400, code, .. } if code == "invalid_request"),
        "{e:?}"
    );

    // Nobody listening: a transport error, reported as unavailable.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let down =
        LatchkeyClient::new(LatchkeyConfig::new(s.api_key.clone(), s.base.clone()).with_gateway_url(format!("http://{closed}"))).unwrap();
    let e = down
        .gateway()
        .check_authz_with_principal_type(GatewayPrincipalType::OauthAccessToken, &token, "GET", "mcp", Default::default())
        .await
        .expect_err("unreachable");
    assert!(matches!(e, Error::Http(_)) && e.is_unavailable(), "{e:?}");
}
