//! An axum resource server protected by `LatchkeyAuth`, on an ephemeral port, against a real
//! Latchkey server, driven over HTTP like an MCP client would.

use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use latchkey_axum::{LatchkeyAuth, Principal, ResourceConfig};
use latchkey_client::{LatchkeyClient, LatchkeyConfig};
use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::Setup;
use latchkey_testkit::resource;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the handlers report: the principal they were given and whether they saw the token.
async fn whoami(principal: Principal, headers: HeaderMap) -> axum::Json<Value> {
    axum::Json(json!({
        "user_id": principal.user_id,
        "client_id": principal.client_id,
        "scopes": principal.scopes,
        "permissions": principal.permissions,
        "granted_resource": principal.granted_resource,
        "oauth_resource": principal.oauth_resource,
        "expires_at": principal.expires_at.map(|e| e.unix_timestamp()),
        "authorization_header_seen": headers.contains_key("authorization"),
    }))
}

struct ResourceServer {
    /// `http://127.0.0.1:{port}`.
    base: String,
    /// The canonical URL: `{base}/mcp`.
    resource: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ResourceServer {
    async fn bind() -> (tokio::net::TcpListener, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        (listener, base)
    }

    /// Serves `app(auth)` on `listener`, `auth` checking tokens with `client` for the resource
    /// `{base}/mcp` of the issuer `issuer`.
    fn serve(
        listener: tokio::net::TcpListener,
        base: String,
        client: LatchkeyClient,
        issuer: &str,
        app: impl FnOnce(LatchkeyAuth) -> Router,
    ) -> Self {
        let resource = format!("{base}/mcp");
        let auth = LatchkeyAuth::new(
            client,
            ResourceConfig {
                scopes_supported: vec!["read".into(), "write".into()],
                resource_name: Some("Test MCP".into()),
                ..ResourceConfig::new(resource.clone(), issuer)
            },
        )
        .expect("config");
        let router = app(auth);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        ResourceServer { base, resource, task }
    }

    /// [`ResourceServer::serve`] on a fresh port.
    async fn start(client: LatchkeyClient, issuer: &str, app: impl FnOnce(LatchkeyAuth) -> Router) -> Self {
        let (listener, base) = Self::bind().await;
        Self::serve(listener, base, client, issuer, app)
    }
}

/// The usual routes: `/mcp` needs `read`, `/mcp/admin` needs `admin`, `/open` has no layer.
fn routes(auth: LatchkeyAuth) -> Router {
    Router::new()
        .route("/mcp", post(whoami).route_layer(auth.require(["read"])))
        .route("/mcp/admin", get(whoami).route_layer(auth.require(["admin"])))
        .route("/open", get(whoami))
        .merge(auth.metadata_router())
}

/// Latchkey with app `acme` and a resource server registered for the one this starts (its
/// URL, with the port, is registered before it serves).
async fn start(s: &TestServer, app: impl FnOnce(LatchkeyAuth) -> Router) -> (Setup, ResourceServer) {
    let (listener, base) = ResourceServer::bind().await;
    let st = resource::setup_with_resource(s, &format!("{base}/mcp"), None).await;
    let rs = ResourceServer::serve(listener, base, resource::client(s), &st.issuer, app);
    (st, rs)
}

async fn call(method: reqwest::Method, url: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let resp = req.send().await.expect("resource server answers");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn challenge(h: &HeaderMap) -> String {
    h.get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The value of `name="…"` in a challenge.
fn param(challenge: &str, name: &str) -> Option<String> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let len = challenge[start..].find('"')?;
    Some(challenge[start..start + len].to_owned())
}

#[tokio::test]
async fn a_protected_resource_as_mcp_clients_see_it() {
    let s = TestServer::start().await;
    let (st, rs) = start(&s, routes).await;
    let mcp = format!("{}/mcp", rs.base);

    // No token: 401 pointing at the metadata document, with the route's scope, no error code.
    let (status, h, _) = call(reqwest::Method::POST, &mcp, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let c = challenge(&h);
    assert!(c.starts_with("Bearer "), "{c}");
    assert_eq!(param(&c, "error"), None, "{c}");
    assert_eq!(param(&c, "scope").as_deref(), Some("read"));
    let metadata_url = param(&c, "resource_metadata").expect("resource_metadata");
    assert_eq!(metadata_url, format!("{}/.well-known/oauth-protected-resource/mcp", rs.base));
    let (status, h, doc) = call(reqwest::Method::GET, &metadata_url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(
        doc,
        json!({
            "resource": rs.resource,
            "authorization_servers": [st.issuer],
            "scopes_supported": ["read", "write"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Test MCP"
        })
    );
    // The issuer there is exactly the one the authorization server publishes.
    let (_, _, as_meta) = call(
        reqwest::Method::GET,
        &format!("{}/.well-known/oauth-authorization-server/a/acme", s.base),
        None,
    )
    .await;
    assert_eq!(as_meta["issuer"], doc["authorization_servers"][0]);

    // Another scheme is no bearer token.
    let (status, h, _) = call(reqwest::Method::POST, &mcp, Some("Basic YTpi")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(param(&challenge(&h), "error"), None);

    // Garbage: 401 invalid_token.
    let (status, h, body) = call(reqwest::Method::POST, &mcp, Some("Bearer garbage")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let c = challenge(&h);
    assert_eq!(param(&c, "error").as_deref(), Some("invalid_token"), "{c}");
    assert_eq!(param(&c, "resource_metadata"), Some(metadata_url.clone()));
    assert_eq!(body["error"], "invalid_token");

    // A real token bound to this resource: the handler sees the principal, not the token.
    let mut b = Browser::new();
    let token = resource::token(&s, &st, &mut b, "read", Some(&rs.resource)).await;
    let bearer = format!("Bearer {token}");
    let (status, _, who) = call(reqwest::Method::POST, &mcp, Some(&bearer)).await;
    assert_eq!(status, StatusCode::OK, "{who}");
    assert_eq!(who["user_id"].as_i64().map(|u| u.to_string()), Some(st.user_id.clone()));
    assert_eq!(who["client_id"], st.client_id);
    assert_eq!(who["scopes"], json!(["read"]));
    assert_eq!(who["permissions"], json!(["read"]));
    assert_eq!(who["granted_resource"], format!("urn:latchkey:user:{}", st.user_id));
    assert_eq!(who["oauth_resource"], rs.resource);
    assert!(who["expires_at"].is_i64());
    assert_eq!(who["authorization_header_seen"], false, "the token is never forwarded");

    // A permission the token lacks: 403 insufficient_scope naming it.
    let (status, h, _) = call(reqwest::Method::GET, &format!("{}/mcp/admin", rs.base), Some(&bearer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let c = challenge(&h);
    assert_eq!(param(&c, "error").as_deref(), Some("insufficient_scope"), "{c}");
    assert_eq!(param(&c, "scope").as_deref(), Some("admin"));
    assert_eq!(param(&c, "resource_metadata"), Some(metadata_url.clone()));

    // A route without the layer that asks for a Principal: 500 (a wiring mistake).
    let (status, _, _) = call(reqwest::Method::GET, &format!("{}/open", rs.base), Some(&bearer)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    // The user's grant is revoked: the very next request is 401 invalid_token.
    let oauth = resource::client(&s).oauth();
    let grants = oauth.list_oauth_grants("acme", &st.client_id).send().await.unwrap();
    oauth.revoke_oauth_grant("acme", &st.client_id, &grants[0].id).send().await.unwrap();
    let (status, h, _) = call(reqwest::Method::POST, &mcp, Some(&bearer)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(param(&challenge(&h), "error").as_deref(), Some("invalid_token"));

    // An unbound token is accepted; a token bound to another resource server is not.
    let unbound = resource::token(&s, &st, &mut b, "read", None).await;
    assert_eq!(
        call(reqwest::Method::POST, &mcp, Some(&format!("Bearer {unbound}"))).await.0,
        StatusCode::OK
    );
    let (status, _) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://other.acme.test/api", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let elsewhere = resource::token(&s, &st, &mut b, "read", Some("https://other.acme.test/api")).await;
    let (status, h, body) = call(reqwest::Method::POST, &mcp, Some(&format!("Bearer {elsewhere}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(param(&challenge(&h), "error").as_deref(), Some("invalid_token"));
    assert!(body["error_description"].as_str().unwrap().contains("resource_mismatch"), "{body}");
}

#[tokio::test]
async fn a_gateway_that_cannot_answer_never_lets_a_request_through() {
    let s = TestServer::start().await;
    let st = resource::setup(&s).await;
    let mut b = Browser::new();
    let token = resource::token(&s, &st, &mut b, "read", None).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let down = LatchkeyClient::new(
        LatchkeyConfig::new(s.api_key.clone(), s.base.clone())
            .with_gateway_url(format!("http://{closed}"))
            .with_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    let rs = ResourceServer::start(down, &st.issuer, routes).await;
    let (status, h, body) = call(reqwest::Method::POST, &format!("{}/mcp", rs.base), Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(h.get("www-authenticate").is_none());

    // A wrong API key is this service's fault, not the token's: 500, not 401.
    let stranger = LatchkeyClient::new(LatchkeyConfig::new(
        "lk_api_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        s.base.clone(),
    ))
    .unwrap();
    let rs = ResourceServer::start(stranger, &st.issuer, routes).await;
    let (status, _, _) = call(reqwest::Method::POST, &format!("{}/mcp", rs.base), Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn nested_requirements_rate_limits_and_the_cache() {
    let s = TestServer::start().await;
    // The whole router behind the layer; one route additionally requires `write`.
    let other_client = resource::client(&s);
    let (st, rs) = start(&s, |auth| {
        // Another LatchkeyAuth (here another resource) must not vouch for this one's routes.
        let other = LatchkeyAuth::new(
            other_client,
            ResourceConfig::new("https://other.example/api", "https://issuer.example"),
        )
        .unwrap();
        Router::new()
            .route("/mcp", post(whoami))
            .route("/mcp/write", post(whoami).route_layer(auth.require(["write"])))
            .route("/mcp/other", post(whoami).route_layer(other.require(["read"])))
            .layer(auth.clone())
            .merge(auth.metadata_router())
    })
    .await;
    let mut b = Browser::new();
    let read_only = format!("Bearer {}", resource::token(&s, &st, &mut b, "read", None).await);
    let (status, _, who) = call(reqwest::Method::POST, &format!("{}/mcp", rs.base), Some(&read_only)).await;
    assert_eq!((status, who["authorization_header_seen"].as_bool()), (StatusCode::OK, Some(false)));
    let (status, h, _) = call(reqwest::Method::POST, &format!("{}/mcp/write", rs.base), Some(&read_only)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "checked against the outer check's permissions");
    let (status, _, _) = call(reqwest::Method::POST, &format!("{}/mcp/other", rs.base), Some(&read_only)).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a principal verified for another resource is not trusted"
    );
    assert_eq!(param(&challenge(&h), "scope").as_deref(), Some("write"));
    let writer = format!("Bearer {}", resource::token(&s, &st, &mut b, "read write", None).await);
    assert_eq!(
        call(reqwest::Method::POST, &format!("{}/mcp/write", rs.base), Some(&writer))
            .await
            .0,
        StatusCode::OK
    );
    // The metadata document stays public even with the layer around everything.
    let (status, _, _) = call(
        reqwest::Method::GET,
        &format!("{}/.well-known/oauth-protected-resource/mcp", rs.base),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Rate limited by a rule of the app: 429 with Retry-After.
    let (status, rule) = s
        .post(
            "/oauth/apps/acme/rate-limits",
            json!({"name": "burst", "scope": "client", "window_seconds": 60, "max_requests": 1}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{rule}");
    assert_eq!(
        call(reqwest::Method::POST, &format!("{}/mcp", rs.base), Some(&read_only)).await.0,
        StatusCode::OK
    );
    let (status, h, _) = call(reqwest::Method::POST, &format!("{}/mcp", rs.base), Some(&read_only)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u32 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    s.delete(&format!("/oauth/apps/acme/rate-limits/{}", rule["id"].as_str().unwrap()))
        .await;

    // With the positive cache: answers are served without asking the gateway (the rate limit
    // of one check a minute does not bite), and a revocation empties the cache at once,
    // pushed through the change feed, long before the entry's ttl.
    let ttl = Duration::from_secs(5);
    let mut cached_auth = None;
    let cached = ResourceServer::start(resource::client(&s), &st.issuer, |auth| {
        let auth = auth.with_cache(ttl);
        cached_auth = Some(auth.clone());
        routes(auth)
    })
    .await;
    let cached_auth = cached_auth.unwrap();
    let token = resource::token(&s, &st, &mut b, "read", None).await;
    let bearer = format!("Bearer {token}");
    let url = format!("{}/mcp", cached.base);
    for _ in 0..50 {
        if cached_auth.cache_is_live() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cached_auth.cache_is_live(), "the change feed connects");
    let (status, rule) = s
        .post(
            "/oauth/apps/acme/rate-limits",
            json!({"name": "once", "scope": "client", "window_seconds": 60, "max_requests": 1}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{rule}");
    assert_eq!(call(reqwest::Method::POST, &url, Some(&bearer)).await.0, StatusCode::OK);
    assert_eq!(
        call(reqwest::Method::POST, &url, Some(&bearer)).await.0,
        StatusCode::OK,
        "served from the cache: the gateway would have said 429"
    );
    let grants = s
        .get(&format!("/oauth/apps/acme/clients/{}/grants?status=active", st.client_id))
        .await
        .1;
    let revoked_at = std::time::Instant::now();
    for g in grants["grants"].as_array().unwrap() {
        s.post_empty(&format!(
            "/oauth/apps/acme/clients/{}/grants/{}/revoke",
            st.client_id,
            g["id"].as_str().unwrap()
        ))
        .await;
    }
    let mut status = StatusCode::OK;
    for _ in 0..40 {
        status = call(reqwest::Method::POST, &url, Some(&bearer)).await.0;
        if status != StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the revocation reached the cache");
    assert!(revoked_at.elapsed() < ttl, "pushed, not waited out");
}
