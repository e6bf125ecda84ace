//! PKCE (RFC 7636) with the S256 method only — `plain` is refused, as OAuth 2.1 and RFC 9700
//! §2.1.1 recommend.

use crate::crypto::{b64url, constant_time_eq, sha256};
use crate::oauth::OAuthError;

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Checks `code_challenge` and `code_challenge_method` on an authorization request.
pub fn check_challenge(challenge: Option<&str>, method: Option<&str>) -> Result<String, OAuthError> {
    let Some(challenge) = challenge else {
        return Err(OAuthError::invalid_request(
            "code_challenge is required: use PKCE with S256 (RFC 7636)",
        ));
    };
    match method {
        Some("S256") => {}
        None => {
            return Err(OAuthError::invalid_request("code_challenge_method is required and must be S256"));
        }
        Some("plain") => {
            return Err(OAuthError::invalid_request("code_challenge_method plain is not allowed: use S256"));
        }
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other:?} is not supported: use S256"
            )));
        }
    }
    // A base64url SHA-256 digest is 43 characters.
    if challenge.len() != 43 || !challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(OAuthError::invalid_request(
            "code_challenge must be the base64url (no padding) SHA-256 of the code_verifier",
        ));
    }
    Ok(challenge.to_owned())
}

/// Whether `verifier` (43-128 unreserved characters) hashes to `challenge`.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(is_unreserved)
        && constant_time_eq(b64url(&sha256(verifier.as_bytes())).as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(verifier, challenge));
        assert!(!verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", challenge));
        assert!(!verify(challenge, challenge), "the challenge is not a verifier for itself");
    }

    #[test]
    fn challenge_rules() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_challenge(Some(c), Some("S256")).is_ok());
        for (challenge, method) in [
            (None, Some("S256")),
            (Some(c), None),
            (Some(c), Some("plain")),
            (Some(c), Some("s256")),
            (Some("short"), Some("S256")),
            (Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"), Some("S256")),
        ] {
            assert!(check_challenge(challenge, method).is_err(), "{challenge:?} {method:?}");
        }
        assert!(!verify(&"a".repeat(42), c));
        assert!(!verify(&"a".repeat(129), c));
    }
}
