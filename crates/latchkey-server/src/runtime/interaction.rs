//! The hosted interaction behind a consent transaction: `/oauth/consent/init` decides what the
//! user must do (sign in, consent, or nothing), `/oauth/consent/login` signs in,
//! `/oauth/consent/decide` records the decision, and `/oauth/consent/complete` finishes a
//! transaction decided through the backend API (external consent page).
//!
//! Every step checks that the transaction exists, is pending (single use), has not expired,
//! and belongs to this browser; forms carry a CSRF token derived from the transaction and
//! the browser binding.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use latchkey_core::audit::Actor;
use latchkey_core::authorize::{AuthorizationRequest, is_oidc_scope};
use latchkey_core::client::Client;
use latchkey_core::consent::{self, ResourceChoice};
use latchkey_core::crypto::constant_time_eq;
use latchkey_core::directory::User;
use latchkey_core::grant::{Grant, GrantedResource};
use latchkey_core::oauth::{ErrorCode, Params};
use latchkey_core::scope::ScopeDefinition;
use latchkey_core::secret::SecretKind;
use latchkey_core::{Id, password};
use latchkey_store::codes::CodeRecord;
use latchkey_store::consents::{AlreadyAnswered, Approval, ConsentRequest, ConsentStatus, Denial};
use latchkey_store::grants::NewGrant;
use latchkey_store::sessions::Session;
use minijinja::context;
use serde::Serialize;

use super::authorize::{branding, error_to_request, redirect};
use super::issuer::HostedIssuer;
use crate::http::cookies;
use crate::http::pages::{self, Branding};
use crate::services::issuer::Issuer;
use crate::state::AppState;

/// Authorization codes live one minute (RFC 6749 §4.1.2 recommends at most ten).
pub const CODE_TTL_SECONDS: i64 = 60;
/// End-user sessions last two weeks.
pub const SESSION_TTL_SECONDS: i64 = 14 * 24 * 3600;

/// A hash to verify against when the email is unknown, so both cases cost the same.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| password::hash_password("latchkey dummy password"));

fn server_error(b: &Branding) -> Response {
    pages::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        b,
        "Something went wrong",
        "Please try again later.",
    )
}

/// A loaded, checked consent transaction.
struct Transaction {
    handoff: String,
    consent: ConsentRequest,
    client: Client,
    browser: String,
}

impl Transaction {
    fn csrf(&self, state: &AppState) -> String {
        csrf_token(state, &self.handoff, &self.browser)
    }

    fn req(&self) -> &AuthorizationRequest {
        &self.consent.request
    }
}

fn csrf_token(state: &AppState, handoff: &str, browser: &str) -> String {
    state.hasher.hash(&format!("csrf|{handoff}|{browser}"))
}

/// Loads the transaction named by `handoff`: it must exist, belong to this issuer and this
/// browser, and not have expired; `pending_only` also requires that nobody decided it yet.
async fn load(
    state: &AppState,
    iss: &Issuer,
    headers: &HeaderMap,
    handoff: Option<&str>,
    pending_only: bool,
) -> Result<Transaction, Response> {
    let b = branding(iss);
    let gone = || {
        pages::message(
            StatusCode::BAD_REQUEST,
            &b,
            "This sign-in link is no longer valid",
            "Go back to the application and start again.",
        )
    };
    let handoff = handoff.filter(|h| SecretKind::Handoff.looks_valid(h)).ok_or_else(gone)?;
    let consent = match state.store.consent_request_by_hash(&state.hasher.hash(handoff)).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(gone()),
        Err(e) => {
            tracing::error!(error = %e, "loading consent request");
            return Err(server_error(&b));
        }
    };
    let browser = cookies::get(headers, cookies::browser_name(iss.secure)).unwrap_or_default();
    let same_browser = !browser.is_empty() && state.hasher.verify(&browser, &consent.browser_hash);
    let now = state.clock.now();
    if consent.app_id != iss.app.id || !same_browser || now >= consent.expires_at {
        return Err(gone());
    }
    if pending_only && consent.status != ConsentStatus::Pending {
        return Err(gone());
    }
    let client = match state.store.client_by_client_id(&consent.request.client_id).await {
        Ok(c) if c.is_active => c,
        Ok(_) => {
            return Err(pages::message(
                StatusCode::FORBIDDEN,
                &b,
                "Application disabled",
                "This application has been deactivated.",
            ));
        }
        Err(_) => return Err(gone()),
    };
    Ok(Transaction {
        handoff: handoff.to_owned(),
        consent,
        client,
        browser,
    })
}

