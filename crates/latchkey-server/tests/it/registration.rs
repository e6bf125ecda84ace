//! Dynamic client registration (RFC 7591) and management (RFC 7592): 201 with the
//! registration credentials, the RFC error codes, token-protected management, the
//! initial-access-token policy, the per-IP rate limit, reaping, and a registered public
//! native client completing the code flow.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn app_with_dcr(s: &TestServer) -> String {
    let st = oauth::setup(s).await;
    let (status, app) = s
        .patch("/oauth/apps/acme", json!({"allow_dynamic_client_registration": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{app}");
    st.issuer
}

async fn register(s: &TestServer, issuer: &str, body: Value, bearer: Option<&str>) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = s.http.post(format!("{issuer}/oauth/register")).json(&body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

fn mcp_client() -> Value {
    json!({
        "client_name": "MCP client", "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"], "application_type": "native", "scope": "read"
    })
}

#[tokio::test]
async fn registration_is_advertised_only_when_allowed() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let m: Value = reqwest::get(format!("{}/.well-known/oauth-authorization-server", st.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(m.get("registration_endpoint").is_none());
    let (status, _, _) = register(&s, &st.issuer, mcp_client(), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.patch("/oauth/apps/acme", json!({"allow_dynamic_client_registration": true}))
        .await;
    let m: Value = reqwest::get(format!("{}/.well-known/oauth-authorization-server", st.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["registration_endpoint"], format!("{}/oauth/register", st.issuer));
}

#[tokio::test]
async fn register_read_update_delete() {
    let s = TestServer::start().await;
    let issuer = app_with_dcr(&s).await;
    let (status, c, h) = register(&s, &issuer, mcp_client(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_eq!(h["cache-control"], "no-store");
    let client_id = c["client_id"].as_str().unwrap().to_owned();
    assert!(c.get("client_secret").is_none(), "public client: no secret");
    assert_eq!(c["token_endpoint_auth_method"], "none");
    assert_eq!(c["redirect_uris"], json!(["http://127.0.0.1:33418/callback"]));
    assert_eq!(c["application_type"], "native");
    assert_eq!(c["client_name"], "MCP client");
    assert!(c["client_id_issued_at"].is_number());
    let rat = c["registration_access_token"].as_str().unwrap().to_owned();
    assert!(rat.starts_with("lk_rat_"));
    let uri = c["registration_client_uri"].as_str().unwrap().to_owned();
    assert_eq!(uri, format!("{issuer}/oauth/register/{client_id}"));

    // Confidential clients get a secret that does not expire.
    let (status, conf, _) = register(
        &s,
        &issuer,
        json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": "Web"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(conf["client_secret"].as_str().unwrap().starts_with("lk_cs_"));
    assert_eq!(conf["client_secret_expires_at"], 0);
    assert_eq!(conf["token_endpoint_auth_method"], "client_secret_basic");

    // RFC 7592: read with the token; wrong or missing token is 401 invalid_token.
    let get = |token: Option<String>, url: String| {
        let http = s.http.clone();
        async move {
            let mut req = http.get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.unwrap();
            let (status, h) = (r.status(), r.headers().clone());
            (status, r.json::<Value>().await.unwrap_or(Value::Null), h)
        }
    };
    let (status, read, _) = get(Some(rat.clone()), uri.clone()).await;
    assert_eq!((status, read["client_id"].as_str()), (StatusCode::OK, Some(client_id.as_str())));
    assert!(read.get("registration_access_token").is_none());
    let (status, e, h) = get(None, uri.clone()).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let other_rat = conf["registration_access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        get(Some(other_rat), uri.clone()).await.0,
        StatusCode::UNAUTHORIZED,
        "another client's token"
    );

    // PUT replaces the metadata (fields left out return to defaults).
    let mut update = mcp_client();
    update["client_id"] = json!(client_id);
    update["client_name"] = json!("Renamed");
    update["redirect_uris"] = json!(["http://127.0.0.1:33418/callback", "http://[::1]:33418/callback"]);
    let r = s.http.put(&uri).bearer_auth(&rat).json(&update).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["client_name"].as_str(), body["redirect_uris"].as_array().unwrap().len()),
        (Some("Renamed"), 2)
    );
    let mut wrong_id = update.clone();
    wrong_id["client_id"] = json!("lkc_someone_else");
    assert_eq!(
        s.http.put(&uri).bearer_auth(&rat).json(&wrong_id).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let mut bad_uri = update.clone();
    bad_uri["redirect_uris"] = json!(["http://evil.example/cb"]);
    let r = s.http.put(&uri).bearer_auth(&rat).json(&bad_uri).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_redirect_uri");

    // The operator sees the client, registered dynamically.
    let (_, listed) = s.get(&format!("/oauth/apps/acme/clients/{client_id}")).await;
    assert_eq!(listed["registration"], "dynamic");
    assert_eq!(listed["client_name"], "Renamed");

    // DELETE deactivates it; its token stops working.
    let r = s.http.delete(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(Some(rat), uri).await.0, StatusCode::UNAUTHORIZED);
    let (_, listed) = s.get(&format!("/oauth/apps/acme/clients/{client_id}")).await;
    assert_eq!(listed["is_active"], false);
    let (_, ev) = s.get(&format!("/audit-events?client_id={client_id}&action=client.")).await;
    let actions: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["client.registration_deleted", "client.registration_updated", "client.registered"]
    );
}

#[tokio::test]
async fn registration_errors_use_the_rfc_codes() {
    let s = TestServer::start().await;
    let issuer = app_with_dcr(&s).await;
    for (body, code) in [
        (json!({"client_name": "no redirects"}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["http://evil.example/cb"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["https://a.example/cb#frag"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["com.example.app:/cb"]}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "magic"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "jwks_uri": "https://a.example/jwks"}),
            "invalid_client_metadata",
        ),
    ] {
        let (status, e, _) = register(&s, &issuer, body.clone(), None).await;
        assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{body}");
    }
    // A native app may use a private-use scheme.
    let (status, _, _) = register(
        &s,
        &issuer,
        json!({"redirect_uris": ["com.example.app:/cb"], "application_type": "native", "token_endpoint_auth_method": "none"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let r = s
        .http
        .post(format!("{issuer}/oauth/register"))
        .body("{}")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn initial_access_tokens_when_the_app_requires_them() {
    let s = TestServer::start().await;
    let issuer = app_with_dcr(&s).await;
    s.patch("/oauth/apps/acme", json!({"dcr_require_initial_access_token": true})).await;
    let (status, e, _) = register(&s, &issuer, mcp_client(), None).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
    let (status, t) = s
        .post(
            "/oauth/apps/acme/initial-access-tokens",
            json!({"name": "partner", "expires_in_seconds": 3600}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let token = t["initial_access_token"].as_str().unwrap().to_owned();
    // Refused metadata with a good token: 400, and the token's use is not counted.
    let (status, e, _) = register(&s, &issuer, json!({"redirect_uris": ["http://app.example/cb"]}), Some(&token)).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_redirect_uri")),
        "{e}"
    );
    assert_eq!(register(&s, &issuer, mcp_client(), Some(&token)).await.0, StatusCode::CREATED);
    s.post_empty(&format!(
        "/oauth/apps/acme/initial-access-tokens/{}/revoke",
        t["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(register(&s, &issuer, mcp_client(), Some(&token)).await.0, StatusCode::UNAUTHORIZED);
    let (_, list) = s.get("/oauth/apps/acme/initial-access-tokens").await;
    assert_eq!(list["initial_access_tokens"][0]["uses"], 1);
    assert!(!list.to_string().contains(&token));
}

#[tokio::test]
async fn registrations_are_rate_limited_per_address() {
    let s = TestServer::start().await;
    let issuer = app_with_dcr(&s).await;
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(register(&s, &issuer, mcp_client(), None).await.0);
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    assert!(created <= 20, "{created} registrations in a burst");
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn spoofed_forwarded_for_does_not_escape_the_registration_limit() {
    // No trusted proxies are configured: X-Forwarded-For is the client's own say-so.
    let s = TestServer::start().await;
    let issuer = app_with_dcr(&s).await;
    let mut created = 0;
    for i in 0..25 {
        let resp = s
            .http
            .post(format!("{issuer}/oauth/register"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&mcp_client())
            .send()
            .await
            .unwrap();
        created += usize::from(resp.status() == StatusCode::CREATED);
    }
    assert!(created <= 20, "{created} registrations with a new X-Forwarded-For each");
}

#[tokio::test]
async fn never_used_registrations_are_reaped() {
    let s = TestServer::start().await;
    let issuer = app_with_dcr(&s).await;
    let (_, unused, _) = register(&s, &issuer, mcp_client(), None).await;
    let (_, used, _) = register(&s, &issuer, mcp_client(), None).await;
    let mut b = Browser::new();
    let (_, challenge) = oauth::pkce();
    let url = oauth::authorize_url(
        &issuer,
        &[
            ("response_type", "code"),
            ("client_id", used["client_id"].as_str().unwrap()),
            ("redirect_uri", "http://127.0.0.1:5555/callback"),
            ("scope", "read"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let page = oauth::authorize(&mut b, &s, &url, "ada@example.com").await;
    assert!(
        page.location().unwrap().starts_with("http://127.0.0.1:5555/callback?code="),
        "loopback port is free for native apps"
    );
    s.clock.advance_seconds(8 * 24 * 3600);
    let reaped = s
        .state
        .store
        .reap_unused_registrations(latchkey_core::Clock::now(&s.clock).plus_seconds(-7 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(reaped, 1);
    let (status, _) = s
        .get(&format!("/oauth/apps/acme/clients/{}", unused["client_id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .get(&format!("/oauth/apps/acme/clients/{}", used["client_id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Deleting the used registration revokes its grant, audited per grant like every revocation.
    let r = s
        .http
        .delete(used["registration_client_uri"].as_str().unwrap())
        .bearer_auth(used["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, ev) = s.get("/audit-events?action=grant.revoked").await;
    let revoked = &ev["events"][0];
    assert_eq!(revoked["client_id"], used["client_id"], "{ev}");
    assert_eq!(revoked["details"]["reason"], "client deregistered", "{ev}");
}

#[tokio::test]
async fn hosted_resource_servers_get_rfc_9728_metadata() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let identifier = format!("{}/mcp/acme", s.base);
    let (status, _) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": identifier, "name": "Acme MCP", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let r = reqwest::get(format!("{}/.well-known/oauth-protected-resource/mcp/acme", s.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["resource"], identifier);
    assert_eq!(m["authorization_servers"], json!([st.issuer]), "exactly the issuer string");
    assert_eq!(m["scopes_supported"], json!(["read"]));
    assert_eq!(m["bearer_methods_supported"], json!(["header"]));
    let r = reqwest::get(format!("{}/.well-known/oauth-protected-resource/unknown", s.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
