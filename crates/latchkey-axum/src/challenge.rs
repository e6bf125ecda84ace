//! The refusals the middleware answers: RFC 6750 §3 bearer challenges carrying the RFC 9728
//! `resource_metadata` URL, as MCP clients expect, plus 429 and 503.

use axum::http::header::{CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No bearer token (401, no error code, RFC 6750 §3.1).
    NoToken,
    /// A token was sent and the gateway refused it, or it is unusable (401 invalid_token).
    InvalidToken(String),
    /// More than one Authorization header (400 invalid_request).
    InvalidRequest(String),
    /// The token lacks required permissions (403 insufficient_scope).
    InsufficientScope,
    /// Rate limited by the gateway (429).
    RateLimited { retry_after: u32 },
    /// The gateway could not be asked (503): never a reason to let the request through.
    Unavailable,
    /// The middleware or its API key is misconfigured (500).
    Misconfigured,
}

/// A quoted-string parameter value: `"` and `\` escaped, other bytes outside visible ASCII
/// and space dropped.
fn quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {}
        }
    }
    out.push('"');
    out
}

/// `Bearer error="…", error_description="…", scope="…", resource_metadata="…"` (the parts
/// that apply).
pub(crate) fn bearer_challenge(error: Option<(&str, &str)>, scope: &[String], metadata_url: &str) -> HeaderValue {
    let mut params = Vec::new();
    if let Some((code, description)) = error {
        params.push(format!("error={}", quoted(code)));
        params.push(format!("error_description={}", quoted(description)));
    }
    if !scope.is_empty() {
        params.push(format!("scope={}", quoted(&scope.join(" "))));
    }
    params.push(format!("resource_metadata={}", quoted(metadata_url)));
    HeaderValue::from_str(&format!("Bearer {}", params.join(", "))).unwrap_or(HeaderValue::from_static("Bearer"))
}

impl Refusal {
    /// The response for this refusal; `required` are the route's permissions (the `scope`
    /// of the challenge).
    pub(crate) fn response(&self, required: &[String], metadata_url: &str) -> Response {
        let (status, error, description) = match self {
            Refusal::NoToken => (StatusCode::UNAUTHORIZED, "unauthorized", "a bearer token is required".to_owned()),
            Refusal::InvalidToken(d) => (StatusCode::UNAUTHORIZED, "invalid_token", d.clone()),
            Refusal::InvalidRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", d.clone()),
            Refusal::InsufficientScope => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the token lacks a required permission ({})", required.join(" ")),
            ),
            Refusal::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests".to_owned()),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the token could not be verified; try again".to_owned(),
            ),
            Refusal::Misconfigured => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the token could not be verified".to_owned(),
            ),
        };
        let mut resp = (
            status,
            axum::Json(serde_json::json!({"error": error, "error_description": description})),
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenge = match self {
            Refusal::NoToken => Some(bearer_challenge(None, required, metadata_url)),
            Refusal::InvalidToken(_) | Refusal::InvalidRequest(_) | Refusal::InsufficientScope => {
                Some(bearer_challenge(Some((error, &description)), required, metadata_url))
            }
            _ => None,
        };
        if let Some(c) = challenge {
            h.insert(WWW_AUTHENTICATE, c);
        }
        if let Refusal::RateLimited { retry_after } = self {
            h.insert(RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

    fn header(r: &Response, name: axum::http::HeaderName) -> String {
        r.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    #[test]
    fn challenges() {
        let read = vec!["read".to_owned()];
        let r = Refusal::NoToken.response(&[], MD);
        assert_eq!(r.status(), 401);
        assert_eq!(header(&r, WWW_AUTHENTICATE), format!("Bearer resource_metadata=\"{MD}\""));
        let r = Refusal::NoToken.response(&read, MD);
        assert_eq!(
            header(&r, WWW_AUTHENTICATE),
            format!("Bearer scope=\"read\", resource_metadata=\"{MD}\"")
        );
        let r = Refusal::InvalidToken("the token was revoked".into()).response(&read, MD);
        assert_eq!(
            header(&r, WWW_AUTHENTICATE),
            format!(
                "Bearer error=\"invalid_token\", error_description=\"the token was revoked\", scope=\"read\", resource_metadata=\"{MD}\""
            )
        );
        let both = vec!["read".to_owned(), "write".to_owned()];
        let r = Refusal::InsufficientScope.response(&both, MD);
        assert_eq!(r.status(), 403);
        assert!(header(&r, WWW_AUTHENTICATE).starts_with("Bearer error=\"insufficient_scope\""));
        assert!(header(&r, WWW_AUTHENTICATE).contains(", scope=\"read write\", "));
        let r = Refusal::RateLimited { retry_after: 7 }.response(&read, MD);
        assert_eq!((r.status().as_u16(), header(&r, RETRY_AFTER)), (429, "7".into()));
        let r = Refusal::Unavailable.response(&read, MD);
        assert_eq!(r.status(), 503);
        assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn quoted_strings_are_escaped() {
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\cd\"");
    }
}
