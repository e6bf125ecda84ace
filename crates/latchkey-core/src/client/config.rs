//! A client's configuration and the rules it must satisfy, whether it is being created or
//! changed: [`ClientInput`] (the wire's create and update request) is applied to a
//! [`ClientConfig`] and the result is validated as a whole, so cross-field rules hold after
//! every change.
//!
//! Client metadata as in RFC 7591 §2 and OpenID Connect Dynamic Client Registration §2.
//! Grant types (RFC 7591 §2): `authorization_code` is required, `refresh_token` optional,
//! nothing else: not `client_credentials`, nor `implicit` and `password`, which OAuth 2.1
//! removes and RFC 9700 §2.1.2 and §2.4 forbid. At least one redirect URI, matched exactly
//! (RFC 6749 §3.1.2, RFC 9700 §2.1); `native` clients (`application_type`) may also use the
//! redirects of RFC 8252 §7. Access tokens are `opaque` or `jwt` and live 60..=86400
//! seconds; ID tokens are signed with RS256. The rules on key material are in the sibling
//! `key_material`, those on assertion algorithms in `method`; both run on the merged
//! configuration.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::key_material;
use super::method::{self, AuthMethod, AuthMethodField};
use crate::redirect_uri;
use crate::validate::{self, ValidationError, ValidationErrors};

pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
pub const MIN_ACCESS_TOKEN_TTL: i64 = 60;
pub const MAX_ACCESS_TOKEN_TTL: i64 = 86_400;
pub const MAX_REDIRECT_URIS: usize = 20;
pub const MAX_REFRESH_GRACE: i64 = 300;

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
            key_material::check(&c, &mut errors);
            method::check_signing_alg(c.auth_method(), c.token_endpoint_auth_signing_alg.as_deref(), &mut errors);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::test_support::{assert_rules, create, with};
    use serde_json::json;

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
        assert_rules(cases);
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
}
