//! Dynamic client registration: `POST /oauth/register` (RFC 7591) and
//! `GET|PUT|DELETE /oauth/register/{client_id}` (RFC 7592), for apps that allow it.
//!
//! New clients get a `client_id`, a secret when confidential, and a registration access
//! token (stored as an HMAC) for managing their registration. An app may require an initial
//! access token; registrations are rate limited per client IP; registrations that never got
//! a grant are reaped after a while (`latchkey serve --dcr-reap-after`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
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

use super::issuer::ActiveIssuer;
use crate::http::error::OAuthFailure;
use crate::http::extract;
use crate::services::client_ip::ClientIp;
use crate::services::issuer::Issuer;
use crate::services::secrets;
use crate::state::AppState;

/// An RFC 7591 §3.2.2 error; a 401 (the initial or registration access token) is an RFC 6750
/// bearer error with its challenge.
fn error(status: StatusCode, e: OAuthError) -> OAuthFailure {
    if status == StatusCode::UNAUTHORIZED {
        return OAuthFailure::bearer(status, Some(e.code.as_str()), &e.description, None);
    }
    OAuthFailure::with_status(status, e)
}

fn bad(e: OAuthError) -> OAuthFailure {
    error(StatusCode::BAD_REQUEST, e)
}

fn no_initial_token() -> OAuthFailure {
    error(
        StatusCode::UNAUTHORIZED,
        OAuthError::new(ErrorCode::InvalidToken, "a valid initial access token is required to register"),
    )
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
fn registration_open(iss: &Issuer) -> Result<(), OAuthFailure> {
    if iss.app.allow_dynamic_client_registration {
        return Ok(());
    }
    Err(error(
        StatusCode::NOT_FOUND,
        OAuthError::new(
            ErrorCode::InvalidRequest,
            "this authorization server does not allow dynamic client registration",
        ),
    ))
}

fn registration_uri(iss: &Issuer, client: &Client) -> String {
    iss.url(&format!("/oauth/register/{}", client.client_id))
}

pub async fn register(
    State(state): State<AppState>,
    ActiveIssuer(iss): ActiveIssuer,
    client_ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    registration_open(&iss)?;
    if state.throttles.register.check_key(&client_ip.key()).is_err() {
        let refusal = error(
            StatusCode::TOO_MANY_REQUESTS,
            OAuthError::new(
                ErrorCode::InvalidRequest,
                "too many registrations from this address; try again later",
            ),
        );
        return Ok(([(header::RETRY_AFTER, "60")], refusal).into_response());
    }
    if state.throttles.register.len() > 100_000 {
        state.throttles.register.retain_recent();
    }
    // The initial access token is checked first and its use counted only once the client
    // exists: a refused registration changes nothing.
    let initial_token = extract::credentials(&headers, "Bearer").map(|t| state.hasher.hash(t));
    if iss.app.dcr_require_initial_access_token {
        let ok = match &initial_token {
            Some(hash) => state.store.initial_access_token_valid(iss.app.id, hash).await?,
            None => false,
        };
        if !ok {
            return Err(no_initial_token());
        }
    }
    let meta = parse_metadata(&headers, &body).map_err(bad)?;
    let config = meta.to_config(|s| iss.app.offers_scope(s)).map_err(bad)?;
    let method = config.auth_method();
    let secret = method.uses_secret().then(|| secrets::client_secret(&state, method));
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
        name: Some(format!("registered from {}", client_ip.0)),
    };
    let client = match state.store.create_client(&iss.app, &new, &actor).await {
        Ok(c) => c,
        // Revoked or expired between the early check and now: nothing was registered.
        Err(StoreError::NotFound("initial access token")) => return Err(no_initial_token()),
        Err(e) => return Err(e.into()),
    };
    let mut body = metadata_response(&client);
    if let Some((plain, _)) = &secret {
        body.insert("client_secret".into(), json!(plain.expose()));
        body.insert("client_secret_expires_at".into(), json!(0));
    }
    body.insert("registration_access_token".into(), json!(registration_token.expose()));
    body.insert("registration_client_uri".into(), json!(registration_uri(&iss, &client)));
    Ok((StatusCode::CREATED, Json(Value::Object(body))).into_response())
}

/// The client a registration access token manages; any mismatch is `invalid_token` (401),
/// so the endpoint does not reveal which clients exist.
async fn managed(state: &AppState, iss: &Issuer, headers: &HeaderMap, client_id: &str) -> Result<Client, OAuthFailure> {
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
        .await?
    {
        Some(c) if c.client_id == client_id => Ok(c),
        _ => Err(deny()),
    }
}

pub async fn manage(
    State(state): State<AppState>,
    ActiveIssuer(iss): ActiveIssuer,
    method: Method,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthFailure> {
    registration_open(&iss)?;
    let client = managed(&state, &iss, &headers, &client_id).await?;
    let actor = Actor::client(&client.client_id);
    let with_uri = |c: &Client| {
        let mut m = metadata_response(c);
        m.insert("registration_client_uri".into(), json!(registration_uri(&iss, c)));
        Value::Object(m)
    };
    match method {
        Method::GET => Ok(Json(with_uri(&client)).into_response()),
        Method::PUT => {
            let meta = parse_metadata(&headers, &body).map_err(bad)?;
            if meta.client_id.as_deref() != Some(client.client_id.as_str()) {
                return Err(bad(OAuthError::invalid_request("the body's client_id must be this client's")));
            }
            if let Some(sent) = &meta.client_secret {
                // RFC 7592 §2.2: a client_secret in the body must be the current one.
                let live = state.store.live_client_secrets(client.id).await?;
                if !live.iter().any(|s| state.hasher.verify(sent.expose(), &s.hash)) {
                    return Err(bad(OAuthError::new(
                        ErrorCode::InvalidClientMetadata,
                        "client_secret does not match",
                    )));
                }
            }
            let config = meta.to_config(|s| iss.app.offers_scope(s)).map_err(bad)?;
            if config.auth_method() != client.config.auth_method() {
                return Err(bad(OAuthError::new(
                    ErrorCode::InvalidClientMetadata,
                    "token_endpoint_auth_method cannot change; register a new client",
                )));
            }
            let updated = state.store.replace_registration(&client, &config, &actor).await?;
            Ok(Json(with_uri(&updated)).into_response())
        }
        Method::DELETE => {
            state.store.deregister(&client, &actor).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(error(
            StatusCode::METHOD_NOT_ALLOWED,
            OAuthError::invalid_request("use GET, PUT or DELETE"),
        )),
    }
}
