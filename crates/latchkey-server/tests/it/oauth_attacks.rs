//! The abuses RFC 9700 lists, each refused with no side effect: code replay (and its tokens
//! die), PKCE downgrades, redirect URI variants, consent CSRF, code theft by another client,
//! forged client assertions, and transaction replays.

use latchkey_core::crypto::{b64url, random_bytes};
use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, REDIRECT};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An authorization code for `read` that was just exchanged: (code, verifier, tokens).
async fn redeemed_code(s: &TestServer, st: &oauth::Setup) -> (String, String, Value) {
    let (verifier, challenge) = oauth::pkce();
    let url = oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[]));
    let code = oauth::code(&mut Browser::new(), s, &url, &st.email).await;
    let (status, t) = oauth::exchange(s, st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    (code, verifier, t)
}

#[tokio::test]
async fn code_replay_fails_and_kills_what_the_code_issued() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (code, verifier, t) = redeemed_code(&s, &st).await;
    let (status, e) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    for k in ["access_token", "refresh_token"] {
        assert_eq!(
            oauth::introspect(&s, &st, t[k].as_str().unwrap()).await["active"],
            false,
            "{k} revoked after replay"
        );
    }
    let (_, ev) = s.get("/audit-events?action=code.replayed").await;
    assert_eq!(ev["events"][0]["details"]["tokens_revoked"], 2);
}

/// A replayed code whose revocation cannot be written must not be answered as if the tokens
/// were revoked: the client gets a server error, and the next replay revokes them.
#[tokio::test]
async fn code_replay_whose_revocation_fails_fails_the_request() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (code, verifier, t) = redeemed_code(&s, &st).await;
    let access = t["access_token"].as_str().unwrap();

    s.fail_writes("oauth_tokens", "UPDATE").await;
    let (status, e) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("server_error")),
        "{e}"
    );
    s.heal("oauth_tokens", "UPDATE").await;
    assert_eq!(oauth::introspect(&s, &st, access).await["active"], true, "nothing was revoked");
    let (_, ev) = s.get("/audit-events?action=code.replayed").await;
    assert_eq!(
        ev["events"].as_array().unwrap().len(),
        0,
        "no audit event for a revocation that did not happen"
    );

    let (status, e) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(
        oauth::introspect(&s, &st, access).await["active"],
        false,
        "revoked by the next replay"
    );
}

/// The same for a reused refresh token: a family revocation that cannot be written fails the
/// refresh request rather than answering `invalid_grant` with the family still alive.
#[tokio::test]
async fn refresh_reuse_whose_revocation_fails_fails_the_request() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let t = oauth::token_response(&s, &st, &mut b, "read", None).await;
    let old = t["refresh_token"].as_str().unwrap().to_owned();
    let token_url = format!("{}/oauth/token", st.issuer);
    let refresh = |token: String| {
        let (s, st, url) = (&s, &st, &token_url);
        async move {
            let (status, body, _) = oauth::post(
                s,
                url,
                Some((&st.client_id, &st.client_secret)),
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await;
            (status, body)
        }
    };
    let (status, rotated) = refresh(old.clone()).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let successor = rotated["refresh_token"].as_str().unwrap().to_owned();

    s.fail_writes("oauth_tokens", "UPDATE").await;
    let (status, e) = refresh(old.clone()).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("server_error")),
        "{e}"
    );
    s.heal("oauth_tokens", "UPDATE").await;
    assert_eq!(oauth::introspect(&s, &st, &successor).await["active"], true, "nothing was revoked");

    let (status, e) = refresh(old).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(
        oauth::introspect(&s, &st, &successor).await["active"],
        false,
        "the family dies on the next reuse"
    );
}

#[tokio::test]
async fn pkce_downgrades_are_refused() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    // No challenge, or plain: the authorization request itself fails, back at the client.
    for extra in [
        vec![("code_challenge", "")],
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge_method", "")],
    ] {
        let (_, challenge) = oauth::pkce();
        let page = b
            .get(&oauth::url_of(
                &st.issuer,
                &oauth::request(&st.client_id, &challenge, "read", &extra),
            ))
            .await;
        let loc = page.location().expect("error redirect");
        let q = oauth::query(&loc);
        assert_eq!(q["error"], "invalid_request", "{extra:?}");
        assert!(!q.contains_key("code"));
        assert_eq!(q["state"], "st-123");
    }
    // Challenge sent, verifier missing or wrong: refused, and the code still works after.
    let (verifier, challenge) = oauth::pkce();
    let code = oauth::code(
        &mut b,
        &s,
        &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[])),
        &st.email,
    )
    .await;
    let token_url = format!("{}/oauth/token", st.issuer);
    let creds = Some((st.client_id.as_str(), st.client_secret.as_str()));
    let (status, e, _) = oauth::post(
        &s,
        &token_url,
        creds,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (wrong, _) = oauth::pkce();
    let (status, e) = oauth::exchange(&s, &st, &code, &wrong).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "refused attempts had no side effect");
}

