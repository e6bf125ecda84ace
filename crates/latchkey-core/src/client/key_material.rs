//! The public key material of `private_key_jwt` clients (RFC 7523 §2.2, OpenID Connect
//! Core §9): exactly one of `jwks_uri` (an https URL) or `jwks` (an inline JWK Set, RFC 7517
//! §5), the two RFC 7591 §2 says must not both be present, or Latchkey's `public_key_pem`
//! (a PEM "PUBLIC KEY" SubjectPublicKeyInfo, RFC 7468 §13 / RFC 5280 §4.1.2.7). Public keys
//! only: private JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4.1, RFC 8037 §2) are refused.
//! Other methods carry no key material at all.

use serde_json::Value;

use super::{AuthMethod, ClientConfig};
use crate::validate::{ValidationError, ValidationErrors};

/// `private_key_jwt` needs exactly one source of the client's public key, each valid;
/// every other method carries none.
pub(super) fn check(c: &ClientConfig, errors: &mut ValidationErrors) {
    let method = c.auth_method();
    let present: Vec<&str> = [
        ("jwks_uri", c.jwks_uri.is_some()),
        ("jwks", c.jwks.is_some()),
        ("public_key_pem", c.public_key_pem.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if method == AuthMethod::PrivateKeyJwt {
        match present.len() {
            0 => errors.add(
                "client_auth_method",
                "private_key_jwt needs the client's public key: give exactly one of jwks_uri, jwks or public_key_pem",
            ),
            1 => {}
            _ => errors.add(
                present[1],
                format!(
                    "give exactly one of jwks_uri, jwks or public_key_pem, not {}",
                    present.join(" and ")
                ),
            ),
        }
        if let Some(u) = &c.jwks_uri
            && let Err(e) = check_jwks_uri(u)
        {
            errors.0.push(e);
        }
        if let Some(j) = &c.jwks
            && let Err(e) = check_jwks(j)
        {
            errors.0.push(e);
        }
        if let Some(p) = &c.public_key_pem
            && let Err(e) = check_public_key_pem(p)
        {
            errors.0.push(e);
        }
    } else {
        for name in present {
            errors.add(name, format!("key material is only used by private_key_jwt, not {method}"));
        }
    }
}

fn check_jwks_uri(u: &str) -> Result<(), ValidationError> {
    match url::Url::parse(u) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() && url.fragment().is_none() && u.len() <= 2048 => Ok(()),
        _ => Err(ValidationError::new("jwks_uri", "must be an absolute https URL without a fragment")),
    }
}

/// Private JWK members (RFC 7518 §6.2.2, §6.3.2, RFC 8037) that must never be sent to us.
const PRIVATE_JWK_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn check_jwks(j: &Value) -> Result<(), ValidationError> {
    let err = |m: &str| Err(ValidationError::new("jwks", m.to_owned()));
    let Some(keys) = j.get("keys").and_then(Value::as_array) else {
        return err("must be a JWK Set: an object with a \"keys\" array");
    };
    if keys.is_empty() || keys.len() > 10 {
        return err("must hold 1 to 10 keys");
    }
    if serde_json::to_vec(j).map(|v| v.len()).unwrap_or(usize::MAX) > 32 * 1024 {
        return err("must be at most 32 KiB");
    }
    for (i, k) in keys.iter().enumerate() {
        let Some(obj) = k.as_object() else {
            return Err(ValidationError::new(format!("jwks.keys[{i}]"), "must be a JSON object"));
        };
        match obj.get("kty").and_then(Value::as_str) {
            Some("RSA") if obj.get("n").and_then(Value::as_str).is_some() && obj.get("e").and_then(Value::as_str).is_some() => {}
            Some("EC")
                if obj.get("crv").and_then(Value::as_str).is_some()
                    && obj.get("x").and_then(Value::as_str).is_some()
                    && obj.get("y").and_then(Value::as_str).is_some() => {}
            _ => {
                return Err(ValidationError::new(
                    format!("jwks.keys[{i}]"),
                    "must be an RSA (n, e) or EC (crv, x, y) public key",
                ));
            }
        }
        if let Some(m) = PRIVATE_JWK_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
            return Err(ValidationError::new(
                format!("jwks.keys[{i}]"),
                format!("contains the private member {m:?}: send public keys only"),
            ));
        }
    }
    Ok(())
}

/// A PEM "PUBLIC KEY" (SubjectPublicKeyInfo) holding an RSA (2048+ bits) or P-256/P-384 key.
pub fn check_public_key_pem(pem: &str) -> Result<(), ValidationError> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    let err = |m: &str| Err(ValidationError::new("public_key_pem", m.to_owned()));
    let Some(der) = pem_decode(pem, "PUBLIC KEY") else {
        return err("must be a PEM block \"-----BEGIN PUBLIC KEY-----\" (SubjectPublicKeyInfo)");
    };
    let parses = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der).is_ok()
        || ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &der).is_ok()
        || ParsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, &der).is_ok();
    if parses {
        Ok(())
    } else {
        err("is not an RSA (2048 bits or more), P-256 or P-384 public key")
    }
}

/// Decodes the single PEM block with the given label.
pub fn pem_decode(pem: &str, label: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem.trim().strip_prefix(&begin)?.strip_suffix(&end)?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() > 16 * 1024 {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::client::test_support::{assert_rules, rsa_pem, with};

    #[test]
    fn key_material_rules_table() {
        let cases: Vec<(&str, Value, Option<&str>)> = vec![
            (
                "pkjwt without keys",
                with(json!({"client_auth_method": "private_key_jwt"})),
                Some("client_auth_method"),
            ),
            (
                "pkjwt with http jwks_uri",
                with(json!({"client_auth_method": "private_key_jwt", "jwks_uri": "http://a.example/jwks"})),
                Some("jwks_uri"),
            ),
            (
                "pkjwt with https jwks_uri",
                with(json!({"client_auth_method": "private_key_jwt", "jwks_uri": "https://a.example/jwks"})),
                None,
            ),
            (
                "pkjwt with two sources",
                with(json!({"client_auth_method": "private_key_jwt", "jwks_uri": "https://a.example/jwks", "public_key_pem": rsa_pem()})),
                Some("public_key_pem"),
            ),
            (
                "pkjwt with pem",
                with(json!({"client_auth_method": "private_key_jwt", "public_key_pem": rsa_pem()})),
                None,
            ),
            (
                "pkjwt with bad pem",
                with(
                    json!({"client_auth_method": "private_key_jwt", "public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}),
                ),
                Some("public_key_pem"),
            ),
            (
                "pkjwt with jwks",
                with(json!({"client_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "RSA", "n": "abc", "e": "AQAB"}]}})),
                None,
            ),
            (
                "pkjwt with private jwk",
                with(
                    json!({"client_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "RSA", "n": "abc", "e": "AQAB", "d": "x"}]}}),
                ),
                Some("jwks.keys[0]"),
            ),
            (
                "pkjwt with empty jwks",
                with(json!({"client_auth_method": "private_key_jwt", "jwks": {"keys": []}})),
                Some("jwks"),
            ),
            (
                "secret method with jwks_uri",
                with(json!({"client_auth_method": "client_secret_basic", "jwks_uri": "https://a.example/jwks"})),
                Some("jwks_uri"),
            ),
            ("none with pem", with(json!({"public_key_pem": rsa_pem()})), Some("public_key_pem")),
        ];
        assert_rules(cases);
    }
}
