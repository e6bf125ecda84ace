//! Grants: list per client and per user, read one, revoke (idempotent, with actor and
//! reason recorded).

use axum::Json;
use axum::extract::{Path, State};
use latchkey_core::grant::{Grant, GrantStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, OptionalJson, path_id};
use crate::state::AppState;

const MAX_GRANTS: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantQuery {
    status: Option<String>,
    limit: Option<u32>,
}

impl GrantQuery {
    fn parse(&self) -> Result<(Option<GrantStatus>, u32), ApiError> {
        let status = match self.status.as_deref() {
            None | Some("") | Some("all") => None,
            Some(s) => Some(GrantStatus::parse(s).ok_or_else(|| ApiError::bad_request("status must be active, revoked or all"))?),
        };
        let limit = self.limit.unwrap_or(MAX_GRANTS);
        if limit == 0 || limit > MAX_GRANTS {
            return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_GRANTS}")));
        }
        Ok((status, limit))
    }
}

pub async fn list_for_client(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<GrantQuery>,
) -> ApiResult<Json<Value>> {
    let (status, limit) = q.parse()?;
    let grants = state
        .store
        .list_client_grants(caller.deployment_id, &slug, &id, status, limit)
        .await?;
    Ok(Json(json!({ "grants": grants })))
}

pub async fn list_for_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    ApiQuery(q): ApiQuery<GrantQuery>,
) -> ApiResult<Json<Value>> {
    let (status, limit) = q.parse()?;
    let user_id = path_id(&user_id, "user")?;
    let grants = state.store.list_user_grants(caller.deployment_id, user_id, status, limit).await?;
    Ok(Json(json!({ "grants": grants })))
}

pub async fn get(State(state): State<AppState>, caller: Caller, Path(grant_id): Path<String>) -> ApiResult<Json<Grant>> {
    let id = path_id(&grant_id, "grant")?;
    Ok(Json(state.store.grant(caller.deployment_id, id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    #[serde(default)]
    reason: Option<String>,
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id, grant_id)): Path<(String, String, String)>,
    OptionalJson(body): OptionalJson<RevokeInput>,
) -> ApiResult<Json<Grant>> {
    let grant_id = path_id(&grant_id, "grant")?;
    let reason = match body.reason.as_deref().map(str::trim) {
        None | Some("") => "revoked by operator".to_owned(),
        Some(r) if r.chars().count() <= 500 && !r.chars().any(char::is_control) => r.to_owned(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "reason must be at most 500 characters without control characters",
            ));
        }
    };
    let grant = state
        .store
        .revoke_grant(caller.deployment_id, &slug, &id, grant_id, &reason, &caller.actor)
        .await?;
    Ok(Json(grant))
}