#[tokio::test]
async fn redirect_uri_variants_never_redirect() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let variants = [
        "https://app.example.com/callback/../callback",
        "https://app.example.com/x/../callback",
        "https://app.example.com@evil.example/callback",
        "https://evil.example@app.example.com/callback",
        "https://APP.example.com/callback",
        "https://app.example.com/Callback",
        "HTTPS://app.example.com/callback",
        "https://app.example.com/callback/",
        "https://app.example.com//callback",
        "https://app.example.com%2Fcallback",
        "https://app.example.com/callback%2F",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback#frag",
        "https://app.example.com:8443/callback",
        "https://app.example.com:443/callback",
        "http://app.example.com/callback",
        "https://evil.app.example.com/callback",
        "https://app.example.com.evil.example/callback",
        "http://localhost/cb",
        "http://[::1]/cb",
        "http://127.0.0.2/cb",
        "http://127.0.0.1/cb/",
        "https://127.0.0.1/cb",
        "javascript:alert(1)",
        "/callback",
        "",
    ];
    assert!(variants.len() >= 15);
    for v in variants {
        let (_, challenge) = oauth::pkce();
        let page = b
            .get(&oauth::url_of(
                &st.issuer,
                &oauth::request(&st.client_id, &challenge, "read", &[("redirect_uri", v)]),
            ))
            .await;
        if v.is_empty() {
            // Empty counts as absent; this client registered two URIs, so it must name one.
            assert_eq!(page.status, StatusCode::BAD_REQUEST);
            continue;
        }
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{v}");
        assert!(page.location().is_none(), "{v} must not be redirected to");
        assert!(page.body.contains("redirect"), "{v}: {}", page.body);
    }
    // The loopback rule: any port for a registered 127.0.0.1 URI.
    let (_, challenge) = oauth::pkce();
    let ok = b
        .goto(
            &oauth::url_of(
                &st.issuer,
                &oauth::request(&st.client_id, &challenge, "read", &[("redirect_uri", "http://127.0.0.1:49152/cb")]),
            ),
            &s.base,
        )
        .await;
    assert!(ok.body.contains("Sign in"));
    // No authorization request was recorded for any refused variant (only the last one).
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent_requests")
        .fetch_one(s.state.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn consent_csrf_session_binding_and_single_use() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let (_, challenge) = oauth::pkce();
    let url = oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[]));
    let page = b.goto(&url, &s.base).await;
    let mut login = page.form();
    login.set("email", &st.email).set("password", oauth::PASSWORD);
    let consent = b.submit_follow(&page, &login, None, &s.base).await;
    let form = consent.form();

    // A second transaction in the same browser: its CSRF token is foreign to the first.
    let (_, challenge2) = oauth::pkce();
    let other = b
        .goto(
            &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge2, "read", &[])),
            &s.base,
        )
        .await;
    let foreign = other.form().get("csrf_token").unwrap().to_owned();

    let mut no_csrf = form.clone();
    no_csrf.fields.retain(|(k, _)| k != "csrf_token");
    let mut bad_csrf = form.clone();
    bad_csrf.set("csrf_token", &foreign);
    for (name, f) in [("missing", no_csrf), ("foreign", bad_csrf)] {
        let r = b.submit(&consent, &f, Some("approve")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} CSRF token");
        assert!(r.location().is_none());
    }
    // Another browser (no binding cookie, no session) cannot use the transaction.
    let mut stranger = Browser::new();
    let r = stranger.submit(&consent, &form, Some("approve")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM authorization_codes")
        .fetch_one(s.state.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "no code was issued by a refused submission");

    // The real submission works once; replaying it does not.
    let ok = b.submit(&consent, &form, Some("approve")).await;
    assert!(ok.location().unwrap().starts_with(REDIRECT));
    let again = b.submit(&consent, &form, Some("approve")).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.location().is_none());
}

