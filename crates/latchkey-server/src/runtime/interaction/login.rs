//! `POST /oauth/consent/login`: the hosted sign-in for the deployment's users. Throttled per
//! email and per browser; an unknown email costs the same Argon2id verification as a wrong
//! password; every failure is audited.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use latchkey_core::audit::{Actor, ActorKind};
use latchkey_core::lifetimes::SESSION_TTL_SECONDS;
use latchkey_core::password;
use latchkey_core::secret::SecretKind;
use minijinja::context;

use super::transaction::{Form, Transaction, submitted};
use crate::http::cookies;
use crate::http::error::PageError;
use crate::http::pages;
use crate::runtime::authorize::{branding, redirect};
use crate::runtime::issuer::HostedIssuer;
use crate::services::issuer::Issuer;
use crate::state::AppState;

/// A hash to verify against when the email is unknown, so both cases cost the same.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| password::hash_password("latchkey dummy password"));

/// The sign-in page of a transaction (`error` shown above the form).
pub fn login_page(state: &AppState, iss: &Issuer, t: &Transaction, status: StatusCode, error: Option<&str>, email: &str) -> Response {
    let b = branding(iss);
    let client_name = t.client.config.client_name.clone().unwrap_or_else(|| t.client.client_id.clone());
    let mut resp = pages::render(
        status,
        "login.html",
        context! {
            title => "Sign in", app_name => b.app_name, app_logo => b.app_logo, client_name,
            action => iss.url("/oauth/consent/login"), handoff_id => t.handoff, csrf_token => t.csrf(state),
            error, email,
        },
    );
    if error.is_some() {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    resp
}

pub async fn login(
    State(state): State<AppState>,
    HostedIssuer(iss): HostedIssuer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let b = branding(&iss);
    let page = |e: PageError| e.branded(&b);
    let (t, p) = submitted(&state, &iss, &headers, &body, Form::SignIn).await?;
    let email = p.single("email").ok().flatten().unwrap_or("").trim().to_lowercase();
    let pw = p.single("password").ok().flatten().unwrap_or("").to_owned();
    if state.throttles.login.len() > 10_000 {
        state.throttles.login.retain_recent();
    }
    if state
        .throttles
        .login
        .check_key(&format!("email|{}|{email}", iss.app.deployment_id))
        .is_err()
        || state.throttles.login.check_key(&format!("browser|{}", t.browser)).is_err()
    {
        return Ok(login_page(
            &state,
            &iss,
            &t,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many attempts. Wait a minute and try again."),
            &email,
        ));
    }
    let found = state
        .store
        .user_credentials(iss.app.deployment_id, &email)
        .await
        .map_err(|e| page(e.into()))?;
    let stored = found.as_ref().and_then(|(_, h)| h.clone());
    // On the blocking pool: Argon2id, including the first computation of the dummy hash. A
    // verification that did not finish is a failed one.
    let pw_ok = tokio::task::spawn_blocking(move || password::verify_password(&pw, stored.as_deref().unwrap_or(&DUMMY_HASH)))
        .await
        .unwrap_or(false);
    let user = match found {
        Some((u, Some(_))) if pw_ok && u.is_active => u,
        other => {
            let actor = match &other {
                Some((u, _)) => Actor::user(u.id, Some(&u.email)),
                None => Actor {
                    kind: ActorKind::User,
                    id: "unknown".into(),
                    name: None,
                },
            };
            let reason = match other {
                None => "unknown email",
                Some((u, _)) if !u.is_active => "user disabled",
                Some((_, None)) => "no password set",
                Some(_) => "wrong password",
            };
            state
                .store
                .record_sign_in_failure(iss.app.deployment_id, iss.app.id, &actor, &email, reason)
                .await
                .map_err(|e| page(PageError::server_error(format_args!("recording a failed sign-in: {e}"))))?;
            return Ok(login_page(
                &state,
                &iss,
                &t,
                StatusCode::UNAUTHORIZED,
                Some("The email or password is not right."),
                &email,
            ));
        }
    };
    let value = SecretKind::Session.generate();
    let expires = state.clock.now().plus_seconds(SESSION_TTL_SECONDS);
    let session = state
        .store
        .create_session(
            iss.app.deployment_id,
            user.id,
            &state.hasher.hash(value.expose()),
            expires,
            &Actor::user(user.id, Some(&user.email)),
            Some(iss.app.id),
        )
        .await
        .map_err(|e| page(PageError::server_error(format_args!("creating a session: {e}"))))?;
    t.attach_session(&state, user.id, session.id).await;
    let handoff_q: String = url::form_urlencoded::byte_serialize(t.handoff.as_bytes()).collect();
    let mut resp = redirect(&Method::POST, &iss.url(&format!("/oauth/consent/init?handoff_id={handoff_q}")));
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            &cookies::session_name(iss.secure, iss.app.deployment_id),
            value.expose(),
            iss.secure,
            Some(SESSION_TTL_SECONDS),
        ),
    );
    pages::harden(&mut resp);
    Ok(resp)
}
