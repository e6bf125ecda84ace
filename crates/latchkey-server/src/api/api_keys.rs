//! `/api-keys`: the deployment's backend API keys. A new key is shown once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::ValidationErrors;
use latchkey_core::validate;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, path_id};
use crate::services::secrets;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "api_keys": state.store.list_api_keys(caller.deployment_id).await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CreateKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = validate::text("name", &input.name, 100).map_err(ValidationErrors::from)?;
    let (secret, record) = secrets::api_key(&state.hasher, &name, None);
    let key = state.store.create_api_key(caller.deployment_id, &record, &caller.actor).await?;
    let mut body = json!(key);
    body["api_key"] = json!(secret.expose());
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn revoke(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "api key")?;
    Ok(Json(json!(
        state.store.revoke_api_key(caller.deployment_id, id, &caller.actor).await?
    )))
}
