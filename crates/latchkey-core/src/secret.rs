//! Secrets in memory: the [`Secret`] wrapper that never prints its contents, and the
//! generators for every kind of bearer secret Latchkey hands out.
//!
//! Generated secrets carry a recognisable prefix (so leaked ones can be found by secret
//! scanners and so a wrong kind is rejected before any lookup) followed by 256 bits of
//! randomness in base64url.

use std::fmt;

use crate::crypto::{b64url, random_bytes};

/// A string that must not be logged. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The plaintext. Call sites are the few places that must see it: hashing, returning
    /// it once to its owner, and verification.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The kinds of bearer secret, each with its own prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// Backend API key (management API, gateway callers).
    ApiKey,
    /// OAuth client secret.
    ClientSecret,
    /// Opaque access token.
    AccessToken,
    /// Refresh token.
    RefreshToken,
    /// Authorization code.
    AuthorizationCode,
    /// End-user browser session (cookie value).
    Session,
    /// Consent transaction handle (the `handoff_id`).
    Handoff,
    /// RFC 7592 registration access token.
    RegistrationToken,
}

impl SecretKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            SecretKind::ApiKey => "lk_api_",
            SecretKind::ClientSecret => "lk_cs_",
            SecretKind::AccessToken => "lk_at_",
            SecretKind::RefreshToken => "lk_rt_",
            SecretKind::AuthorizationCode => "lk_ac_",
            SecretKind::Session => "lk_ss_",
            SecretKind::Handoff => "lk_ho_",
            SecretKind::RegistrationToken => "lk_rat_",
        }
    }

    /// A new secret of this kind: prefix + base64url of 32 random bytes.
    pub fn generate(self) -> Secret {
        Secret(format!("{}{}", self.prefix(), b64url(&random_bytes::<32>())))
    }

    /// Cheap syntactic check before any lookup: right prefix, then 32 to 128 characters of
    /// the base64url alphabet (generated secrets have 43; operator-chosen bootstrap keys such
    /// as `lk_api_` + 64 hex digits also pass).
    pub fn looks_valid(self, candidate: &str) -> bool {
        match candidate.strip_prefix(self.prefix()) {
            Some(rest) => (32..=128).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            None => false,
        }
    }
}

/// A new public client identifier (not a secret): `lkc_` + 128 random bits.
pub fn generate_client_id() -> String {
    format!("lkc_{}", b64url(&random_bytes::<16>()))
}

/// The last four characters, shown to operators to tell secrets apart.
pub fn hint(secret: &Secret) -> String {
    let s = secret.expose();
    let tail: String = s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_long_and_redacted() {
        for kind in [
            SecretKind::ApiKey,
            SecretKind::ClientSecret,
            SecretKind::AccessToken,
            SecretKind::RefreshToken,
            SecretKind::AuthorizationCode,
            SecretKind::Session,
            SecretKind::Handoff,
            SecretKind::RegistrationToken,
        ] {
            let s = kind.generate();
            assert!(s.expose().starts_with(kind.prefix()));
            assert!(kind.looks_valid(s.expose()));
            assert_eq!(format!("{s:?}"), "Secret([redacted])");
            assert_eq!(format!("{s}"), "[redacted]");
            assert_ne!(kind.generate(), s);
        }
        assert!(!SecretKind::ApiKey.looks_valid(SecretKind::ClientSecret.generate().expose()));
        assert!(!SecretKind::ApiKey.looks_valid("lk_api_short"));
        assert!(!SecretKind::ApiKey.looks_valid(&format!("lk_api_{}", "!".repeat(43))));
    }

    #[test]
    fn hint_is_the_tail() {
        assert_eq!(hint(&Secret::new("lk_cs_abcdefgh")), "…efgh");
    }
}
