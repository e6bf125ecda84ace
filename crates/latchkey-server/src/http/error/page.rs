//! The error answer of a hosted page (authorize before the redirect URI is trusted, sign-in,
//! consent, logout): an HTML message page with the app's branding and the hardened headers,
//! never a redirect to an unvalidated URI.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_store::StoreError;

use crate::http::pages::{self, Branding};

/// Boxed: it travels in every `Result` of the hosted pages' handlers.
#[derive(Debug)]
pub struct PageError(Box<Page>);

#[derive(Debug)]
struct Page {
    status: StatusCode,
    title: Cow<'static, str>,
    detail: Cow<'static, str>,
    branding: Branding,
    /// Why the server failed, logged when the page is built.
    cause: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, title: impl Into<Cow<'static, str>>, detail: impl Into<Cow<'static, str>>) -> Self {
        PageError(Box::new(Page {
            status,
            title: title.into(),
            detail: detail.into(),
            branding: Branding::default(),
            cause: None,
        }))
    }

    /// A 400 page titled "Invalid request".
    pub fn invalid(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Invalid request", detail)
    }

    /// A consent transaction that someone already decided (single use).
    pub fn already_answered() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "This request was already answered",
            "Go back to the application and start again.",
        )
    }

    /// The server failed; `cause` is logged, the user is asked to try again.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again later.").caused_by(cause)
    }

    /// Keeps what went wrong inside the server, to be logged with the page.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.0.cause = Some(cause.to_string());
        self
    }

    /// Shows the page with the app's name and logo.
    pub fn branded(mut self, b: &Branding) -> Self {
        self.0.branding = b.clone();
        self
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self::server_error(format!("store: {e}"))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let p = self.0;
        if let Some(cause) = &p.cause {
            tracing::error!(error = %cause, "hosted page failed");
        }
        pages::message(p.status, &p.branding, &p.title, &p.detail)
    }
}
