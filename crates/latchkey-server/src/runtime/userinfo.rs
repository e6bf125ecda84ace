//! `GET|POST /oauth/userinfo` (OIDC Core §5.3) with RFC 6750 bearer errors: 401 with
//! `WWW-Authenticate` for a missing or bad token, 403 `insufficient_scope` without `openid`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::oauth::Params;
use latchkey_core::verify::{self, TokenKind};
use serde_json::json;

use super::issuer::{Issuer, IssuerError};
use super::token::{issuer_error, no_store};
use super::tokens;
use crate::http::extract::credentials;
use crate::state::AppState;

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

/// An RFC 6750 §3 error response: JSON with `no-store`, and the `Bearer` challenge.
pub fn bearer_error(status: StatusCode, error: Option<&str>, description: &str, scope: Option<&str>) -> Response {
    let mut challenge = String::from("Bearer realm=\"latchkey\"");
    if let Some(e) = error {
        challenge.push_str(&format!(", error={}, error_description={}", quoted(e), quoted(description)));
    }
    if let Some(s) = scope {
        challenge.push_str(&format!(", scope={}", quoted(s)));
    }
    let body = json!({"error": error.unwrap_or("invalid_request"), "error_description": description});
    let mut r = no_store(body);
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The bearer token of a request: `Authorization: Bearer …`, or an `access_token` form field
/// on POST (RFC 6750 §2.2). Both at once is an error.
pub fn bearer(method: &Method, headers: &HeaderMap, body: &Bytes) -> Result<Option<String>, &'static str> {
    let from_header = credentials(headers, "Bearer").map(str::to_owned);
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    let from_body = if method == Method::POST && form {
        Params::parse(body).single("access_token").ok().flatten().map(str::to_owned)
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err("send the token one way only"),
        (h, b) => Ok(h.or(b)),
    }
}

pub async fn userinfo(
    State(state): State<AppState>,
    iss: Result<Issuer, IssuerError>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let iss = match iss {
        Ok(i) => i,
        Err(e) => return issuer_error(e),
    };
    let token = match bearer(&method, &headers, &body) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return bearer_error(StatusCode::UNAUTHORIZED, None, "an access token is required", None);
        }
        Err(d) => return bearer_error(StatusCode::BAD_REQUEST, Some("invalid_request"), d, None),
    };
    let invalid = |d: &str| bearer_error(StatusCode::UNAUTHORIZED, Some("invalid_token"), d, None);
    let Some(hash) = tokens::presented_hash(&state, &iss, &token).await else {
        return invalid("the access token is malformed or unknown");
    };
    let found = match state.store.token_state(&hash).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "token lookup");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let t = match verify::check_token(found.as_ref(), state.clock.now()) {
        Ok(t) => t,
        Err(reason) => {
            return invalid(&format!("the access token is not valid ({})", reason.as_str()));
        }
    };
    if t.kind != TokenKind::Access || t.app_id != iss.app.id {
        return invalid("not an access token of this issuer");
    }
    if !t.scopes.iter().any(|s| s == "openid") {
        return bearer_error(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the token lacks the openid scope",
            Some("openid"),
        );
    }
    let user = match state.store.user(t.deployment_id, t.user_id).await {
        Ok(u) => u,
        Err(_) => return invalid("the user no longer exists"),
    };
    let mut claims = json!({"sub": user.id.to_string()});
    tokens::add_user_claims(&mut claims, &user, &t.scopes);
    no_store(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_values_stay_within_rfc_6750() {
        assert_eq!(quoted("plain text"), "\"plain text\"");
        assert_eq!(quoted("say \"hi\" \\ café"), "\"say 'hi' / caf?\"");
        let r = bearer_error(StatusCode::UNAUTHORIZED, Some("invalid_token"), "naïve \"token\"", Some("read"));
        let challenge = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert_eq!(
            challenge,
            "Bearer realm=\"latchkey\", error=\"invalid_token\", error_description=\"na?ve 'token'\", scope=\"read\""
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    }
}
