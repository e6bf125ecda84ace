//! `GET|POST /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0). The `id_token_hint`
//! (signed by any non-compromised key of the app, for this issuer; expiry ignored) and the
//! `post_logout_redirect_uri` (registered exactly by that client) are checked first; then the
//! session ends and every token derived from it is revoked. Without a hint the user confirms
//! with a CSRF-protected form, so a third-party page cannot sign them out.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use latchkey_core::Id;
use latchkey_core::audit::Actor;
use latchkey_core::crypto::constant_time_eq;
use latchkey_core::secret::SecretKind;
use latchkey_store::StoreError;
use serde_json::Value;

use super::authorize::{branding, redirect};
use super::issuer::HostedIssuer;
use crate::http::error::PageError;
use crate::http::extract::browser_params;
use crate::http::{cookies, pages};
use crate::services::issuer::Issuer;
use crate::services::tokens;
use crate::state::AppState;

/// The verified claims of an `id_token_hint`.
async fn check_hint(state: &AppState, iss: &Issuer, hint: &str) -> Result<Option<Value>, StoreError> {
    let keys = state.store.signing_keys_of(iss.app.id).await?;
    Ok(tokens::verify_own_jwt(&keys, &iss.issuer, hint, &["iss", "sub", "aud"]))
}

fn aud_contains(claims: &Value, client_id: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    }
}

fn logout_csrf(state: &AppState, browser: &str) -> String {
    state.hasher.hash(&format!("logout|{browser}"))
}

pub async fn logout(
    State(state): State<AppState>,
    HostedIssuer(iss): HostedIssuer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let b = branding(&iss);
    let page = |e: PageError| e.branded(&b);
    let bad = |d: &'static str| page(PageError::new(StatusCode::BAD_REQUEST, "Cannot sign out", d));
    let Some(p) = browser_params(&method, &uri, &headers, &body) else {
        return Err(bad("Send the logout request as a form."));
    };
    let get = |n: &str| p.single(n).ok().flatten().map(str::to_owned);
    let (hint, redirect_to, client_param, client_state) = (
        get("id_token_hint"),
        get("post_logout_redirect_uri"),
        get("client_id"),
        get("state"),
    );

    let claims = match &hint {
        Some(h) => match check_hint(&state, &iss, h).await.map_err(|e| page(e.into()))? {
            Some(c) => Some(c),
            None => return Err(bad("The id_token_hint was not issued by this server.")),
        },
        None => None,
    };
    let client_id = match (&claims, &client_param) {
        (Some(c), Some(id)) if !aud_contains(c, id) => {
            return Err(bad("client_id does not match the id_token_hint."));
        }
        (_, Some(id)) => Some(id.clone()),
        (Some(c), None) => match c.get("aud") {
            Some(Value::String(a)) => Some(a.clone()),
            Some(Value::Array(list)) if list.len() == 1 => list[0].as_str().map(str::to_owned),
            _ => None,
        },
        (None, None) => None,
    };
    if let Some(target) = &redirect_to {
        let registered = match &client_id {
            Some(id) => match state.store.client_by_client_id(id).await {
                Ok(c) => Some(c).filter(|c| c.app_id == iss.app.id),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(page(e.into())),
            },
            None => None,
        };
        if !registered.is_some_and(|c| c.config.post_logout_redirect_uris.iter().any(|u| u == target)) {
            return Err(bad("The post_logout_redirect_uri is not registered for this client."));
        }
    }

    let cookie_name = cookies::session_name(iss.secure, iss.app.deployment_id);
    let cookie_session = match cookies::get(&headers, &cookie_name).filter(|v| SecretKind::Session.looks_valid(v)) {
        Some(v) => state
            .store
            .session_by_hash(&state.hasher.hash(&v))
            .await
            .map_err(|e| page(e.into()))?
            .filter(|s| s.deployment_id == iss.app.deployment_id),
        None => None,
    };
    let mut to_end: Vec<Id> = Vec::new();
    match &claims {
        Some(c) => {
            if let Some(sid) = c.get("sid").and_then(Value::as_str).and_then(|s| s.parse::<Id>().ok()) {
                to_end.push(sid);
            }
            let sub = c.get("sub").and_then(Value::as_str).unwrap_or("");
            if let Some(s) = &cookie_session
                && s.user_id.to_string() == sub
                && !to_end.contains(&s.id)
            {
                to_end.push(s.id);
            }
        }
        None => {
            // No hint: the user confirms, with a token only this browser's page has.
            let browser = cookies::get(&headers, cookies::browser_name(iss.secure)).unwrap_or_default();
            let confirmed = method == Method::POST
                && !browser.is_empty()
                && constant_time_eq(
                    get("csrf_token").unwrap_or_default().as_bytes(),
                    logout_csrf(&state, &browser).as_bytes(),
                );
            if !confirmed {
                let (browser, new) = super::authorize::browser_binding(&headers, iss.secure);
                let csrf = logout_csrf(&state, &browser);
                let mut hidden: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
                if let Some(r) = &redirect_to {
                    hidden.push(("post_logout_redirect_uri", r));
                }
                if let Some(c) = &client_id {
                    hidden.push(("client_id", c));
                }
                if let Some(s) = &client_state {
                    hidden.push(("state", s));
                }
                let mut resp = pages::confirm(
                    &b,
                    "Sign out?",
                    "You will be signed out and applications will lose the access they got through this sign-in.",
                    &iss.url("/oauth/logout"),
                    "Sign out",
                    &hidden,
                );
                if new {
                    resp.headers_mut()
                        .append(header::SET_COOKIE, super::authorize::browser_cookie(&browser, iss.secure));
                }
                return Ok(resp);
            }
            if let Some(s) = &cookie_session {
                to_end.push(s.id);
            }
        }
    }
    for sid in to_end {
        if let Some(session) = state.store.session(sid).await.map_err(|e| page(e.into()))?
            && session.deployment_id == iss.app.deployment_id
        {
            let actor = Actor::user(session.user_id, None);
            state
                .store
                .end_session(sid, "logout", &actor, Some(iss.app.id))
                .await
                .map_err(|e| page(e.into()))?;
        }
    }
    let mut resp = match redirect_to {
        Some(target) => {
            let mut params: Vec<(&str, &str)> = Vec::new();
            if let Some(s) = &client_state {
                params.push(("state", s));
            }
            redirect(&method, &latchkey_core::authorize::redirect_url(&target, &params))
        }
        None => pages::message(StatusCode::OK, &b, "Signed out", "You are signed out. You can close this window."),
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&cookie_name, iss.secure));
    pages::harden(&mut resp);
    Ok(resp)
}
