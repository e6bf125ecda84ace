//! `GET /audit-events`: the deployment's audit trail, newest first, filtered by action,
//! client, app, actor, target and time range, paged by cursor.

use axum::Json;
use axum::extract::State;
use latchkey_core::Id;
use latchkey_core::audit::{AuditQuery, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, query_time};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Exact action, or a prefix ending in '.' (`client.`).
    #[serde(alias = "type")]
    action: Option<String>,
    client_id: Option<String>,
    app_id: Option<String>,
    actor: Option<String>,
    target_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(p): ApiQuery<AuditParams>) -> ApiResult<Json<Value>> {
    let limit = p.limit.unwrap_or(DEFAULT_AUDIT_PAGE);
    if limit == 0 || limit > MAX_AUDIT_PAGE {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_AUDIT_PAGE}")));
    }
    let parse_id = |v: &Option<String>, name: &str| -> ApiResult<Option<Id>> {
        v.as_deref()
            .map(|s| s.parse::<Id>().map_err(|_| ApiError::bad_request(format!("{name} must be an id"))))
            .transpose()
    };
    let q = AuditQuery {
        action: p.action.filter(|s| !s.is_empty()),
        client_id: p.client_id.filter(|s| !s.is_empty()),
        app_id: parse_id(&p.app_id, "app_id")?,
        actor: p.actor.filter(|s| !s.is_empty()),
        target_id: p.target_id.filter(|s| !s.is_empty()),
        since: query_time(&p.since, "since")?,
        until: query_time(&p.until, "until")?,
        before: parse_id(&p.cursor, "cursor")?,
        limit,
    };
    let events = state.store.audit_events(caller.deployment_id, &q).await?;
    let next = (events.len() as u32 == limit).then(|| events.last().map(|e| e.id)).flatten();
    Ok(Json(json!({ "events": events, "next_cursor": next })))
}
