//! `/oauth/apps/{slug}/signing-keys`: list, rotate (old key retired, still published),
//! compromise (withdrawn at once; replaced if it was active). Private halves never leave
//! the store.

use axum::Json;
use axum::extract::{Path, State};
use latchkey_core::signing_key::{KeyStatus, SigningKey};
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::services::secrets;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let keys = state.store.list_signing_keys(caller.deployment_id, &slug).await?;
    Ok(Json(json!({ "keys": keys })))
}

async fn fresh_key(state: &AppState) -> ApiResult<latchkey_store::NewSigningKey> {
    secrets::signing_key(state).await.map_err(|e| {
        tracing::error!(error = %e, "signing key generation failed");
        ApiError::internal()
    })
}

pub async fn rotate(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    state.store.app(caller.deployment_id, &slug).await?;
    let new = fresh_key(&state).await?;
    let key = state
        .store
        .rotate_signing_key(caller.deployment_id, &slug, &new, &caller.actor)
        .await?;
    Ok(Json(json!({ "new": key })))
}

pub async fn compromise(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, kid)): Path<(String, String)>,
) -> ApiResult<Json<SigningKey>> {
    let keys = state.store.list_signing_keys(caller.deployment_id, &slug).await?;
    let current = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| ApiError::not_found("signing key"))?;
    // Only the active key needs a successor; generate it before taking the write lock.
    let replacement = match current.status {
        KeyStatus::Active => Some(fresh_key(&state).await?),
        _ => None,
    };
    let key = state
        .store
        .compromise_signing_key(caller.deployment_id, &slug, &kid, replacement.as_ref(), &caller.actor)
        .await?;
    Ok(Json(key))
}