/// The live session in this browser for the app's deployment, with its user.
async fn current_session(state: &AppState, iss: &Issuer, headers: &HeaderMap) -> Option<(Session, User)> {
    let value = cookies::get(headers, &cookies::session_name(iss.secure, iss.app.deployment_id))?;
    if !SecretKind::Session.looks_valid(&value) {
        return None;
    }
    let session = state.store.session_by_hash(&state.hasher.hash(&value)).await.ok().flatten()?;
    if session.deployment_id != iss.app.deployment_id || !session.alive(state.clock.now()) {
        return None;
    }
    let user = state.store.user(session.deployment_id, session.user_id).await.ok()?;
    user.is_active.then_some((session, user))
}

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

/// A grant of this client to this user that already covers everything requested, on a
/// resource the user may still grant it on (any of them, not only the newest grant).
fn covering_grant<'a>(grants: &'a [Grant], req: &AuthorizationRequest, choices: &[consent::ResourceChoice]) -> Option<&'a Grant> {
    grants
        .iter()
        .find(|g| req.scopes.iter().all(|s| g.scopes.contains(s)) && choices.iter().any(|c| c.resource == g.resource))
}

fn login_page(state: &AppState, iss: &Issuer, t: &Transaction, status: StatusCode, error: Option<&str>, email: &str) -> Response {
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

/// Decides what the signed-in (or not) user must do next for this transaction.
async fn advance(state: &AppState, iss: &Issuer, t: Transaction, headers: &HeaderMap) -> Response {
    let b = branding(iss);
    let req = t.req().clone();
    let now = state.clock.now();
    let session = current_session(state, iss, headers).await;
    // A sign-in done inside this transaction satisfies prompt=login / select_account.
    let fresh_login = session.as_ref().is_some_and(|(s, _)| t.consent.session_id == Some(s.id));
    let too_old = |s: &Session| req.max_age.is_some_and(|m| now.seconds() - s.auth_time.seconds() > m);
    let must_login = match &session {
        None => true,
        Some((s, _)) => !fresh_login && (req.prompt.login || req.prompt.select_account || too_old(s)),
    };
    if must_login {
        if req.prompt.none {
            return error_to_request(iss, &req, ErrorCode::LoginRequired, "the user is not signed in");
        }
        return login_page(state, iss, &t, StatusCode::OK, None, req.login_hint.as_deref().unwrap_or(""));
    }
    let Some((session, user)) = session else {
        return server_error(&b);
    };
    if t.consent.session_id != Some(session.id) {
        attach_session(state, &t, user.id, session.id).await;
    }
    let grants = match state.store.active_grants_for(t.client.id, user.id).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "loading grants");
            return server_error(&b);
        }
    };
    let memberships = match state.store.memberships_of(user.id).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "loading memberships");
            return server_error(&b);
        }
    };
    let wanted = app_scopes(iss, &req);
    let choices = consent::resource_choices(&wanted, user.id, &memberships);
    if !req.prompt.consent {
        // Already granted (for a resource where it still holds), or a first-party client.
        let remembered = covering_grant(&grants, &req, &choices);
        let auto = match remembered {
            Some(g) => Some(g.resource),
            None if t.client.config.skip_consent => choices.first().map(|c| c.resource),
            None => None,
        };
        if let Some(resource) = auto {
            return approve(state, iss, &t, &session, &user, resource, &Method::GET).await;
        }
    }
    if req.prompt.none {
        return error_to_request(iss, &req, ErrorCode::ConsentRequired, "the user has not granted this access yet");
    }
    if choices.is_empty() {
        // Nobody chose to deny, so no consent.denied event. Should someone else have answered
        // meanwhile, the client still learns that this request got no access.
        let denial = Denial {
            user_id: Some(user.id),
            session_id: Some(session.id),
            answered: true,
            event: None,
        };
        if let Err(e) = state
            .store
            .deny_consent(&t.consent, &denial, &Actor::user(user.id, Some(&user.email)), &t.client.client_id)
            .await
        {
            tracing::error!(error = %e, consent = %t.consent.id, "recording the denial");
            return server_error(&b);
        }
        return error_to_request(
            iss,
            &req,
            ErrorCode::AccessDenied,
            "the signed-in user cannot grant these scopes on any resource (missing organization or workspace permissions)",
        );
    }
    consent_page(state, iss, &t, &user, &choices)
}

