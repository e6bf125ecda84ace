//! Resource-server middleware for [axum](https://docs.rs/axum) (any tower stack): every
//! request's bearer token is checked by the Latchkey gateway, and handlers receive a verified
//! [`Principal`].
//!
//! - [`LatchkeyAuth`] is a tower [`Layer`](tower::Layer). It reads
//!   `Authorization: Bearer …`, asks the gateway through a
//!   [`LatchkeyClient`](latchkey_client::LatchkeyClient), inserts the [`Principal`] into the
//!   request's extensions and **removes the `Authorization` header** before the inner
//!   service runs (the client's token is never forwarded). It refuses with the challenges MCP
//!   clients act on: 401 `WWW-Authenticate: Bearer resource_metadata="…"` (plus
//!   `error="invalid_token"` when a token was sent, `scope="…"` when the route requires
//!   permissions), 403 `error="insufficient_scope"`, 429 with `Retry-After`, and 503 when
//!   the gateway cannot be asked — it never lets a request through unverified.
//! - [`LatchkeyAuth::require`] gives the same layer with required permissions, for
//!   `route_layer` on each route.
//! - [`LatchkeyAuth::metadata_router`] serves the RFC 9728 protected resource metadata at the
//!   path-inserted well-known URL of the resource (`https://host/mcp` →
//!   `/.well-known/oauth-protected-resource/mcp`), which the challenges point to.
//! - [`LatchkeyAuth::with_cache`] adds an optional, short positive cache (off by default).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use axum::Router;
//! use axum::routing::{get, post};
//! use latchkey_axum::{LatchkeyAuth, Principal, ResourceConfig};
//! use latchkey_client::{LatchkeyClient, LatchkeyConfig};
//!
//! async fn list(principal: Principal) -> String {
//!     format!("projects of user {}", principal.user_id)
//! }
//!
//! async fn call_tool(principal: Principal) -> String {
//!     format!("{} called a tool for user {}", principal.client_id, principal.user_id)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = LatchkeyClient::new(LatchkeyConfig::from_env()?.with_timeout(Duration::from_secs(3)))?;
//! let auth = LatchkeyAuth::new(
//!     client,
//!     ResourceConfig {
//!         scopes_supported: vec!["read".into(), "mcp:invoke".into()],
//!         ..ResourceConfig::new("https://api.example.com/mcp", "https://auth.example.com/a/acme")
//!     },
//! )?;
//!
//! let app = Router::new()
//!     .route("/mcp", post(call_tool).route_layer(auth.require(["mcp:invoke"])))
//!     .route("/mcp/projects", get(list).route_layer(auth.require(["read"])))
//!     // Public, outside the authentication: /.well-known/oauth-protected-resource/mcp
//!     .merge(auth.metadata_router());
//!
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! A whole router can be protected at once with `.layer(auth.clone())` (merge the metadata
//! router after it); routes inside can still add `.route_layer(auth.require([...]))`, which
//! then checks the permissions the outer check returned without a second gateway call.
//!
//! Browser-based clients need CORS on these responses, including
//! `Access-Control-Expose-Headers: WWW-Authenticate`; add it with your own CORS layer.

mod cache;
mod challenge;
mod config;
mod layer;
mod principal;

pub use cache::MAX_CACHE_TTL;
pub use config::{ConfigError, ResourceConfig};
pub use layer::{LatchkeyAuth, LatchkeyAuthService};
pub use principal::{MissingPrincipal, Principal};
