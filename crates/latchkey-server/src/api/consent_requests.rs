//! External consent, for products with their own sign-in: when the deployment has a
//! `consent_url`, `/oauth/authorize` sends the browser there with a `handoff_id`; the product
//! reads the request (`GET /consent-requests/{handoff_id}`), then accepts it for a user and a
//! resource or rejects it, and sends the browser to the `redirect_to` it gets back, which
//! finishes the flow at Latchkey (`/oauth/consent/complete`).

use axum::Json;
use axum::extract::{Path, State};
use latchkey_core::authorize::is_oidc_scope;
use latchkey_core::consent;
use latchkey_core::grant::GrantedResource;
use latchkey_core::lifetimes::SESSION_TTL_SECONDS;
use latchkey_core::secret::SecretKind;
use latchkey_core::{Id, ValidationErrors};
use latchkey_store::consents::{ConsentRequest, ConsentStatus, Denial};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, OptionalJson};
use crate::state::AppState;

async fn load(state: &AppState, caller: &Caller, handoff: &str) -> ApiResult<ConsentRequest> {
    if !SecretKind::Handoff.looks_valid(handoff) {
        return Err(ApiError::not_found("consent request"));
    }
    let c = state
        .store
        .consent_request_by_hash(&state.hasher.hash(handoff))
        .await?
        .filter(|c| c.deployment_id == caller.deployment_id)
        .ok_or_else(|| ApiError::not_found("consent request"))?;
    Ok(c)
}

fn complete_url(state: &AppState, app: &latchkey_core::app::App, handoff: &str) -> String {
    let q: String = url::form_urlencoded::byte_serialize(handoff.as_bytes()).collect();
    format!(
        "{}/oauth/consent/complete?handoff_id={q}",
        crate::services::issuer::issuer_url(&state.settings, app)
    )
}

pub async fn get(State(state): State<AppState>, caller: Caller, Path(handoff): Path<String>) -> ApiResult<Json<Value>> {
    let c = load(&state, &caller, &handoff).await?;
    let client = state.store.client_by_client_id(&c.request.client_id).await?;
    let app = state.store.app_by_id(c.app_id).await?;
    let scopes: Vec<Value> = c
        .request
        .scopes
        .iter()
        .map(|s| match app.scope(s) {
            Some(d) if !is_oidc_scope(s) => {
                json!({"scope": s, "display_name": d.display_name, "description": d.description, "category": d.category})
            }
            _ => json!({"scope": s, "display_name": s, "description": "", "category": "openid"}),
        })
        .collect();
    let status = match c.status {
        ConsentStatus::Pending => "pending",
        ConsentStatus::Approved => "approved",
        ConsentStatus::Denied => "denied",
        ConsentStatus::Completed => "completed",
    };
    Ok(Json(json!({
        "handoff_id": handoff,
        "status": status,
        "expires_at": c.expires_at,
        "app": {"id": app.id, "slug": app.slug, "name": app.name, "issuer": crate::services::issuer::issuer_url(&state.settings, &app)},
        "client": {
            "id": client.id, "client_id": client.client_id, "client_name": client.config.client_name,
            "client_uri": client.config.client_uri, "logo_uri": client.config.logo_uri,
        },
        "redirect_uri": c.request.redirect_uri,
        "scopes": scopes,
        "resources": c.request.resources,
        "prompt": c.request.prompt,
        "max_age": c.request.max_age,
        "login_hint": c.request.login_hint,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    user_id: Id,
    granted_resource: String,
    /// Defaults to every requested scope; may only narrow them.
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// Your product's session identifier, recorded for the audit trail.
    #[serde(default)]
    session_id: Option<String>,
}

pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(handoff): Path<String>,
    ApiJson(input): ApiJson<AcceptInput>,
) -> ApiResult<Json<Value>> {
    let c = load(&state, &caller, &handoff).await?;
    if c.status != ConsentStatus::Pending || state.clock.now() >= c.expires_at {
        return Err(ApiError::conflict("this consent request was already answered or has expired"));
    }
    let user = state.store.user(caller.deployment_id, input.user_id).await?;
    if !user.is_active {
        return Err(ApiError::conflict("the user is disabled"));
    }
    let resource: GrantedResource = input.granted_resource.parse().map_err(|_| {
        ValidationErrors::single(
            "granted_resource",
            "must be urn:latchkey:user:ID, urn:latchkey:organization:ID or urn:latchkey:workspace:ID",
        )
    })?;
    let scopes = match input.scopes {
        None => c.request.scopes.clone(),
        Some(list) => {
            if let Some(extra) = list.iter().find(|s| !c.request.scopes.contains(s)) {
                return Err(ValidationErrors::single("scopes", format!("{extra:?} was not requested")).into());
            }
            list
        }
    };
    let app = state.store.app_by_id(c.app_id).await?;
    let memberships = state.store.memberships_of(user.id).await?;
    let defs: Vec<_> = scopes.iter().filter(|s| !is_oidc_scope(s)).filter_map(|s| app.scope(s)).collect();
    if !consent::resource_choices(&defs, user.id, &memberships)
        .iter()
        .any(|ch| ch.resource == resource)
    {
        return Err(ValidationErrors::single("granted_resource", "the user cannot grant these scopes on this resource").into());
    }
    // A Latchkey session stands for the product's sign-in, so logout and session checks work.
    let session_value = SecretKind::Session.generate();
    let mut actor = caller.actor.clone();
    if let Some(s) = &input.session_id {
        actor.name = Some(format!("{} (session {s})", actor.name.unwrap_or_default()));
    }
    let accepted = state
        .store
        .accept_consent(
            &c,
            user.id,
            &state.hasher.hash(session_value.expose()),
            state.clock.now().plus_seconds(SESSION_TTL_SECONDS),
            resource,
            &scopes,
            &actor,
        )
        .await?;
    if accepted.is_none() {
        return Err(ApiError::conflict("this consent request was already answered or has expired"));
    }
    Ok(Json(json!({"redirect_to": complete_url(&state, &app, &handoff)})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    #[serde(default)]
    user_id: Option<Id>,
}

pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(handoff): Path<String>,
    OptionalJson(input): OptionalJson<RejectInput>,
) -> ApiResult<Json<Value>> {
    let c = load(&state, &caller, &handoff).await?;
    let app = state.store.app_by_id(c.app_id).await?;
    let denial = Denial {
        user_id: input.user_id,
        session_id: None,
        // The browser learns the answer at /oauth/consent/complete, which completes it.
        answered: false,
        event: Some(json!({"via": "backend api"})),
    };
    if !state.store.deny_consent(&c, &denial, &caller.actor, &c.request.client_id).await? {
        return Err(ApiError::conflict("this consent request was already answered or has expired"));
    }
    Ok(Json(json!({"redirect_to": complete_url(&state, &app, &handoff)})))
}
