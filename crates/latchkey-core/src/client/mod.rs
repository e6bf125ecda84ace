//! OAuth clients: the model, the five token-endpoint authentication methods, and the rules
//! every client configuration must satisfy, whether it is being created or changed.
//!
//! Rules (PRODUCT.md, RFC 6749, RFC 7591, OAuth 2.1): `authorization_code` is required,
//! `refresh_token` optional, nothing else (in particular not `client_credentials`); at least
//! one exact redirect URI; key material for `private_key_jwt` is exactly one of `jwks_uri`
//! (https), `jwks`, `public_key_pem`, and no other method may carry any; access tokens are
//! `opaque` or `jwt` and live 60..=86400 seconds.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::redirect_uri;
use crate::validate::{self, ValidationError, ValidationErrors};
use crate::{Id, Timestamp};

pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
pub const MIN_ACCESS_TOKEN_TTL: i64 = 60;
pub const MAX_ACCESS_TOKEN_TTL: i64 = 86_400;
pub const MAX_REDIRECT_URIS: usize = 20;
pub const MAX_REFRESH_GRACE: i64 = 300;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    #[default]
    Opaque,
    Jwt,
}

/// OpenID Connect Dynamic Client Registration `application_type`: a native app may also use
/// private-use URI scheme redirects (RFC 8252).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    #[default]
    Web,
    Native,
}

/// How the client came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Created by an operator through the backend API or CLI.
    Manual,
    /// Registered by itself at the app's RFC 7591 endpoint.
    Dynamic,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Manual => "manual",
            Registration::Dynamic => "dynamic",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Registration::Manual),
            "dynamic" => Some(Registration::Dynamic),
            _ => None,
        }
    }
}

/// Everything about a client an operator configures. Stored as one JSON document beside the
/// client's identity columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    pub client_auth_method: AuthMethodField,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(default)]
    pub contacts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_signing_alg: String,
    pub access_token_format: AccessTokenFormat,
    pub access_token_ttl_seconds: i64,
    #[serde(default)]
    pub skip_consent: bool,
    /// Seconds during which the immediate predecessor of a rotated refresh token may be
    /// presented again and get the same successor (0 = strict rotation).
    #[serde(default)]
    pub refresh_token_grace_seconds: i64,
    #[serde(default)]
    pub application_type: ApplicationType,
    /// Scopes the client registered (RFC 7591 `scope`); when set, it may ask for no others
    /// (OpenID Connect scopes excepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
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

impl ClientConfig {
    pub fn auth_method(&self) -> AuthMethod {
        self.client_auth_method.0
    }
}

/// Create or update input: the wire's `CreateOAuthClient` / `UpdateOAuthClient`. On create,
/// `client_auth_method`, `grant_types` and `redirect_uris` are required; on update every
/// field is optional and absent fields keep their values. `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    #[serde(default)]
    pub client_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub client_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub client_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub logo_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub tos_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub policy_uri: Option<Option<String>>,
    #[serde(default)]
    pub contacts: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub software_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub software_version: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub token_endpoint_auth_signing_alg: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub jwks_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub jwks: Option<Option<Value>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub public_key_pem: Option<Option<String>>,
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub id_token_signing_alg: Option<String>,
    #[serde(default)]
    pub access_token_format: Option<String>,
    #[serde(default)]
    pub access_token_ttl_seconds: Option<i64>,
    #[serde(default)]
    pub skip_consent: Option<bool>,
    #[serde(default)]
    pub refresh_token_grace_seconds: Option<i64>,
    #[serde(default)]
    pub application_type: Option<String>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub scope: Option<Option<String>>,
}

