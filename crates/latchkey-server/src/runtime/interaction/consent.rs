//! `GET /oauth/consent/init` decides what the user must do next — sign in, consent, or
//! nothing (remembered consent, first-party clients) — and `POST /oauth/consent/decide`
//! records the user's Allow or Deny from the consent page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use latchkey_core::audit::Actor;
use latchkey_core::authorize::{AuthorizationRequest, is_oidc_scope};
use latchkey_core::consent::{self, ResourceChoice, covering_grant};
use latchkey_core::directory::User;
use latchkey_core::grant::GrantedResource;
use latchkey_core::oauth::ErrorCode;
use latchkey_core::scope::ScopeDefinition;
use latchkey_store::consents::{Approval, Denial};
use latchkey_store::sessions::Session;
use minijinja::context;
use serde::Serialize;

use super::approval::{Approved, finish};
use super::login::login_page;
use super::transaction::{Form, Stage, Transaction, current_session, opened, submitted};
use crate::http::error::PageError;
use crate::http::pages;
use crate::runtime::authorize::{branding, error_to_request};
use crate::runtime::issuer::HostedIssuer;
use crate::services::issuer::Issuer;
use crate::state::AppState;

#[derive(Serialize)]
struct ScopeView {
    display_name: String,
    description: String,
}

fn oidc_scope_view(s: &str) -> ScopeView {
    let (name, desc) = match s {
        "openid" => ("Confirm who you are", "Your user identifier."),
        "profile" => ("See your name", "Your name as recorded in your account."),
        "email" => ("See your email address", "Your email address and whether it is verified."),
        _ => ("Stay connected", "Keep access while you are not using the application."),
    };
    ScopeView {
        display_name: name.into(),
        description: desc.into(),
    }
}

fn app_scopes<'a>(iss: &'a Issuer, req: &AuthorizationRequest) -> Vec<&'a ScopeDefinition> {
    req.scopes
        .iter()
        .filter(|s| !is_oidc_scope(s))
        .filter_map(|s| iss.app.scope(s))
        .collect()
}

