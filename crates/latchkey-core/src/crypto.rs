//! Symmetric primitives over aws-lc-rs: randomness, keyed hashing of secrets, constant-time
//! comparison, and authenticated encryption of data at rest.
//!
//! One 256-bit master key (from configuration) is expanded into independent sub-keys by
//! HMAC-SHA-256 with distinct labels: the *pepper* that keys the hashes of client secrets,
//! API keys and tokens, and the *sealing key* that encrypts signing keys' private halves.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::{constant_time, digest, hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Secret;

/// Fills `dest` from the operating system's CSPRNG.
pub fn fill_random(dest: &mut [u8]) {
    // aws-lc's DRBG only fails if the OS entropy source is gone; nothing sensible can go on.
    rand::fill(dest).expect("the system random number generator failed");
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    fill_random(&mut buf);
    buf
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn b64url_decode(data: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(data).ok()
}

/// The 256-bit root key from configuration. Never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the master key must be 32 bytes encoded as base64url (43 characters) or hex (64 characters)")]
pub struct BadMasterKey;

impl MasterKey {
    pub fn generate() -> Self {
        MasterKey(random_bytes())
    }

    /// Reads a key written as unpadded base64url (43 chars) or hex (64 chars).
    pub fn parse(text: &str) -> Result<Self, BadMasterKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| BadMasterKey)?
        } else {
            b64url_decode(text.trim_end_matches('=')).ok_or(BadMasterKey)?
        };
        let arr: [u8; 32] = bytes.try_into().map_err(|_| BadMasterKey)?;
        Ok(MasterKey(arr))
    }

    /// The key as it is written to a key file.
    pub fn encode(&self) -> Secret {
        Secret::new(b64url(&self.0))
    }

    fn derive(&self, label: &str) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let tag = hmac::sign(&key, label.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    pub fn hasher(&self) -> SecretHasher {
        SecretHasher {
            key: hmac::Key::new(hmac::HMAC_SHA256, &self.derive("latchkey/v1/secret-hash")),
        }
    }

    pub fn sealer(&self) -> Sealer {
        let key = self.derive("latchkey/v1/seal");
        Sealer {
            // 32 bytes is exactly AES-256's key length; construction cannot fail.
            key: RandomizedNonceKey::new(&AES_256_GCM, &key).expect("AES-256 key of 32 bytes"),
        }
    }
}

/// Keyed hash (HMAC-SHA-256 under the server pepper) of secrets that are looked up by value:
/// client secrets, API keys, tokens. A stolen database alone does not allow offline guessing.
#[derive(Clone)]
pub struct SecretHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher([redacted])")
    }
}

impl SecretHasher {
    /// The stored form of `secret`: base64url of its HMAC.
    pub fn hash(&self, secret: &str) -> String {
        b64url(hmac::sign(&self.key, secret.as_bytes()).as_ref())
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub fn verify(&self, secret: &str, stored: &str) -> bool {
        let computed = self.hash(secret);
        constant_time_eq(computed.as_bytes(), stored.as_bytes())
    }
}

/// AES-256-GCM with random nonces for data at rest. The output is
/// `base64url(nonce || ciphertext || tag)`; the associated data binds a ciphertext to the
/// record it belongs to so that it cannot be moved to another row.
pub struct Sealer {
    key: RandomizedNonceKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sealed data could not be opened: wrong master key or corrupted record")]
pub struct OpenError;

impl Sealer {
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> String {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(aad.as_bytes()), &mut in_out)
            .expect("AES-GCM sealing of an in-memory buffer");
        let mut out = Vec::with_capacity(NONCE_LEN + in_out.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&in_out);
        b64url(&out)
    }

    pub fn open(&self, sealed: &str, aad: &str) -> Result<Vec<u8>, OpenError> {
        let raw = b64url_decode(sealed).ok_or(OpenError)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(OpenError);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError)?;
        let mut in_out = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| OpenError)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_parses_both_encodings_and_rejects_others() {
        let k = MasterKey::generate();
        let text = k.encode();
        assert!(MasterKey::parse(text.expose()).is_ok());
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        for bad in ["", "short", &"zz".repeat(32), &"a".repeat(44)] {
            assert_eq!(MasterKey::parse(bad).unwrap_err(), BadMasterKey, "{bad}");
        }
    }

    #[test]
    fn hashes_are_keyed_and_verify_in_constant_time() {
        let a = MasterKey::generate().hasher();
        let b = MasterKey::generate().hasher();
        let h = a.hash("s3cret");
        assert!(a.verify("s3cret", &h));
        assert!(!a.verify("s3cret!", &h));
        assert_ne!(h, b.hash("s3cret"), "a different pepper gives a different hash");
        assert!(!h.contains("s3cret"));
    }

    #[test]
    fn sealing_round_trips_and_is_bound_to_its_aad() {
        let key = MasterKey::generate();
        let s = key.sealer();
        let sealed = s.seal(b"private half", "signing_key:1");
        assert_eq!(s.open(&sealed, "signing_key:1").unwrap(), b"private half");
        assert_eq!(s.open(&sealed, "signing_key:2"), Err(OpenError));
        assert_eq!(MasterKey::generate().sealer().open(&sealed, "signing_key:1"), Err(OpenError));
        assert_eq!(s.open("garbage", "signing_key:1"), Err(OpenError));
        assert_ne!(s.seal(b"x", "a"), s.seal(b"x", "a"), "nonces are random");
    }
}