impl ClientInput {
    /// Validates a create request into a full configuration.
    pub fn into_new_config(self) -> Result<ClientConfig, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.client_auth_method.is_none() {
            errors.add("client_auth_method", "is required");
        }
        if self.grant_types.is_none() {
            errors.add("grant_types", "is required");
        }
        if self.redirect_uris.is_none() {
            errors.add("redirect_uris", "is required: register at least one redirect URI");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let base = ClientConfig {
            client_auth_method: AuthMethodField(AuthMethod::None),
            grant_types: vec![],
            redirect_uris: vec![],
            client_name: None,
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
            contacts: vec![],
            software_id: None,
            software_version: None,
            token_endpoint_auth_signing_alg: None,
            jwks_uri: None,
            jwks: None,
            public_key_pem: None,
            post_logout_redirect_uris: vec![],
            id_token_signing_alg: "RS256".into(),
            access_token_format: AccessTokenFormat::Opaque,
            access_token_ttl_seconds: DEFAULT_ACCESS_TOKEN_TTL,
            skip_consent: false,
            refresh_token_grace_seconds: 0,
            application_type: ApplicationType::Web,
            scope: None,
        };
        self.apply_to(&base)
    }

    /// Applies this input to an existing configuration and validates the result as a whole,
    /// so cross-field rules (method vs key material) hold after every change.
    pub fn apply_to(&self, current: &ClientConfig) -> Result<ClientConfig, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut c = current.clone();

        if let Some(m) = &self.client_auth_method {
            match AuthMethod::parse(m) {
                Some(m) => c.client_auth_method = AuthMethodField(m),
                None => errors.add(
                    "client_auth_method",
                    format!(
                        "{m:?} is not supported: use one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none"
                    ),
                ),
            }
        }
        if let Some(list) = &self.grant_types
            && let Some(g) = errors.check(parse_grant_types(list))
        {
            c.grant_types = g;
        }
        if let Some(t) = &self.application_type {
            match t.as_str() {
                "web" => c.application_type = ApplicationType::Web,
                "native" => c.application_type = ApplicationType::Native,
                other => errors.add("application_type", format!("{other:?} is not supported: use web or native")),
            }
        }
        if let Some(v) = &self.scope {
            match v.as_deref().map(str::trim) {
                None | Some("") => c.scope = None,
                Some(s) if crate::scope::split(s).iter().all(|t| crate::scope::is_scope_token(t)) => {
                    c.scope = Some(crate::scope::join(&crate::scope::split(s)))
                }
                Some(_) => errors.add("scope", "must be space-separated scope tokens"),
            }
        }
        let native = c.application_type == ApplicationType::Native;
        if let Some(list) = &self.redirect_uris
            && let Some(v) = uri_list("redirect_uris", list, true, native, &mut errors)
        {
            c.redirect_uris = v;
        }
        if let Some(list) = &self.post_logout_redirect_uris
            && let Some(v) = uri_list("post_logout_redirect_uris", list, false, native, &mut errors)
        {
            c.post_logout_redirect_uris = v;
        }
        set_text(&mut c.client_name, &self.client_name, "client_name", 200, &mut errors);
        set_url(&mut c.client_uri, &self.client_uri, "client_uri", &mut errors);
        set_url(&mut c.logo_uri, &self.logo_uri, "logo_uri", &mut errors);
        set_url(&mut c.tos_uri, &self.tos_uri, "tos_uri", &mut errors);
        set_url(&mut c.policy_uri, &self.policy_uri, "policy_uri", &mut errors);
        set_text(&mut c.software_id, &self.software_id, "software_id", 200, &mut errors);
        set_text(
            &mut c.software_version,
            &self.software_version,
            "software_version",
            100,
            &mut errors,
        );
        if let Some(contacts) = &self.contacts {
            if contacts.len() > 10 {
                errors.add("contacts", "at most 10 contacts");
            } else {
                let mut out = Vec::new();
                for (i, v) in contacts.iter().enumerate() {
                    if let Some(v) = errors.check(validate::text(&format!("contacts[{i}]"), v, 254)) {
                        out.push(v);
                    }
                }
                c.contacts = out;
            }
        }
        if let Some(v) = &self.token_endpoint_auth_signing_alg {
            c.token_endpoint_auth_signing_alg = v.clone().filter(|s| !s.is_empty());
        }
        if let Some(v) = &self.jwks_uri {
            c.jwks_uri = v.clone().filter(|s| !s.is_empty());
        }
        if let Some(v) = &self.jwks {
            c.jwks = v.clone().filter(|j| !j.is_null());
        }
        if let Some(v) = &self.public_key_pem {
            c.public_key_pem = v.clone().filter(|s| !s.trim().is_empty());
        }
        if let Some(v) = &self.id_token_signing_alg {
            if v == "RS256" {
                c.id_token_signing_alg = v.clone();
            } else {
                errors.add(
                    "id_token_signing_alg",
                    format!("{v:?} is not supported: ID tokens are signed with RS256"),
                );
            }
        }
        if let Some(v) = &self.access_token_format {
            match v.as_str() {
                "opaque" => c.access_token_format = AccessTokenFormat::Opaque,
                "jwt" => c.access_token_format = AccessTokenFormat::Jwt,
                _ => errors.add("access_token_format", format!("{v:?} is not supported: use opaque or jwt")),
            }
        }
        if let Some(v) = self.access_token_ttl_seconds {
            if (MIN_ACCESS_TOKEN_TTL..=MAX_ACCESS_TOKEN_TTL).contains(&v) {
                c.access_token_ttl_seconds = v;
            } else {
                errors.add(
                    "access_token_ttl_seconds",
                    format!("must be between {MIN_ACCESS_TOKEN_TTL} and {MAX_ACCESS_TOKEN_TTL} seconds"),
                );
            }
        }
        if let Some(v) = self.skip_consent {
            c.skip_consent = v;
        }
        if let Some(v) = self.refresh_token_grace_seconds {
            if (0..=MAX_REFRESH_GRACE).contains(&v) {
                c.refresh_token_grace_seconds = v;
            } else {
                errors.add(
                    "refresh_token_grace_seconds",
                    format!("must be between 0 and {MAX_REFRESH_GRACE} seconds"),
                );
            }
        }
        if errors.is_empty() {
            check_key_material(&c, &mut errors);
        }
        errors.finish(c)
    }
}

