//! `POST /oauth/introspect` (RFC 7662), for authenticated clients of the app and for its
//! resource servers (with their own credentials, seeing only their tokens). It answers `{"active": false}` for anything that is not a
//! good token of this app right now, through the one verification decision.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use latchkey_core::client::AuthMethod;
use latchkey_core::introspection::{self, Asker};
use latchkey_core::oauth::OAuthError;
use latchkey_core::resource_server::{CREDENTIAL_PREFIX, ResourceServer};
use latchkey_core::scope;
use latchkey_core::verify::{self, TokenKind};
use latchkey_store::StoreError;
use serde_json::{Value, json};

use crate::http::error::OAuthFailure;
use crate::http::extract::OAuthForm;
use crate::services::client_auth;
use crate::services::issuer::Issuer;
use crate::services::tokens;
use crate::state::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    iss: Issuer,
    headers: HeaderMap,
    OAuthForm(p): OAuthForm,
) -> Result<Json<Value>, OAuthFailure> {
    let (state, iss, headers) = (&state, &iss, &headers);
    // Resource servers introspect with their own credentials; clients must be confidential.
    let server = match client_auth::secret_credentials(headers, &p).filter(|(id, _)| id.starts_with(CREDENTIAL_PREFIX)) {
        Some((id, secret)) => Some(authenticate_resource_server(state, iss, headers, &id, &secret).await?),
        None => None,
    };
    let asker = match &server {
        Some(rs) => Asker::ResourceServer {
            identifier: &rs.identifier,
            require_binding: rs.require_binding,
        },
        None => {
            let c = client_auth::authenticate(state, iss, headers, &p, &iss.url("/oauth/introspect")).await?;
            if c.config.auth_method() == AuthMethod::None {
                return Err(OAuthFailure::client(
                    OAuthError::invalid_client("public clients cannot use the introspection endpoint"),
                    false,
                ));
            }
            Asker::Client(c.id)
        }
    };
    let token = p.required("token")?;
    let inactive = || Json(json!({"active": false}));
    let Some(hash) = tokens::presented_hash(state, iss, token).await? else {
        return Ok(inactive());
    };
    let found = state.store.token_state(&hash).await?;
    let now = state.clock.now();
    let Ok(t) = verify::check_token(found.as_ref(), now) else {
        return Ok(inactive());
    };
    if t.app_id != iss.app.id {
        return Ok(inactive());
    }
    if !introspection::visible_to(t, asker) {
        return Ok(inactive());
    }
    let Ok(scopes) = tokens::standing_scopes(state, &iss.app, t).await? else {
        return Ok(inactive());
    };
    let aud = tokens::audience(&t.resources, &t.client_id);
    let mut body = json!({
        "active": true,
        "scope": scope::join(&scopes),
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
    if introspection::discloses_email(&scopes) {
        match state.store.user(t.deployment_id, t.user_id).await {
            Ok(user) => body["username"] = json!(user.email),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Json(body))
}

async fn authenticate_resource_server(
    state: &AppState,
    iss: &Issuer,
    headers: &HeaderMap,
    id: &str,
    secret: &str,
) -> Result<ResourceServer, OAuthFailure> {
    let basic = headers.contains_key(axum::http::header::AUTHORIZATION);
    let fail = || OAuthFailure::client(OAuthError::invalid_client("resource server authentication failed"), basic);
    let (rs, hash) = state.store.resource_server_by_credential(iss.app.id, id).await?.ok_or_else(fail)?;
    if state.hasher.verify(secret, &hash) { Ok(rs) } else { Err(fail()) }
}
