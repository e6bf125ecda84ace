//! Ex-members and downgraded users lose delegated access (THREAT-MODEL: "ex-member /
//! downgraded user"): an organization scope holds only while the user still belongs to the
//! granted organization and has the mapped permission there — re-checked by the gateway,
//! introspection, userinfo and the refresh grant alike.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, Setup};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `acme`'s `read` is an organization scope mapped to `projects:view`; the user is a member
/// of "Acme Inc" with that permission. Returns the organization id.
async fn org_scope(s: &TestServer, st: &Setup) -> String {
    let (_, org) = s.post("/organizations", json!({"name": "Acme Inc"})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (status, m) = s
        .post(
            &format!("/organizations/{org_id}/memberships"),
            json!({"user_id": st.user_id, "permissions": ["projects:view"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let (status, app) = s
        .post(
            "/oauth/apps/acme/scopes/read/mapping",
            json!({"category": "organization", "organization_permission": "projects:view"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{app}");
    org_id
}

async fn check(s: &TestServer, token: &str) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(format!("{}/v1/authz/check", s.base))
        .bearer_auth(&s.api_key)
        .json(&json!({"principal": {"type": "oauth_access_token", "value": token}, "resource": "https://api.acme.test", "method": "GET", "required_permissions": ["read"]}))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

async fn refresh(s: &TestServer, st: &Setup, token: &str) -> (StatusCode, Value) {
    let url = format!("{}/oauth/token", st.issuer);
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    let (status, body, _) = oauth::post(s, &url, Some((&st.client_id, &st.client_secret)), &form).await;
    (status, body)
}

#[tokio::test]
async fn a_removed_member_keeps_nothing_of_an_organization_grant() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let org_id = org_scope(&s, &st).await;
    let t = oauth::token_response(&s, &st, &mut Browser::new(), "openid read", None).await;
    let (at, rt) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());
    let (status, r) = check(&s, at).await;
    assert_eq!((status, r["allowed"].as_bool()), (StatusCode::OK, Some(true)), "{r}");
    assert_eq!(r["identity"]["organization_id"], org_id);

    let (status, _) = s.delete(&format!("/organizations/{org_id}/memberships/{}", st.user_id)).await;
    assert!(status.is_success(), "{status}");

    let (status, r) = check(&s, at).await;
    assert_eq!(
        (status, r["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("grant_revoked")),
        "{r}"
    );
    assert!(r.get("identity").is_none(), "no organization identity for an ex-member: {r}");
    assert_eq!(oauth::introspect(&s, &st, at).await, json!({"active": false}));
    assert_eq!(oauth::introspect(&s, &st, rt).await, json!({"active": false}));
    let (status, _, h) = oauth::userinfo(&s, &st, at).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(h["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let (status, body) = refresh(&s, &st, rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn a_downgraded_member_loses_the_scope_that_needed_the_permission() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let org_id = org_scope(&s, &st).await;
    let t = oauth::token_response(&s, &st, &mut Browser::new(), "read", None).await;
    let (at, rt) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());
    assert_eq!(oauth::introspect(&s, &st, at).await["scope"], "read");

    let (status, m) = s
        .patch(
            &format!("/organizations/{org_id}/memberships/{}", st.user_id),
            json!({"permissions": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");

    // Still a member, but `read` no longer holds: nothing is left, so the token is refused.
    let (status, r) = check(&s, at).await;
    assert_eq!(
        (status, r["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("grant_revoked")),
        "{r}"
    );
    assert_eq!(oauth::introspect(&s, &st, at).await["active"], false);
    let (status, body) = refresh(&s, &st, rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
}
