//! Rust SDK for Latchkey, the self-hosted OAuth 2.1 / OpenID Connect
//! authorization server with a token gateway.
//!
//! Two surfaces, both reached through one [`LatchkeyClient`]:
//!
//! - [`LatchkeyClient::gateway`] — `POST /v1/authz/check`, what a resource server (a REST API,
//!   an MCP server) asks on every request: *is this bearer token still good for this method on
//!   this resource with these permissions?* Its shape mirrors the `wacht` crate's
//!   `gateway` module (0.1.0-beta.9), so a program written against `wacht::gateway` ports by
//!   renaming the crate and the config constructor. Token-level failures (revoked, expired,
//!   grant revoked, …) are an [`Error::Denied`] with a typed [`TokenDenyReason`], so code that
//!   never reads `allowed` still fails closed; permission and rate-limit denials are
//!   `Ok` with `allowed: false` and a [`gateway::GatewayDenyReason`].
//! - [`LatchkeyClient::oauth`] — the backend management API: apps, scopes, clients, client
//!   secrets, grants and signing keys. Every operation is a builder finished with
//!   `.send().await`, answering typed [`models`].
//!
//! The client holds one pooled HTTP connection pool (rustls); clones share it, so build it
//! once and clone it wherever it is needed. The backend API key is sent as
//! `Authorization: Bearer …` on every request and never appears in `Debug` output.
//!
//! ```no_run
//! use latchkey_client::gateway::{GatewayAuthzOptions, GatewayPrincipalType};
//! use latchkey_client::{Error, LatchkeyClient, LatchkeyConfig, TokenDenyReason};
//!
//! # async fn run(bearer_token: &str) -> Result<(), Error> {
//! let client = LatchkeyClient::new(LatchkeyConfig::new("lk_api_…", "http://127.0.0.1:8080"))?;
//! let check = client
//!     .gateway()
//!     .check_authz_with_principal_type(
//!         GatewayPrincipalType::OauthAccessToken,
//!         bearer_token,
//!         "POST",
//!         "mcp",
//!         GatewayAuthzOptions { required_permissions: Some(vec!["read".into()]), ..Default::default() },
//!     )
//!     .await;
//! match check {
//!     Ok(r) if r.allowed => println!("user {:?} via {}", r.owner_user_id, r.key_name),
//!     Ok(r) => println!("denied: {:?}", r.reason),
//!     Err(Error::Denied { reason: TokenDenyReason::GrantRevoked, .. }) => println!("the user revoked access"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! Configuration from the environment (`LATCHKEY_API_KEY`, `LATCHKEY_URL`,
//! `LATCHKEY_GATEWAY_URL`): [`LatchkeyConfig::from_env`].

pub mod changes;
mod client;
mod config;
mod error;
pub mod gateway;
pub mod models;
pub mod oauth;
mod secret;

pub use client::LatchkeyClient;
pub use config::LatchkeyConfig;
pub use error::{Error, Result, TokenDenyReason};
pub use secret::Secret;
