//! The runtime's issuer extractors: which app a request is for (see
//! [`crate::services::issuer`]), rejected in the shape of the endpoint that asks — JSON for
//! the OAuth endpoints ([`Issuer`], [`ActiveIssuer`]), an HTML page for the hosted pages
//! ([`HostedIssuer`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::http::error::{OAuthFailure, PageError};
use crate::services::issuer::{self, Issuer, IssuerError};
use crate::state::AppState;

/// An issuer whose app is enabled: what every OAuth endpoint but introspection, revocation
/// and userinfo requires.
#[derive(Debug, Clone)]
pub struct ActiveIssuer(pub Issuer);

/// An enabled issuer for a hosted page (authorize, sign-in, consent, logout): refusals are
/// pages, since a browser is reading.
#[derive(Debug, Clone)]
pub struct HostedIssuer(pub Issuer);

impl FromRequestParts<AppState> for Issuer {
    type Rejection = OAuthFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(issuer::resolve(&state.store, &state.settings, parts).await?)
    }
}

impl FromRequestParts<AppState> for ActiveIssuer {
    type Rejection = OAuthFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ActiveIssuer(issuer::resolve(&state.store, &state.settings, parts).await?.active()?))
    }
}

impl FromRequestParts<AppState> for HostedIssuer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(HostedIssuer(issuer::resolve(&state.store, &state.settings, parts).await?.active()?))
    }
}

impl From<IssuerError> for OAuthFailure {
    fn from(e: IssuerError) -> Self {
        let code = match e {
            IssuerError::NotFound => "not_found",
            IssuerError::Disabled => "access_denied",
            IssuerError::Internal(_) => "server_error",
        };
        let failure = OAuthFailure::custom(e.status(), code, e.message());
        match e {
            IssuerError::Internal(cause) => failure.caused_by(cause),
            _ => failure,
        }
    }
}

impl From<IssuerError> for PageError {
    fn from(e: IssuerError) -> Self {
        let page = PageError::new(e.status(), "Unavailable", e.message());
        match e {
            IssuerError::Internal(cause) => page.caused_by(cause),
            _ => page,
        }
    }
}
