//! The built-in directory: `/users`, `/organizations`, `/workspaces` and their
//! `/memberships`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_core::directory::{self, MembershipInput, MembershipKind, NamedInput, User, UserInput};
use latchkey_core::{Id, ValidationErrors};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::state::AppState;

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

/// A listing page with the cursor for the next one (`null` when this is the last).
fn page_body<T: serde::Serialize>(key: &str, items: &[T], limit: u32, id_of: impl Fn(&T) -> Id) -> Value {
    let next = (items.len() as u32 == limit).then(|| items.last().map(&id_of)).flatten();
    json!({ key: items, "next_cursor": next })
}

// ----- users -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    email: Option<String>,
    limit: Option<u32>,
    before: Option<String>,
}

pub async fn list_users(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<UserListQuery>) -> ApiResult<Json<Value>> {
    let page = PageQuery {
        limit: q.limit,
        before: q.before,
    }
    .page(DEFAULT_PAGE, MAX_PAGE)?;
    let email = q.email.map(|e| e.trim().to_lowercase());
    let users = state.store.list_users(caller.deployment_id, email.as_deref(), page).await?;
    Ok(Json(page_body("users", &users, page.limit, |u| u.id)))
}

pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<(StatusCode, Json<User>)> {
    // Argon2id is deliberately slow: keep it off the async threads.
    let change = tokio::task::spawn_blocking(move || input.apply(None))
        .await
        .map_err(|_| ApiError::internal())??;
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_user(caller.deployment_id, &change, &caller.actor).await?),
    ))
}

pub async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(state.store.user(caller.deployment_id, path_id(&id, "user")?).await?))
}

pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<Json<User>> {
    let id = path_id(&id, "user")?;
    let current = state.store.user(caller.deployment_id, id).await?;
    // Validate (and hash a new password) before taking the write lock.
    let profile = current.profile();
    let change = tokio::task::spawn_blocking(move || input.apply(Some(&profile)))
        .await
        .map_err(|_| ApiError::internal())??;
    let user = state
        .store
        .update_user(caller.deployment_id, id, &caller.actor, |_| Ok(change))
        .await?;
    Ok(Json(user))
}

pub async fn delete_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state
        .store
        .delete_user(caller.deployment_id, path_id(&id, "user")?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn user_memberships(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let memberships = state.store.user_memberships(caller.deployment_id, path_id(&id, "user")?).await?;
    Ok(Json(json!({ "memberships": memberships })))
}

// ----- organizations -----

pub async fn list_orgs(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<PageQuery>) -> ApiResult<Json<Value>> {
    let page = q.page(DEFAULT_PAGE, MAX_PAGE)?;
    let orgs = state.store.list_organizations(caller.deployment_id, page).await?;
    Ok(Json(page_body("organizations", &orgs, page.limit, |o| o.id)))
}

pub async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NamedInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if input.organization_id.is_some() {
        return Err(ValidationErrors::single("organization_id", "is only for workspaces").into());
    }
    let name = directory::validate_name(input.name.as_deref())?;
    let org = state.store.create_organization(caller.deployment_id, &name, &caller.actor).await?;
    Ok((StatusCode::CREATED, Json(json!(org))))
}

pub async fn get_org(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state
            .store
            .organization(caller.deployment_id, path_id(&id, "organization")?)
            .await?
    )))
}

pub async fn update_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NamedInput>,
) -> ApiResult<Json<Value>> {
    if input.organization_id.is_some() {
        return Err(ValidationErrors::single("organization_id", "is only for workspaces").into());
    }
    let name = directory::validate_name(input.name.as_deref())?;
    let org = state
        .store
        .rename_organization(caller.deployment_id, path_id(&id, "organization")?, &name, &caller.actor)
        .await?;
    Ok(Json(json!(org)))
}

