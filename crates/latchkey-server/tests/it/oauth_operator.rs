//! Operator actions bite immediately, prompts and max_age behave, JWT access tokens, the
//! refresh grace period, the resource picker, and the external consent handoff.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, REDIRECT, Setup};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn tokens(s: &TestServer, st: &Setup, b: &mut Browser, scope: &str) -> Value {
    let (verifier, challenge) = oauth::pkce();
    let code = oauth::code(
        b,
        s,
        &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, scope, &[])),
        &st.email,
    )
    .await;
    let (status, t) = oauth::exchange(s, st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

async fn assert_dead(s: &TestServer, st: &Setup, access: &str, why: &str) {
    assert_eq!(
        oauth::introspect(s, st, access).await,
        json!({"active": false}),
        "{why}: introspection"
    );
    let (status, _, h) = oauth::userinfo(s, st, access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: userinfo");
    assert!(h["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn operator_actions_bite_immediately() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();

    // Grant revoked.
    let t = tokens(&s, &st, &mut b, "openid read").await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(oauth::introspect(&s, &st, access).await["active"], true);
    let gid = oauth::introspect(&s, &st, access).await["grant_id"].as_str().unwrap().to_owned();
    s.post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{gid}/revoke", st.client_id))
        .await;
    assert_dead(&s, &st, access, "grant revoked").await;

    // Client deactivated (then reactivated: its tokens work again).
    let t = tokens(&s, &st, &mut b, "openid read").await;
    let access = t["access_token"].as_str().unwrap().to_owned();
    let other = oauth::client(&s, json!({"client_name": "Introspector"})).await;
    let other_setup = Setup {
        client_id: other["client_id"].as_str().unwrap().into(),
        client_secret: other["client_secret"].as_str().unwrap().into(),
        ..st.clone()
    };
    s.delete(&format!("/oauth/apps/acme/clients/{}", st.client_id)).await;
    assert_dead(&s, &other_setup, &access, "client deactivated").await;
    s.post_empty(&format!("/oauth/apps/acme/clients/{}/reactivate", st.client_id)).await;
    assert_eq!(oauth::introspect(&s, &st, &access).await["active"], true);

    // App disabled: introspection still answers (inactive), everything else refuses.
    s.patch("/oauth/apps/acme", json!({"is_active": false})).await;
    assert_dead(&s, &st, &access, "app disabled").await;
    let page = b
        .get(&oauth::url_of(&st.issuer, &oauth::request(&st.client_id, "x", "read", &[])))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    s.patch("/oauth/apps/acme", json!({"is_active": true})).await;
    assert_eq!(oauth::introspect(&s, &st, &access).await["active"], true);

    // User disabled.
    s.patch(&format!("/users/{}", st.user_id), json!({"is_active": false})).await;
    assert_dead(&s, &st, &access, "user disabled").await;
    s.patch(&format!("/users/{}", st.user_id), json!({"is_active": true})).await;

    // Expiry, by the clock.
    s.clock.advance_seconds(3601);
    assert_dead(&s, &st, &access, "expired").await;
}

#[tokio::test]
async fn prompt_none_login_and_max_age() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let (_, c) = oauth::pkce();
    let url = |extra: &[(&'static str, &str)]| oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &c, "read", extra));
    // No session: prompt=none answers login_required.
    let p = b.goto(&url(&[("prompt", "none")]), &s.base).await;
    assert_eq!(oauth::query(&p.location().unwrap())["error"], "login_required");
    // Sign in but deny: prompt=none then answers consent_required.
    let page = b.goto(&url(&[]), &s.base).await;
    let mut f = page.form();
    f.set("email", &st.email).set("password", oauth::PASSWORD);
    let consent = b.submit_follow(&page, &f, None, &s.base).await;
    let denied = b.submit(&consent, &consent.form(), Some("deny")).await;
    let q = oauth::query(&denied.location().unwrap());
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("access_denied", "st-123"));
    let p = b.goto(&url(&[("prompt", "none")]), &s.base).await;
    assert_eq!(oauth::query(&p.location().unwrap())["error"], "consent_required");
    // Approve once; prompt=none now works silently.
    oauth::code(&mut b, &s, &url(&[]), &st.email).await;
    let p = b.goto(&url(&[("prompt", "none")]), &s.base).await;
    assert!(oauth::query(&p.location().unwrap()).contains_key("code"));
    // prompt=consent shows the consent page although consent is remembered.
    let p = b.goto(&url(&[("prompt", "consent")]), &s.base).await;
    assert!(p.body.contains("Allow"));
    // prompt=login and max_age=0 ask for the password again.
    for extra in [[("prompt", "login")], [("max_age", "0")]] {
        s.clock.advance_seconds(2);
        let p = b.goto(&url(&extra), &s.base).await;
        assert!(p.body.contains("Sign in"), "{extra:?}");
    }
    // max_age that the session satisfies does not.
    let p = b.goto(&url(&[("max_age", "3600")]), &s.base).await;
    assert!(p.location().is_some_and(|l| l.starts_with(REDIRECT)));
    // Unknown resource: invalid_target, back at the client.
    let p = b.goto(&url(&[("resource", "https://unknown.example/api")]), &s.base).await;
    assert_eq!(oauth::query(&p.location().unwrap())["error"], "invalid_target");
}

#[tokio::test]
async fn jwt_access_tokens_follow_rfc_9068_and_stay_revocable() {
    let s = TestServer::start().await;
    let mut st = oauth::setup(&s).await;
    let (_, rs) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/mcp", "aliases": ["mcp"], "scopes": ["read"]}),
        )
        .await;
    assert_eq!(rs["identifier"], "https://api.acme.test/mcp");
    let c = oauth::client(&s, json!({"access_token_format": "jwt", "access_token_ttl_seconds": 600})).await;
    st.client_id = c["client_id"].as_str().unwrap().into();
    st.client_secret = c["client_secret"].as_str().unwrap().into();
    let (verifier, challenge) = oauth::pkce();
    let mut b = Browser::new();
    let url = oauth::url_of(
        &st.issuer,
        &oauth::request(&st.client_id, &challenge, "read", &[("resource", "https://api.acme.test/mcp")]),
    );
    let code = oauth::code(&mut b, &s, &url, &st.email).await;
    let (status, t) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["expires_in"], 600);
    let jwt = t["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", st.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://api.acme.test/mcp"]);
    v.set_issuer(&[st.issuer.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &v).unwrap().claims;
    for k in ["sub", "client_id", "scope", "jti", "iat", "exp", "sid"] {
        assert!(claims.get(k).is_some(), "{k}");
    }
    assert_eq!(claims["client_id"], st.client_id);
    let i = oauth::introspect(&s, &st, jwt).await;
    assert_eq!(
        (i["active"].as_bool(), i["aud"].as_str()),
        (Some(true), Some("https://api.acme.test/mcp"))
    );
    // Revoking the JWT makes it inactive although its signature is still good.
    oauth::post(
        &s,
        &format!("{}/oauth/revoke", st.issuer),
        Some((&st.client_id, &st.client_secret)),
        &[("token", jwt)],
    )
    .await;
    assert_eq!(oauth::introspect(&s, &st, jwt).await["active"], false);
    // A compromised signing key stops verifying what it signed.
    let t2 = tokens(&s, &st, &mut b, "read").await;
    let jwt2 = t2["access_token"].as_str().unwrap();
    assert_eq!(oauth::introspect(&s, &st, jwt2).await["active"], true);
    let kid = jsonwebtoken::decode_header(jwt2).unwrap().kid.unwrap();
    s.post_empty(&format!("/oauth/apps/acme/signing-keys/{kid}/compromise")).await;
    assert_eq!(oauth::introspect(&s, &st, jwt2).await["active"], false);
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", st.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!jwks.to_string().contains(&kid), "compromised keys leave the JWKS");
}

#[tokio::test]
async fn refresh_grace_period_returns_the_same_successor_once() {
    let s = TestServer::start().await;
    let mut st = oauth::setup(&s).await;
    let c = oauth::client(&s, json!({"refresh_token_grace_seconds": 30})).await;
    st.client_id = c["client_id"].as_str().unwrap().into();
    st.client_secret = c["client_secret"].as_str().unwrap().into();
    let mut b = Browser::new();
    let t = tokens(&s, &st, &mut b, "read").await;
    let token_url = format!("{}/oauth/token", st.issuer);
    let creds = Some((st.client_id.as_str(), st.client_secret.as_str()));
    let r0 = t["refresh_token"].as_str().unwrap();
    let (_, a, _) = oauth::post(&s, &token_url, creds, &[("grant_type", "refresh_token"), ("refresh_token", r0)]).await;
    let r1 = a["refresh_token"].as_str().unwrap().to_owned();
    // A retry inside the grace period (a lost response) gets the same successor.
    s.clock.advance_seconds(10);
    let (status, again, _) = oauth::post(&s, &token_url, creds, &[("grant_type", "refresh_token"), ("refresh_token", r0)]).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["refresh_token"], r1);
    // Once the successor is used, its predecessor is plain reuse: the family dies.
    let (_, b2, _) = oauth::post(&s, &token_url, creds, &[("grant_type", "refresh_token"), ("refresh_token", &r1)]).await;
    let r2 = b2["refresh_token"].as_str().unwrap().to_owned();
    let (status, e, _) = oauth::post(&s, &token_url, creds, &[("grant_type", "refresh_token"), ("refresh_token", r0)]).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(oauth::introspect(&s, &st, &r2).await["active"], false);
    // Outside the grace period a replay is reuse too.
    let t = tokens(&s, &st, &mut b, "read").await;
    let q0 = t["refresh_token"].as_str().unwrap();
    let (_, q, _) = oauth::post(&s, &token_url, creds, &[("grant_type", "refresh_token"), ("refresh_token", q0)]).await;
    s.clock.advance_seconds(31);
    let (status, _, _) = oauth::post(&s, &token_url, creds, &[("grant_type", "refresh_token"), ("refresh_token", q0)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        oauth::introspect(&s, &st, q["refresh_token"].as_str().unwrap()).await["active"],
        false
    );
}

#[tokio::test]
async fn the_resource_picker_follows_scope_mappings() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    s.post(
        "/oauth/apps/acme/scopes/write/mapping",
        json!({"category": "organization", "organization_permission": "projects:write"}),
    )
    .await;
    let (_, org) = s.post("/organizations", json!({"name": "Analytical Engines Ltd"})).await;
    let (_, org2) = s.post("/organizations", json!({"name": "No Permission Inc"})).await;
    s.post(
        &format!("/organizations/{}/memberships", org["id"].as_str().unwrap()),
        json!({"user_id": st.user_id, "permissions": ["projects:write"]}),
    )
    .await;
    s.post(
        &format!("/organizations/{}/memberships", org2["id"].as_str().unwrap()),
        json!({"user_id": st.user_id, "permissions": []}),
    )
    .await;
    let (verifier, challenge) = oauth::pkce();
    let mut b = Browser::new();
    let page = b
        .goto(
            &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "write", &[])),
            &s.base,
        )
        .await;
    let mut f = page.form();
    f.set("email", &st.email).set("password", oauth::PASSWORD);
    let consent = b.submit_follow(&page, &f, None, &s.base).await;
    let form = consent.form();
    let offered: Vec<&str> = form.radios.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(
        offered,
        [format!("urn:latchkey:organization:{}", org["id"].as_str().unwrap())],
        "only the org where the permission is held"
    );
    assert!(consent.body.contains("Analytical Engines Ltd") && !consent.body.contains("No Permission Inc"));
    // Tampering with the choice is refused.
    let mut bad = form.clone();
    bad.set("resource", &format!("urn:latchkey:user:{}", st.user_id));
    assert_eq!(b.submit(&consent, &bad, Some("approve")).await.status, StatusCode::BAD_REQUEST);
    let done = b.submit(&consent, &form, Some("approve")).await;
    let code = oauth::query(&done.location().unwrap())["code"].clone();
    let (_, t) = oauth::exchange(&s, &st, &code, &verifier).await;
    let i = oauth::introspect(&s, &st, t["access_token"].as_str().unwrap()).await;
    assert_eq!(i["granted_resource"], offered[0]);
}

#[tokio::test]
async fn external_consent_through_the_backend_api() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (status, d) = s
        .patch(
            "/deployment",
            json!({"settings": {"consent_url": "https://accounts.example.com/consent"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (verifier, challenge) = oauth::pkce();
    let mut b = Browser::new();
    let url = oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "openid read", &[]));
    let first = b.get(&url).await;
    let loc = first.location().unwrap();
    assert!(loc.starts_with("https://accounts.example.com/consent?handoff_id=lk_ho_"), "{loc}");
    let handoff = oauth::query(&loc)["handoff_id"].clone();

    let (status, req) = s.get(&format!("/consent-requests/{handoff}")).await;
    assert_eq!(status, StatusCode::OK, "{req}");
    assert_eq!(req["client"]["client_id"], st.client_id);
    assert_eq!(req["scopes"][1]["display_name"], "Read your projects");
    let (status, e) = s
        .post(
            &format!("/consent-requests/{handoff}/accept"),
            json!({"user_id": st.user_id, "granted_resource": "urn:latchkey:organization:1"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a resource the user can grant on: {e}"
    );
    let (status, ok) = s
        .post(
            &format!("/consent-requests/{handoff}/accept"),
            json!({"user_id": st.user_id, "granted_resource": format!("urn:latchkey:user:{}", st.user_id), "session_id": "ext-42"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    let (status, _) = s.post(&format!("/consent-requests/{handoff}/reject"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");
    let redirect_to = ok["redirect_to"].as_str().unwrap();
    // Only the browser that started the flow can finish it.
    assert_eq!(Browser::new().get(redirect_to).await.status, StatusCode::BAD_REQUEST);
    let back = b.get(redirect_to).await;
    let q = oauth::query(&back.location().unwrap());
    assert_eq!(q["iss"], st.issuer);
    let (status, t) = oauth::exchange(&s, &st, &q["code"], &verifier).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert!(t["id_token"].is_string());
    assert_eq!(b.get(redirect_to).await.status, StatusCode::BAD_REQUEST, "single use");

    // Rejection sends access_denied.
    let (_, challenge) = oauth::pkce();
    let loc = b
        .get(&oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[])))
        .await
        .location()
        .unwrap();
    let handoff = oauth::query(&loc)["handoff_id"].clone();
    let (_, r) = s.post_empty(&format!("/consent-requests/{handoff}/reject")).await;
    let back = b.get(r["redirect_to"].as_str().unwrap()).await;
    assert_eq!(oauth::query(&back.location().unwrap())["error"], "access_denied");
}

#[tokio::test]
async fn resource_servers_introspect_only_tokens_meant_for_them() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (_, mcp) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/mcp", "require_binding": true}),
        )
        .await;
    let (_, rest) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/rest"}),
        )
        .await;
    let mut creds = Vec::new();
    for rs in [&mcp, &rest] {
        let (status, c) = s
            .post_empty(&format!(
                "/oauth/apps/acme/resource-servers/{}/rotate-secret",
                rs["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{c}");
        assert!(c["introspection_client_id"].as_str().unwrap().starts_with("lkrs_"));
        creds.push((
            c["introspection_client_id"].as_str().unwrap().to_owned(),
            c["client_secret"].as_str().unwrap().to_owned(),
        ));
    }
    let mut b = Browser::new();
    let (verifier, challenge) = oauth::pkce();
    let url = oauth::url_of(
        &st.issuer,
        &oauth::request(&st.client_id, &challenge, "read", &[("resource", "https://api.acme.test/mcp")]),
    );
    let code = oauth::code(&mut b, &s, &url, &st.email).await;
    let (_, bound) = oauth::exchange(&s, &st, &code, &verifier).await;
    let unbound = tokens(&s, &st, &mut b, "read").await;
    let introspect_url = format!("{}/oauth/introspect", st.issuer);
    let ask = |who: usize, token: String| {
        let (id, secret) = creds[who].clone();
        let (s, url) = (&s, introspect_url.clone());
        async move { oauth::post(s, &url, Some((&id, &secret)), &[("token", &token)]).await.1["active"].clone() }
    };
    let bound_at = bound["access_token"].as_str().unwrap().to_owned();
    let unbound_at = unbound["access_token"].as_str().unwrap().to_owned();
    assert_eq!(ask(0, bound_at.clone()).await, true, "bound to mcp");
    assert_eq!(ask(1, bound_at).await, false, "not rest's token");
    assert_eq!(ask(0, unbound_at.clone()).await, false, "mcp requires binding");
    assert_eq!(ask(1, unbound_at).await, true, "rest accepts unbound tokens");
    let (status, body, _) = oauth::post(
        &s,
        &introspect_url,
        Some((&creds[0].0, "lk_cs_wrongwrongwrongwrongwrongwrongwrongwrongwro")),
        &[("token", "x")],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
}
