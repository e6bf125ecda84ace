//! `POST /oauth/revoke` (RFC 7009): an authenticated client revokes one of its own tokens;
//! unknown or invalid tokens are answered 200 too (§2.2).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use latchkey_core::audit::Actor;
use serde_json::{Value, json};

use crate::http::error::OAuthFailure;
use crate::http::extract::OAuthForm;
use crate::services::client_auth;
use crate::services::issuer::Issuer;
use crate::services::tokens;
use crate::state::AppState;

pub async fn revoke(
    State(state): State<AppState>,
    iss: Issuer,
    headers: HeaderMap,
    OAuthForm(p): OAuthForm,
) -> Result<Json<Value>, OAuthFailure> {
    let client = client_auth::authenticate(&state, &iss, &headers, &p, &iss.url("/oauth/revoke")).await?;
    let token = p.required("token")?;
    // §2.2: invalid or unknown tokens get 200 too.
    if let Some(hash) = tokens::presented_hash(&state, &iss, token).await? {
        state
            .store
            .revoke_token(&hash, client.id, &Actor::client(&client.client_id), &client.client_id)
            .await?;
    }
    Ok(Json(json!({})))
}