pub async fn delete_org(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state
        .store
        .delete_organization(caller.deployment_id, path_id(&id, "organization")?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- workspaces -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceListQuery {
    organization_id: Option<String>,
    limit: Option<u32>,
    before: Option<String>,
}

pub async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WorkspaceListQuery>,
) -> ApiResult<Json<Value>> {
    let page = PageQuery {
        limit: q.limit,
        before: q.before,
    }
    .page(DEFAULT_PAGE, MAX_PAGE)?;
    let org = match &q.organization_id {
        Some(o) => Some(
            o.parse::<Id>()
                .map_err(|_| ApiError::bad_request("organization_id must be an id"))?,
        ),
        None => None,
    };
    let ws = state.store.list_workspaces(caller.deployment_id, org, page).await?;
    Ok(Json(page_body("workspaces", &ws, page.limit, |w| w.id)))
}

pub async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NamedInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut errors = ValidationErrors::new();
    let name = match directory::validate_name(input.name.as_deref()) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    if input.organization_id.is_none() {
        errors.add("organization_id", "is required: the organization the workspace belongs to");
    }
    let (Some(name), Some(org)) = (name, input.organization_id) else {
        return Err(errors.into());
    };
    let ws = state
        .store
        .create_workspace(caller.deployment_id, org, &name, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(ws))))
}

pub async fn get_workspace(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        state.store.workspace(caller.deployment_id, path_id(&id, "workspace")?).await?
    )))
}

pub async fn update_workspace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NamedInput>,
) -> ApiResult<Json<Value>> {
    if input.organization_id.is_some() {
        return Err(ValidationErrors::single("organization_id", "cannot change: a workspace stays in its organization").into());
    }
    let name = directory::validate_name(input.name.as_deref())?;
    let ws = state
        .store
        .rename_workspace(caller.deployment_id, path_id(&id, "workspace")?, &name, &caller.actor)
        .await?;
    Ok(Json(json!(ws)))
}

pub async fn delete_workspace(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state
        .store
        .delete_workspace(caller.deployment_id, path_id(&id, "workspace")?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- memberships (the router binds `kind` per path: /organizations/… or /workspaces/…) -----

pub async fn list_memberships(
    kind: MembershipKind,
    State(state): State<AppState>,
    caller: Caller,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    let group = path_id(&group, kind.as_str())?;
    let m = state.store.list_memberships(caller.deployment_id, kind, group).await?;
    Ok(Json(json!({ "memberships": m })))
}

pub async fn add_membership(
    kind: MembershipKind,
    State(state): State<AppState>,
    caller: Caller,
    Path(group): Path<String>,
    ApiJson(input): ApiJson<MembershipInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let group = path_id(&group, kind.as_str())?;
    let user = input.user_id.ok_or_else(|| ValidationErrors::single("user_id", "is required"))?;
    let permissions = directory::validate_permissions(input.permissions.as_deref().unwrap_or(&[]))?;
    let m = state
        .store
        .add_membership(caller.deployment_id, kind, group, user, &permissions, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(m))))
}

pub async fn update_membership(
    kind: MembershipKind,
    State(state): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
    ApiJson(input): ApiJson<MembershipInput>,
) -> ApiResult<Json<Value>> {
    let group = path_id(&group, kind.as_str())?;
    let user = path_id(&user, "membership")?;
    if input.user_id.is_some_and(|u| u != user) {
        return Err(ValidationErrors::single("user_id", "cannot change: remove the membership and add another").into());
    }
    let permissions = directory::validate_permissions(
        &input
            .permissions
            .ok_or_else(|| ValidationErrors::single("permissions", "is required"))?,
    )?;
    let m = state
        .store
        .set_membership_permissions(caller.deployment_id, kind, group, user, &permissions, &caller.actor)
        .await?;
    Ok(Json(json!(m)))
}

pub async fn remove_membership(
    kind: MembershipKind,
    State(state): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let group = path_id(&group, kind.as_str())?;
    let user = path_id(&user, "membership")?;
    state
        .store
        .remove_membership(caller.deployment_id, kind, group, user, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