fn consent_page(state: &AppState, iss: &Issuer, t: &Transaction, user: &User, choices: &[ResourceChoice]) -> Response {
    let b = branding(iss);
    let req = t.req();
    let scopes: Vec<ScopeView> = req
        .scopes
        .iter()
        .map(|s| match iss.app.scope(s) {
            Some(d) if !is_oidc_scope(s) => ScopeView {
                display_name: d.display_name.clone(),
                description: d.description.clone(),
            },
            _ => oidc_scope_view(s),
        })
        .collect();
    let redirect_host = url::Url::parse(&req.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let c = &t.client.config;
    pages::render(
        StatusCode::OK,
        "consent.html",
        context! {
            title => "Allow access", app_name => b.app_name, app_logo => b.app_logo,
            client_name => c.client_name.clone().unwrap_or_else(|| t.client.client_id.clone()),
            client_logo => c.logo_uri, client_uri => c.client_uri, redirect_host,
            user_email => user.email, scopes, choices,
            action => iss.url("/oauth/consent/decide"), handoff_id => t.handoff, csrf_token => t.csrf(state),
        },
    )
}

/// What the hosted page approves: every requested scope, for the signed-in session.
fn approval(t: &Transaction, session: &Session, user: &User, resource: GrantedResource) -> Approved {
    Approved {
        how: Approval::Decide {
            session_id: Some(session.id),
        },
        user_id: user.id,
        session_id: Some(session.id),
        auth_time: session.auth_time,
        resource,
        scopes: t.req().scopes.clone(),
        actor: Actor::user(user.id, Some(&user.email)),
    }
}

/// Records the signed-in user's denial (with a `consent.denied` event carrying `event`, when
/// given); false when someone answered the transaction first.
async fn deny(
    state: &AppState,
    t: &Transaction,
    session: &Session,
    user: &User,
    event: Option<serde_json::Value>,
) -> Result<bool, PageError> {
    let denial = Denial {
        user_id: Some(user.id),
        session_id: Some(session.id),
        answered: true,
        event,
    };
    state
        .store
        .deny_consent(&t.consent, &denial, &Actor::user(user.id, Some(&user.email)), &t.client.client_id)
        .await
        .map_err(|e| PageError::server_error(format_args!("recording the denial of {}: {e}", t.consent.id)))
}

pub async fn init(
    State(state): State<AppState>,
    HostedIssuer(iss): HostedIssuer,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let b = branding(&iss);
    let page = |e: PageError| e.branded(&b);
    let t = opened(&state, &iss, &uri, &headers, Stage::Pending).await?;
    let req = t.req().clone();
    let now = state.clock.now();
    let session = current_session(&state, &iss, &headers).await.map_err(|e| page(e.into()))?;
    // A sign-in done inside this transaction satisfies prompt=login / select_account.
    let fresh_login = session.as_ref().is_some_and(|(s, _)| t.consent.session_id == Some(s.id));
    let too_old = |s: &Session| req.max_age.is_some_and(|m| now.seconds() - s.auth_time.seconds() > m);
    let must_login = match &session {
        None => true,
        Some((s, _)) => !fresh_login && (req.prompt.login || req.prompt.select_account || too_old(s)),
    };
    let Some((session, user)) = session.filter(|_| !must_login) else {
        if req.prompt.none {
            return Ok(error_to_request(&iss, &req, ErrorCode::LoginRequired, "the user is not signed in"));
        }
        return Ok(login_page(
            &state,
            &iss,
            &t,
            StatusCode::OK,
            None,
            req.login_hint.as_deref().unwrap_or(""),
        ));
    };
    if t.consent.session_id != Some(session.id) {
        t.attach_session(&state, user.id, session.id).await;
    }
    let grants = state
        .store
        .active_grants_for(t.client.id, user.id)
        .await
        .map_err(|e| page(e.into()))?;
    let memberships = state.store.memberships_of(user.id).await.map_err(|e| page(e.into()))?;
    let choices = consent::resource_choices(&app_scopes(&iss, &req), user.id, &memberships);
    if !req.prompt.consent {
        // Already granted (for a resource where it still holds), or a first-party client.
        let auto = match covering_grant(&grants, &req.scopes, &choices) {
            Some(g) => Some(g.resource),
            None if t.client.config.skip_consent => choices.first().map(|c| c.resource),
            None => None,
        };
        if let Some(resource) = auto {
            return finish(&state, &iss, &t, approval(&t, &session, &user, resource), &Method::GET).await;
        }
    }
    if req.prompt.none {
        return Ok(error_to_request(
            &iss,
            &req,
            ErrorCode::ConsentRequired,
            "the user has not granted this access yet",
        ));
    }
    if choices.is_empty() {
        // Nobody chose to deny, so no consent.denied event. Should someone else have answered
        // meanwhile, the client still learns that this request got no access.
        deny(&state, &t, &session, &user, None).await.map_err(page)?;
        return Ok(error_to_request(
            &iss,
            &req,
            ErrorCode::AccessDenied,
            "the signed-in user cannot grant these scopes on any resource (missing organization or workspace permissions)",
        ));
    }
    Ok(consent_page(&state, &iss, &t, &user, &choices))
}

pub async fn decide(
    State(state): State<AppState>,
    HostedIssuer(iss): HostedIssuer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let b = branding(&iss);
    let page = |e: PageError| e.branded(&b);
    let (t, p) = submitted(&state, &iss, &headers, &body, Form::Consent).await?;
    // The decision must come from the session that was shown the page.
    let Some((session, user)) = current_session(&state, &iss, &headers)
        .await
        .map_err(|e| page(e.into()))?
        .filter(|(s, _)| t.consent.session_id == Some(s.id))
    else {
        return Err(page(PageError::new(
            StatusCode::FORBIDDEN,
            "Request refused",
            "Your session changed. Start again from the application.",
        )));
    };
    let req = t.req().clone();
    match p.single("decision").ok().flatten() {
        Some("deny") => {
            let event = serde_json::json!({"scopes": req.scopes});
            if !deny(&state, &t, &session, &user, Some(event)).await.map_err(page)? {
                return Err(page(PageError::already_answered()));
            }
            Ok(error_to_request(&iss, &req, ErrorCode::AccessDenied, "the user denied access"))
        }
        Some("approve") => {
            let memberships = state.store.memberships_of(user.id).await.map_err(|e| page(e.into()))?;
            let choices = consent::resource_choices(&app_scopes(&iss, &req), user.id, &memberships);
            let chosen = p
                .single("resource")
                .ok()
                .flatten()
                .and_then(|r| r.parse::<GrantedResource>().ok())
                .filter(|r| choices.iter().any(|c| c.resource == *r));
            let Some(resource) = chosen else {
                return Err(page(PageError::new(
                    StatusCode::BAD_REQUEST,
                    "Choose what to grant access to",
                    "Pick one of the offered accounts and submit again.",
                )));
            };
            finish(&state, &iss, &t, approval(&t, &session, &user, resource), &Method::POST).await
        }
        _ => Err(page(PageError::invalid("Choose Allow or Deny."))),
    }
}