/// Records an approval, widens or creates the grant, issues the code and redirects.
async fn approve(
    state: &AppState,
    iss: &Issuer,
    t: &Transaction,
    session: &Session,
    user: &User,
    resource: GrantedResource,
    method: &Method,
) -> Response {
    finish(
        state,
        iss,
        t,
        Approval::Decide {
            session_id: Some(session.id),
        },
        user.id,
        Some(session.id),
        session.auth_time,
        resource,
        &t.req().scopes,
        method,
        Actor::user(user.id, Some(&user.email)),
    )
    .await
}

/// Approves (`how`): decision, grant, consent event and code in one store transaction, then
/// sends the browser back to the client with the code.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &AppState,
    iss: &Issuer,
    t: &Transaction,
    how: Approval,
    user_id: Id,
    session_id: Option<Id>,
    auth_time: latchkey_core::Timestamp,
    resource: GrantedResource,
    scopes: &[String],
    method: &Method,
    actor: Actor,
) -> Response {
    let b = branding(iss);
    let req = t.req();
    let code = SecretKind::AuthorizationCode.generate();
    let now = state.clock.now();
    let grant = NewGrant {
        app_id: iss.app.id,
        client_record_id: t.client.id,
        user_id,
        resource,
        scopes: scopes.to_vec(),
        expires_at: None,
    };
    let record = |g: &Grant| CodeRecord {
        id: Id::generate(),
        deployment_id: iss.app.deployment_id,
        app_id: iss.app.id,
        client_record_id: t.client.id,
        grant_id: g.id,
        user_id,
        session_id,
        redirect_uri: req.redirect_uri.clone(),
        redirect_uri_sent: req.redirect_uri_sent,
        code_challenge: req.code_challenge.clone(),
        scopes: scopes.to_vec(),
        resources: req.resources.clone(),
        nonce: req.nonce.clone(),
        auth_time,
        expires_at: now.plus_seconds(CODE_TTL_SECONDS),
        redeemed_at: None,
    };
    match state
        .store
        .approve_consent(
            &t.consent,
            how,
            &grant,
            &state.hasher.hash(code.expose()),
            record,
            &actor,
            &t.client.client_id,
        )
        .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(AlreadyAnswered)) => {
            return pages::message(
                StatusCode::BAD_REQUEST,
                &b,
                "This request was already answered",
                "Go back to the application and start again.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, consent = %t.consent.id, "approving consent");
            return server_error(&b);
        }
    }
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    params.push(("iss", &iss.issuer));
    let mut resp = redirect(method, &latchkey_core::authorize::redirect_url(&req.redirect_uri, &params));
    pages::harden(&mut resp);
    resp
}

/// Records which session is signing in for the transaction. Not security-relevant (the
/// decision itself names its session), so a failure is logged and the flow goes on.
async fn attach_session(state: &AppState, t: &Transaction, user_id: Id, session_id: Id) {
    if let Err(e) = state.store.attach_consent_session(t.consent.id, user_id, session_id).await {
        tracing::warn!(error = %e, consent = %t.consent.id, session = %session_id, "attaching the session to the consent transaction");
    }
}

