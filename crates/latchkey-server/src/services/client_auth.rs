//! Client authentication at the token, introspection and revocation endpoints (RFC 6749
//! §2.3, RFC 7523 §2.2, OIDC Core §9): `client_secret_basic`, `client_secret_post`,
//! `client_secret_jwt`, `private_key_jwt`, and `none` for public clients. A client must use
//! the method it registered; exactly one method per request.

use axum::http::HeaderMap;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_core::Timestamp;
use latchkey_core::client::{AuthMethod, Client};
use latchkey_core::oauth::{OAuthError, Params};
use latchkey_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

use super::fetch::JwksFetcher;
use super::issuer::Issuer;
use crate::http::error::OAuthFailure;
use crate::http::extract::credentials;
use crate::state::AppState;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest accepted lifetime of a client assertion (its `exp` minus now).
const MAX_ASSERTION_LIFETIME: i64 = 3600;

fn invalid_client(d: impl Into<String>, basic: bool) -> OAuthFailure {
    OAuthFailure::client(OAuthError::invalid_client(d), basic)
}

/// What the request presented.
enum Presented {
    Basic { client_id: String, secret: String },
    Post { client_id: String, secret: String },
    Assertion { assertion: String, client_id: Option<String> },
    None { client_id: String },
}

fn form_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

fn decode_basic(b64: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|d| String::from_utf8(d).ok())?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// The id/secret pair a request authenticates with (HTTP Basic, or client_id +
/// client_secret in the body), if that is how it authenticates.
pub fn secret_credentials(headers: &HeaderMap, p: &Params) -> Option<(String, String)> {
    match credentials(headers, "Basic") {
        Some(b) => decode_basic(b),
        None => Some((p.single("client_id").ok()??.to_owned(), p.single("client_secret").ok()??.to_owned())),
    }
}

fn presented(headers: &HeaderMap, p: &Params) -> Result<Presented, OAuthFailure> {
    let basic = credentials(headers, "Basic");
    let body_id = p.single("client_id")?.map(str::to_owned);
    let body_secret = p.single("client_secret")?;
    let assertion = p.single("client_assertion")?;
    let assertion_type = p.single("client_assertion_type")?;
    let count = usize::from(basic.is_some()) + usize::from(body_secret.is_some()) + usize::from(assertion.is_some());
    if count > 1 {
        return Err(OAuthError::invalid_request("use exactly one client authentication method").into());
    }
    if let Some(b64) = basic {
        let (id, secret) = decode_basic(b64).ok_or_else(|| invalid_client("malformed Basic credentials", true))?;
        if body_id.as_deref().is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request("client_id in the body differs from the Basic credentials").into());
        }
        return Ok(Presented::Basic { client_id: id, secret });
    }
    if let Some(secret) = body_secret {
        let client_id = body_id.ok_or_else(|| OAuthError::invalid_request("client_secret needs client_id"))?;
        return Ok(Presented::Post {
            client_id,
            secret: secret.to_owned(),
        });
    }
    if let Some(a) = assertion {
        if assertion_type != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request(format!("client_assertion_type must be {ASSERTION_TYPE}")).into());
        }
        return Ok(Presented::Assertion {
            assertion: a.to_owned(),
            client_id: body_id,
        });
    }
    match body_id {
        Some(client_id) => Ok(Presented::None { client_id }),
        None => Err(invalid_client("client authentication is required", false)),
    }
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

/// Authenticates the client of a request to `endpoint` (an absolute URL of this issuer).
pub async fn authenticate(state: &AppState, iss: &Issuer, headers: &HeaderMap, p: &Params, endpoint: &str) -> Result<Client, OAuthFailure> {
    let presented = presented(headers, p)?;
    let basic = matches!(presented, Presented::Basic { .. });
    let (client_id, method) = match &presented {
        Presented::Basic { client_id, .. } => (client_id.clone(), AuthMethod::ClientSecretBasic),
        Presented::Post { client_id, .. } => (client_id.clone(), AuthMethod::ClientSecretPost),
        Presented::None { client_id } => (client_id.clone(), AuthMethod::None),
        Presented::Assertion { assertion, client_id } => {
            // The client is named by the assertion's iss/sub; the signature decides below.
            let unverified: Value = jsonwebtoken::dangerous::insecure_decode(assertion)
                .map(|d| d.claims)
                .map_err(|_| invalid_client("client_assertion is not a JWT", false))?;
            let id = unverified.get("sub").and_then(Value::as_str).unwrap_or("").to_owned();
            if client_id.as_deref().is_some_and(|c| c != id) {
                return Err(invalid_client("client_id differs from the assertion's subject", false));
            }
            let header =
                jsonwebtoken::decode_header(assertion).map_err(|_| invalid_client("client_assertion has a malformed header", false))?;
            let method = if matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                AuthMethod::ClientSecretJwt
            } else {
                AuthMethod::PrivateKeyJwt
            };
            (id, method)
        }
    };
    let client = match state.store.client_by_client_id(&client_id).await {
        Ok(c) if c.app_id == iss.app.id => c,
        Ok(_) | Err(StoreError::NotFound(_)) => {
            return Err(invalid_client("unknown client", basic));
        }
        Err(e) => return Err(OAuthFailure::server_error(format_args!("client lookup: {e}"))),
    };
    if !client.is_active {
        return Err(invalid_client("the client is deactivated", basic));
    }
    let registered = client.config.auth_method();
    if registered != method {
        return Err(invalid_client(
            format!("this client authenticates with {registered}, not {method}"),
            basic,
        ));
    }
    match presented {
        Presented::Basic { secret, .. } | Presented::Post { secret, .. } => check_secret(state, &client, &secret, basic).await?,
        Presented::None { .. } => {}
        Presented::Assertion { assertion, .. } => check_assertion(state, iss, &client, &assertion, endpoint).await?,
    }
    Ok(client)
}

