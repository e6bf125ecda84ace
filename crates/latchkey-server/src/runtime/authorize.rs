//! `GET|POST /oauth/authorize` (RFC 6749 §4.1.1). Checks the request (see
//! `latchkey_core::authorize`), opens a consent transaction bound to this browser, and hands
//! off to the hosted consent pages (`/oauth/consent/init?handoff_id=…`) or to the
//! deployment's own consent URL.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::Id;
use latchkey_core::authorize::{self, AuthorizationRequest};
use latchkey_core::crypto::{b64url, random_bytes};
use latchkey_core::lifetimes::{BROWSER_COOKIE_SECONDS, CONSENT_TTL_SECONDS};
use latchkey_core::oauth::{ErrorCode, OAuthError};
use latchkey_core::secret::SecretKind;
use latchkey_store::StoreError;
use latchkey_store::consents::NewConsentRequest;

use super::issuer::HostedIssuer;
use crate::http::cookies;
use crate::http::error::PageError;
use crate::http::extract::browser_params;
use crate::http::pages::{self, Branding};
use crate::services::issuer::Issuer;
use crate::state::AppState;

pub fn branding(iss: &Issuer) -> Branding {
    Branding {
        app_name: iss.app.name.clone(),
        app_logo: iss.app.logo_url.clone(),
    }
}

/// A redirect after a GET (302) or a form POST (303, RFC 9700 §4.12).
pub fn redirect(method: &Method, to: &str) -> Response {
    let status = if method == Method::POST {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    match axum::http::HeaderValue::from_str(to) {
        Ok(location) => (status, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Sends an error back to the client's (validated) redirect URI, with `state` and `iss`.
pub fn error_to_client(iss: &Issuer, redirect_uri: &str, state: Option<&str>, e: &OAuthError, method: &Method) -> Response {
    let mut params = vec![("error", e.code.as_str()), ("error_description", e.description.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", iss.issuer.as_str()));
    redirect(method, &authorize::redirect_url(redirect_uri, &params))
}

pub fn error_to_request(iss: &Issuer, req: &AuthorizationRequest, code: ErrorCode, description: &str) -> Response {
    error_to_client(
        iss,
        &req.redirect_uri,
        req.state.as_deref(),
        &OAuthError::new(code, description),
        &Method::POST,
    )
}

/// The `Set-Cookie` value that binds this browser (set when [`browser_binding`] says so).
pub fn browser_cookie(browser: &str, secure: bool) -> axum::http::HeaderValue {
    cookies::set(cookies::browser_name(secure), browser, secure, Some(BROWSER_COOKIE_SECONDS))
}

/// The browser-binding cookie's value, and whether it has to be set.
pub fn browser_binding(headers: &HeaderMap, secure: bool) -> (String, bool) {
    match cookies::get(headers, cookies::browser_name(secure)).filter(|v| v.len() >= 32 && v.len() <= 64) {
        Some(v) => (v, false),
        None => (b64url(&random_bytes::<32>()), true),
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    HostedIssuer(iss): HostedIssuer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let b = branding(&iss);
    let page = |e: PageError| e.branded(&b);
    let Some(params) = browser_params(&method, &uri, &headers, &body) else {
        return Err(page(PageError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Invalid request",
            "Send the authorization request as a form (application/x-www-form-urlencoded).",
        )));
    };

    // Until the redirect URI is validated, every error is a page (RFC 6749 §4.1.2.1).
    let client_id = params.single("client_id").map_err(|e| page(PageError::invalid(e.description)))?;
    let client = match client_id {
        Some(id) => match state.store.client_by_client_id(id).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(page(e.into())),
        },
        None => None,
    };
    let refused = |e: authorize::PageError| page(PageError::new(StatusCode::BAD_REQUEST, e.title, e.detail));
    let client = authorize::check_client(&iss.app, client.as_ref(), client_id).map_err(refused)?;
    let requested_redirect = params.single("redirect_uri").map_err(|e| page(PageError::invalid(e.description)))?;
    let (redirect_uri, sent) = authorize::check_redirect_uri(client, requested_redirect).map_err(refused)?;
    // From here on, errors go back to the client.
    let client_state = params.single("state").ok().flatten();
    // A failure of ours is logged here and told to the client as server_error.
    let failed = |what: &str, e: StoreError, state: Option<&str>| {
        tracing::error!(error = %e, "authorize: {what}");
        let unavailable = OAuthError::new(ErrorCode::ServerError, "try again later");
        Ok(error_to_client(&iss, &redirect_uri, state, &unavailable, &method))
    };
    let servers = match state.store.resource_servers_of(iss.app.id).await {
        Ok(s) => s,
        Err(e) => return failed("loading resource servers", e, client_state),
    };
    let req = match authorize::check_request(&params, &iss.app, client, redirect_uri.clone(), sent, &servers) {
        Ok(r) => r,
        Err(e) => return Ok(error_to_client(&iss, &redirect_uri, client_state, &e, &method)),
    };

    // Where the user goes next: the deployment's own consent page, or the hosted one. A
    // failed lookup must not silently fall back to the hosted pages.
    let external = match state.caches.settings(&state.store, iss.app.deployment_id).await {
        Ok(settings) => settings.get("consent_url").and_then(|v| v.as_str()).map(str::to_owned),
        Err(e) => return failed("loading deployment settings", e, req.state.as_deref()),
    };
    let (browser, new_browser) = browser_binding(&headers, iss.secure);
    let handoff = SecretKind::Handoff.generate();
    let now = state.clock.now();
    let new = NewConsentRequest {
        id: Id::generate(),
        handoff_hash: state.hasher.hash(handoff.expose()),
        deployment_id: iss.app.deployment_id,
        app_id: iss.app.id,
        client_record_id: client.id,
        request: req.clone(),
        browser_hash: state.hasher.hash(&browser),
        expires_at: now.plus_seconds(CONSENT_TTL_SECONDS),
    };
    if let Err(e) = state.store.create_consent_request(&new).await {
        return failed("creating the consent transaction", e, req.state.as_deref());
    }
    let handoff_q: String = url::form_urlencoded::byte_serialize(handoff.expose().as_bytes()).collect();
    let next = match external {
        Some(u) => format!("{u}{}handoff_id={handoff_q}", if u.contains('?') { '&' } else { '?' }),
        None => iss.url(&format!("/oauth/consent/init?handoff_id={handoff_q}")),
    };
    let mut resp = redirect(&method, &next);
    if new_browser {
        resp.headers_mut().append(header::SET_COOKIE, browser_cookie(&browser, iss.secure));
    }
    pages::harden(&mut resp);
    Ok(resp)
}
