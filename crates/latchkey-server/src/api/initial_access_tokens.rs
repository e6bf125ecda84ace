//! `/oauth/apps/{slug}/initial-access-tokens`: tokens that let a partner register clients
//! dynamically when the app requires one (`dcr_require_initial_access_token`). Shown once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::secret::SecretKind;
use latchkey_core::{ValidationErrors, validate};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, path_id};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "initial_access_tokens": state.store.list_initial_access_tokens(caller.deployment_id, &slug).await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInput {
    name: String,
    /// Lifetime; without it the token lives until revoked.
    #[serde(default)]
    expires_in_seconds: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<CreateInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = validate::text("name", &input.name, 100).map_err(ValidationErrors::from)?;
    let expires_at = match input.expires_in_seconds {
        Some(s) if (60..=366 * 24 * 3600).contains(&s) => Some(state.clock.now().plus_seconds(s)),
        Some(_) => return Err(ValidationErrors::single("expires_in_seconds", "must be between 60 seconds and a year").into()),
        None => None,
    };
    let token = SecretKind::RegistrationToken.generate();
    let record = state
        .store
        .create_initial_access_token(
            caller.deployment_id,
            &slug,
            &name,
            &state.hasher.hash(token.expose()),
            expires_at,
            &caller.actor,
        )
        .await?;
    let mut body = json!(record);
    body["initial_access_token"] = json!(token.expose());
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn revoke(State(state): State<AppState>, caller: Caller, Path((slug, id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "initial access token")?;
    Ok(Json(json!(
        state
            .store
            .revoke_initial_access_token(caller.deployment_id, &slug, id, &caller.actor)
            .await?
    )))
}
