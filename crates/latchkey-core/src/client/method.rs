//! Token-endpoint client authentication methods (`token_endpoint_auth_method`, RFC 7591 §2):
//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1), `client_secret_jwt`
//! and `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9), and `none` for public
//! clients (RFC 6749 §2.1). What each method implies: whether it is issued a secret, whether
//! that secret must be recoverable, which JWS algorithms its assertions may be signed with
//! (`token_endpoint_auth_signing_alg`, OpenID Connect Dynamic Client Registration §2;
//! advertised as `token_endpoint_auth_signing_alg_values_supported`, RFC 8414 §2), and what
//! happens to the client's secrets when it changes method.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::validate::ValidationErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 5] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AuthMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether clients of this method are issued a client secret.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt
        )
    }

    /// `client_secret_jwt` verifies an HMAC made with the secret itself, so the server must
    /// be able to recover it (sealed at rest); every other method stores only a hash.
    pub fn needs_recoverable_secret(self) -> bool {
        self == AuthMethod::ClientSecretJwt
    }

    /// The JWS algorithms a client of this method may sign its assertions with (none for
    /// methods without assertions). Registration, assertion checks and discovery use this.
    pub fn signing_algs(self) -> &'static [&'static str] {
        match self {
            AuthMethod::ClientSecretJwt => &["HS256", "HS384", "HS512"],
            AuthMethod::PrivateKeyJwt => &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"],
            _ => &[],
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuthMethod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// [`AuthMethod`] as a serde-friendly field of the stored document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthMethodField(pub AuthMethod);

impl Serialize for AuthMethodField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthMethodField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AuthMethod::parse(&s)
            .map(AuthMethodField)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown client_auth_method {s:?}")))
    }
}

/// `token_endpoint_auth_signing_alg` (OpenID Connect Dynamic Client Registration §2), when given, must be one of the
/// method's [`AuthMethod::signing_algs`]; methods without assertions take none.
pub(super) fn check_signing_alg(method: AuthMethod, alg: Option<&str>, errors: &mut ValidationErrors) {
    if let Some(alg) = alg {
        let allowed = method.signing_algs();
        if allowed.is_empty() {
            errors.add(
                "token_endpoint_auth_signing_alg",
                format!("only client_secret_jwt and private_key_jwt sign assertions, not {method}"),
            );
        } else if !allowed.contains(&alg) {
            errors.add(
                "token_endpoint_auth_signing_alg",
                format!("{alg:?} is not allowed for {method}: use one of {}", allowed.join(", ")),
            );
        }
    }
}

/// What happens to a client's secrets when its authentication method changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretTransition {
    /// The secrets stay as they are.
    Keep,
    /// A new secret is issued (returned once) and the old ones stop working: the client
    /// starts using a secret, or moves to `client_secret_jwt`, which needs a secret the
    /// server can recover.
    Issue,
    /// The client no longer uses a secret: every secret stops working.
    Drop,
}

pub fn secret_transition(old: AuthMethod, new: AuthMethod) -> SecretTransition {
    match (old.uses_secret(), new.uses_secret()) {
        (_, false) if old.uses_secret() => SecretTransition::Drop,
        (false, true) => SecretTransition::Issue,
        (true, true) if new.needs_recoverable_secret() && !old.needs_recoverable_secret() => SecretTransition::Issue,
        _ => SecretTransition::Keep,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::client::test_support::{assert_rules, with};

    #[test]
    fn signing_alg_rules_table() {
        let cases: Vec<(&str, Value, Option<&str>)> = vec![
            (
                "alg for basic",
                with(json!({"client_auth_method": "client_secret_basic", "token_endpoint_auth_signing_alg": "HS256"})),
                Some("token_endpoint_auth_signing_alg"),
            ),
            (
                "rsa alg for secret jwt",
                with(json!({"client_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "RS256"})),
                Some("token_endpoint_auth_signing_alg"),
            ),
            (
                "hs alg for secret jwt",
                with(json!({"client_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "HS256"})),
                None,
            ),
            (
                "none alg",
                with(
                    json!({"client_auth_method": "private_key_jwt", "jwks_uri": "https://a.example/j", "token_endpoint_auth_signing_alg": "none"}),
                ),
                Some("token_endpoint_auth_signing_alg"),
            ),
        ];
        assert_rules(cases);
    }

    #[test]
    fn transition_table() {
        use AuthMethod::*;
        use SecretTransition::*;
        for (old, new, t) in [
            (ClientSecretBasic, ClientSecretPost, Keep),
            (ClientSecretPost, ClientSecretBasic, Keep),
            (ClientSecretBasic, ClientSecretJwt, Issue),
            (ClientSecretJwt, ClientSecretBasic, Keep),
            (None, ClientSecretBasic, Issue),
            (PrivateKeyJwt, ClientSecretJwt, Issue),
            (ClientSecretBasic, None, Drop),
            (ClientSecretJwt, PrivateKeyJwt, Drop),
            (None, PrivateKeyJwt, Keep),
            (None, None, Keep),
        ] {
            assert_eq!(secret_transition(old, new), t, "{old} -> {new}");
        }
    }
}