fn form_params(headers: &HeaderMap, body: &Bytes) -> Option<Params> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    ct.to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
        .then(|| Params::parse(body))
}

fn csrf_ok(state: &AppState, t: &Transaction, p: &Params) -> bool {
    let sent = p.single("csrf_token").ok().flatten().unwrap_or("");
    constant_time_eq(sent.as_bytes(), t.csrf(state).as_bytes())
}

pub async fn init(State(state): State<AppState>, HostedIssuer(iss): HostedIssuer, uri: Uri, headers: HeaderMap) -> Response {
    let p = Params::parse(uri.query().unwrap_or("").as_bytes());
    let t = match load(&state, &iss, &headers, p.single("handoff_id").ok().flatten(), true).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    advance(&state, &iss, t, &headers).await
}

pub async fn login(State(state): State<AppState>, HostedIssuer(iss): HostedIssuer, headers: HeaderMap, body: Bytes) -> Response {
    let b = branding(&iss);
    let Some(p) = form_params(&headers, &body) else {
        return pages::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &b,
            "Invalid request",
            "Submit the sign-in form.",
        );
    };
    let t = match load(&state, &iss, &headers, p.single("handoff_id").ok().flatten(), true).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !csrf_ok(&state, &t, &p) {
        return pages::message(
            StatusCode::FORBIDDEN,
            &b,
            "Request refused",
            "The form was not submitted from this sign-in page. Start again from the application.",
        );
    }
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
        return login_page(
            &state,
            &iss,
            &t,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many attempts. Wait a minute and try again."),
            &email,
        );
    }
    let found = state.store.user_credentials(iss.app.deployment_id, &email).await.ok().flatten();
    let stored = found.as_ref().and_then(|(_, h)| h.clone());
    // On the blocking pool: Argon2id, including the first computation of the dummy hash.
    let pw_ok = tokio::task::spawn_blocking(move || password::verify_password(&pw, stored.as_deref().unwrap_or(&DUMMY_HASH)))
        .await
        .unwrap_or(false);
    let user = match found {
        Some((u, Some(_))) if pw_ok && u.is_active => u,
        other => {
            let actor = match &other {
                Some((u, _)) => Actor::user(u.id, Some(&u.email)),
                None => Actor {
                    kind: latchkey_core::audit::ActorKind::User,
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
            if let Err(e) = state
                .store
                .record_sign_in_failure(iss.app.deployment_id, iss.app.id, &actor, &email, reason)
                .await
            {
                tracing::error!(error = %e, "recording a failed sign-in");
                return server_error(&b);
            }
            return login_page(
                &state,
                &iss,
                &t,
                StatusCode::UNAUTHORIZED,
                Some("The email or password is not right."),
                &email,
            );
        }
    };
    let value = SecretKind::Session.generate();
    let expires = state.clock.now().plus_seconds(SESSION_TTL_SECONDS);
    let session = match state
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
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "creating session");
            return server_error(&b);
        }
    };
    attach_session(&state, &t, user.id, session.id).await;
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
    resp
}

