//! The whole OAuth 2.1 / OpenID Connect flow against the real server, driven by a headless
//! browser through the hosted pages: discovery, authorize with PKCE + nonce, sign-in,
//! consent, code exchange, ID token, userinfo, introspection, refresh rotation, revocation,
//! logout.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, REDIRECT};
use reqwest::StatusCode;
use serde_json::Value;

fn decode_jwt(token: &str, jwks: &Value, aud: &str, iss: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let jwk = set.find(header.kid.as_deref().unwrap()).expect("kid published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[iss]);
    jsonwebtoken::decode::<Value>(token, &key, &v).unwrap().claims
}

#[tokio::test]
async fn discovery_documents_in_every_form() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let forms = [
        format!("{}/.well-known/openid-configuration", st.issuer),
        format!("{}/.well-known/oauth-authorization-server", st.issuer),
        format!("{}/.well-known/oauth-authorization-server/a/acme", s.base),
        format!("{}/.well-known/openid-configuration/a/acme", s.base),
    ];
    for url in forms {
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let m: Value = r.json().await.unwrap();
        assert_eq!(m["issuer"], st.issuer, "{url}");
        assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(m["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        assert!(
            m["token_endpoint_auth_methods_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == "none")
        );
        assert!(m["scopes_supported"].as_array().unwrap().iter().any(|v| v == "read"));
        assert_eq!(m["token_endpoint"], format!("{}/oauth/token", st.issuer));
        assert!(m.get("registration_endpoint").is_none());
    }
    // Archived scopes are not advertised.
    s.post_empty("/oauth/apps/acme/scopes/write/archive").await;
    let m: Value = reqwest::get(format!("{}/.well-known/openid-configuration", st.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!m["scopes_supported"].as_array().unwrap().iter().any(|v| v == "write"));
    // Unknown and disabled apps serve only an error.
    let r = reqwest::get(format!("{}/a/nope/.well-known/openid-configuration", s.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.patch("/oauth/apps/acme", serde_json::json!({"is_active": false})).await;
    let r = reqwest::get(format!("{}/.well-known/openid-configuration", st.issuer))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn apps_with_a_domain_are_served_by_host_with_an_https_issuer() {
    let s = TestServer::start().await;
    let (st, _) = s
        .post(
            "/oauth/apps",
            serde_json::json!({"slug": "branded", "name": "Branded", "fqdn": "auth.branded.test"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let r = s
        .http
        .get(format!("{}/.well-known/openid-configuration", s.base))
        .header("host", "auth.branded.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["issuer"], "https://auth.branded.test");
    assert_eq!(m["jwks_uri"], "https://auth.branded.test/.well-known/jwks.json");
    // Not reachable as a path issuer: one app, one issuer.
    let r = reqwest::get(format!("{}/a/branded/.well-known/openid-configuration", s.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn full_flow_with_hosted_pages() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", st.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (verifier, challenge) = oauth::pkce();
    let url = oauth::url_of(
        &st.issuer,
        &oauth::request(&st.client_id, &challenge, "openid profile email read", &[]),
    );

    let mut b = Browser::new();
    // Authorize → consent/init → sign-in page.
    let page = b.goto(&url, &s.base).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign in"), "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.body.contains("<label for=\"email\">") && page.body.contains("<h1"));
    // A wrong password: 401, the form again, an audit event.
    let mut form = page.form();
    form.set("email", &st.email).set("password", "wrong password!");
    let bad = b.submit(&page, &form, None).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.body.contains("role=\"alert\""));
    let mut form = bad.form();
    form.set("email", &st.email).set("password", oauth::PASSWORD);
    let consent = b.submit_follow(&bad, &form, None, &s.base).await;
    assert_eq!(consent.status, StatusCode::OK);
    for text in [
        "Example App",
        "Read your projects",
        "List and open projects.",
        "app.example.com",
        "Personal account",
        "See your email address",
    ] {
        assert!(consent.body.contains(text), "consent page shows {text:?}");
    }
    let done = b.submit(&consent, &consent.form(), Some("approve")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "redirects after POST use 303");
    let loc = done.location().unwrap();
    let q = oauth::query(&loc);
    assert!(loc.starts_with(REDIRECT));
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["iss"], st.issuer, "RFC 9207 iss");
    let code = q["code"].clone();

    // Code exchange.
    let (status, tokens) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "openid profile email read");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("lk_at_") && refresh.starts_with("lk_rt_"));
    let id = decode_jwt(tokens["id_token"].as_str().unwrap(), &jwks, &st.client_id, &st.issuer);
    assert_eq!(id["sub"], st.user_id);
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["at_hash"], latchkey_core::jws::left_hash(&access));
    assert_eq!(id["email"], "ada@example.com");
    assert_eq!(id["name"], "Ada Lovelace");
    assert!(id["sid"].is_string() && id["auth_time"].is_number());

    // Userinfo and introspection.
    let (status, info, _) = oauth::userinfo(&s, &st, &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (info["sub"].as_str(), info["email"].as_str(), info["given_name"].as_str()),
        (Some(st.user_id.as_str()), Some("ada@example.com"), Some("Ada"))
    );
    let i = oauth::introspect(&s, &st, &access).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], st.client_id);
    assert_eq!(i["sub"], st.user_id);
    assert_eq!(i["iss"], st.issuer);
    assert_eq!(i["granted_resource"], format!("urn:latchkey:user:{}", st.user_id));

    // A second authorization is remembered: no pages, straight back with a code.
    let (_, challenge2) = oauth::pkce();
    let url2 = oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge2, "openid read", &[]));
    let again = b.goto(&url2, &s.base).await;
    assert!(
        again.location().unwrap().starts_with(REDIRECT),
        "consent remembered, session reused"
    );

    // Refresh rotation; replaying the old refresh token kills the family.
    let token_url = format!("{}/oauth/token", st.issuer);
    let (status, r1, h) = oauth::post(
        &s,
        &token_url,
        Some((&st.client_id, &st.client_secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "read")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r1}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(r1["scope"], "read", "scope narrowed");
    let refresh2 = r1["refresh_token"].as_str().unwrap().to_owned();
    let access2 = r1["access_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    assert_eq!(oauth::introspect(&s, &st, &access2).await["scope"], "read");
    let (status, e, _) = oauth::post(
        &s,
        &token_url,
        Some((&st.client_id, &st.client_secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    for t in [&access, &access2, &refresh2] {
        assert_eq!(oauth::introspect(&s, &st, t).await["active"], false, "family revoked");
    }
    let (_, ev) = s.get("/audit-events?action=token.reuse_detected").await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn revocation_and_logout() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let token_url = format!("{}/oauth/token", st.issuer);
    let issue = async |b: &mut Browser| {
        let (verifier, challenge) = oauth::pkce();
        let url = oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "openid read", &[]));
        let code = oauth::code(b, &s, &url, &st.email).await;
        let (status, t) = oauth::exchange(&s, &st, &code, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        t
    };
    // Revoking a refresh token revokes its family; unknown tokens answer 200.
    let t = issue(&mut b).await;
    let revoke_url = format!("{}/oauth/revoke", st.issuer);
    let (status, _, _) = oauth::post(
        &s,
        &revoke_url,
        Some((&st.client_id, &st.client_secret)),
        &[("token", t["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        oauth::introspect(&s, &st, t["access_token"].as_str().unwrap()).await["active"],
        false
    );
    let (status, _, _) = oauth::post(
        &s,
        &revoke_url,
        Some((&st.client_id, &st.client_secret)),
        &[("token", "lk_at_unknownunknownunknownunknownunknownunknownun")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, e, _) = oauth::post(
        &s,
        &token_url,
        Some((&st.client_id, &st.client_secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    // Logout with id_token_hint ends the session and every token from it.
    let t = issue(&mut b).await;
    let access = t["access_token"].as_str().unwrap();
    let logout = format!(
        "{}/oauth/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
        st.issuer,
        t["id_token"].as_str().unwrap(),
        url::form_urlencoded::byte_serialize(b"https://app.example.com/logged-out").collect::<String>()
    );
    // An unregistered post-logout URI is refused before anything happens.
    let refused = b.get(&logout.replace("logged-out", "elsewhere")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(oauth::introspect(&s, &st, access).await["active"], true);
    let out = b.get(&logout).await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.location().unwrap(), "https://app.example.com/logged-out?state=bye");
    assert_eq!(oauth::introspect(&s, &st, access).await["active"], false);
    let (status, _, h) = oauth::userinfo(&s, &st, access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(h["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let (status, e, _) = oauth::post(
        &s,
        &token_url,
        Some((&st.client_id, &st.client_secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    // The browser session is gone: the next authorization asks to sign in again.
    let (_, challenge) = oauth::pkce();
    let page = b
        .goto(
            &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[])),
            &s.base,
        )
        .await;
    assert!(page.body.contains("Sign in"));
}
