//! Introspection (RFC 7662) is not an oracle: only confidential clients may ask, a client
//! learns about its own tokens only, a resource server about access tokens meant for it, and
//! a user's e-mail is disclosed only to a token holding the `email` scope.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, Setup};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn introspect_as(s: &TestServer, st: &Setup, who: (&str, Option<&str>), token: &str) -> (StatusCode, Value) {
    let url = format!("{}/oauth/introspect", st.issuer);
    let (status, body, _) = match who {
        (id, Some(secret)) => oauth::post(s, &url, Some((id, secret)), &[("token", token)]).await,
        (id, None) => oauth::post(s, &url, None, &[("token", token), ("client_id", id)]).await,
    };
    (status, body)
}

#[tokio::test]
async fn a_public_client_cannot_introspect_anyones_tokens() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let t = oauth::token_response(&s, &st, &mut b, "read", None).await;
    // Anyone can become a public client (dynamic registration); it must learn nothing.
    let public = oauth::client(
        &s,
        json!({"client_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1/cb"]}),
    )
    .await;
    for kind in ["access_token", "refresh_token"] {
        let (status, body) = introspect_as(&s, &st, (public["client_id"].as_str().unwrap(), None), t[kind].as_str().unwrap()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{kind}: {body}"
        );
        assert!(body.get("active").is_none() && body.get("username").is_none(), "{body}");
    }
    let meta: Value = s
        .http
        .get(format!("{}/.well-known/oauth-authorization-server", st.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let methods = meta["introspection_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(!methods.is_empty() && !methods.contains(&json!("none")), "{methods:?}");
    assert!(
        meta["revocation_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
}

#[tokio::test]
async fn a_client_cannot_introspect_another_clients_tokens() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let mut b = Browser::new();
    let t = oauth::token_response(&s, &st, &mut b, "read", None).await;
    let other = oauth::client(&s, json!({})).await;
    let other = (other["client_id"].as_str().unwrap(), other["client_secret"].as_str());
    for kind in ["access_token", "refresh_token"] {
        let token = t[kind].as_str().unwrap();
        let (status, body) = introspect_as(&s, &st, other, token).await;
        assert_eq!(
            (status, &body),
            (StatusCode::OK, &json!({"active": false})),
            "{kind} to another client"
        );
        let (_, body) = introspect_as(&s, &st, (&st.client_id, Some(&st.client_secret)), token).await;
        assert_eq!(body["active"], true, "{kind} to its own client");
    }
}

#[tokio::test]
async fn a_resource_server_cannot_introspect_refresh_tokens() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (_, rs) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/rest"}),
        )
        .await;
    let (_, creds) = s
        .post_empty(&format!(
            "/oauth/apps/acme/resource-servers/{}/rotate-secret",
            rs["id"].as_str().unwrap()
        ))
        .await;
    let rs = (creds["introspection_client_id"].as_str().unwrap(), creds["client_secret"].as_str());
    let mut b = Browser::new();
    let t = oauth::token_response(&s, &st, &mut b, "read", None).await;
    let (_, body) = introspect_as(&s, &st, rs, t["access_token"].as_str().unwrap()).await;
    assert_eq!(body["active"], true, "an access token it may accept: {body}");
    let (status, body) = introspect_as(&s, &st, rs, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, &body),
        (StatusCode::OK, &json!({"active": false})),
        "a refresh token is its client's business"
    );
}

#[tokio::test]
async fn introspection_discloses_the_email_only_with_the_email_scope() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let me = (st.client_id.as_str(), Some(st.client_secret.as_str()));
    let mut b = Browser::new();
    let without = oauth::token_response(&s, &st, &mut b, "read", None).await;
    let (_, body) = introspect_as(&s, &st, me, without["access_token"].as_str().unwrap()).await;
    assert_eq!(body["active"], true);
    assert!(body.get("username").is_none(), "no email scope, no email: {body}");
    let with = oauth::token_response(&s, &st, &mut Browser::new(), "read email", None).await;
    let (_, body) = introspect_as(&s, &st, me, with["access_token"].as_str().unwrap()).await;
    assert_eq!(body["username"], st.email, "{body}");
}
