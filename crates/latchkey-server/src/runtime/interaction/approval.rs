//! Issuing the code of an approved transaction: decision, grant, consent event and code in
//! one store transaction, then the browser goes back to the client with `code`, `state` and
//! `iss` (RFC 9207).

use axum::http::Method;
use axum::response::Response;
use latchkey_core::audit::Actor;
use latchkey_core::grant::{Grant, GrantedResource};
use latchkey_core::lifetimes::CODE_TTL_SECONDS;
use latchkey_core::secret::SecretKind;
use latchkey_core::{Id, Timestamp};
use latchkey_store::codes::CodeRecord;
use latchkey_store::consents::{AlreadyAnswered, Approval};
use latchkey_store::grants::NewGrant;

use super::transaction::Transaction;
use crate::http::error::PageError;
use crate::http::pages;
use crate::runtime::authorize::{branding, redirect};
use crate::services::issuer::Issuer;
use crate::state::AppState;

/// What an approval grants, and who approved it how.
pub struct Approved {
    /// Decided on the hosted page now, or completing a decision made through the backend API.
    pub how: Approval,
    pub user_id: Id,
    pub session_id: Option<Id>,
    pub auth_time: Timestamp,
    pub resource: GrantedResource,
    pub scopes: Vec<String>,
    pub actor: Actor,
}

pub async fn finish(state: &AppState, iss: &Issuer, t: &Transaction, a: Approved, method: &Method) -> Result<Response, PageError> {
    let b = branding(iss);
    let req = t.req();
    let code = SecretKind::AuthorizationCode.generate();
    let now = state.clock.now();
    let grant = NewGrant {
        app_id: iss.app.id,
        client_record_id: t.client.id,
        user_id: a.user_id,
        resource: a.resource,
        scopes: a.scopes.clone(),
        expires_at: None,
    };
    let record = |g: &Grant| CodeRecord {
        id: Id::generate(),
        deployment_id: iss.app.deployment_id,
        app_id: iss.app.id,
        client_record_id: t.client.id,
        grant_id: g.id,
        user_id: a.user_id,
        session_id: a.session_id,
        redirect_uri: req.redirect_uri.clone(),
        redirect_uri_sent: req.redirect_uri_sent,
        code_challenge: req.code_challenge.clone(),
        scopes: a.scopes.clone(),
        resources: req.resources.clone(),
        nonce: req.nonce.clone(),
        auth_time: a.auth_time,
        expires_at: now.plus_seconds(CODE_TTL_SECONDS),
        redeemed_at: None,
    };
    let approved = state
        .store
        .approve_consent(
            &t.consent,
            a.how,
            &grant,
            &state.hasher.hash(code.expose()),
            record,
            &a.actor,
            &t.client.client_id,
        )
        .await
        .map_err(|e| PageError::server_error(format_args!("approving consent {}: {e}", t.consent.id)).branded(&b))?;
    if let Err(AlreadyAnswered) = approved {
        return Err(PageError::already_answered().branded(&b));
    }
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    params.push(("iss", &iss.issuer));
    let mut resp = redirect(method, &latchkey_core::authorize::redirect_url(&req.redirect_uri, &params));
    pages::harden(&mut resp);
    Ok(resp)
}
