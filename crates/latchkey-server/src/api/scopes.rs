//! `/oauth/apps/{slug}/scopes/{scope}`: display text, archive / unarchive, and the mapping
//! to a resource category and directory permissions. Each answers with the whole app, as
//! the published SDKs expect.

use axum::Json;
use axum::extract::{Path, State};
use latchkey_core::ValidationErrors;
use latchkey_core::app::App;
use latchkey_core::audit::AuditAction;
use latchkey_core::scope::{self, ScopeCategory, ScopeMapping, ScopeTextPatch};
use latchkey_store::apps::AppChange;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// Changes one scope of an app; a scope the app does not define is a 404.
async fn change_scope(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    name: &str,
    action: AuditAction,
    f: impl FnOnce(&mut scope::ScopeDefinition) -> Result<(), ValidationErrors>,
) -> ApiResult<App> {
    let exists = state.store.app(caller.deployment_id, slug).await?.scope(name).is_some();
    if !exists {
        return Err(ApiError::not_found("scope"));
    }
    let app = state
        .store
        .modify_app(caller.deployment_id, slug, &caller.actor, |app| {
            let mut app = app.clone();
            let def = app
                .scope_mut(name)
                .ok_or_else(|| ValidationErrors::single("scope", format!("{name:?} is not a scope of this app")))?;
            f(def)?;
            Ok(AppChange {
                app,
                removed_scopes: vec![],
                action,
                details: json!({ "scope": name }),
            })
        })
        .await?;
    Ok(app)
}

pub async fn list(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let app = state.store.app(caller.deployment_id, &slug).await?;
    Ok(Json(json!({ "scopes": app.scopes })))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(p): ApiJson<ScopeTextPatch>,
) -> ApiResult<Json<App>> {
    let app = change_scope(&state, &caller, &slug, &name, AuditAction::ScopeUpdated, |def| {
        scope::patch_text(def, &p)
    })
    .await?;
    Ok(Json(app))
}

pub async fn archive(State(state): State<AppState>, caller: Caller, Path((slug, name)): Path<(String, String)>) -> ApiResult<Json<App>> {
    let app = change_scope(&state, &caller, &slug, &name, AuditAction::ScopeArchived, |def| {
        def.archived = true;
        Ok(())
    })
    .await?;
    Ok(Json(app))
}

pub async fn unarchive(State(state): State<AppState>, caller: Caller, Path((slug, name)): Path<(String, String)>) -> ApiResult<Json<App>> {
    let app = change_scope(&state, &caller, &slug, &name, AuditAction::ScopeUnarchived, |def| {
        def.archived = false;
        Ok(())
    })
    .await?;
    Ok(Json(app))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    category: String,
    #[serde(default)]
    organization_permission: Option<String>,
    #[serde(default)]
    workspace_permission: Option<String>,
}

pub async fn set_mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(m): ApiJson<MappingInput>,
) -> ApiResult<Json<App>> {
    let category = ScopeCategory::parse("category", &m.category).map_err(ValidationErrors::from)?;
    if category == ScopeCategory::Unset {
        return Err(ValidationErrors::single("category", "is required: personal, organization or workspace").into());
    }
    let mapping = ScopeMapping::new(
        category,
        m.organization_permission.as_deref(),
        m.workspace_permission.as_deref(),
        "",
    )?;
    let app = change_scope(&state, &caller, &slug, &name, AuditAction::ScopeMappingSet, |def| {
        def.set_mapping(mapping);
        Ok(())
    })
    .await?;
    Ok(Json(app))
}
