//! Minting tokens: opaque access tokens (prefixed, 256 random bits, stored hashed) or RFC 9068
//! JWT access tokens, refresh tokens, and OpenID Connect ID tokens signed with the app's
//! active key. Also the reverse: turning a presented token into the hash it is stored under.

use latchkey_core::app::App;
use latchkey_core::client::{AccessTokenFormat, Client};
use latchkey_core::crypto::{b64url, random_bytes};
use latchkey_core::directory::User;
use latchkey_core::jws;
use latchkey_core::lifetimes::{ID_TOKEN_TTL_SECONDS, REFRESH_TTL_SECONDS};
use latchkey_core::secret::SecretKind;
use latchkey_core::signing_key::{KeyStatus, SigningKey};
use latchkey_core::verify::{self, DenyReason, TokenKind, TokenState};
use latchkey_core::{Id, Secret, scope};
use latchkey_store::tokens::{NewToken, TokenContext};
use serde_json::{Value, json};

use latchkey_store::StoreError;

use super::issuer::Issuer;
use crate::http::error::OAuthFailure;
use crate::state::AppState;

/// The plaintext and the record of a new token.
pub struct Minted {
    pub plain: Secret,
    pub record: NewToken,
}

/// The app's active signing key, unsealed: (kid, PKCS#8).
pub async fn signing_key(state: &AppState, iss: &Issuer) -> Result<(String, Vec<u8>), OAuthFailure> {
    let (key, sealed) = state
        .store
        .active_signing_key(iss.app.id)
        .await
        .map_err(|e| OAuthFailure::server_error(format_args!("no active signing key: {e}")))?;
    let der = state
        .sealer
        .open(&sealed, &format!("signing_key:{}", key.id))
        .map_err(|e| OAuthFailure::server_error(format_args!("unsealing the signing key: {e}")))?;
    Ok((key.kid, der))
}

/// A token's audience: its resource servers (RFC 8707), else its client. The JWT `aud` and
/// the introspection `aud` both come from here.
pub fn audience(resources: &[String], client_id: &str) -> Value {
    match resources {
        [] => json!(client_id),
        [one] => json!(one),
        many => json!(many),
    }
}

pub async fn access_token(state: &AppState, iss: &Issuer, client: &Client, ctx: &TokenContext) -> Result<Minted, OAuthFailure> {
    let now = state.clock.now();
    let ttl = client.config.access_token_ttl_seconds;
    let expires_at = now.plus_seconds(ttl);
    let id = Id::generate();
    match client.config.access_token_format {
        AccessTokenFormat::Opaque => {
            let plain = SecretKind::AccessToken.generate();
            Ok(Minted {
                record: NewToken {
                    id,
                    kind: TokenKind::Access,
                    format: "opaque",
                    token_hash: state.hasher.hash(plain.expose()),
                    expires_at,
                },
                plain,
            })
        }
        AccessTokenFormat::Jwt => {
            let jti = b64url(&random_bytes::<16>());
            let mut claims = json!({
                "iss": iss.issuer,
                "sub": ctx.user_id.to_string(),
                "aud": audience(&ctx.resources, &client.client_id),
                "client_id": client.client_id,
                "scope": scope::join(&ctx.scopes),
                "jti": jti,
                "iat": now.seconds(),
                "exp": expires_at.seconds(),
                "granted_resource": ctx.granted_resource.to_string(),
            });
            if let Some(sid) = ctx.session_id {
                claims["sid"] = json!(sid.to_string());
            }
            if let Some(t) = ctx.auth_time {
                claims["auth_time"] = json!(t.seconds());
            }
            let (kid, der) = signing_key(state, iss).await?;
            let jwt = jws::sign_rs256(&der, &kid, "at+jwt", &claims)
                .map_err(|e| OAuthFailure::server_error(format_args!("signing an access token: {e}")))?;
            Ok(Minted {
                record: NewToken {
                    id,
                    kind: TokenKind::Access,
                    format: "jwt",
                    token_hash: jwt_hash(state, &jti),
                    expires_at,
                },
                plain: Secret::new(jwt),
            })
        }
    }
}

pub fn refresh_token(state: &AppState) -> Minted {
    let plain = SecretKind::RefreshToken.generate();
    Minted {
        record: NewToken {
            id: Id::generate(),
            kind: TokenKind::Refresh,
            format: "opaque",
            token_hash: state.hasher.hash(plain.expose()),
            expires_at: state.clock.now().plus_seconds(REFRESH_TTL_SECONDS),
        },
        plain,
    }
}

