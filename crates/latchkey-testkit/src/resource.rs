//! Helpers for the SDK's and the middleware's integration tests, on top of [`oauth`]: an app
//! with a registered resource server, real access tokens from the whole authorization-code
//! flow, and an SDK client for the test server.

use latchkey_client::LatchkeyClient;
use reqwest::StatusCode;
use serde_json::json;

use crate::TestServer;
use crate::browser::Browser;
use crate::oauth::{self, Setup};

/// The canonical identifier of the resource server `setup` registers (alias `mcp`).
pub const RESOURCE: &str = "https://api.acme.test/mcp";

/// App `acme` (scopes read, write), a confidential client, a user, and a resource server
/// `identifier` (with alias `alias`, when given).
pub async fn setup_with_resource(s: &TestServer, identifier: &str, alias: Option<&str>) -> Setup {
    let st = oauth::setup(s).await;
    let aliases: Vec<&str> = alias.into_iter().collect();
    let (status, body) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": identifier, "aliases": aliases, "scopes": ["read", "write"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    st
}

/// [`setup_with_resource`] for [`RESOURCE`], alias `mcp`.
pub async fn setup(s: &TestServer) -> Setup {
    setup_with_resource(s, RESOURCE, Some("mcp")).await
}

/// An access token for `scope`, bound to `resource` (RFC 8707) when given, from the whole
/// flow.
pub async fn token(s: &TestServer, st: &Setup, b: &mut Browser, scope: &str, resource: Option<&str>) -> String {
    oauth::token_response(s, st, b, scope, resource).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// An SDK client for the test server with its API key.
pub fn client(s: &TestServer) -> LatchkeyClient {
    s.sdk()
}
