//! `POST /oauth/token` (RFC 6749 §3.2): the `authorization_code` grant (single use, bound to
//! client, redirect URI, PKCE verifier and resources; a replay revokes what the code issued)
//! and the `refresh_token` grant (rotation on every use; replaying a rotated token revokes the
//! whole family, except the immediate predecessor inside the client's grace period).
//! Everything else is `unsupported_grant_type`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use latchkey_core::audit::Actor;
use latchkey_core::client::{Client, GrantType};
use latchkey_core::oauth::{ErrorCode, OAuthError, Params};
use latchkey_core::secret::SecretKind;
use latchkey_core::token_request::{narrow_resources, narrow_scopes};
use latchkey_core::verify;
use latchkey_core::{Secret, pkce, scope};
use latchkey_store::StoreError;
use latchkey_store::tokens::{ExchangeError, RefreshRecord, TokenContext};
use serde_json::json;

use super::issuer::ActiveIssuer;
use crate::http::error::OAuthFailure;
use crate::http::extract::OAuthForm;
use crate::services::client_auth;
use crate::services::issuer::Issuer;
use crate::services::tokens;
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    ActiveIssuer(iss): ActiveIssuer,
    headers: HeaderMap,
    OAuthForm(p): OAuthForm,
) -> Result<Response, OAuthFailure> {
    let client = client_auth::authenticate(&state, &iss, &headers, &p, &iss.token_endpoint()).await?;
    match p.required("grant_type")? {
        "authorization_code" => authorization_code(&state, &iss, &client, &p).await,
        "refresh_token" => refresh_token(&state, &iss, &client, &p).await,
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {other:?} is not supported: use authorization_code or refresh_token"),
        )
        .into()),
    }
}

fn token_response(access: &Secret, expires_in: i64, scopes: &[String], refresh: Option<&Secret>, id_token: Option<String>) -> Response {
    let mut body = json!({
        "access_token": access.expose(),
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope::join(scopes),
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r.expose());
    }
    if let Some(t) = id_token {
        body["id_token"] = json!(t);
    }
    Json(body).into_response()
}

fn count_issued(issued: &[(&TokenContext, &latchkey_store::tokens::NewToken)]) {
    for (_, t) in issued {
        metrics::counter!("latchkey_tokens_issued_total", "kind" => t.kind.as_str()).increment(1);
    }
}

fn invalid_grant(d: &str) -> OAuthFailure {
    OAuthError::invalid_grant(d).into()
}

/// A user lookup that failed: a deleted user ends the grant; any other failure is ours.
fn user_gone(e: StoreError) -> OAuthFailure {
    match e {
        StoreError::NotFound(_) => invalid_grant("the user no longer exists"),
        e => e.into(),
    }
}

