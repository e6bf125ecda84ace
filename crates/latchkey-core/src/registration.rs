//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592): the
//! client metadata as registered clients send it, mapped onto the same validated
//! [`ClientConfig`] operators create, with the RFC's error codes, and the metadata response.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{AccessTokenFormat, ApplicationType, Client, ClientConfig, ClientInput};
use crate::oauth::{ErrorCode, OAuthError};
use crate::validate::ValidationErrors;

/// RFC 7591 §2 client metadata. Unknown members are ignored, as §2 requires.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub client_uri: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub contacts: Option<Vec<String>>,
    #[serde(default)]
    pub tos_uri: Option<String>,
    #[serde(default)]
    pub policy_uri: Option<String>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub software_id: Option<String>,
    #[serde(default)]
    pub software_version: Option<String>,
    #[serde(default)]
    pub software_statement: Option<String>,
    #[serde(default)]
    pub application_type: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// RFC 7592 update requests repeat these; they must match.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<crate::Secret>,
}

fn metadata_error(e: ValidationErrors) -> OAuthError {
    let code = if e.0.iter().any(|f| f.field.starts_with("redirect_uris")) {
        ErrorCode::InvalidRedirectUri
    } else {
        ErrorCode::InvalidClientMetadata
    };
    OAuthError::new(code, e.to_string())
}

impl ClientMetadata {
    /// The full configuration this metadata asks for (registration and RFC 7592 replacement
    /// alike: absent fields take their defaults). `known_scope` tells whether the app has a
    /// scope, so a client cannot register scopes that do not exist.
    pub fn to_config(&self, known_scope: impl Fn(&str) -> bool) -> Result<ClientConfig, OAuthError> {
        if self.software_statement.is_some() {
            return Err(OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                "software statements are not supported",
            ));
        }
        if let Some(rt) = &self.response_types
            && rt.iter().any(|r| r != "code")
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                "response_types may only contain code",
            ));
        }
        if let Some(alg) = &self.id_token_signed_response_alg
            && alg != "RS256"
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                "id_token_signed_response_alg must be RS256",
            ));
        }
        if let Some(scope) = &self.scope
            && let Some(unknown) = crate::scope::split(scope)
                .into_iter()
                .find(|s| !crate::authorize::is_oidc_scope(s) && !known_scope(s))
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("scope {unknown:?} is not offered by this authorization server"),
            ));
        }
        let input = ClientInput {
            client_auth_method: Some(
                self.token_endpoint_auth_method
                    .clone()
                    .unwrap_or_else(|| "client_secret_basic".into()),
            ),
            grant_types: Some(self.grant_types.clone().unwrap_or_else(|| vec!["authorization_code".into()])),
            redirect_uris: Some(self.redirect_uris.clone().unwrap_or_default()),
            client_name: Some(self.client_name.clone()),
            client_uri: Some(self.client_uri.clone()),
            logo_uri: Some(self.logo_uri.clone()),
            tos_uri: Some(self.tos_uri.clone()),
            policy_uri: Some(self.policy_uri.clone()),
            contacts: self.contacts.clone(),
            software_id: Some(self.software_id.clone()),
            software_version: Some(self.software_version.clone()),
            token_endpoint_auth_signing_alg: Some(self.token_endpoint_auth_signing_alg.clone()),
            jwks_uri: Some(self.jwks_uri.clone()),
            jwks: Some(self.jwks.clone()),
            public_key_pem: None,
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            id_token_signing_alg: None,
            access_token_format: None,
            access_token_ttl_seconds: None,
            skip_consent: None,
            refresh_token_grace_seconds: None,
            application_type: Some(self.application_type.clone().unwrap_or_else(|| "web".into())),
            scope: Some(self.scope.clone()),
        };
        input.into_new_config().map_err(metadata_error)
    }
}

/// The client's metadata in RFC 7591 member names, as returned by registration and by
/// RFC 7592 reads and updates.
pub fn metadata_response(client: &Client) -> Map<String, Value> {
    let c: &ClientConfig = &client.config;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.to_owned(), v);
        }
    };
    put("client_id", json!(client.client_id));
    put("client_id_issued_at", json!(client.created_at.seconds()));
    put("token_endpoint_auth_method", json!(c.auth_method().as_str()));
    put("grant_types", json!(c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>()));
    put("response_types", json!(["code"]));
    put("redirect_uris", json!(c.redirect_uris));
    put(
        "application_type",
        json!(match c.application_type {
            ApplicationType::Web => "web",
            ApplicationType::Native => "native",
        }),
    );
    put("client_name", json!(c.client_name));
    put("client_uri", json!(c.client_uri));
    put("logo_uri", json!(c.logo_uri));
    put("tos_uri", json!(c.tos_uri));
    put("policy_uri", json!(c.policy_uri));
    if !c.contacts.is_empty() {
        put("contacts", json!(c.contacts));
    }
    put("scope", json!(c.scope));
    put("software_id", json!(c.software_id));
    put("software_version", json!(c.software_version));
    put("jwks_uri", json!(c.jwks_uri));
    put("jwks", json!(c.jwks));
    put("token_endpoint_auth_signing_alg", json!(c.token_endpoint_auth_signing_alg));
    if !c.post_logout_redirect_uris.is_empty() {
        put("post_logout_redirect_uris", json!(c.post_logout_redirect_uris));
    }
    put("id_token_signed_response_alg", json!(c.id_token_signing_alg));
    if c.access_token_format == AccessTokenFormat::Jwt {
        put("access_token_format", json!("jwt"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(v: Value) -> ClientMetadata {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults_and_errors_follow_rfc_7591() {
        let known = |s: &str| s == "read";
        let c = meta(json!({"redirect_uris": ["https://a.example/cb"], "unknown_member": 1}))
            .to_config(known)
            .unwrap();
        assert_eq!(c.auth_method().as_str(), "client_secret_basic");
        assert_eq!(c.grant_types.len(), 1);
        let native = meta(json!({
            "redirect_uris": ["http://127.0.0.1:33418/callback", "com.example.app:/cb"],
            "token_endpoint_auth_method": "none", "application_type": "native",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "scope": "openid read"
        }))
        .to_config(known)
        .unwrap();
        assert_eq!(native.application_type, ApplicationType::Native);
        assert_eq!(native.scope.as_deref(), Some("openid read"));
        for (bad, code) in [
            (json!({}), ErrorCode::InvalidRedirectUri),
            (json!({"redirect_uris": ["http://a.example/cb"]}), ErrorCode::InvalidRedirectUri),
            (json!({"redirect_uris": ["com.example.app:/cb"]}), ErrorCode::InvalidRedirectUri),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "tls_client_auth"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "scope": "admin"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "software_statement": "eyJ"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "application_type": "tv"}),
                ErrorCode::InvalidClientMetadata,
            ),
        ] {
            assert_eq!(meta(bad.clone()).to_config(known).unwrap_err().code, code, "{bad}");
        }
    }
}