fn set_text(target: &mut Option<String>, input: &Option<Option<String>>, field: &str, max: usize, errors: &mut ValidationErrors) {
    if let Some(v) = input
        && let Some(v) = errors.check(validate::optional_text(field, v.as_deref(), max))
    {
        *target = v;
    }
}

fn set_url(target: &mut Option<String>, input: &Option<Option<String>>, field: &str, errors: &mut ValidationErrors) {
    match input {
        None => {}
        Some(None) => *target = None,
        Some(Some(v)) if v.trim().is_empty() => *target = None,
        Some(Some(v)) => {
            if let Some(v) = errors.check(validate::web_url(field, v.trim())) {
                *target = Some(v);
            }
        }
    }
}

fn uri_list(field: &str, list: &[String], required: bool, native: bool, errors: &mut ValidationErrors) -> Option<Vec<String>> {
    if required && list.is_empty() {
        errors.add(field, "register at least one redirect URI");
        return None;
    }
    if list.len() > MAX_REDIRECT_URIS {
        errors.add(field, format!("at most {MAX_REDIRECT_URIS} URIs"));
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let before = errors.0.len();
    for (i, raw) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let checked = if native {
            redirect_uri::validate_native(&f, raw)
        } else {
            redirect_uri::validate_registration(&f, raw)
        };
        if let Some(v) = errors.check(checked)
            && !out.contains(&v)
        {
            out.push(v);
        }
    }
    (errors.0.len() == before).then_some(out)
}

