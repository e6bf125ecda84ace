//! `POST /v1/authz/check`: the wire format, every deny reason with its status, live
//! revocation through the cache, rate limits, anonymous checks, audit aggregation, metrics.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, Setup};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An access token for `scope` (optionally bound to `resource`) from the full flow.
async fn token(s: &TestServer, st: &Setup, b: &mut Browser, scope: &str, resource: Option<&str>) -> Value {
    oauth::token_response(s, st, b, scope, resource).await
}

async fn check_as(s: &TestServer, key: Option<&str>, body: Value) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = s.http.post(format!("{}/v1/authz/check", s.base)).json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

async fn check(s: &TestServer, token: &str, resource: &str, perms: &[&str]) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    check_as(
        s,
        Some(&s.api_key),
        json!({"principal": {"type": "oauth_access_token", "value": token}, "resource": resource, "method": "GET", "required_permissions": perms}),
    )
    .await
}

async fn setup(s: &TestServer) -> Setup {
    let st = oauth::setup(s).await;
    let (status, _) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/mcp", "aliases": ["mcp"], "scopes": ["read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    st
}

#[tokio::test]
async fn an_allowed_check_has_the_sdk_wire_shape() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "read write", Some("https://api.acme.test/mcp")).await;
    let at = t["access_token"].as_str().unwrap();
    let (status, r, h) = check(&s, at, "mcp", &["read"]).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(h["cache-control"], "no-store");
    assert!(!r["request_id"].as_str().unwrap().is_empty());
    assert_eq!(r["allowed"], true);
    assert!(r["reason"].is_null() && r["blocked_rule"].is_null() && r["retry_after"].is_null());
    let id = &r["identity"];
    assert_eq!(id["key_id"], st.client_record_id);
    assert_eq!(id["key_name"], st.client_id);
    assert_eq!(id["app_slug"], "acme");
    assert_eq!(id["deployment_id"], "1");
    assert_eq!(id["owner_user_id"], st.user_id);
    assert_eq!(id["principal_type"], "oauth_access_token");
    assert!(id["organization_id"].is_null());
    assert_eq!(r["permissions"], json!(["read", "write"]));
    let m = &r["metadata"];
    assert_eq!(m["principal_type"], "oauth_access_token");
    assert_eq!(m["scopes"], json!(["read", "write"]));
    assert_eq!(m["oauth_resource"], "https://api.acme.test/mcp");
    assert_eq!(m["granted_resource"], format!("urn:latchkey:user:{}", st.user_id));
    assert!(latchkey_core::Timestamp::parse_rfc3339(m["expires_at"].as_str().unwrap()).is_some());
    assert_eq!(m["client_id"], st.client_id);
    assert_eq!(m["issuer"], st.issuer);
    assert!(m["grant_id"].is_string());
    assert_eq!(r["rate_limits"], json!([]));
    let h = &r["headers"];
    for k in [
        "x-wacht-oauth-client-id",
        "x-wacht-granted-resource",
        "x-wacht-oauth-issuer",
        "x-wacht-principal-type",
        "x-wacht-deployment-id",
        "x-wacht-scopes",
        "x-wacht-permissions",
    ] {
        assert!(h[k].is_string(), "{k}");
    }
    assert_eq!(h["x-wacht-oauth-client-id"], st.client_id);
    assert_eq!(h["x-wacht-scopes"], "read write");
    // The canonical identifier works as well as the alias.
    assert_eq!(check(&s, at, "https://api.acme.test/mcp", &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn every_deny_reason_with_its_status() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let mut b = Browser::new();
    let reason = |r: &Value| r["reason"].as_str().unwrap_or("").to_owned();

    // Malformed requests: 400 with a message.
    for bad in [
        json!({"principal": {"type": "oauth_access_token"}, "resource": "mcp", "method": "GET"}),
        json!({"principal": {"type": "oauth_access_token", "value": "x"}, "resource": "", "method": "GET"}),
        json!({"principal": {"type": "oauth_access_token", "value": "x"}, "resource": "mcp", "method": "get me"}),
        json!({"principal": {"type": "api_key", "value": "x"}, "resource": "mcp", "method": "GET"}),
        json!({"principal": {"type": "session", "value": "x"}, "resource": "mcp", "method": "GET"}),
        json!("not an object"),
    ] {
        let (status, r, _) = check_as(&s, Some(&s.api_key), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // No key (and anonymous checks are off by default), or a bad key: 401.
    let t = token(&s, &st, &mut b, "read", None).await;
    let at = t["access_token"].as_str().unwrap().to_owned();
    let body = json!({"principal": {"type": "oauth_access_token", "value": at}, "resource": "mcp", "method": "GET"});
    assert_eq!(check_as(&s, None, body.clone()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        check_as(&s, Some("lk_api_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), body.clone())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    let (status, r, _) = check(&s, "garbage", "mcp", &[]).await;
    assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, "malformed".into()));
    let (status, r, _) = check(&s, "lk_at_nonexistentnonexistentnonexistentnonexis", "mcp", &[]).await;
    assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, "unknown_token".into()));
    assert!(r["request_id"].is_string() && r["allowed"] == false);

    // Permission denied: 200, allowed false, the missing permissions in the metadata.
    let (status, r, _) = check(&s, &at, "mcp", &["read", "admin"]).await;
    assert_eq!(
        (status, r["allowed"].as_bool(), reason(&r)),
        (StatusCode::OK, Some(false), "permission_denied".into())
    );
    assert_eq!(r["metadata"]["missing_permissions"], json!(["admin"]));
    assert!(r["identity"].is_object(), "the SDK needs identity on every 2xx");

    // Resource mismatch: a token bound to mcp elsewhere; an unbound token at a server requiring binding.
    let bound = token(&s, &st, &mut b, "read", Some("https://api.acme.test/mcp")).await;
    let bound_at = bound["access_token"].as_str().unwrap();
    let (status, r, _) = check(&s, bound_at, "https://api.other.test/", &[]).await;
    assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, "resource_mismatch".into()));
    s.post(
        "/oauth/apps/acme/resource-servers",
        json!({"identifier": "https://api.acme.test/admin", "aliases": ["admin"], "require_binding": true}),
    )
    .await;
    let (status, r, _) = check(&s, &at, "admin", &[]).await;
    assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, "resource_mismatch".into()));
    assert_eq!(
        check(&s, &at, "/v1/anything", &[]).await.0,
        StatusCode::OK,
        "unbound tokens go anywhere else"
    );

    // Wrong tenant: another deployment's key.
    let (other_key, rec) = latchkey_server::services::secrets::api_key(&s.state.hasher, "other", None);
    s.state.store.create_deployment("other", &rec).await.unwrap();
    let (status, r, _) = check_as(&s, Some(other_key.expose()), body.clone()).await;
    assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, "wrong_tenant".into()));

    // Revoked (RFC 7009), then the rest, each flipping the very next check.
    let revoke_url = format!("{}/oauth/revoke", st.issuer);
    let t2 = token(&s, &st, &mut b, "read", None).await;
    let at2 = t2["access_token"].as_str().unwrap();
    assert_eq!(check(&s, at2, "mcp", &[]).await.0, StatusCode::OK);
    oauth::post(&s, &revoke_url, Some((&st.client_id, &st.client_secret)), &[("token", at2)]).await;
    assert_eq!(reason(&check(&s, at2, "mcp", &[]).await.1), "revoked");

    let cases: Vec<(&str, &str)> = vec![
        ("grant_revoked", "grant"),
        ("client_deactivated", "client"),
        ("app_disabled", "app"),
        ("user_disabled", "user"),
        ("session_ended", "logout"),
    ];
    for (expected, action) in cases {
        let t = token(&s, &st, &mut b, "openid read", None).await;
        let at = t["access_token"].as_str().unwrap();
        assert_eq!(check(&s, at, "mcp", &[]).await.0, StatusCode::OK, "{action}: cached as good first");
        match action {
            "grant" => {
                let gid = oauth::introspect(&s, &st, at).await["grant_id"].as_str().unwrap().to_owned();
                s.post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{gid}/revoke", st.client_id))
                    .await;
            }
            "client" => {
                s.delete(&format!("/oauth/apps/acme/clients/{}", st.client_id)).await;
            }
            "app" => {
                s.patch("/oauth/apps/acme", json!({"is_active": false})).await;
            }
            "user" => {
                s.patch(&format!("/users/{}", st.user_id), json!({"is_active": false})).await;
            }
            _ => {
                let logout = format!("{}/oauth/logout?id_token_hint={}", st.issuer, t["id_token"].as_str().unwrap());
                assert_eq!(b.get(&logout).await.status, StatusCode::OK);
            }
        }
        let (status, r, _) = check(&s, at, "mcp", &[]).await;
        assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, expected.to_owned()), "{action}");
        // Undo, so the next case starts from a working setup.
        match action {
            "client" => {
                s.post_empty(&format!("/oauth/apps/acme/clients/{}/reactivate", st.client_id)).await;
            }
            "app" => {
                s.patch("/oauth/apps/acme", json!({"is_active": true})).await;
            }
            "user" => {
                s.patch(&format!("/users/{}", st.user_id), json!({"is_active": true})).await;
            }
            _ => {}
        }
    }

    // Expired, by the clock.
    let t = token(&s, &st, &mut b, "read", None).await;
    s.clock.advance_seconds(3601);
    let (status, r, _) = check(&s, t["access_token"].as_str().unwrap(), "mcp", &[]).await;
    assert_eq!((status, reason(&r)), (StatusCode::UNAUTHORIZED, "expired".into()));
}

