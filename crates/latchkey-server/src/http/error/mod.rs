//! One error type per surface, each an `IntoResponse` in that surface's shape: the backend
//! API ([`ApiError`]), the OAuth endpoints ([`OAuthFailure`]), the hosted pages
//! ([`PageError`]) and the gateway ([`GatewayError`]). Handlers return `Result<_, E>` and use
//! `?`; conversions from store errors keep the cause and log it only when the response is
//! built, never inside `From`.

pub mod api;
pub mod gateway;
pub mod oauth;
pub mod page;

pub use api::{ApiError, ApiResult};
pub use gateway::GatewayError;
pub use oauth::OAuthFailure;
pub use page::PageError;