/// Grant types: `authorization_code` is required, `refresh_token` is optional, nothing else.
pub fn parse_grant_types(list: &[String]) -> Result<Vec<GrantType>, ValidationError> {
    let mut out = Vec::new();
    for g in list {
        let parsed = match g.as_str() {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => {
                return Err(ValidationError::new(
                    "grant_types",
                    "client_credentials is not supported: Latchkey issues tokens only on behalf of a user who approved them",
                ));
            }
            "implicit" | "password" => {
                return Err(ValidationError::new(
                    "grant_types",
                    format!("{g} is not supported: it is removed in OAuth 2.1 and forbidden by RFC 9700"),
                ));
            }
            other => {
                return Err(ValidationError::new(
                    "grant_types",
                    format!("{other:?} is not supported: use authorization_code and optionally refresh_token"),
                ));
            }
        };
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    if !out.contains(&GrantType::AuthorizationCode) {
        return Err(ValidationError::new("grant_types", "must include authorization_code"));
    }
    Ok(out)
}

fn check_key_material(c: &ClientConfig, errors: &mut ValidationErrors) {
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
    if let Some(alg) = &c.token_endpoint_auth_signing_alg {
        let allowed = method.signing_algs();
        if allowed.is_empty() {
            errors.add(
                "token_endpoint_auth_signing_alg",
                format!("only client_secret_jwt and private_key_jwt sign assertions, not {method}"),
            );
        } else if !allowed.contains(&alg.as_str()) {
            errors.add(
                "token_endpoint_auth_signing_alg",
                format!("{alg:?} is not allowed for {method}: use one of {}", allowed.join(", ")),
            );
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

/// A client as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: Id,
    pub app_id: Id,
    pub deployment_id: Id,
    pub client_id: String,
    pub config: ClientConfig,
    pub registration: Registration,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Serialize for Client {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ClientView {
            client: self,
            client_secret: None,
        }
        .serialize(s)
    }
}

/// A client on the wire, with its secret when one was just created (shown once).
pub struct ClientView<'a> {
    pub client: &'a Client,
    pub client_secret: Option<&'a str>,
}

impl Serialize for ClientView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: Id,
            oauth_app_id: Id,
            client_id: &'a str,
            #[serde(flatten)]
            config: &'a ClientConfig,
            registration: Registration,
            is_active: bool,
            created_at: Timestamp,
            updated_at: Timestamp,
            #[serde(skip_serializing_if = "Option::is_none")]
            client_secret: Option<&'a str>,
        }
        let c = self.client;
        Wire {
            id: c.id,
            oauth_app_id: c.app_id,
            client_id: &c.client_id,
            config: &c.config,
            registration: c.registration,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: self.client_secret,
        }
        .serialize(s)
    }
}