#[tokio::test]
async fn archiving_and_remapping_scopes_flip_the_next_check() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let (_, org) = s.post("/organizations", json!({"name": "Acme Inc"})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    s.post(
        &format!("/organizations/{org_id}/memberships"),
        json!({"user_id": st.user_id, "permissions": ["projects:edit"]}),
    )
    .await;
    s.post(
        "/oauth/apps/acme/scopes/write/mapping",
        json!({"category": "organization", "organization_permission": "projects:edit"}),
    )
    .await;
    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "write", None).await;
    let at = t["access_token"].as_str().unwrap();
    let (status, r, _) = check(&s, at, "mcp", &["projects:edit"]).await;
    assert_eq!((status, r["allowed"].as_bool()), (StatusCode::OK, Some(true)), "{r}");
    assert_eq!(r["identity"]["organization_id"], org_id);
    assert!(r["identity"]["organization_membership_id"].is_string());
    assert_eq!(r["permissions"], json!(["write", "projects:edit"]));

    // The user loses the permission in the organization: the organization scope that needed
    // it no longer holds, and with no scope left the token is refused at once.
    s.patch(
        &format!("/organizations/{org_id}/memberships/{}", st.user_id),
        json!({"permissions": []}),
    )
    .await;
    let (status, r, _) = check(&s, at, "mcp", &["projects:edit"]).await;
    assert_eq!(
        (status, r["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("grant_revoked")),
        "{r}"
    );
    s.patch(
        &format!("/organizations/{org_id}/memberships/{}", st.user_id),
        json!({"permissions": ["projects:edit"]}),
    )
    .await;
    assert_eq!(check(&s, at, "mcp", &["projects:edit"]).await.1["allowed"], true);

    // Remapping the scope to a permission the user does not have: it no longer holds either.
    s.post(
        "/oauth/apps/acme/scopes/write/mapping",
        json!({"category": "organization", "organization_permission": "projects:admin"}),
    )
    .await;
    let (status, r, _) = check(&s, at, "mcp", &["projects:edit"]).await;
    assert_eq!(
        (status, r["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("grant_revoked")),
        "{r}"
    );
    // Archiving the scope: it no longer maps to anything.
    s.post(
        "/oauth/apps/acme/scopes/write/mapping",
        json!({"category": "organization", "organization_permission": "projects:edit"}),
    )
    .await;
    assert_eq!(check(&s, at, "mcp", &["projects:edit"]).await.1["allowed"], true);
    s.post_empty("/oauth/apps/acme/scopes/write/archive").await;
    let (_, r, _) = check(&s, at, "mcp", &["projects:edit"]).await;
    assert_eq!(r["reason"], "permission_denied");
}

#[tokio::test]
async fn rate_limits_report_rules_and_seconds_to_wait() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let (status, rule) = s
        .post(
            "/oauth/apps/acme/rate-limits",
            json!({"name": "burst", "scope": "client", "window_seconds": 60, "max_requests": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "read", None).await;
    let at = t["access_token"].as_str().unwrap();
    let (status, r, h) = check(&s, at, "mcp", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["rate_limits"], json!([{"rule": "client:burst", "remaining": 1, "limit": 2}]));
    assert_eq!(h["x-ratelimit-limit"], "2");
    assert_eq!(h["x-ratelimit-remaining"], "1");
    // Denied permission checks are not counted.
    check(&s, at, "mcp", &["admin"]).await;
    assert_eq!(check(&s, at, "mcp", &[]).await.1["rate_limits"][0]["remaining"], 0);
    let (status, r, h) = check(&s, at, "mcp", &[]).await;
    assert_eq!(
        (status, r["allowed"].as_bool(), r["reason"].as_str()),
        (StatusCode::OK, Some(false), Some("rate_limited"))
    );
    assert_eq!(r["blocked_rule"], "client:burst");
    let wait = r["retry_after"].as_i64().unwrap();
    assert!((1..=60).contains(&wait), "seconds, not milliseconds: {wait}");
    assert_eq!(h["retry-after"], wait.to_string().as_str());
    assert!(r["identity"].is_object());
}

#[tokio::test]
async fn anonymous_checks_only_when_the_deployment_allows_them() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "read", None).await;
    let body = json!({"principal": {"type": "oauth_access_token", "value": t["access_token"]}, "resource": "mcp", "method": "GET"});
    let (status, r, _) = check_as(&s, None, body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(r["message"].as_str().unwrap().contains("fetch"));
    s.patch("/deployment", json!({"settings": {"allow_anonymous_gateway": true}})).await;
    assert_eq!(check_as(&s, None, body.clone()).await.0, StatusCode::OK);
    s.patch("/deployment", json!({"settings": {"allow_anonymous_gateway": false}}))
        .await;
    assert_eq!(check_as(&s, None, body).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failures_are_audited_in_aggregate_and_metrics_are_exported() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "read", None).await;
    let at = t["access_token"].as_str().unwrap();
    for i in 0..50 {
        check(&s, &format!("lk_at_{:0>43}", i), "mcp", &[]).await;
    }
    for _ in 0..3 {
        check(&s, at, "mcp", &["admin", "billing"]).await;
    }
    let gid = oauth::introspect(&s, &st, at).await["grant_id"].as_str().unwrap().to_owned();
    s.post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{gid}/revoke", st.client_id))
        .await;
    let seen_by_resource_server = json!({
        "principal": {"type": "oauth_access_token", "value": at}, "resource": "mcp", "method": "POST",
        "client_ip": "203.0.113.7", "user_agent": "claude-code/2.1"
    });
    check_as(&s, Some(&s.api_key), seen_by_resource_server).await;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(s.state.store.pool())
        .await
        .unwrap();
    s.state.telemetry.flush(&s.state.store).await;
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
        .fetch_one(s.state.store.pool())
        .await
        .unwrap();
    assert_eq!(after - before, 3, "50 garbage tokens make one event");

    let (_, ev) = s.get("/audit-events?action=gateway.verification_failed").await;
    let events = ev["events"].as_array().unwrap();
    let unknown = events.iter().find(|e| e["details"]["reason"] == "unknown_token").unwrap();
    assert_eq!(unknown["details"]["count"], 50);
    let revoked = events.iter().find(|e| e["details"]["reason"] == "grant_revoked").unwrap();
    assert_eq!(revoked["client_id"], st.client_id);
    let sample = &revoked["details"]["sample"];
    assert_eq!(sample["client_ip"], "203.0.113.7", "{revoked}");
    assert_eq!(sample["user_agent"], "claude-code/2.1", "{revoked}");
    assert_eq!(sample["method"], "POST", "{revoked}");
    let (_, ev) = s
        .get(&format!(
            "/audit-events?action=gateway.permission_denied&client_id={}",
            st.client_id
        ))
        .await;
    assert_eq!(ev["events"][0]["details"]["missing_permissions"], json!(["admin", "billing"]));
    assert_eq!(ev["events"][0]["details"]["count"], 3);

    // Grant last-used times are written by the flush, not on the check path.
    let (_, g) = s.get(&format!("/grants/{gid}")).await;
    assert!(g["last_used_at"].is_string());

    let metrics = reqwest::get(format!("{}/metrics", s.base)).await.unwrap().text().await.unwrap();
    for name in [
        "latchkey_gateway_checks_total",
        "latchkey_gateway_check_duration_seconds",
        "latchkey_gateway_cache_total",
        "latchkey_tokens_issued_total",
    ] {
        assert!(metrics.contains(name), "{name} in /metrics");
    }
}

/// Two replicas on one PostgreSQL database: a revocation on one reaches the other's cache
/// through LISTEN/NOTIFY, without waiting for the staleness bound.
#[tokio::test]
async fn revocations_reach_other_replicas() {
    if latchkey_testkit::backend() != "postgres" {
        eprintln!("skipped: replicas share state only on PostgreSQL (set LATCHKEY_TEST_DATABASE_URL)");
        return;
    }
    let a = TestServer::start().await;
    let st = setup(&a).await;
    let b = a.replica().await;
    let mut browser = Browser::new();
    let t = token(&a, &st, &mut browser, "read", None).await;
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(
        check(&b, at, "mcp", &[]).await.0,
        StatusCode::OK,
        "replica b caches the token as good"
    );
    let gid = oauth::introspect(&a, &st, at).await["grant_id"].as_str().unwrap().to_owned();
    a.post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{gid}/revoke", st.client_id))
        .await;
    // The notification travels asynchronously; it must arrive well before the 10 s bound.
    let started = std::time::Instant::now();
    loop {
        let (status, r, _) = check(&b, at, "mcp", &[]).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(r["reason"], "grant_revoked");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "replica b still allows a revoked grant"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_change_feed_pushes_every_change_and_ends_on_shutdown() {
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let url = format!("{}/v1/authz/changes", s.base);
    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let raw = s.http.get(&url).bearer_auth(&s.api_key).send().await.unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert!(raw.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    drop(raw);

    // Read through the SDK's reader, every wait bounded.
    let mut feed = s.sdk().gateway().changes().await.unwrap();
    let within = std::time::Duration::from_secs(10);
    let mut next = async || {
        tokio::time::timeout(within, feed.next_generation())
            .await
            .expect("an event within 10 s")
            .unwrap()
    };
    let first = next().await.expect("the current generation at once");

    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "read", None).await;
    let gid = oauth::introspect(&s, &st, t["access_token"].as_str().unwrap()).await["grant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{gid}/revoke", st.client_id))
        .await;
    let after = next().await.expect("a change event");
    assert_ne!(after, first, "the revocation moved the generation");

    s.state.stopping.send_replace(true);
    let mut ended = false;
    for _ in 0..5 {
        if next().await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the feed ends when the server stops");
}

#[tokio::test]
async fn jwt_access_tokens_are_checked_and_forgeries_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let s = TestServer::start().await;
    let st = setup(&s).await;
    let (status, c) = s
        .patch(
            &format!("/oauth/apps/acme/clients/{}", st.client_id),
            json!({"access_token_format": "jwt"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let mut b = Browser::new();
    let t = token(&s, &st, &mut b, "read", None).await;
    let jwt = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt.matches('.').count(), 2, "a JWT access token: {jwt}");

    let (status, ok, _) = check(&s, &jwt, "mcp", &["read"]).await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_eq!(ok["allowed"], true, "{ok}");
    assert_eq!(ok["identity"]["key_name"], st.client_id.as_str(), "{ok}");

    // The same jti with a widened scope keeps the original signature: not ours.
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("read write admin");
    let forged = format!("{}.{}.{}", parts[0], B64.encode(claims.to_string()), parts[2]);
    let (status, denied, _) = check(&s, &forged, "mcp", &[]).await;
    assert_eq!(
        (status, denied["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unknown_token")),
        "{denied}"
    );

    // Revocation applies to JWTs as to opaque tokens.
    let gid = oauth::introspect(&s, &st, &jwt).await["grant_id"].as_str().unwrap().to_owned();
    s.post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{gid}/revoke", st.client_id))
        .await;
    let (status, revoked, _) = check(&s, &jwt, "mcp", &[]).await;
    assert_eq!(
        (status, revoked["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("grant_revoked")),
        "{revoked}"
    );
}
