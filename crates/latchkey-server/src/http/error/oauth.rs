//! The error answer of an OAuth endpoint (token, introspection, revocation, userinfo,
//! registration, discovery): RFC 6749 §5.2 JSON `{"error", "error_description"}` with
//! `Cache-Control: no-store`, the status its code calls for, and the `WWW-Authenticate`
//! challenge of RFC 6749 §5.2 (client authentication) or RFC 6750 §3 (bearer tokens).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::oauth::{ErrorCode, OAuthError};
use latchkey_store::StoreError;

#[derive(Debug)]
pub struct OAuthFailure {
    status: StatusCode,
    code: &'static str,
    description: String,
    challenge: Option<String>,
    /// Why the server failed, logged when the response is built.
    cause: Option<String>,
}

impl OAuthFailure {
    /// The error with the status RFC 6749 §5.2 gives its code (401 and a `Bearer` challenge
    /// for `invalid_client`, 500 for `server_error`, else 400).
    pub fn new(error: OAuthError) -> Self {
        match error.code {
            ErrorCode::InvalidClient => Self::client(error, false),
            ErrorCode::ServerError => Self::with_status(StatusCode::INTERNAL_SERVER_ERROR, error),
            _ => Self::with_status(StatusCode::BAD_REQUEST, error),
        }
    }

    pub fn with_status(status: StatusCode, error: OAuthError) -> Self {
        OAuthFailure {
            status,
            code: error.code.as_str(),
            description: error.description,
            challenge: None,
            cause: None,
        }
    }

    /// A failed client authentication: 401, with `WWW-Authenticate: Basic` when the client
    /// tried HTTP Basic (RFC 6749 §5.2).
    pub fn client(error: OAuthError, basic: bool) -> Self {
        let challenge = if basic {
            "Basic realm=\"oauth\", charset=\"UTF-8\""
        } else {
            "Bearer realm=\"oauth\""
        };
        OAuthFailure {
            challenge: Some(challenge.to_owned()),
            ..Self::with_status(StatusCode::UNAUTHORIZED, error)
        }
    }

    /// An RFC 6750 §3 bearer-token error: the `Bearer` challenge carries `error`,
    /// `error_description` and `scope` when given; the body's `error` defaults to
    /// `invalid_request` for a request that sent no token at all.
    pub fn bearer(status: StatusCode, error: Option<&'static str>, description: &str, scope: Option<&str>) -> Self {
        let mut challenge = String::from("Bearer realm=\"latchkey\"");
        if let Some(e) = error {
            challenge.push_str(&format!(", error={}, error_description={}", quoted(e), quoted(description)));
        }
        if let Some(s) = scope {
            challenge.push_str(&format!(", scope={}", quoted(s)));
        }
        OAuthFailure {
            status,
            code: error.unwrap_or("invalid_request"),
            description: description.to_owned(),
            challenge: Some(challenge),
            cause: None,
        }
    }

    /// The server failed; `cause` is logged, the client learns nothing more.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        OAuthFailure {
            cause: Some(cause.to_string()),
            ..Self::new(OAuthError::new(ErrorCode::ServerError, "the server failed; try again later"))
        }
    }

    /// An error whose code is not one of the RFC codes (`not_found` for a missing issuer).
    pub fn custom(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        OAuthFailure {
            status,
            code,
            description: description.into(),
            challenge: None,
            cause: None,
        }
    }

    /// Keeps what went wrong inside the server, to be logged with the response.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }
}

/// A challenge attribute value: RFC 6750 §3 allows only `%x20-21 / %x23-5B / %x5D-7E`
/// inside the quotes, so `"` and `\` become `'` and `/`, and anything else that is not
/// printable ASCII `?` — never a header that fails to build and is silently dropped.
fn quoted(s: &str) -> String {
    let inner: String = s
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    format!("\"{inner}\"")
}

impl From<OAuthError> for OAuthFailure {
    fn from(error: OAuthError) -> Self {
        Self::new(error)
    }
}

impl From<StoreError> for OAuthFailure {
    fn from(e: StoreError) -> Self {
        Self::server_error(format!("store: {e}"))
    }
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = %cause, code = self.code, "OAuth endpoint failed");
        }
        let body = serde_json::json!({"error": self.code, "error_description": self.description});
        let mut r = (self.status, axum::Json(body)).into_response();
        let h = r.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(c) = self.challenge
            && let Ok(v) = HeaderValue::from_str(&c)
        {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_code() {
        let cases = [
            (ErrorCode::InvalidClient, StatusCode::UNAUTHORIZED, Some("Bearer realm=\"oauth\"")),
            (ErrorCode::ServerError, StatusCode::INTERNAL_SERVER_ERROR, None),
            (ErrorCode::InvalidGrant, StatusCode::BAD_REQUEST, None),
            (ErrorCode::InvalidTarget, StatusCode::BAD_REQUEST, None),
        ];
        for (code, status, challenge) in cases {
            let r = OAuthFailure::new(OAuthError::new(code, "x")).into_response();
            assert_eq!(r.status(), status, "{code}");
            assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
            assert_eq!(
                r.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap()),
                challenge,
                "{code}"
            );
        }
    }

    #[test]
    fn challenge_values_stay_within_rfc_6750() {
        assert_eq!(quoted("plain text"), "\"plain text\"");
        assert_eq!(quoted("say \"hi\" \\ café"), "\"say 'hi' / caf?\"");
        let r = OAuthFailure::bearer(StatusCode::UNAUTHORIZED, Some("invalid_token"), "naïve \"token\"", Some("read")).into_response();
        let challenge = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert_eq!(
            challenge,
            "Bearer realm=\"latchkey\", error=\"invalid_token\", error_description=\"na?ve 'token'\", scope=\"read\""
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    }
}
