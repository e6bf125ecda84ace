//! Backend API key authentication, shared by the backend API (`api::caller`) and the gateway:
//! the key is found through the generation-checked cache by its keyed hash, and its use is
//! recorded at most once a minute, off the request path.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use latchkey_core::secret::SecretKind;
use latchkey_store::StoreError;
use latchkey_store::deployments::ApiKey;

use crate::http::extract::credentials;
use crate::state::AppState;

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

/// Authenticates the backend API key of a request.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<ApiKeyAuth, StoreError> {
    if !headers.contains_key(AUTHORIZATION) {
        return Ok(ApiKeyAuth::Missing);
    }
    let Some(token) = credentials(headers, "Bearer") else {
        return Ok(ApiKeyAuth::Invalid("use the Bearer scheme: Authorization: Bearer <key>"));
    };
    if !SecretKind::ApiKey.looks_valid(token) {
        return Ok(ApiKeyAuth::Invalid("the API key is malformed: backend API keys start with lk_api_"));
    }
    let Some(key) = state.caches.api_key(&state.store, &state.hasher.hash(token)).await? else {
        return Ok(ApiKeyAuth::Unknown);
    };
    if state.caches.should_touch(key.id) {
        let (store, key_id) = (state.store.clone(), key.id);
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(key_id).await {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(ApiKeyAuth::Found(key))
}
