//! The authenticated caller of a backend API request, as an extractor: a backend API key and
//! the deployment it acts for (checked against a `/deployments/{id}` prefix).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use latchkey_core::Id;
use latchkey_core::audit::Actor;

use crate::http::DeploymentScope;
use crate::http::error::ApiError;
use crate::services::api_keys::{self, ApiKeyAuth};
use crate::state::AppState;

const CHALLENGE: &str = "Bearer realm=\"latchkey\"";
const CHALLENGE_INVALID: &str = "Bearer realm=\"latchkey\", error=\"invalid_token\"";

#[derive(Debug, Clone)]
pub struct Caller {
    pub deployment_id: Id,
    pub key_id: Id,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = match api_keys::authenticate(state, &parts.headers).await? {
            ApiKeyAuth::Found(key) => key,
            ApiKeyAuth::Missing => {
                return Err(ApiError::unauthorized(
                    "send your backend API key as Authorization: Bearer <key>",
                    CHALLENGE,
                ));
            }
            ApiKeyAuth::Invalid(why) => return Err(ApiError::unauthorized(why, CHALLENGE_INVALID)),
            ApiKeyAuth::Unknown => return Err(ApiError::unauthorized("the API key is unknown or revoked", CHALLENGE_INVALID)),
        };
        if let Some(DeploymentScope(raw)) = parts.extensions.get::<DeploymentScope>()
            && raw.parse::<Id>().ok() != Some(key.deployment_id)
        {
            return Err(ApiError::forbidden("this API key belongs to another deployment"));
        }
        Ok(Caller {
            deployment_id: key.deployment_id,
            key_id: key.id,
            actor: Actor::api_key(key.id, &key.name),
        })
    }
}
