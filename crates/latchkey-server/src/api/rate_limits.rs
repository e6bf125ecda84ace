//! `/oauth/apps/{slug}/rate-limits`: the gateway's rate limit rules for an app.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::rate_limit::{RateLimitRule, RuleConfig, RuleInput};
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, path_id};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "rate_limits": state.store.list_rate_limit_rules(caller.deployment_id, &slug).await? }),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> ApiResult<(StatusCode, Json<RateLimitRule>)> {
    let config = input.apply(None)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .create_rate_limit_rule(caller.deployment_id, &slug, &config, &caller.actor)
                .await?,
        ),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<RuleInput>,
) -> ApiResult<Json<RateLimitRule>> {
    let id = path_id(&id, "rate limit rule")?;
    let rule = state
        .store
        .update_rate_limit_rule(caller.deployment_id, &slug, id, &caller.actor, |current| {
            let config = RuleConfig {
                name: current.name.clone(),
                scope: current.scope,
                client: current.client_id.map(|c| c.to_string()),
                window_seconds: current.window_seconds,
                max_requests: current.max_requests,
            };
            input.apply(Some(&config))
        })
        .await?;
    Ok(Json(rule))
}

pub async fn delete(State(state): State<AppState>, caller: Caller, Path((slug, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let id = path_id(&id, "rate limit rule")?;
    state
        .store
        .delete_rate_limit_rule(caller.deployment_id, &slug, id, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
