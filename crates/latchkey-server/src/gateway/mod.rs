//! The gateway resource servers ask on every request: `check` (`POST /v1/authz/check`) and
//! `changes` (`GET /v1/authz/changes`, the change feed for resource-server caches). Its
//! caches, rate limiter and batched telemetry are in [`crate::services`].

pub mod changes;
pub mod check;
