//! `GET|POST /oauth/userinfo` (OIDC Core §5.3) with RFC 6750 bearer errors: 401 with
//! `WWW-Authenticate` for a missing or bad token, 403 `insufficient_scope` without `openid`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use latchkey_core::verify::{self, TokenKind};
use latchkey_store::StoreError;
use serde_json::{Value, json};

use crate::http::error::OAuthFailure;
use crate::http::extract::bearer_token;
use crate::services::issuer::Issuer;
use crate::services::tokens;
use crate::state::AppState;

pub async fn userinfo(
    State(state): State<AppState>,
    iss: Issuer,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, OAuthFailure> {
    let token = match bearer_token(&method, &headers, &body) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(OAuthFailure::bearer(
                StatusCode::UNAUTHORIZED,
                None,
                "an access token is required",
                None,
            ));
        }
        Err(d) => return Err(OAuthFailure::bearer(StatusCode::BAD_REQUEST, Some("invalid_request"), d, None)),
    };
    let invalid = |d: &str| Err(OAuthFailure::bearer(StatusCode::UNAUTHORIZED, Some("invalid_token"), d, None));
    let Some(hash) = tokens::presented_hash(&state, &iss, &token).await? else {
        return invalid("the access token is malformed or unknown");
    };
    let found = state.store.token_state(&hash).await?;
    let t = match verify::check_token(found.as_ref(), state.clock.now()) {
        Ok(t) => t,
        Err(reason) => {
            return invalid(&format!("the access token is not valid ({})", reason.as_str()));
        }
    };
    if t.kind != TokenKind::Access || t.app_id != iss.app.id {
        return invalid("not an access token of this issuer");
    }
    let scopes = match tokens::standing_scopes(&state, &iss.app, t).await? {
        Ok(scopes) => scopes,
        Err(reason) => return invalid(&format!("the access token is not valid ({})", reason.as_str())),
    };
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthFailure::bearer(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the token lacks the openid scope",
            Some("openid"),
        ));
    }
    let user = match state.store.user(t.deployment_id, t.user_id).await {
        Ok(u) => u,
        Err(StoreError::NotFound(_)) => return invalid("the user no longer exists"),
        Err(e) => return Err(e.into()),
    };
    let mut claims = json!({"sub": user.id.to_string()});
    tokens::add_user_claims(&mut claims, &user, &scopes);
    Ok(Json(claims))
}
