//! Request extractors for the backend API. They turn everything a client can get wrong
//! (no or bad API key, another deployment, malformed or oversized JSON, wrong content
//! type) into [`ApiError`]s in the one error shape.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use bytes::Bytes;
use latchkey_core::audit::Actor;
use latchkey_core::secret::SecretKind;
use latchkey_core::{Id, Timestamp};
use latchkey_store::StoreError;
use latchkey_store::deployments::ApiKey;
use serde::de::DeserializeOwned;

use crate::http::DeploymentScope;
use crate::http::error::ApiError;
use crate::state::AppState;

const CHALLENGE: &str = "Bearer realm=\"latchkey\"";
const CHALLENGE_INVALID: &str = "Bearer realm=\"latchkey\", error=\"invalid_token\"";

/// The authenticated caller of a backend API request: a backend API key and the deployment
/// it acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub deployment_id: Id,
    pub key_id: Id,
    pub actor: Actor,
}

/// The credentials of `Authorization: <scheme> <credentials>`, the scheme compared without
/// regard to case (RFC 7235 §2.1). `None` when the header is missing, not text, or of another
/// scheme. The one place the Authorization header is read.
pub fn credentials<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (name, rest) = value.split_once(' ')?;
    name.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// What a request's `Authorization` header says about a backend API key.
pub enum ApiKeyAuth {
    /// No Authorization header at all.
    Missing,
    /// A header that cannot be a backend API key; the reason.
    Invalid(&'static str),
    /// Well-formed, but not a live key.
    Unknown,
    Found(Arc<ApiKey>),
}

/// Authenticates the backend API key of a request (the backend API and the gateway both
/// use this), and records the key's use at most once a minute, off the request path.
pub async fn authenticate_api_key(state: &AppState, headers: &HeaderMap) -> Result<ApiKeyAuth, StoreError> {
    if !headers.contains_key(AUTHORIZATION) {
        return Ok(ApiKeyAuth::Missing);
    }
    let Some(token) = credentials(headers, "Bearer") else {
        return Ok(ApiKeyAuth::Invalid("use the Bearer scheme: Authorization: Bearer <key>"));
    };
    if !SecretKind::ApiKey.looks_valid(token) {
        return Ok(ApiKeyAuth::Invalid("the API key is malformed: backend API keys start with lk_api_"));
    }
    let Some(key) = state.gateway.caches.api_key(&state.store, &state.hasher.hash(token)).await? else {
        return Ok(ApiKeyAuth::Unknown);
    };
    if state.gateway.caches.should_touch(key.id) {
        let (store, key_id) = (state.store.clone(), key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(key_id).await {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(ApiKeyAuth::Found(key))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = match authenticate_api_key(state, &parts.headers).await? {
            ApiKeyAuth::Found(key) => key,
            ApiKeyAuth::Missing => {
                return Err(ApiError::unauthorized(
                    "send your backend API key as Authorization: Bearer <key>",
                    CHALLENGE,
                ));
            }
            ApiKeyAuth::Invalid(why) => return Err(ApiError::unauthorized(why, CHALLENGE_INVALID)),
            ApiKeyAuth::Unknown => return Err(ApiError::unauthorized("the API key is unknown or revoked", CHALLENGE_INVALID)),
        };
        if let Some(DeploymentScope(raw)) = parts.extensions.get::<DeploymentScope>()
            && raw.parse::<Id>().ok() != Some(key.deployment_id)
        {
            return Err(ApiError::forbidden("this API key belongs to another deployment"));
        }
        Ok(Caller {
            deployment_id: key.deployment_id,
            key_id: key.id,
            actor: Actor::api_key(key.id, &key.name),
        })
    }
}

/// Whether a Content-Type is JSON (`application/json` or `application/*+json`).
pub fn is_json(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
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
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !is_json(&ct) {
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
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json(&ct) {
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
