//! Dynamic client registration: `POST /oauth/register` (RFC 7591) and
//! `GET|PUT|DELETE /oauth/register/{client_id}` (RFC 7592), for apps that allow it.
//!
//! New clients get a `client_id`, a secret when confidential, and a registration access
//! token (stored as an HMAC) for managing their registration. An app may require an initial
//! access token; registrations are rate limited per client IP; registrations that never got
//! a grant are reaped after a while (`latchkey serve --dcr-reap-after`).

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::Id;
use latchkey_core::audit::Actor;
use latchkey_core::client::{Client, Registration};
use latchkey_core::oauth::{ErrorCode, OAuthError};
use latchkey_core::registration::{ClientMetadata, metadata_response};
use latchkey_core::secret::{SecretKind, generate_client_id};
use latchkey_store::StoreError;
use latchkey_store::clients::NewClient;
use serde_json::{Value, json};

use super::issuer::{ActiveIssuer, Issuer, IssuerError};
use super::token::no_store;
use super::userinfo::bearer_error;
use crate::credentials;
use crate::http::extract;
use crate::state::AppState;

/// The peer's IP address when the server runs with connection info (`latchkey serve` does);
/// otherwise every caller shares one rate-limit bucket.
pub struct PeerIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(PeerIp(ip))
    }
}

fn json_no_store(status: StatusCode, body: Value) -> Response {
    let mut r = no_store(body);
    *r.status_mut() = status;
    r
}

/// An RFC 7591 §3.2.2 error; a 401 (the initial or registration access token) is an RFC 6750
/// bearer error with its challenge.
fn error(status: StatusCode, e: OAuthError) -> Response {
    if status == StatusCode::UNAUTHORIZED {
        return bearer_error(status, Some(e.code.as_str()), &e.description, None);
    }
    json_no_store(status, json!({"error": e.code.as_str(), "error_description": e.description}))
}

fn bad(e: OAuthError) -> Response {
    error(StatusCode::BAD_REQUEST, e)
}

fn parse_metadata(headers: &HeaderMap, body: &Bytes) -> Result<ClientMetadata, OAuthError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(OAuthError::invalid_request("send the client metadata as JSON"));
    }
    serde_json::from_slice(body).map_err(|e| OAuthError::new(ErrorCode::InvalidClientMetadata, format!("malformed client metadata: {e}")))
}

/// 404 unless the app allows dynamic registration.
fn registration_closed(iss: &Issuer) -> Option<Response> {
    (!iss.app.allow_dynamic_client_registration).then(|| {
        error(
            StatusCode::NOT_FOUND,
            OAuthError::new(
                ErrorCode::InvalidRequest,
                "this authorization server does not allow dynamic client registration",
            ),
        )
    })
}

fn registration_uri(iss: &Issuer, client: &Client) -> String {
    iss.url(&format!("/oauth/register/{}", client.client_id))
}

fn unavailable() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        OAuthError::new(ErrorCode::ServerError, "the server failed; try again"),
    )
}