#[tokio::test]
async fn a_code_cannot_be_redeemed_by_another_client() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let other = oauth::client(&s, json!({"client_name": "Other"})).await;
    let (verifier, challenge) = oauth::pkce();
    let mut b = Browser::new();
    let code = oauth::code(
        &mut b,
        &s,
        &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[])),
        &st.email,
    )
    .await;
    let token_url = format!("{}/oauth/token", st.issuer);
    let (status, e, _) = oauth::post(
        &s,
        &token_url,
        Some((other["client_id"].as_str().unwrap(), other["client_secret"].as_str().unwrap())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "the rightful client still redeems it");
}

#[tokio::test]
async fn redirect_uri_must_match_at_the_token_endpoint() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (verifier, challenge) = oauth::pkce();
    let mut b = Browser::new();
    let code = oauth::code(
        &mut b,
        &s,
        &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[])),
        &st.email,
    )
    .await;
    let token_url = format!("{}/oauth/token", st.issuer);
    let creds = Some((st.client_id.as_str(), st.client_secret.as_str()));
    for bad in [None, Some("http://127.0.0.1/cb"), Some("https://app.example.com/callback/")] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        if let Some(r) = bad {
            form.push(("redirect_uri", r));
        }
        let (status, e, _) = oauth::post(&s, &token_url, creds, &form).await;
        assert_eq!(
            (status, e["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{bad:?}"
        );
    }
    let (status, _) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);
}

fn rsa_key() -> (Vec<u8>, String) {
    let k = latchkey_core::signing_key::generate_rs256();
    (k.private_pkcs8, k.public_key_pem)
}

fn assertion(pkcs8: &[u8], client_id: &str, aud: &str, exp_in: i64, jti: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    latchkey_core::jws::sign_rs256(
        pkcs8,
        "k1",
        "JWT",
        &json!({"iss": client_id, "sub": client_id, "aud": aud, "exp": now + exp_in, "iat": now, "jti": jti}),
    )
    .unwrap()
}

