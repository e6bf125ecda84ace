//! Gateway compatibility with the published `@wacht/backend` 1.0.0-beta.20: runs
//! `compat/wacht-backend/gateway.mjs`, which calls that package's `gateway.checkPrincipalAuthz`,
//! `gateway.checkAuthz` and `gateway.resolveGatewayPrincipalContext`, unchanged, against a
//! test server — configured only with the gateway URL and a `fetch` wrapper that adds the
//! backend API key.
//!
//! The script gets a live access token bound to `https://api.acme.test/mcp` (alias `mcp`) and a
//! token whose grant was revoked, both from the real browser flow.
//!
//! Needs Node 20+ and `npm ci` in `compat/wacht-backend`. Without them the test is skipped,
//! unless `LATCHKEY_REQUIRE_COMPAT=1` (as in CI), which turns a missing prerequisite into a
//! failure.

use std::path::PathBuf;
use std::time::Duration;

use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, Setup};
use latchkey_testkit::{TestServer, external};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `compat/wacht-backend` in the workspace.
fn compat() -> PathBuf {
    latchkey_testkit::compat_dir("wacht-backend")
}

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
const MCP: &str = "https://api.acme.test/mcp";

/// Whether the test can run: says why not (or panics when `LATCHKEY_REQUIRE_COMPAT=1`).
fn prerequisites() -> bool {
    let problem = if !external::on_path("node") {
        Some("node is not on PATH (install Node 20 or later)".to_owned())
    } else if !compat().join("node_modules/@wacht/backend/package.json").is_file() {
        Some("compat/wacht-backend/node_modules/@wacht/backend is missing".to_owned())
    } else {
        None
    };
    external::prerequisites(problem, "run npm ci in compat/wacht-backend")
}

/// An access token for `scope` bound to `resource`, from the full browser flow.
async fn token(s: &TestServer, st: &Setup, b: &mut Browser, scope: &str, resource: &str) -> String {
    let t = oauth::token_response(s, st, b, scope, Some(resource)).await;
    t["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {t}"))
        .to_owned()
}

async fn grant_id(s: &TestServer, st: &Setup, token: &str) -> String {
    let i = oauth::introspect(s, st, token).await;
    i["grant_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no grant_id in the introspection: {i}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wacht_backend_gateway_calls_work_unchanged() {
    if !prerequisites() {
        return;
    }
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (status, rs) = s
        .post("/oauth/apps/acme/resource-servers", json!({"identifier": MCP, "aliases": ["mcp"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rs}");
    // A generous rule, so `rate_limits` in the response is not empty and its items get checked.
    let (status, rule) = s
        .post(
            "/oauth/apps/acme/rate-limits",
            json!({"name": "generous", "scope": "client", "window_seconds": 60, "max_requests": 1000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");

    let mut b = Browser::new();
    // The token to revoke first: tokens of one client, user and resource may share a grant, so
    // the live token is issued after the revocation, under a new consent.
    let revoked = token(&s, &st, &mut b, "read", MCP).await;
    let revoked_grant = grant_id(&s, &st, &revoked).await;
    let (status, body) = s
        .post_empty(&format!("/oauth/apps/acme/clients/{}/grants/{revoked_grant}/revoke", st.client_id))
        .await;
    assert!(status.is_success(), "revoke grant {revoked_grant}: {status} {body}");

    let live = token(&s, &st, &mut b, "read", MCP).await;
    let live_grant = grant_id(&s, &st, &live).await;
    assert_ne!(live_grant, revoked_grant, "the live token has a grant of its own");
    let i: Value = oauth::introspect(&s, &st, &revoked).await;
    assert_eq!(i["active"], false, "the revoked grant's token is inactive: {i}");

    let envs = vec![
        ("LATCHKEY_GATEWAY_URL", s.base.clone()),
        ("LATCHKEY_API_KEY", s.api_key.clone()),
        ("LATCHKEY_TOKEN", live),
        ("LATCHKEY_CLIENT_ID", st.client_id.clone()),
        ("LATCHKEY_USER_ID", st.user_id.clone()),
        ("LATCHKEY_RESOURCE", "mcp".to_owned()),
        ("LATCHKEY_OAUTH_RESOURCE", MCP.to_owned()),
        ("LATCHKEY_GRANTED_RESOURCE", format!("urn:latchkey:user:{}", st.user_id)),
        ("LATCHKEY_REVOKED_TOKEN", revoked),
        ("LATCHKEY_RATE_LIMIT_RULE", "client:generous".to_owned()),
    ];
    external::run("node", &["gateway.mjs"], &compat(), &envs, SCRIPT_TIMEOUT)
        .await
        .assert_success("gateway.mjs", &s.base);
}
