//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009), for authenticated
//! clients of the app. Introspection answers `{"active": false}` for anything that is not a
//! good token of this app right now, through the one verification decision.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use latchkey_core::audit::Actor;
use latchkey_core::oauth::{ErrorCode, OAuthError};
use latchkey_core::resource_server::{CREDENTIAL_PREFIX, ResourceServer};
use latchkey_core::scope;
use latchkey_core::verify::{self, TokenKind};
use serde_json::json;

use super::client_auth::{self, EndpointError, server_error};
use super::issuer::{Issuer, IssuerError};
use super::token::{form, issuer_error, no_store};
use super::tokens;
use crate::state::AppState;

pub async fn introspect(State(state): State<AppState>, iss: Result<Issuer, IssuerError>, headers: HeaderMap, body: Bytes) -> Response {
    let iss = match iss {
        Ok(i) => i,
        Err(e) => return issuer_error(e),
    };
    match do_introspect(&state, &iss, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn do_introspect(state: &AppState, iss: &Issuer, headers: &HeaderMap, body: &Bytes) -> Result<Response, EndpointError> {
    let p = form(headers, body)?;
    // Resource servers introspect with their own credentials and see only their tokens.
    let audience = match client_auth::secret_credentials(headers, &p).filter(|(id, _)| id.starts_with(CREDENTIAL_PREFIX)) {
        Some((id, secret)) => Some(authenticate_resource_server(state, iss, headers, &id, &secret).await?),
        None => {
            client_auth::authenticate(state, iss, headers, &p, &iss.url("/oauth/introspect")).await?;
            None
        }
    };
    let token = p.required("token")?;
    let inactive = || no_store(json!({"active": false}));
    let Some(hash) = tokens::presented_hash(state, iss, token).await else {
        return Ok(inactive());
    };
    let found = state.store.token_state(&hash).await.map_err(|_| server_error())?;
    let now = state.clock.now();
    let Ok(t) = verify::check_token(found.as_ref(), now) else {
        return Ok(inactive());
    };
    if t.app_id != iss.app.id {
        return Ok(inactive());
    }
    if let Some(rs) = &audience {
        let mine = t.resources.iter().any(|r| r == &rs.identifier) || (t.resources.is_empty() && !rs.require_binding);
        if !mine {
            return Ok(inactive());
        }
    }
    let aud = tokens::audience(&t.resources, &t.client_id);
    let mut body = json!({
        "active": true,
        "scope": scope::join(&t.scopes),
        "client_id": t.client_id,
        "sub": t.user_id.to_string(),
        "exp": t.expires_at.seconds(),
        "iat": t.issued_at.seconds(),
        "iss": iss.issuer,
        "aud": aud,
        "token_type": if t.kind == TokenKind::Access { "Bearer" } else { "refresh_token" },
        "granted_resource": t.granted_resource.to_string(),
        "grant_id": t.grant_id.to_string(),
    });
    if let Some(sid) = t.session_id {
        body["sid"] = json!(sid.to_string());
    }
    if let Ok(user) = state.store.user(t.deployment_id, t.user_id).await {
        body["username"] = json!(user.email);
    }
    Ok(no_store(body))
}

async fn authenticate_resource_server(
    state: &AppState,
    iss: &Issuer,
    headers: &HeaderMap,
    id: &str,
    secret: &str,
) -> Result<ResourceServer, EndpointError> {
    let basic = headers.contains_key(axum::http::header::AUTHORIZATION);
    let fail = || EndpointError {
        error: OAuthError::new(ErrorCode::InvalidClient, "resource server authentication failed"),
        basic,
    };
    let (rs, hash) = state
        .store
        .resource_server_by_credential(iss.app.id, id)
        .await
        .map_err(|_| server_error())?
        .ok_or_else(fail)?;
    if state.hasher.verify(secret, &hash) { Ok(rs) } else { Err(fail()) }
}

pub async fn revoke(State(state): State<AppState>, iss: Result<Issuer, IssuerError>, headers: HeaderMap, body: Bytes) -> Response {
    let iss = match iss {
        Ok(i) => i,
        Err(e) => return issuer_error(e),
    };
    match do_revoke(&state, &iss, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn do_revoke(state: &AppState, iss: &Issuer, headers: &HeaderMap, body: &Bytes) -> Result<Response, EndpointError> {
    let p = form(headers, body)?;
    let client = client_auth::authenticate(state, iss, headers, &p, &iss.url("/oauth/revoke")).await?;
    let token = p.required("token")?;
    // RFC 7009 §2.2: invalid or unknown tokens get 200 too.
    if let Some(hash) = tokens::presented_hash(state, iss, token).await {
        state
            .store
            .revoke_token(&hash, client.id, &Actor::client(&client.client_id), &client.client_id)
            .await
            .map_err(|_| server_error())?;
    }
    Ok(no_store(json!({})))
}