async fn authorization_code(state: &AppState, iss: &Issuer, client: &Client, p: &Params) -> Result<Response, OAuthFailure> {
    if !client.config.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use authorization_code").into());
    }
    let code = p.required("code")?;
    let verifier = p.single("code_verifier")?;
    let redirect_uri = p.single("redirect_uri")?;
    if !SecretKind::AuthorizationCode.looks_valid(code) {
        return Err(invalid_grant("the authorization code is invalid"));
    }
    let record = match state.store.code_by_hash(&state.hasher.hash(code)).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(invalid_grant("the authorization code is invalid")),
        Err(e) => return Err(OAuthFailure::server_error(format_args!("code lookup: {e}"))),
    };
    // Issued to another client: refused, and nothing changes.
    if record.client_record_id != client.id {
        return Err(invalid_grant("the authorization code was issued to another client"));
    }
    let actor = Actor::client(&client.client_id);
    if record.redeemed_at.is_some() {
        state.store.code_replayed(&record, &actor, &client.client_id).await?;
        return Err(invalid_grant(
            "the authorization code was already used; the tokens it issued are revoked",
        ));
    }
    let now = state.clock.now();
    if now >= record.expires_at {
        return Err(invalid_grant("the authorization code expired"));
    }
    let redirect_ok = match redirect_uri {
        Some(r) => r == record.redirect_uri,
        None => !record.redirect_uri_sent,
    };
    if !redirect_ok {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    let Some(verifier) = verifier else {
        return Err(OAuthError::invalid_request("code_verifier is required (PKCE)").into());
    };
    if !pkce::verify(verifier, &record.code_challenge) {
        return Err(invalid_grant("code_verifier does not match the code_challenge"));
    }
    let access_resources = narrow_resources(p, &record.resources)?;
    let user = state.store.user(record.deployment_id, record.user_id).await.map_err(user_gone)?;
    if !user.is_active {
        return Err(invalid_grant("the user is disabled"));
    }
    if let Some(sid) = record.session_id {
        let alive = state.store.session(sid).await?.is_some_and(|s| s.alive(now));
        if !alive {
            return Err(invalid_grant("the user's session has ended"));
        }
    }
    let grant = state.store.grant(record.deployment_id, record.grant_id).await?;
    let base = TokenContext {
        deployment_id: record.deployment_id,
        app_id: record.app_id,
        client_record_id: client.id,
        grant_id: record.grant_id,
        user_id: record.user_id,
        session_id: record.session_id,
        family_id: record.id,
        scopes: record.scopes.clone(),
        resources: record.resources.clone(),
        granted_resource: grant.resource,
        auth_time: Some(record.auth_time),
    };
    let access_ctx = TokenContext {
        resources: access_resources,
        ..base.clone()
    };
    let access = tokens::access_token(state, iss, client, &access_ctx).await?;
    let refresh = client
        .config
        .grant_types
        .contains(&GrantType::RefreshToken)
        .then(|| tokens::refresh_token(state));
    let id_token = if record.scopes.iter().any(|s| s == "openid") {
        Some(
            tokens::id_token(
                state,
                iss,
                client,
                &user,
                &access_ctx,
                record.nonce.as_deref(),
                access.plain.expose(),
            )
            .await?,
        )
    } else {
        None
    };
    let mut issued = vec![(&access_ctx, &access.record)];
    if let Some(r) = &refresh {
        issued.push((&base, &r.record));
    }
    match state.store.redeem_code(&record, &issued, &actor, &client.client_id).await {
        Ok(Ok(())) => count_issued(&issued),
        Ok(Err(ExchangeError::Replayed)) => {
            state.store.code_replayed(&record, &actor, &client.client_id).await?;
            return Err(invalid_grant(
                "the authorization code was already used; the tokens it issued are revoked",
            ));
        }
        Ok(Err(ExchangeError::Inactive)) => {
            return Err(invalid_grant("the grant was revoked or the client or app disabled"));
        }
        Err(e) => return Err(OAuthFailure::server_error(format_args!("redeeming code: {e}"))),
    }
    Ok(token_response(
        &access.plain,
        client.config.access_token_ttl_seconds,
        &access_ctx.scopes,
        refresh.as_ref().map(|r| &r.plain),
        id_token,
    ))
}

