//! Signing JWTs (compact JWS, RS256) with an app's key, and the OpenID Connect hash claims.
//! Verification of incoming JWTs (client assertions, `id_token_hint`) uses `jsonwebtoken`
//! with explicit algorithm allow-lists; signing is done here directly with aws-lc-rs because
//! keys are stored as PKCS#8.

use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use serde_json::{Value, json};

use crate::crypto::{b64url, sha256};

#[derive(Debug, thiserror::Error)]
#[error("the signing key could not be used: {0}")]
pub struct SignError(String);

/// Signs `claims` with the RS256 key in `pkcs8`, with `typ` (`JWT`, or `at+jwt` for RFC 9068
/// access tokens) and `kid` in the header.
pub fn sign_rs256(pkcs8: &[u8], kid: &str, typ: &str, claims: &Value) -> Result<String, SignError> {
    let key = KeyPair::from_pkcs8(pkcs8).map_err(|e| SignError(e.to_string()))?;
    let header = json!({"alg": "RS256", "typ": typ, "kid": kid});
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &rng, signing_input.as_bytes(), &mut sig)
        .map_err(|e| SignError(e.to_string()))?;
    Ok(format!("{signing_input}.{}", b64url(&sig)))
}

/// OIDC Core §3.1.3.6 `at_hash` / `c_hash` for RS256: base64url of the left half of SHA-256.
pub fn left_hash(value: &str) -> String {
    b64url(&sha256(value.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::generate_rs256;

    #[test]
    fn tokens_verify_with_the_published_key() {
        let k = generate_rs256();
        let claims = json!({"iss": "https://i.example", "sub": "1", "aud": "c", "exp": 4_000_000_000u64, "iat": 1});
        let jwt = sign_rs256(&k.private_pkcs8, &k.kid, "JWT", &claims).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_rsa_components(k.public_jwk["n"].as_str().unwrap(), "AQAB").unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["c"]);
        let data = jsonwebtoken::decode::<Value>(&jwt, &dk, &v).unwrap();
        assert_eq!(data.claims["sub"], "1");
        assert_eq!(data.header.kid.as_deref(), Some(k.kid.as_str()));
        assert!(sign_rs256(b"not a key", "k", "JWT", &claims).is_err());
    }

    #[test]
    fn at_hash_example() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(left_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
