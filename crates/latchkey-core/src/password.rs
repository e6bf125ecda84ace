//! Password hashing for the built-in directory: Argon2id with the OWASP-recommended
//! parameters (19 MiB, 2 passes, 1 lane), PHC strings at rest.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::crypto::random_bytes;

fn argon2() -> Argon2<'static> {
    // Fixed, valid parameters: construction cannot fail.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16-byte salt encodes");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2id hashing with valid parameters")
        .to_string()
}

/// Checks a password against a stored PHC string. Malformed hashes never verify.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Password rules: 8 to 256 characters. Length is what matters (NIST SP 800-63B).
pub fn check_password_policy(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 8 {
        Err("must be at least 8 characters")
    } else if n > 256 {
        Err("must be at most 256 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsE", &h));
        assert_ne!(h, hash_password("correct horse"));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn policy() {
        assert!(check_password_policy("1234567").is_err());
        assert!(check_password_policy("12345678").is_ok());
        assert!(check_password_policy(&"x".repeat(257)).is_err());
    }
}
