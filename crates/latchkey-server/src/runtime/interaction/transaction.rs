//! A loaded, checked consent transaction, its CSRF token, and the browser's live session.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use latchkey_core::Id;
use latchkey_core::authorize::AuthorizationRequest;
use latchkey_core::client::Client;
use latchkey_core::crypto::constant_time_eq;
use latchkey_core::directory::User;
use latchkey_core::oauth::Params;
use latchkey_core::secret::SecretKind;
use latchkey_store::StoreError;
use latchkey_store::consents::{ConsentRequest, ConsentStatus};
use latchkey_store::sessions::Session;

use crate::http::cookies;
use crate::http::error::PageError;
use crate::http::extract::browser_params;
use crate::runtime::authorize::branding;
use crate::services::issuer::Issuer;
use crate::state::AppState;

/// A consent transaction that exists, belongs to this issuer and browser, and has not expired.
pub struct Transaction {
    pub handoff: String,
    pub consent: ConsentRequest,
    pub client: Client,
    pub browser: String,
}

impl Transaction {
    pub fn csrf(&self, state: &AppState) -> String {
        state.hasher.hash(&format!("csrf|{}|{}", self.handoff, self.browser))
    }

    /// Whether a submitted form carries this transaction's CSRF token.
    fn csrf_ok(&self, state: &AppState, p: &Params) -> bool {
        let sent = p.single("csrf_token").ok().flatten().unwrap_or("");
        constant_time_eq(sent.as_bytes(), self.csrf(state).as_bytes())
    }

    pub fn req(&self) -> &AuthorizationRequest {
        &self.consent.request
    }

    /// Records which session is signing in for the transaction. Not security-relevant (the
    /// decision itself names its session), so a failure is logged and the flow goes on.
    pub async fn attach_session(&self, state: &AppState, user_id: Id, session_id: Id) {
        if let Err(e) = state.store.attach_consent_session(self.consent.id, user_id, session_id).await {
            tracing::warn!(error = %e, consent = %self.consent.id, session = %session_id, "attaching the session to the consent transaction");
        }
    }
}

/// Which transactions a step accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Nobody decided it yet (sign-in, consent).
    Pending,
    /// Any state (completing a decision made through the backend API).
    Any,
}

/// Loads the transaction named by the `handoff_id` parameter.
async fn load(state: &AppState, iss: &Issuer, headers: &HeaderMap, p: &Params, stage: Stage) -> Result<Transaction, PageError> {
    let b = branding(iss);
    let gone = || {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "This sign-in link is no longer valid",
            "Go back to the application and start again.",
        )
        .branded(&b)
    };
    let handoff = p
        .single("handoff_id")
        .ok()
        .flatten()
        .filter(|h| SecretKind::Handoff.looks_valid(h))
        .ok_or_else(gone)?;
    let consent = state
        .store
        .consent_request_by_hash(&state.hasher.hash(handoff))
        .await
        .map_err(|e| PageError::from(e).branded(&b))?
        .ok_or_else(gone)?;
    let browser = cookies::get(headers, cookies::browser_name(iss.secure)).unwrap_or_default();
    let same_browser = !browser.is_empty() && state.hasher.verify(&browser, &consent.browser_hash);
    let now = state.clock.now();
    if consent.app_id != iss.app.id || !same_browser || now >= consent.expires_at {
        return Err(gone());
    }
    if stage == Stage::Pending && consent.status != ConsentStatus::Pending {
        return Err(gone());
    }
    let client = match state.store.client_by_client_id(&consent.request.client_id).await {
        Ok(c) if c.is_active => c,
        Ok(_) => {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Application disabled",
                "This application has been deactivated.",
            )
            .branded(&b));
        }
        Err(StoreError::NotFound(_)) => return Err(gone()),
        Err(e) => return Err(PageError::from(e).branded(&b)),
    };
    Ok(Transaction {
        handoff: handoff.to_owned(),
        consent,
        client,
        browser,
    })
}

/// Loads the transaction a GET names in its query (`init`, `complete`).
pub async fn opened(state: &AppState, iss: &Issuer, uri: &Uri, headers: &HeaderMap, stage: Stage) -> Result<Transaction, PageError> {
    let p = browser_params(&Method::GET, uri, headers, &Bytes::new()).unwrap_or_default();
    load(state, iss, headers, &p, stage).await
}

/// Which hosted form a POST submits.
#[derive(Clone, Copy)]
pub enum Form {
    SignIn,
    Consent,
}

/// The pending transaction a hosted form was submitted for, and the form's fields: the body
/// must be a form, name a live transaction of this browser, and carry its CSRF token.
pub async fn submitted(
    state: &AppState,
    iss: &Issuer,
    headers: &HeaderMap,
    body: &Bytes,
    form: Form,
) -> Result<(Transaction, Params), PageError> {
    let b = branding(iss);
    let (submit, page) = match form {
        Form::SignIn => ("Submit the sign-in form.", "sign-in page"),
        Form::Consent => ("Submit the consent form.", "consent page"),
    };
    let Some(p) = browser_params(&Method::POST, &Uri::default(), headers, body) else {
        return Err(PageError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Invalid request", submit).branded(&b));
    };
    let t = load(state, iss, headers, &p, Stage::Pending).await?;
    if !t.csrf_ok(state, &p) {
        let detail = format!("The form was not submitted from this {page}. Start again from the application.");
        return Err(PageError::new(StatusCode::FORBIDDEN, "Request refused", detail).branded(&b));
    }
    Ok((t, p))
}

/// The live session in this browser for the app's deployment, with its (active) user.
pub async fn current_session(state: &AppState, iss: &Issuer, headers: &HeaderMap) -> Result<Option<(Session, User)>, StoreError> {
    let Some(value) = cookies::get(headers, &cookies::session_name(iss.secure, iss.app.deployment_id)) else {
        return Ok(None);
    };
    if !SecretKind::Session.looks_valid(&value) {
        return Ok(None);
    }
    let Some(session) = state.store.session_by_hash(&state.hasher.hash(&value)).await? else {
        return Ok(None);
    };
    if session.deployment_id != iss.app.deployment_id || !session.alive(state.clock.now()) {
        return Ok(None);
    }
    match state.store.user(session.deployment_id, session.user_id).await {
        Ok(user) => Ok(user.is_active.then_some((session, user))),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
