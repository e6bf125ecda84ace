//! `/oauth/apps/{slug}/clients`: create, read, update, deactivate / reactivate, rotate the
//! secret, list secrets. `{id}` is the record id or the public client_id.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::audit::AuditAction;
use latchkey_core::client::{Client, ClientInput, ClientView, Registration, SecretTransition, secret_transition};
use latchkey_core::secret::generate_client_id;
use latchkey_core::{Id, ValidationErrors};
use latchkey_store::clients::{ClientChange, NewClient};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::services::secrets;
use crate::state::AppState;

/// Longest overlap during which a rotated-out secret keeps working: 30 days.
const MAX_OVERLAP_SECONDS: i64 = 30 * 24 * 3600;

pub async fn list(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let clients = state.store.list_clients(caller.deployment_id, &slug).await?;
    Ok(Json(json!({ "clients": clients })))
}

pub async fn get(State(state): State<AppState>, caller: Caller, Path((slug, id)): Path<(String, String)>) -> ApiResult<Json<Client>> {
    Ok(Json(state.store.client(caller.deployment_id, &slug, &id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ClientInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let app = state.store.app(caller.deployment_id, &slug).await?;
    let config = input.into_new_config()?;
    let method = config.auth_method();
    let secret = method.uses_secret().then(|| secrets::client_secret(&state, method));
    let new = NewClient {
        id: Id::generate(),
        client_id: generate_client_id(),
        config,
        registration: Registration::Manual,
        secret: secret.as_ref().map(|(_, rec)| rec.clone()),
        registration_token_hash: None,
        initial_access_token_hash: None,
    };
    let client = state.store.create_client(&app, &new, &caller.actor).await?;
    let body = serde_json::to_value(ClientView {
        client: &client,
        client_secret: secret.as_ref().map(|(s, _)| s.expose()),
    })
    .map_err(|_| ApiError::internal())?;
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<ClientInput>,
) -> ApiResult<Json<Value>> {
    let mut issued = None;
    let client = state
        .store
        .modify_client(caller.deployment_id, &slug, &id, &caller.actor, |current| {
            let config = input.apply_to(&current.config)?;
            let transition = secret_transition(current.config.auth_method(), config.auth_method());
            let new_secret = match transition {
                SecretTransition::Issue => {
                    let (plain, rec) = secrets::client_secret(&state, config.auth_method());
                    issued = Some(plain);
                    Some(rec)
                }
                _ => None,
            };
            Ok(ClientChange {
                config,
                is_active: current.is_active,
                action: AuditAction::ClientUpdated,
                new_secret,
                drop_secrets: transition == SecretTransition::Drop,
            })
        })
        .await?;
    let body = serde_json::to_value(ClientView {
        client: &client,
        client_secret: issued.as_ref().map(|s| s.expose()),
    })
    .map_err(|_| ApiError::internal())?;
    Ok(Json(body))
}

async fn set_active(state: &AppState, caller: &Caller, slug: &str, id: &str, active: bool) -> ApiResult<Client> {
    let action = if active {
        AuditAction::ClientReactivated
    } else {
        AuditAction::ClientDeactivated
    };
    Ok(state
        .store
        .modify_client(caller.deployment_id, slug, id, &caller.actor, |current| {
            Ok(ClientChange {
                config: current.config.clone(),
                is_active: active,
                action,
                new_secret: None,
                drop_secrets: false,
            })
        })
        .await?)
}

/// DELETE deactivates: the client stops authenticating and its tokens stop being accepted;
/// its record, grants and history stay, and it can be reactivated.
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Client>> {
    Ok(Json(set_active(&state, &caller, &slug, &id, false).await?))
}

pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Client>> {
    Ok(Json(set_active(&state, &caller, &slug, &id, true).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateInput {
    /// Seconds the previous secret keeps working (default 0: it stops at once).
    #[serde(default)]
    overlap_seconds: Option<i64>,
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<RotateInput>,
    OptionalJson(body): OptionalJson<RotateInput>,
) -> ApiResult<Json<Value>> {
    let overlap = body.overlap_seconds.or(q.overlap_seconds).unwrap_or(0);
    if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
        return Err(ValidationErrors::single("overlap_seconds", format!("must be between 0 and {MAX_OVERLAP_SECONDS} (30 days)")).into());
    }
    let client = state.store.client(caller.deployment_id, &slug, &id).await?;
    let (plain, record) = secrets::client_secret(&state, client.config.auth_method());
    let (client, info) = state
        .store
        .rotate_client_secret(caller.deployment_id, &slug, &id, &record, overlap, &caller.actor)
        .await?;
    Ok(Json(json!({
        "client_secret": plain.expose(),
        "client_id": client.client_id,
        "secret": info,
        "previous_secret_valid_until": (overlap > 0).then(|| info.created_at.plus_seconds(overlap)),
    })))
}

pub async fn secrets(State(state): State<AppState>, caller: Caller, Path((slug, id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let secrets = state.store.list_client_secrets(caller.deployment_id, &slug, &id).await?;
    Ok(Json(json!({ "secrets": secrets })))
}
