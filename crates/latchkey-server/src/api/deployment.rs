//! `GET|PATCH /deployment`: the caller's deployment and its settings.
//!
//! Settings: `consent_url` — an external consent page (absolute https URL, or http on a
//! loopback host) that `/oauth/authorize` sends browsers to with `?handoff_id=…` instead of the
//! hosted pages; `null` returns to the hosted pages. `allow_anonymous_gateway` — whether the
//! gateway answers checks of this deployment's tokens from callers without an API key
//! (default false).

use axum::Json;
use axum::extract::State;
use latchkey_core::ValidationErrors;
use latchkey_store::deployments::Deployment;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::caller::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub async fn get(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Deployment>> {
    Ok(Json(state.store.deployment(caller.deployment_id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, deserialize_with = "latchkey_core::app::double_option")]
    consent_url: Option<Option<String>>,
    /// Let callers without a backend API key check this deployment's OAuth tokens at the
    /// gateway (for SDK code that sends no key). Off unless set.
    #[serde(default)]
    allow_anonymous_gateway: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentPatch {
    settings: SettingsPatch,
}

fn check_consent_url(raw: &str) -> Result<String, ValidationErrors> {
    let ok = url::Url::parse(raw).ok().is_some_and(|u| {
        u.fragment().is_none()
            && (u.scheme() == "https" || (u.scheme() == "http" && latchkey_core::redirect_uri::is_loopback_host(&u)))
            && u.host().is_some()
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ValidationErrors::single(
            "settings.consent_url",
            "must be an absolute https URL (http only on loopback hosts), without a fragment",
        ))
    }
}

pub async fn patch(State(state): State<AppState>, caller: Caller, ApiJson(p): ApiJson<DeploymentPatch>) -> ApiResult<Json<Deployment>> {
    let current = state.store.deployment(caller.deployment_id).await?;
    let mut settings: Map<String, Value> = current.settings.as_object().cloned().unwrap_or_default();
    match p.settings.consent_url {
        None => {}
        Some(None) => {
            settings.remove("consent_url");
        }
        Some(Some(u)) => {
            settings.insert("consent_url".into(), Value::String(check_consent_url(&u)?));
        }
    }
    if let Some(v) = p.settings.allow_anonymous_gateway {
        settings.insert("allow_anonymous_gateway".into(), Value::Bool(v));
    }
    Ok(Json(
        state
            .store
            .set_deployment_settings(caller.deployment_id, &Value::Object(settings), &caller.actor)
            .await?,
    ))
}