async fn check_secret(state: &AppState, client: &Client, secret: &str, basic: bool) -> Result<(), OAuthFailure> {
    let live = state.store.live_client_secrets(client.id).await?;
    // Check every live secret so timing does not reveal which one matched.
    let mut matched = None;
    for s in &live {
        if state.hasher.verify(secret, &s.hash) && matched.is_none() {
            matched = Some(s);
        }
    }
    let Some(s) = matched else {
        return Err(invalid_client("client authentication failed", basic));
    };
    if let Err(e) = state
        .store
        .record_secret_use(client.deployment_id, client.app_id, &client.client_id, s.id, s.superseded)
        .await
    {
        tracing::warn!(error = %e, "recording secret use");
    }
    Ok(())
}

/// The JOSE name of an algorithm (`RS256`…): jsonwebtoken's variants are named so.
fn alg_name(a: Algorithm) -> String {
    format!("{a:?}")
}

async fn check_assertion(state: &AppState, iss: &Issuer, client: &Client, assertion: &str, endpoint: &str) -> Result<(), OAuthFailure> {
    let fail = |d: &str| invalid_client(format!("client assertion rejected: {d}"), false);
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| fail("malformed header"))?;
    let method = client.config.auth_method();
    if !method.signing_algs().contains(&alg_name(header.alg).as_str()) {
        return Err(fail(&format!("algorithm {} is not allowed for {method}", alg_name(header.alg))));
    }
    if let Some(registered) = &client.config.token_endpoint_auth_signing_alg
        && *registered != alg_name(header.alg)
    {
        return Err(fail(&format!("this client signs with {registered}")));
    }
    let mut v = Validation::new(header.alg);
    v.set_audience(&[iss.issuer.as_str(), endpoint, iss.token_endpoint().as_str()]);
    v.set_issuer(&[client.client_id.as_str()]);
    v.sub = Some(client.client_id.clone());
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    v.leeway = 30;
    let keys = assertion_keys(state, client, header.kid.as_deref(), header.alg).await?;
    let mut claims = None;
    let mut last_error = String::from("no key of the client verifies it");
    for key in &keys {
        match jsonwebtoken::decode::<AssertionClaims>(assertion, key, &v) {
            Ok(d) => {
                claims = Some(d.claims);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let claims = claims.ok_or_else(|| fail(&last_error))?;
    if claims.iss != client.client_id || claims.sub != client.client_id {
        return Err(fail("iss and sub must be the client_id"));
    }
    let now = state.clock.now();
    if claims.exp - now.seconds() > MAX_ASSERTION_LIFETIME {
        return Err(fail("exp is too far in the future"));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| fail("jti is required"))?;
    let keep_until = Timestamp::from_millis((claims.exp + 60) * 1000);
    match state.store.use_assertion_jti(client.id, &jti, keep_until).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(fail("jti was already used")),
        Err(e) => Err(OAuthFailure::server_error(format_args!("recording assertion jti: {e}"))),
    }
}

/// The keys that may have signed a client's assertion.
async fn assertion_keys(state: &AppState, client: &Client, kid: Option<&str>, alg: Algorithm) -> Result<Vec<DecodingKey>, OAuthFailure> {
    let fail = |d: &str| invalid_client(format!("client assertion rejected: {d}"), false);
    let c = &client.config;
    match c.auth_method() {
        AuthMethod::ClientSecretJwt => {
            let live = state.store.live_client_secrets(client.id).await?;
            let keys: Vec<DecodingKey> = live
                .iter()
                .filter_map(|s| {
                    let sealed = s.sealed.as_ref()?;
                    state.sealer.open(sealed, &format!("client_secret:{}", s.id)).ok()
                })
                .map(|secret| DecodingKey::from_secret(&secret))
                .collect();
            if keys.is_empty() {
                return Err(fail("the client has no secret usable for client_secret_jwt; rotate it"));
            }
            Ok(keys)
        }
        _ => {
            if let Some(pem) = &c.public_key_pem {
                let key = if matches!(alg, Algorithm::ES256 | Algorithm::ES384) {
                    DecodingKey::from_ec_pem(pem.as_bytes())
                } else {
                    DecodingKey::from_rsa_pem(pem.as_bytes())
                };
                return key
                    .map(|k| vec![k])
                    .map_err(|_| fail("the registered public key does not fit the algorithm"));
            }
            let set = match (&c.jwks, &c.jwks_uri) {
                (Some(j), _) => j.clone(),
                (None, Some(uri)) => JwksFetcher::get(&state.jwks, uri, kid).await.map_err(|e| fail(&e))?,
                (None, None) => return Err(fail("the client has no registered key")),
            };
            let keys = keys_from_set(&set, kid);
            if keys.is_empty() {
                return Err(fail("no registered key matches the assertion's kid"));
            }
            Ok(keys)
        }
    }
}

/// Decoding keys from a JWK Set: the one with `kid`, or every key when no kid is given.
pub fn keys_from_set(set: &Value, kid: Option<&str>) -> Vec<DecodingKey> {
    let Ok(set) = serde_json::from_value::<jsonwebtoken::jwk::JwkSet>(set.clone()) else {
        return vec![];
    };
    set.keys
        .iter()
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .filter(|k| {
            k.common
                .public_key_use
                .as_ref()
                .is_none_or(|u| *u == jsonwebtoken::jwk::PublicKeyUse::Signature)
        })
        .filter_map(|k| DecodingKey::from_jwk(k).ok())
        .collect()
}