/// A client secret's record (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientSecretInfo {
    pub id: Id,
    pub hint: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(v: Value) -> Result<ClientConfig, ValidationErrors> {
        serde_json::from_value::<ClientInput>(v).unwrap().into_new_config()
    }

    fn rsa_pem() -> String {
        crate::signing_key::generate_rs256().public_key_pem
    }

    #[test]
    fn create_defaults() {
        let c = create(json!({
            "client_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["https://app.example.com/cb"]
        }))
        .unwrap();
        assert_eq!(c.access_token_ttl_seconds, 3600);
        assert_eq!(c.access_token_format, AccessTokenFormat::Opaque);
        assert_eq!(c.id_token_signing_alg, "RS256");
        assert!(c.auth_method().uses_secret());
    }

    #[test]
    fn rules_table() {
        let ok_base = json!({
            "client_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example.com/cb"]
        });
        let with = |patch: Value| {
            let mut v = ok_base.clone();
            for (k, val) in patch.as_object().unwrap() {
                v[k] = val.clone();
            }
            v
        };
        let cases: Vec<(&str, Value, Option<&str>)> = vec![
            ("plain public client", with(json!({})), None),
            (
                "missing redirect uris",
                json!({"client_auth_method": "none", "grant_types": ["authorization_code"]}),
                Some("redirect_uris"),
            ),
            ("empty redirect uris", with(json!({"redirect_uris": []})), Some("redirect_uris")),
            (
                "fragment",
                with(json!({"redirect_uris": ["https://a.example/cb#x"]})),
                Some("redirect_uris[0]"),
            ),
            (
                "http non-loopback",
                with(json!({"redirect_uris": ["http://a.example/cb"]})),
                Some("redirect_uris[0]"),
            ),
            (
                "client credentials",
                with(json!({"grant_types": ["authorization_code", "client_credentials"]})),
                Some("grant_types"),
            ),
            ("implicit", with(json!({"grant_types": ["implicit"]})), Some("grant_types")),
            ("no auth code", with(json!({"grant_types": ["refresh_token"]})), Some("grant_types")),
            (
                "unknown method",
                with(json!({"client_auth_method": "tls_client_auth"})),
                Some("client_auth_method"),
            ),
            (
                "ttl low",
                with(json!({"access_token_ttl_seconds": 59})),
                Some("access_token_ttl_seconds"),
            ),
            (
                "ttl high",
                with(json!({"access_token_ttl_seconds": 86401})),
                Some("access_token_ttl_seconds"),
            ),
            ("ttl edges", with(json!({"access_token_ttl_seconds": 60})), None),
            (
                "format",
                with(json!({"access_token_format": "paseto"})),
                Some("access_token_format"),
            ),
            ("jwt format", with(json!({"access_token_format": "jwt"})), None),
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
            (
                "id token alg",
                with(json!({"id_token_signing_alg": "HS256"})),
                Some("id_token_signing_alg"),
            ),
            ("bad logo uri", with(json!({"logo_uri": "javascript:alert(1)"})), Some("logo_uri")),
            (
                "bad post logout",
                with(json!({"post_logout_redirect_uris": ["http://evil.example/"]})),
                Some("post_logout_redirect_uris[0]"),
            ),
            (
                "grace too long",
                with(json!({"refresh_token_grace_seconds": 301})),
                Some("refresh_token_grace_seconds"),
            ),
        ];
        for (name, input, field) in cases {
            let r = create(input);
            match field {
                None => assert!(r.is_ok(), "{name}: {r:?}"),
                Some(f) => {
                    let e = r.expect_err(name);
                    assert!(e.0.iter().any(|x| x.field == f), "{name}: expected error on {f}, got {e}");
                }
            }
        }
        assert!(
            serde_json::from_value::<ClientInput>(json!({"grant_type": []})).is_err(),
            "unknown fields are refused"
        );
    }

    #[test]
    fn update_is_validated_as_a_whole() {
        let c = create(json!({
            "client_auth_method": "private_key_jwt",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example.com/cb"],
            "jwks_uri": "https://app.example.com/jwks"
        }))
        .unwrap();
        // Switching to a secret method while the jwks_uri stays is refused...
        let e = ClientInput {
            client_auth_method: Some("client_secret_post".into()),
            ..Default::default()
        }
        .apply_to(&c)
        .unwrap_err();
        assert_eq!(e.0[0].field, "jwks_uri");
        // ...and allowed when the key material is cleared in the same change.
        let changed = serde_json::from_value::<ClientInput>(json!({"client_auth_method": "client_secret_post", "jwks_uri": null}))
            .unwrap()
            .apply_to(&c)
            .unwrap();
        assert_eq!(changed.auth_method(), AuthMethod::ClientSecretPost);
        assert_eq!(changed.jwks_uri, None);
        assert_eq!(changed.redirect_uris, c.redirect_uris);
    }

    #[test]
    fn wire_shape() {
        let config = create(json!({
            "client_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example.com/cb"]
        }))
        .unwrap();
        let client = Client {
            id: Id::from_i64(7),
            app_id: Id::from_i64(3),
            deployment_id: Id::from_i64(1),
            client_id: "lkc_x".into(),
            config,
            registration: Registration::Manual,
            is_active: true,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        let v = serde_json::to_value(&client).unwrap();
        assert_eq!(v["id"], "7");
        assert_eq!(v["oauth_app_id"], "3");
        assert_eq!(v["client_auth_method"], "none");
        assert_eq!(v["grant_types"], json!(["authorization_code"]));
        assert_eq!(v["access_token_ttl_seconds"], 3600);
        assert_eq!(v["skip_consent"], false);
        assert!(v.get("client_secret").is_none());
        let v = serde_json::to_value(ClientView {
            client: &client,
            client_secret: Some("lk_cs_x"),
        })
        .unwrap();
        assert_eq!(v["client_secret"], "lk_cs_x");
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
mod transition_tests {
    use super::AuthMethod::*;
    use super::SecretTransition::*;
    use super::*;

    #[test]
    fn table() {
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