pub async fn decide(State(state): State<AppState>, HostedIssuer(iss): HostedIssuer, headers: HeaderMap, body: Bytes) -> Response {
    let b = branding(&iss);
    let Some(p) = form_params(&headers, &body) else {
        return pages::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &b,
            "Invalid request",
            "Submit the consent form.",
        );
    };
    let t = match load(&state, &iss, &headers, p.single("handoff_id").ok().flatten(), true).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !csrf_ok(&state, &t, &p) {
        return pages::message(
            StatusCode::FORBIDDEN,
            &b,
            "Request refused",
            "The form was not submitted from this consent page. Start again from the application.",
        );
    }
    // The decision must come from the session that was shown the page.
    let Some((session, user)) = current_session(&state, &iss, &headers)
        .await
        .filter(|(s, _)| t.consent.session_id == Some(s.id))
    else {
        return pages::message(
            StatusCode::FORBIDDEN,
            &b,
            "Request refused",
            "Your session changed. Start again from the application.",
        );
    };
    let req = t.req().clone();
    match p.single("decision").ok().flatten() {
        Some("deny") => {
            let denial = Denial {
                user_id: Some(user.id),
                session_id: Some(session.id),
                answered: true,
                event: Some(serde_json::json!({"scopes": req.scopes})),
            };
            match state
                .store
                .deny_consent(&t.consent, &denial, &Actor::user(user.id, Some(&user.email)), &t.client.client_id)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    return pages::message(
                        StatusCode::BAD_REQUEST,
                        &b,
                        "This request was already answered",
                        "Go back to the application and start again.",
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, consent = %t.consent.id, "recording the denial");
                    return server_error(&b);
                }
            }
            error_to_request(&iss, &req, ErrorCode::AccessDenied, "the user denied access")
        }
        Some("approve") => {
            let memberships = match state.store.memberships_of(user.id).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(error = %e, "loading memberships");
                    return server_error(&b);
                }
            };
            let choices = consent::resource_choices(&app_scopes(&iss, &req), user.id, &memberships);
            let chosen = p
                .single("resource")
                .ok()
                .flatten()
                .and_then(|r| r.parse::<GrantedResource>().ok())
                .filter(|r| choices.iter().any(|c| c.resource == *r));
            match chosen {
                Some(resource) => approve(&state, &iss, &t, &session, &user, resource, &Method::POST).await,
                None => pages::message(
                    StatusCode::BAD_REQUEST,
                    &b,
                    "Choose what to grant access to",
                    "Pick one of the offered accounts and submit again.",
                ),
            }
        }
        _ => pages::message(StatusCode::BAD_REQUEST, &b, "Invalid request", "Choose Allow or Deny."),
    }
}

/// Finishes a transaction decided through the backend API (an external consent page).
pub async fn complete(State(state): State<AppState>, HostedIssuer(iss): HostedIssuer, uri: Uri, headers: HeaderMap) -> Response {
    let b = branding(&iss);
    let p = Params::parse(uri.query().unwrap_or("").as_bytes());
    let t = match load(&state, &iss, &headers, p.single("handoff_id").ok().flatten(), false).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let req = t.req().clone();
    match (
        t.consent.status,
        t.consent.user_id,
        t.consent.granted_resource,
        t.consent.granted_scopes.clone(),
    ) {
        (ConsentStatus::Approved, Some(user_id), Some(resource), Some(scopes)) => {
            let session = match t.consent.session_id {
                Some(sid) => state.store.session(sid).await.ok().flatten(),
                None => None,
            };
            let auth_time = session.as_ref().map(|s| s.auth_time).unwrap_or_else(|| state.clock.now());
            finish(
                &state,
                &iss,
                &t,
                Approval::Complete,
                user_id,
                t.consent.session_id,
                auth_time,
                resource,
                &scopes,
                &Method::GET,
                Actor::user(user_id, None),
            )
            .await
        }
        (ConsentStatus::Denied, _, _, _) => {
            match state.store.complete_consent(t.consent.id).await {
                Ok(true) => {}
                Ok(false) => {
                    return pages::message(
                        StatusCode::BAD_REQUEST,
                        &b,
                        "This request was already answered",
                        "Go back to the application and start again.",
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, consent = %t.consent.id, "completing the denial");
                    return server_error(&b);
                }
            }
            error_to_request(&iss, &req, ErrorCode::AccessDenied, "the user denied access")
        }
        (ConsentStatus::Pending, _, _, _) => pages::message(
            StatusCode::CONFLICT,
            &b,
            "Waiting for your decision",
            "The request has not been answered yet.",
        ),
        _ => pages::message(
            StatusCode::BAD_REQUEST,
            &b,
            "This request was already answered",
            "Go back to the application and start again.",
        ),
    }
}