fn hs256(secret: &[u8], claims: &Value, alg: &str) -> String {
    let header = b64url(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
    let body = b64url(claims.to_string().as_bytes());
    let input = format!("{header}.{body}");
    let sig = if alg == "none" {
        String::new()
    } else {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        b64url(aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref())
    };
    format!("{input}.{sig}")
}

#[tokio::test]
async fn forged_client_assertions_are_refused() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (pkcs8, pem) = rsa_key();
    let c = oauth::client(&s, json!({"client_auth_method": "private_key_jwt", "public_key_pem": pem})).await;
    let cid = c["client_id"].as_str().unwrap().to_owned();
    let token_url = format!("{}/oauth/token", st.issuer);
    let introspect_url = format!("{}/oauth/introspect", st.issuer);
    let call = |a: String| {
        let s = &s;
        let url = introspect_url.clone();
        async move {
            let (status, body, headers) = oauth::post(
                s,
                &url,
                None,
                &[
                    ("token", "lk_at_whatever_whatever_whatever_whatever_whatev"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", &a),
                ],
            )
            .await;
            (status, body, headers)
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iss": cid, "sub": cid, "aud": st.issuer, "exp": now + 60, "jti": "x1"});
    let cases = vec![
        ("alg none", hs256(b"", &claims, "none")),
        ("HS256 signed with the public key", hs256(pem.as_bytes(), &claims, "HS256")),
        ("wrong audience", assertion(&pkcs8, &cid, "https://evil.example/token", 60, "j1")),
        ("expired", assertion(&pkcs8, &cid, &st.issuer, -600, "j2")),
        ("too long-lived", assertion(&pkcs8, &cid, &st.issuer, 86_400, "j3")),
        ("signed by another key", assertion(&rsa_key().0, &cid, &st.issuer, 60, "j4")),
        ("not a JWT", "garbage".to_owned()),
    ];
    for (name, a) in cases {
        let (status, body, _) = call(a).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{name}: {body}"
        );
    }
    // A good assertion works (aud may be the issuer or the endpoint) — once.
    let good = assertion(&pkcs8, &cid, &token_url, 60, "once");
    let (status, body, _) = call(good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = call(good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "replayed jti"
    );
    let (status, _, _) = call(assertion(&pkcs8, &cid, &st.issuer, 60, "issuer-aud")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn client_authentication_methods() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let introspect_url = format!("{}/oauth/introspect", st.issuer);
    let token = ("token", "lk_at_whatever_whatever_whatever_whatever_whatev");

    // client_secret_basic: right secret 200; wrong one 401 with a Basic challenge.
    let (status, _, _) = oauth::post(&s, &introspect_url, Some((&st.client_id, &st.client_secret)), &[token]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, h) = oauth::post(
        &s,
        &introspect_url,
        Some((&st.client_id, "lk_cs_wrongwrongwrongwrongwrongwrongwrongwrongwro")),
        &[token],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    // A basic client may not use client_secret_post.
    let (status, _, _) = oauth::post(
        &s,
        &introspect_url,
        None,
        &[token, ("client_id", &st.client_id), ("client_secret", &st.client_secret)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Two methods at once are refused.
    let (status, body, _) = oauth::post(
        &s,
        &introspect_url,
        Some((&st.client_id, &st.client_secret)),
        &[token, ("client_secret", &st.client_secret)],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));

    // client_secret_post.
    let post = oauth::client(&s, json!({"client_auth_method": "client_secret_post"})).await;
    let (pid, psecret) = (post["client_id"].as_str().unwrap(), post["client_secret"].as_str().unwrap());
    let (status, _, _) = oauth::post(&s, &introspect_url, None, &[token, ("client_id", pid), ("client_secret", psecret)]).await;
    assert_eq!(status, StatusCode::OK);

    // client_secret_jwt: HS256 over the secret.
    let jwt = oauth::client(&s, json!({"client_auth_method": "client_secret_jwt"})).await;
    let (jid, jsecret) = (jwt["client_id"].as_str().unwrap(), jwt["client_secret"].as_str().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iss": jid, "sub": jid, "aud": st.issuer, "exp": now + 60, "jti": b64url(&random_bytes::<8>())});
    let ta = ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    let (status, body, _) = oauth::post(
        &s,
        &introspect_url,
        None,
        &[token, ta, ("client_assertion", &hs256(jsecret.as_bytes(), &claims, "HS256"))],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = oauth::post(
        &s,
        &introspect_url,
        None,
        &[token, ta, ("client_assertion", &hs256(b"wrong secret", &claims, "HS256"))],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A secret inside its rotation overlap still authenticates, and its use is audited.
    let (_, r) = s
        .post(
            &format!("/oauth/apps/acme/clients/{}/rotate-secret", st.client_id),
            json!({"overlap_seconds": 300}),
        )
        .await;
    let (status, _, _) = oauth::post(&s, &introspect_url, Some((&st.client_id, &st.client_secret)), &[token]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, ev) = s
        .get(&format!(
            "/audit-events?action=client.superseded_secret_used&client_id={}",
            st.client_id
        ))
        .await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 1);
    s.clock.advance_seconds(301);
    let (status, _, _) = oauth::post(&s, &introspect_url, Some((&st.client_id, &st.client_secret)), &[token]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "after the overlap the old secret fails");
    let (status, _, _) = oauth::post(
        &s,
        &introspect_url,
        Some((&st.client_id, r["client_secret"].as_str().unwrap())),
        &[token],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // A deactivated client cannot authenticate.
    s.delete(&format!("/oauth/apps/acme/clients/{pid}")).await;
    let (status, _, _) = oauth::post(&s, &introspect_url, None, &[token, ("client_id", pid), ("client_secret", psecret)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Grants other than code and refresh are unsupported.
    let token_url = format!("{}/oauth/token", st.issuer);
    for g in [
        "client_credentials",
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        let (status, body, _) = oauth::post(
            &s,
            &token_url,
            Some((&st.client_id, r["client_secret"].as_str().unwrap())),
            &[("grant_type", g)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unsupported_grant_type")),
            "{g}"
        );
    }
}

#[tokio::test]
async fn sign_in_is_throttled_per_email() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let (_, challenge) = oauth::pkce();
    let mut page = b
        .goto(
            &oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "read", &[])),
            &s.base,
        )
        .await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let mut f = page.form();
        f.set("email", &st.email).set("password", "not the password");
        page = b.submit(&page, &f, None).await;
        statuses.push(page.status);
    }
    assert_eq!(statuses[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    // Even the right password waits now.
    let mut f = page.form();
    f.set("email", &st.email).set("password", oauth::PASSWORD);
    assert_eq!(b.submit(&page, &f, None).await.status, StatusCode::TOO_MANY_REQUESTS);
    let (_, ev) = s.get("/audit-events?action=user.sign_in_failed").await;
    assert_eq!(
        ev["events"].as_array().unwrap().len(),
        10,
        "throttled attempts never reach the password check"
    );
}
