//! `/oauth/apps/{slug}/resource-servers`: the APIs and MCP servers that accept the app's
//! tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::resource_server::{ResourceServer, ResourceServerInput};
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, path_id};
use crate::state::AppState;

fn scope_names(app: &latchkey_core::app::App) -> Vec<String> {
    app.scopes.iter().map(|s| s.scope.clone()).collect()
}

pub async fn list(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let servers = state.store.list_resource_servers(caller.deployment_id, &slug).await?;
    Ok(Json(json!({ "resource_servers": servers })))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<ResourceServer>> {
    let id = path_id(&id, "resource server")?;
    Ok(Json(state.store.resource_server(caller.deployment_id, &slug, id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ResourceServerInput>,
) -> ApiResult<(StatusCode, Json<ResourceServer>)> {
    let app = state.store.app(caller.deployment_id, &slug).await?;
    let config = input.apply(None, &scope_names(&app))?;
    let server = state
        .store
        .create_resource_server(caller.deployment_id, &slug, &config, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(server)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<ResourceServerInput>,
) -> ApiResult<Json<ResourceServer>> {
    let id = path_id(&id, "resource server")?;
    let app = state.store.app(caller.deployment_id, &slug).await?;
    let scopes = scope_names(&app);
    let server = state
        .store
        .update_resource_server(caller.deployment_id, &slug, id, &caller.actor, |current| {
            input.apply(Some(&current.config()), &scopes)
        })
        .await?;
    Ok(Json(server))
}

pub async fn delete(State(state): State<AppState>, caller: Caller, Path((slug, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let id = path_id(&id, "resource server")?;
    state
        .store
        .delete_resource_server(caller.deployment_id, &slug, id, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues the resource server a new introspection secret (returned once; the previous one
/// stops working). It authenticates at the introspection endpoint as
/// `introspection_client_id` (HTTP Basic or client_secret_post) and sees only tokens whose
/// audience it is.
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    use latchkey_core::secret::SecretKind;
    let id = path_id(&id, "resource server")?;
    let current = state.store.resource_server(caller.deployment_id, &slug, id).await?;
    let credential_id = current.credential_id.unwrap_or_else(|| {
        format!(
            "{}{}",
            latchkey_core::resource_server::CREDENTIAL_PREFIX,
            latchkey_core::crypto::b64url(&latchkey_core::crypto::random_bytes::<16>())
        )
    });
    let secret = SecretKind::ClientSecret.generate();
    let server = state
        .store
        .set_resource_server_secret(
            caller.deployment_id,
            &slug,
            id,
            &credential_id,
            &state.hasher.hash(secret.expose()),
            &caller.actor,
        )
        .await?;
    Ok(Json(json!({
        "introspection_client_id": credential_id,
        "client_secret": secret.expose(),
        "resource_server": server,
    })))
}
