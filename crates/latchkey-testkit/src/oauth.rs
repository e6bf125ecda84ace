//! OAuth flow helpers for tests: an app with a confidential client and a user, PKCE, the
//! authorization request driven through the hosted pages by [`Browser`], and token calls.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::TestServer;
use crate::browser::{Browser, Page};

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "https://app.example.com/callback";

#[derive(Clone)]
pub struct Setup {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub client_record_id: String,
    pub user_id: String,
    pub email: String,
}

/// App `acme` (scopes read, write, with display names) + a confidential client + a user.
pub async fn setup(s: &TestServer) -> Setup {
    let (st, _) = s
        .post(
            "/oauth/apps",
            json!({
                "slug": "acme", "name": "Acme",
                "supported_scopes": ["read", "write"],
                "scope_definitions": [
                    {"scope": "read", "display_name": "Read your projects", "description": "List and open projects."},
                    {"scope": "write", "display_name": "Change your projects", "description": "Create and edit projects."}
                ]
            }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let client = client(s, json!({})).await;
    let (st, user) = s
        .post(
            "/users",
            json!({"email": "ada@example.com", "name": "Ada Lovelace", "given_name": "Ada", "password": PASSWORD, "email_verified": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    Setup {
        issuer: format!("{}/a/acme", s.base),
        client_id: client["client_id"].as_str().unwrap().to_owned(),
        client_secret: client["client_secret"].as_str().unwrap_or_default().to_owned(),
        client_record_id: client["id"].as_str().unwrap().to_owned(),
        user_id: user["id"].as_str().unwrap().to_owned(),
        email: "ada@example.com".into(),
    }
}

/// A client of `acme`: client_secret_basic with refresh tokens, patched with `overrides`.
pub async fn client(s: &TestServer, overrides: Value) -> Value {
    let mut body = json!({
        "client_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [REDIRECT, "http://127.0.0.1/cb"],
        "post_logout_redirect_uris": ["https://app.example.com/logged-out"],
        "client_name": "Example App",
    });
    for (k, v) in overrides.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, c) = s.post("/oauth/apps/acme/clients", body).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    c
}

pub fn pkce() -> (String, String) {
    let verifier = latchkey_core::crypto::b64url(&latchkey_core::crypto::random_bytes::<32>());
    let challenge = latchkey_core::crypto::b64url(&latchkey_core::crypto::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_url(issuer: &str, params: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{issuer}/oauth/authorize?{q}")
}

/// The standard request parameters plus `extra`.
pub fn request(client_id: &str, challenge: &str, scope: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut p: Vec<(&'static str, String)> = vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", scope.into()),
        ("state", "st-123".into()),
        ("nonce", "n-456".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ];
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k, (*v).to_owned()));
    }
    p
}

pub fn url_of(issuer: &str, params: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    authorize_url(issuer, &pairs)
}

/// Query parameters of a URL.
pub fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Runs the browser through authorize → sign-in (if shown) → consent (approve, first choice, if
/// shown); returns the final page (a redirect to the client, normally).
pub async fn authorize(b: &mut Browser, s: &TestServer, url: &str, email: &str) -> Page {
    let mut page = b.goto(url, &s.base).await;
    for _ in 0..3 {
        if page.status.is_redirection() || !page.has_form() {
            return page;
        }
        let mut form = page.form();
        page = if form.get("password").is_some() {
            form.set("email", email).set("password", PASSWORD);
            b.submit_follow(&page, &form, None, &s.base).await
        } else {
            b.submit_follow(&page, &form, Some("approve"), &s.base).await
        };
    }
    page
}

/// The token response of the whole flow for `scope`, bound to `resource` (RFC 8707) when
/// given: authorize → hosted sign-in and consent → code exchange.
pub async fn token_response(s: &TestServer, st: &Setup, b: &mut Browser, scope: &str, resource: Option<&str>) -> Value {
    let (verifier, challenge) = pkce();
    let extra: Vec<(&'static str, &str)> = resource.map(|r| ("resource", r)).into_iter().collect();
    let code = code(
        b,
        s,
        &url_of(&st.issuer, &request(&st.client_id, &challenge, scope, &extra)),
        &st.email,
    )
    .await;
    let (status, t) = exchange(s, st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

/// Completes the whole flow and returns the code from the redirect.
pub async fn code(b: &mut Browser, s: &TestServer, url: &str, email: &str) -> String {
    let page = authorize(b, s, url, email).await;
    let loc = page
        .location()
        .unwrap_or_else(|| panic!("expected a redirect, got {} {}", page.status, page.body));
    assert!(loc.starts_with(REDIRECT), "{loc}");
    let q = query(&loc);
    q.get("code").cloned().unwrap_or_else(|| panic!("no code in {loc}"))
}

/// POSTs a form to an issuer endpoint with HTTP Basic client credentials (or none).
pub async fn post(
    s: &TestServer,
    url: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let mut req = s
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

pub async fn exchange(s: &TestServer, st: &Setup, code: &str, verifier: &str) -> (StatusCode, Value) {
    let (status, body, _) = post(
        s,
        &format!("{}/oauth/token", st.issuer),
        Some((&st.client_id, &st.client_secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    (status, body)
}

pub async fn introspect(s: &TestServer, st: &Setup, token: &str) -> Value {
    let (status, body, _) = post(
        s,
        &format!("{}/oauth/introspect", st.issuer),
        Some((&st.client_id, &st.client_secret)),
        &[("token", token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub async fn userinfo(s: &TestServer, st: &Setup, token: &str) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let resp = s
        .http
        .get(format!("{}/oauth/userinfo", st.issuer))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}
