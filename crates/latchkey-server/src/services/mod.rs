//! The layer below the handlers: what more than one endpoint needs. Handlers in `api/`,
//! `runtime/` and `gateway/` call these; nothing here knows a route.
//!
//! Two tiers, so that the module graph has no cycle:
//! - held by [`crate::state::AppState`] and independent of it: the generation-checked
//!   caches (`cache`), DNS (`dns`), the outbound fetcher (`fetch`), the gateway's rate limiter
//!   (`limiter`), batched telemetry (`telemetry`), per-process throttles (`throttle`), and
//!   which app a request is for (`issuer`);
//! - working on an `AppState`: backend API key authentication (`api_keys`), the address a
//!   request is judged by (`client_ip`), OAuth client authentication (`client_auth`), token minting and verification (`tokens`), and minting
//!   stored secrets and signing keys (`secrets`).

pub mod api_keys;
pub mod cache;
pub mod client_auth;
pub mod client_ip;
pub mod dns;
pub mod fetch;
pub mod issuer;
pub mod limiter;
pub mod secrets;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
