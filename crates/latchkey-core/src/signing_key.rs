//! Per-app signing keys: RS256 (RSA-2048) key pairs generated with aws-lc-rs. The private
//! half leaves this module only as PKCS#8 DER, to be sealed before it is stored; the public
//! half is published as a PEM SubjectPublicKeyInfo and as a JWK whose `kid` is its RFC 7638
//! thumbprint.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};

use crate::crypto::{b64url, sha256};
use crate::{Id, Timestamp};

pub const ALGORITHM: &str = "RS256";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Signs new tokens. Exactly one per app.
    Active,
    /// No longer signs, still published so tokens it signed keep verifying.
    Retired,
    /// Withdrawn: never published, nothing it signed verifies.
    Compromised,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
            KeyStatus::Compromised => "compromised",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(KeyStatus::Active),
            "retired" => Some(KeyStatus::Retired),
            "compromised" => Some(KeyStatus::Compromised),
            _ => None,
        }
    }
}

/// A signing key's public record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SigningKey {
    #[serde(skip)]
    pub id: Id,
    #[serde(skip)]
    pub app_id: Id,
    pub kid: String,
    pub algorithm: String,
    pub status: KeyStatus,
    pub public_key_pem: String,
    #[serde(skip)]
    pub public_jwk: Value,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compromised_at: Option<Timestamp>,
}

/// A freshly generated key pair.
pub struct GeneratedKey {
    pub kid: String,
    pub public_key_pem: String,
    pub public_jwk: Value,
    /// PKCS#8 v1 DER of the private key. Seal it before storing.
    pub private_pkcs8: Vec<u8>,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .field("private_pkcs8", &"[redacted]")
            .finish()
    }
}

/// Generates an RSA-2048 key pair for RS256.
pub fn generate_rs256() -> GeneratedKey {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key generation");
    let private: Pkcs8V1Der = pair.as_der().expect("PKCS#8 encoding of a generated key");
    let public = pair.public_key();
    let spki: PublicKeyX509Der = public.as_der().expect("SPKI encoding of a generated key");
    let n = b64url(public.modulus().big_endian_without_leading_zero());
    let e = b64url(public.exponent().big_endian_without_leading_zero());
    let kid = rsa_thumbprint(&n, &e);
    GeneratedKey {
        public_key_pem: pem_encode("PUBLIC KEY", spki.as_ref()),
        public_jwk: json!({"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": kid, "n": n, "e": e}),
        kid,
        private_pkcs8: private.as_ref().to_vec(),
    }
}

/// RFC 7638 JWK thumbprint of an RSA key: SHA-256 over `{"e":…,"kty":"RSA","n":…}`.
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(&sha256(canonical.as_bytes()))
}

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, UnparsedPublicKey};

    #[test]
    fn generated_keys_sign_and_verify_with_the_published_half() {
        let k = generate_rs256();
        assert!(k.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(k.public_jwk["kid"], k.kid);
        assert_eq!(k.kid.len(), 43);
        crate::client::check_public_key_pem(&k.public_key_pem).unwrap();

        let pair = KeyPair::from_pkcs8(&k.private_pkcs8).unwrap();
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut sig = vec![0; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &rng, b"msg", &mut sig).unwrap();
        let der = crate::client::pem_decode(&k.public_key_pem, "PUBLIC KEY").unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
            .verify(b"msg", &sig)
            .unwrap();
        assert!(format!("{k:?}").contains("[redacted]"));
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(rsa_thumbprint(n, "AQAB"), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