/// An ID token for `user`, with the claims its scopes allow.
pub async fn id_token(
    state: &AppState,
    iss: &Issuer,
    client: &Client,
    user: &User,
    ctx: &TokenContext,
    nonce: Option<&str>,
    access_token: &str,
) -> Result<String, OAuthFailure> {
    let now = state.clock.now();
    let mut claims = json!({
        "iss": iss.issuer,
        "sub": user.id.to_string(),
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now.seconds(),
        "exp": now.plus_seconds(ID_TOKEN_TTL_SECONDS).seconds(),
        "at_hash": jws::left_hash(access_token),
    });
    if let Some(t) = ctx.auth_time {
        claims["auth_time"] = json!(t.seconds());
    }
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(sid) = ctx.session_id {
        claims["sid"] = json!(sid.to_string());
    }
    add_user_claims(&mut claims, user, &ctx.scopes);
    let (kid, der) = signing_key(state, iss).await?;
    jws::sign_rs256(&der, &kid, "JWT", &claims).map_err(|e| OAuthFailure::server_error(format_args!("signing an ID token: {e}")))
}

/// The profile and email claims `scopes` allow (OIDC Core §5.4).
pub fn add_user_claims(claims: &mut Value, user: &User, scopes: &[String]) {
    if scopes.iter().any(|s| s == "profile") {
        for (k, v) in [
            ("name", &user.name),
            ("given_name", &user.given_name),
            ("family_name", &user.family_name),
        ] {
            if let Some(v) = v {
                claims[k] = json!(v);
            }
        }
    }
    if scopes.iter().any(|s| s == "email") {
        claims["email"] = json!(user.email);
        claims["email_verified"] = json!(user.email_verified);
    }
}

/// The hash a JWT access token is stored under (by its `jti`).
pub fn jwt_hash(state: &AppState, jti: &str) -> String {
    state.hasher.hash(&format!("jwt:{jti}"))
}

/// The claims of a JWT this issuer signed: RS256 under one of `keys` that is not compromised
/// (by `kid`), `iss` equal to `issuer`, and the `required` claims present. Expiry and
/// audience are the caller's business. The one place our own JWTs are verified.
pub fn verify_own_jwt(keys: &[SigningKey], issuer: &str, token: &str, required: &[&str]) -> Option<Value> {
    if token.len() > 8192 || token.matches('.').count() != 2 {
        return None;
    }
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return None;
    }
    let key = keys
        .iter()
        .filter(|k| k.status != KeyStatus::Compromised)
        .find(|k| Some(k.kid.as_str()) == header.kid.as_deref())?;
    let n = key.public_jwk.get("n")?.as_str()?;
    let e = key.public_jwk.get("e")?.as_str()?;
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(n, e).ok()?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(required);
    jsonwebtoken::decode::<Value>(token, &dk, &v).ok().map(|d| d.claims)
}

/// The `jti` a JWT access token would be stored under, read *without* verifying it: only to
/// find the token's record, whose app's keys then verify it (`verify_own_jwt`).
pub fn unverified_jti(token: &str) -> Option<String> {
    if token.len() > 8192 || token.matches('.').count() != 2 {
        return None;
    }
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    claims.get("jti")?.as_str().map(str::to_owned)
}

/// How a presented token is stored: opaque tokens by their own hash, JWT access tokens (when
/// signed by one of the app's published keys) by their `jti`. None for anything else.
pub async fn presented_hash(state: &AppState, iss: &Issuer, token: &str) -> Result<Option<String>, StoreError> {
    if SecretKind::AccessToken.looks_valid(token) || SecretKind::RefreshToken.looks_valid(token) {
        return Ok(Some(state.hasher.hash(token)));
    }
    if unverified_jti(token).is_none() {
        return Ok(None);
    }
    let keys = state.store.signing_keys_of(iss.app.id).await?;
    let jti = verify_own_jwt(&keys, &iss.issuer, token, &["iss", "jti"])
        .and_then(|claims| claims.get("jti").and_then(Value::as_str).map(|jti| jwt_hash(state, jti)));
    Ok(jti)
}

/// The second half of the verification core for a token that passed `verify::check_token`:
/// the scopes that still hold given the user's memberships now (the memberships come from the
/// generation-checked cache, so a removal is seen at once).
pub async fn standing_scopes(state: &AppState, app: &App, t: &TokenState) -> Result<Result<Vec<String>, DenyReason>, StoreError> {
    let memberships = state.caches.memberships(&state.store, t.deployment_id, t.user_id).await?;
    Ok(verify::standing_scopes(t, &app.scopes, &memberships))
}