async fn refresh_token(state: &AppState, iss: &Issuer, client: &Client, p: &Params) -> Result<Response, OAuthFailure> {
    if !client.config.grant_types.contains(&GrantType::RefreshToken) {
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use refresh tokens").into());
    }
    let presented = p.required("refresh_token")?;
    if !SecretKind::RefreshToken.looks_valid(presented) {
        return Err(invalid_grant("the refresh token is invalid"));
    }
    let hash = state.hasher.hash(presented);
    let old = match state.store.refresh_by_hash(&hash).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(invalid_grant("the refresh token is invalid")),
        Err(e) => return Err(OAuthFailure::server_error(format_args!("refresh lookup: {e}"))),
    };
    if old.context.client_record_id != client.id {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    let actor = Actor::client(&client.client_id);
    let now = state.clock.now();
    if let Some(rotated_at) = old.rotated_at {
        return replayed(state, iss, client, &old, rotated_at, &actor).await;
    }
    // The verification core decides whether the token (and its grant, client, app, session
    // and user) is still good.
    let token_state = state.store.token_state(&hash).await?;
    let standing = match verify::check_token(token_state.as_ref(), now) {
        Ok(t) => tokens::standing_scopes(state, &iss.app, t).await?,
        Err(reason) => Err(reason),
    };
    let held = standing.map_err(|reason| invalid_grant(&format!("the refresh token is not valid ({})", reason.as_str())))?;
    let access_ctx = TokenContext {
        scopes: narrow_scopes(p, &held)?,
        resources: narrow_resources(p, &old.context.resources)?,
        ..old.context.clone()
    };
    let user = state
        .store
        .user(old.context.deployment_id, old.context.user_id)
        .await
        .map_err(user_gone)?;
    let access = tokens::access_token(state, iss, client, &access_ctx).await?;
    let successor = tokens::refresh_token(state);
    let sealed = (client.config.refresh_token_grace_seconds > 0).then(|| {
        state
            .sealer
            .seal(successor.plain.expose().as_bytes(), &format!("refresh_successor:{}", old.id))
    });
    let id_token = if access_ctx.scopes.iter().any(|s| s == "openid") {
        Some(tokens::id_token(state, iss, client, &user, &access_ctx, None, access.plain.expose()).await?)
    } else {
        None
    };
    let issued = [(&old.context, &successor.record), (&access_ctx, &access.record)];
    match state.store.rotate_refresh(&old, &issued, sealed, &actor, &client.client_id).await {
        Ok(Ok(())) => count_issued(&issued),
        Ok(Err(ExchangeError::Replayed)) => {
            metrics::counter!("latchkey_refresh_reuse_detected_total").increment(1);
            state.store.refresh_reused(&old, &actor, &client.client_id).await?;
            return Err(invalid_grant(
                "the refresh token was already used; every token of its family is revoked",
            ));
        }
        Ok(Err(ExchangeError::Inactive)) => {
            return Err(invalid_grant("the grant was revoked or the client or app disabled"));
        }
        Err(e) => return Err(OAuthFailure::server_error(format_args!("rotating refresh token: {e}"))),
    }
    Ok(token_response(
        &access.plain,
        client.config.access_token_ttl_seconds,
        &access_ctx.scopes,
        Some(&successor.plain),
        id_token,
    ))
}

/// A rotated refresh token came back. Inside the client's grace period, the immediate
/// predecessor of a still-current token gets that same successor (and a fresh access
/// token); anything else is reuse, and the family dies.
async fn replayed(
    state: &AppState,
    iss: &Issuer,
    client: &Client,
    old: &RefreshRecord,
    rotated_at: latchkey_core::Timestamp,
    actor: &Actor,
) -> Result<Response, OAuthFailure> {
    let now = state.clock.now();
    let grace = client.config.refresh_token_grace_seconds;
    let in_grace = grace > 0 && now.millis() - rotated_at.millis() <= grace * 1000 && !old.revoked;
    if in_grace && let (Some(succ_id), Some(sealed)) = (old.successor_id, &old.sealed_successor) {
        let current = state.store.refresh_is_current(succ_id).await?;
        let opened = state
            .sealer
            .open(sealed, &format!("refresh_successor:{}", old.id))
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let (true, Some(successor)) = (current, opened) {
            let successor_hash = state.hasher.hash(&successor);
            let token_state = state.store.token_state(&successor_hash).await?;
            if let Ok(t) = verify::check_token(token_state.as_ref(), now) {
                let held = tokens::standing_scopes(state, &iss.app, t)
                    .await?
                    .map_err(|reason| invalid_grant(&format!("the refresh token is not valid ({})", reason.as_str())))?;
                let ctx = TokenContext {
                    scopes: held,
                    ..old.context.clone()
                };
                let access = tokens::access_token(state, iss, client, &ctx).await?;
                state.store.add_token(&ctx, &access.record, succ_id).await?;
                return Ok(token_response(
                    &access.plain,
                    client.config.access_token_ttl_seconds,
                    &ctx.scopes,
                    Some(&Secret::new(successor)),
                    None,
                ));
            }
        }
    }
    metrics::counter!("latchkey_refresh_reuse_detected_total").increment(1);
    state.store.refresh_reused(old, actor, &client.client_id).await?;
    Err(invalid_grant(
        "the refresh token was already used; every token of its family is revoked",
    ))
}