pub async fn register(
    State(state): State<AppState>,
    iss: Result<ActiveIssuer, IssuerError>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let iss = match iss {
        Ok(ActiveIssuer(i)) => i,
        Err(e) => return e.into_response(),
    };
    if let Some(refusal) = registration_closed(&iss) {
        return refusal;
    }
    if state.throttles.register.check_key(&peer).is_err() {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            OAuthError::new(
                ErrorCode::InvalidRequest,
                "too many registrations from this address; try again later",
            ),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    if state.throttles.register.len() > 100_000 {
        state.throttles.register.retain_recent();
    }
    // The initial access token is checked first and its use counted only once the client
    // exists: a refused registration changes nothing.
    let initial_token = extract::credentials(&headers, "Bearer").map(|t| state.hasher.hash(t));
    if iss.app.dcr_require_initial_access_token {
        let ok = match &initial_token {
            Some(hash) => state.store.initial_access_token_valid(iss.app.id, hash).await.unwrap_or(false),
            None => false,
        };
        if !ok {
            return error(
                StatusCode::UNAUTHORIZED,
                OAuthError::new(ErrorCode::InvalidToken, "a valid initial access token is required to register"),
            );
        }
    }
    let meta = match parse_metadata(&headers, &body) {
        Ok(m) => m,
        Err(e) => return bad(e),
    };
    let config = match meta.to_config(|s| iss.app.offers_scope(s)) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    let method = config.auth_method();
    let secret = method.uses_secret().then(|| credentials::client_secret(&state, method));
    let registration_token = SecretKind::RegistrationToken.generate();
    let new = NewClient {
        id: Id::generate(),
        client_id: generate_client_id(),
        config,
        registration: Registration::Dynamic,
        secret: secret.as_ref().map(|(_, r)| r.clone()),
        registration_token_hash: Some(state.hasher.hash(registration_token.expose())),
        initial_access_token_hash: initial_token.filter(|_| iss.app.dcr_require_initial_access_token),
    };
    let actor = Actor {
        kind: latchkey_core::audit::ActorKind::Client,
        id: new.client_id.clone(),
        name: Some(format!("registered from {peer}")),
    };
    let client = match state.store.create_client(&iss.app, &new, &actor).await {
        Ok(c) => c,
        // Revoked or expired between the early check and now: nothing was registered.
        Err(StoreError::NotFound("initial access token")) => {
            return error(
                StatusCode::UNAUTHORIZED,
                OAuthError::new(ErrorCode::InvalidToken, "a valid initial access token is required to register"),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "registering a client");
            return unavailable();
        }
    };
    let mut body = metadata_response(&client);
    if let Some((plain, _)) = &secret {
        body.insert("client_secret".into(), json!(plain.expose()));
        body.insert("client_secret_expires_at".into(), json!(0));
    }
    body.insert("registration_access_token".into(), json!(registration_token.expose()));
    body.insert("registration_client_uri".into(), json!(registration_uri(&iss, &client)));
    json_no_store(StatusCode::CREATED, Value::Object(body))
}

/// The client a registration access token manages; any mismatch is `invalid_token` (401),
/// so the endpoint does not reveal which clients exist.
async fn managed(state: &AppState, iss: &Issuer, headers: &HeaderMap, client_id: &str) -> Result<Client, Response> {
    let deny = || {
        error(
            StatusCode::UNAUTHORIZED,
            OAuthError::new(
                ErrorCode::InvalidToken,
                "the registration access token is not valid for this client",
            ),
        )
    };
    let token = extract::credentials(headers, "Bearer")
        .filter(|t| SecretKind::RegistrationToken.looks_valid(t))
        .ok_or_else(deny)?;
    match state
        .store
        .client_by_registration_token(iss.app.id, &state.hasher.hash(token))
        .await
    {
        Ok(Some(c)) if c.client_id == client_id => Ok(c),
        Ok(_) => Err(deny()),
        Err(e) => {
            tracing::error!(error = %e, "registration lookup");
            Err(unavailable())
        }
    }
}

pub async fn manage(
    State(state): State<AppState>,
    iss: Result<ActiveIssuer, IssuerError>,
    method: Method,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let iss = match iss {
        Ok(ActiveIssuer(i)) => i,
        Err(e) => return e.into_response(),
    };
    if let Some(refusal) = registration_closed(&iss) {
        return refusal;
    }
    let client = match managed(&state, &iss, &headers, &client_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let actor = Actor::client(&client.client_id);
    let with_uri = |c: &Client| {
        let mut m = metadata_response(c);
        m.insert("registration_client_uri".into(), json!(registration_uri(&iss, c)));
        Value::Object(m)
    };
    match method {
        Method::GET => json_no_store(StatusCode::OK, with_uri(&client)),
        Method::PUT => {
            let meta = match parse_metadata(&headers, &body) {
                Ok(m) => m,
                Err(e) => return bad(e),
            };
            if meta.client_id.as_deref() != Some(client.client_id.as_str()) {
                return bad(OAuthError::invalid_request("the body's client_id must be this client's"));
            }
            if let Some(sent) = &meta.client_secret {
                // RFC 7592 §2.2: a client_secret in the body must be the current one.
                let live = state.store.live_client_secrets(client.id).await.unwrap_or_default();
                if !live.iter().any(|s| state.hasher.verify(sent.expose(), &s.hash)) {
                    return bad(OAuthError::new(ErrorCode::InvalidClientMetadata, "client_secret does not match"));
                }
            }
            let config = match meta.to_config(|s| iss.app.offers_scope(s)) {
                Ok(c) => c,
                Err(e) => return bad(e),
            };
            if config.auth_method() != client.config.auth_method() {
                return bad(OAuthError::new(
                    ErrorCode::InvalidClientMetadata,
                    "token_endpoint_auth_method cannot change; register a new client",
                ));
            }
            match state.store.replace_registration(&client, &config, &actor).await {
                Ok(c) => json_no_store(StatusCode::OK, with_uri(&c)),
                Err(e) => {
                    tracing::error!(error = %e, "updating a registration");
                    unavailable()
                }
            }
        }
        Method::DELETE => match state.store.deregister(&client, &actor).await {
            Ok(()) => {
                let mut r = StatusCode::NO_CONTENT.into_response();
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(e) => {
                tracing::error!(error = %e, "deleting a registration");
                unavailable()
            }
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            OAuthError::invalid_request("use GET, PUT or DELETE"),
        ),
    }
}
