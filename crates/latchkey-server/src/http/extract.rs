//! Request extractors and readers that every surface shares. They turn everything a client
//! can get wrong (malformed or oversized JSON or forms, wrong content type, bad query
//! strings) into the error of the surface that reads them: [`ApiError`] for the backend API
//! (`ApiJson`, `OptionalJson`, `ApiQuery`), [`OAuthFailure`] for the OAuth endpoints
//! (`OAuthForm`). Also the one reader of the `Authorization` header ([`credentials`]).

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use latchkey_core::oauth::{OAuthError, Params};
use latchkey_core::{Id, Timestamp};
use serde::de::DeserializeOwned;

use crate::http::error::{ApiError, OAuthFailure};

/// The credentials of `Authorization: <scheme> <credentials>`, the scheme compared without
/// regard to case (RFC 7235 §2.1). `None` when the header is missing, not text, or of another
/// scheme. The one place the Authorization header is read.
pub fn credentials<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (name, rest) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// Whether a Content-Type is JSON (`application/json` or `application/*+json`).
pub fn is_json(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether a request says its body is JSON.
pub fn sends_json(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_json)
}

fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            e.status(),
            "payload_too_large",
            format!("the request body is larger than the limit of {} KiB", crate::http::MAX_BODY / 1024),
        )
    } else {
        ApiError::bad_request(format!("could not read the request body: {e}"))
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {inner}"),
            )
        } else {
            let path = e.path().to_string();
            let msg = if path == "." {
                inner.to_string()
            } else {
                format!("{path}: {inner}")
            };
            ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", msg)
        }
    })
}

/// A JSON body; the content type must say JSON.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !sends_json(req.headers()) {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body that may be absent (empty body, no content type): then `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = sends_json(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !json {
            return Err(ApiError::unsupported_media_type(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Maps axum's own JSON rejections (used nowhere on purpose, kept for completeness of the
/// error shape if a handler ever takes `Json`).
impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::new(e.status(), "invalid_json", e.body_text())
    }
}

/// Parses an id from a path segment; anything that is not an id names nothing.
pub fn path_id(raw: &str, what: &str) -> Result<Id, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

/// Query parameters shared by listings.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub before: Option<String>,
}

impl PageQuery {
    pub fn page(&self, default: u32, max: u32) -> Result<latchkey_store::directory::Page, ApiError> {
        let limit = self.limit.unwrap_or(default);
        if limit == 0 || limit > max {
            return Err(ApiError::bad_request(format!("limit must be between 1 and {max}")));
        }
        let before = match &self.before {
            Some(b) => Some(
                b.parse::<Id>()
                    .map_err(|_| ApiError::bad_request("before must be an id (the next_cursor of the previous page)"))?,
            ),
            None => None,
        };
        Ok(latchkey_store::directory::Page { before, limit })
    }
}

/// Parses an RFC 3339 query value.
pub fn query_time(raw: &Option<String>, name: &str) -> Result<Option<Timestamp>, ApiError> {
    match raw {
        None => Ok(None),
        Some(s) => Timestamp::parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z"))),
    }
}

/// Query parameters, with errors in the API's shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_request(format!("bad query string: {e}")))
    }
}

/// Whether a request's body is a form (`application/x-www-form-urlencoded`).
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

/// The parameters of a POST to an OAuth endpoint: a form body (RFC 6749 §3.2), parsed with
/// the rule that no parameter may appear twice (checked when a parameter is read).
pub struct OAuthForm(pub Params);

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_form(req.headers()) {
            return Err(OAuthError::invalid_request("send parameters as application/x-www-form-urlencoded").into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            OAuthFailure::with_status(
                e.status(),
                OAuthError::invalid_request(format!("could not read the request body: {e}")),
            )
        })?;
        Ok(OAuthForm(Params::parse(&bytes)))
    }
}

/// The parameters of a browser's request to a hosted endpoint (authorize, logout): the query
/// of a GET, the form body of a POST; `None` for a POST that is not a form.
pub fn browser_params(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap, body: &Bytes) -> Option<Params> {
    if method == Method::POST {
        is_form(headers).then(|| Params::parse(body))
    } else {
        Some(Params::parse(uri.query().unwrap_or("").as_bytes()))
    }
}

/// The bearer token of a request: `Authorization: Bearer …`, or an `access_token` form field
/// on POST (RFC 6750 §2.2). Both at once is an error.
pub fn bearer_token(method: &Method, headers: &HeaderMap, body: &Bytes) -> Result<Option<String>, &'static str> {
    let from_header = credentials(headers, "Bearer").map(str::to_owned);
    let from_body = if method == Method::POST && is_form(headers) {
        Params::parse(body).single("access_token").ok().flatten().map(str::to_owned)
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err("send the token one way only"),
        (h, b) => Ok(h.or(b)),
    }
}
