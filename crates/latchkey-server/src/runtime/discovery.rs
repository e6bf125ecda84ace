//! Discovery: RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0 (the
//! same document under both well-known names, reachable by path insertion and by the OIDC
//! path-appended form for path issuers), and the JWKS (active and retired keys, never
//! compromised ones).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use latchkey_core::authorize::OIDC_SCOPES;
use latchkey_core::client::AuthMethod;
use latchkey_core::signing_key::KeyStatus;
use serde_json::{Value, json};

use super::issuer::ActiveIssuer;
use crate::http::error::OAuthFailure;
use crate::services::issuer::Issuer;
use crate::state::AppState;

pub fn metadata(iss: &Issuer) -> Value {
    // Algorithms accepted on client assertions.
    let assertion_algs: Vec<&str> = [AuthMethod::PrivateKeyJwt, AuthMethod::ClientSecretJwt]
        .iter()
        .flat_map(|m| m.signing_algs().iter().copied())
        .collect();
    let auth_methods: Vec<&str> = AuthMethod::ALL.iter().map(|m| m.as_str()).collect();
    // Public clients may revoke their tokens (RFC 7009) but not introspect (RFC 7662 §4).
    let confidential: Vec<&str> = auth_methods.iter().copied().filter(|m| *m != AuthMethod::None.as_str()).collect();
    let mut scopes: Vec<String> = OIDC_SCOPES.iter().map(|s| s.to_string()).collect();
    scopes.extend(iss.app.active_scopes().map(str::to_owned));
    let mut m = json!({
        "issuer": iss.issuer,
        "authorization_endpoint": iss.url("/oauth/authorize"),
        "token_endpoint": iss.token_endpoint(),
        "introspection_endpoint": iss.url("/oauth/introspect"),
        "revocation_endpoint": iss.url("/oauth/revoke"),
        "userinfo_endpoint": iss.url("/oauth/userinfo"),
        "end_session_endpoint": iss.url("/oauth/logout"),
        "jwks_uri": iss.url("/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": confidential,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "scopes_supported": scopes,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "name", "given_name", "family_name", "email", "email_verified"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        "resource_indicators_supported": true,
    });
    if iss.app.allow_dynamic_client_registration {
        m["registration_endpoint"] = json!(iss.url("/oauth/register"));
    }
    m
}

fn cacheable(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    resp
}

pub async fn configuration(ActiveIssuer(iss): ActiveIssuer) -> axum::response::Response {
    cacheable(Json(metadata(&iss)).into_response())
}

pub async fn jwks(State(state): State<AppState>, ActiveIssuer(iss): ActiveIssuer) -> Result<axum::response::Response, OAuthFailure> {
    let keys = state.store.signing_keys_of(iss.app.id).await?;
    let published: Vec<&Value> = keys
        .iter()
        .filter(|k| k.status != KeyStatus::Compromised)
        .map(|k| &k.public_jwk)
        .collect();
    Ok(cacheable(Json(json!({ "keys": published })).into_response()))
}
