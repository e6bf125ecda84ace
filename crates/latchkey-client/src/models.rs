//! The backend API's objects, as the server sends them (ids are strings, times RFC 3339),
//! and the request bodies the management calls send.
//!
//! Answers are read leniently (fields this SDK does not know are ignored) so that a newer
//! server keeps working with an older SDK.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::secret::Secret;

/// Resource category of a scope: what a user grants it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeCategory {
    /// Not mapped (`""` on the wire): granted on the user's personal resource.
    #[default]
    #[serde(rename = "")]
    Unset,
    Personal,
    Organization,
    Workspace,
}

/// One scope of an app, with its consent-page text and its mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDefinition {
    pub scope: String,
    pub display_name: String,
    pub description: String,
    /// Archived scopes can no longer be requested; existing grants keep them.
    pub archived: bool,
    #[serde(default)]
    pub category: ScopeCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_permission: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_permission: Option<String>,
}

/// A scope definition as sent on create or update: only `scope` is required; omitted fields
/// keep their current value (or their default on create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDefinitionInput {
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<ScopeCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_permission: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_permission: Option<String>,
}

impl ScopeDefinitionInput {
    pub fn new(scope: impl Into<String>) -> Self {
        ScopeDefinitionInput {
            scope: scope.into(),
            ..Default::default()
        }
    }
}

/// An OAuth app: an issuer with its scopes, clients and signing keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthApp {
    pub id: String,
    #[serde(default)]
    pub deployment_id: Option<String>,
    /// Stable, chosen at creation; names the app in every path.
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
    /// The app's custom issuer domain; `""` when it has none (it then issues as
    /// `{public_url}/a/{slug}`).
    #[serde(default)]
    pub fqdn: String,
    #[serde(default)]
    pub domain_verified: bool,
    #[serde(default)]
    pub supported_scopes: Vec<String>,
    #[serde(default)]
    pub scope_definitions: Vec<ScopeDefinition>,
    pub allow_dynamic_client_registration: bool,
    pub is_active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Body of `create_oauth_app`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateOAuthAppRequest {
    pub slug: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_definitions: Option<Vec<ScopeDefinitionInput>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_dynamic_client_registration: Option<bool>,
}

impl CreateOAuthAppRequest {
    pub fn new(slug: impl Into<String>, name: impl Into<String>) -> Self {
        CreateOAuthAppRequest {
            slug: slug.into(),
            name: name.into(),
            ..Default::default()
        }
    }
}

/// Body of `update_oauth_app`: only the fields that are `Some` change. Scope definitions
/// not sent keep their text and mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateOAuthAppRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_definitions: Option<Vec<ScopeDefinitionInput>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_dynamic_client_registration: Option<bool>,
    /// `false` disables the app: every token of it stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
}

/// Body of `update_oauth_scope`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateOAuthScopeRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Body of `set_oauth_scope_mapping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetOAuthScopeMappingRequest {
    /// `Personal`, `Organization` or `Workspace` (`Unset` is refused).
    pub category: ScopeCategory,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_permission: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_permission: Option<String>,
}

/// Result of `verify_oauth_app_domain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainVerification {
    pub domain: String,
    pub cname_target: String,
    pub verified: bool,
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
    /// A public client (PKCE only).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// Random, prefixed `lk_at_`, checked through the gateway or introspection.
    #[default]
    Opaque,
    /// RFC 9068 JWT signed with the app's key.
    Jwt,
}

/// How a client came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Created through the backend API.
    #[default]
    Manual,
    /// Registered by itself (RFC 7591).
    Dynamic,
}

/// An OAuth client of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthClient {
    /// The record id (accepted in paths, as is `client_id`).
    pub id: String,
    pub oauth_app_id: String,
    /// The public client identifier used in the OAuth flows.
    pub client_id: String,
    pub client_auth_method: ClientAuthMethod,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub client_uri: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<String>,
    #[serde(default)]
    pub tos_uri: Option<String>,
    #[serde(default)]
    pub policy_uri: Option<String>,
    #[serde(default)]
    pub contacts: Vec<String>,
    #[serde(default)]
    pub software_id: Option<String>,
    #[serde(default)]
    pub software_version: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub jwks: Option<Value>,
    #[serde(default)]
    pub public_key_pem: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_signing_alg: String,
    pub access_token_format: AccessTokenFormat,
    pub access_token_ttl_seconds: i64,
    #[serde(default)]
    pub skip_consent: bool,
    #[serde(default)]
    pub refresh_token_grace_seconds: i64,
    #[serde(default)]
    pub registration: Registration,
    pub is_active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The secret, only in the answer that created it (or that switched the client to a
    /// secret-based method). Shown once; store it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
}

/// Body of `create_oauth_client`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateOAuthClientRequest {
    pub client_auth_method: ClientAuthMethod,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<AccessTokenFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_consent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_grace_seconds: Option<i64>,
}

impl CreateOAuthClientRequest {
    /// A client with the required fields; set the others on the value.
    pub fn new(client_auth_method: ClientAuthMethod, grant_types: Vec<GrantType>, redirect_uris: Vec<String>) -> Self {
        CreateOAuthClientRequest {
            client_auth_method,
            grant_types,
            redirect_uris,
            client_name: None,
            client_uri: None,
            logo_uri: None,
            tos_uri: None,
            policy_uri: None,
            contacts: None,
            software_id: None,
            software_version: None,
            token_endpoint_auth_signing_alg: None,
            jwks_uri: None,
            jwks: None,
            public_key_pem: None,
            post_logout_redirect_uris: None,
            access_token_format: None,
            access_token_ttl_seconds: None,
            skip_consent: None,
            refresh_token_grace_seconds: None,
        }
    }
}

/// Body of `update_oauth_client`: only the fields that are `Some` change. Switching to a
/// secret-based auth method issues a secret (in the answer's `client_secret`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateOAuthClientRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_auth_method: Option<ClientAuthMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<GrantType>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<AccessTokenFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_consent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_grace_seconds: Option<i64>,
}

/// A client secret's record (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretInfo {
    pub id: String,
    /// The last characters of the secret, to tell secrets apart.
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who created it (the rotating actor).
    #[serde(default)]
    pub created_by: Option<String>,
    /// When it stops working (set on the previous secret during an overlap).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// Result of `rotate_oauth_client_secret`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotatedSecret {
    /// The new secret, shown once.
    pub client_secret: Secret,
    pub client_id: String,
    /// The new secret's record.
    pub secret: ClientSecretInfo,
    /// Until when the previous secret keeps working (with an overlap).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub previous_secret_valid_until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Active,
    Revoked,
}

impl GrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Active => "active",
            GrantStatus::Revoked => "revoked",
        }
    }
}

/// One user's approval for one client on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthGrant {
    pub id: String,
    pub api_auth_app_slug: String,
    #[serde(default)]
    pub oauth_app_id: Option<String>,
    /// The client's record id.
    pub oauth_client_id: String,
    /// The client's public `client_id`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `urn:latchkey:{user|organization|workspace}:{id}`.
    pub resource: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub status: GrantStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub revoked_by: Option<String>,
    #[serde(default)]
    pub revoke_reason: Option<String>,
    #[serde(default)]
    pub granted_by_user_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Signs new tokens; exactly one per app.
    Active,
    /// No longer signs; still published so what it signed keeps verifying.
    Retired,
    /// Withdrawn: not published, nothing it signed verifies.
    Compromised,
}

/// An app's signing key (public half only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: String,
    pub status: KeyStatus,
    pub public_key_pem: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub compromised_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_category_uses_the_empty_string_for_unset() {
        assert_eq!(serde_json::to_value(ScopeCategory::Unset).unwrap(), json!(""));
        assert_eq!(serde_json::to_value(ScopeCategory::Workspace).unwrap(), json!("workspace"));
        assert_eq!(serde_json::from_value::<ScopeCategory>(json!("")).unwrap(), ScopeCategory::Unset);
    }

    #[test]
    fn a_created_client_keeps_its_secret_out_of_debug() {
        let c: OAuthClient = serde_json::from_value(json!({
            "id": "1", "oauth_app_id": "2", "client_id": "lkc_x", "client_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code"], "redirect_uris": ["https://a.test/cb"], "contacts": [],
            "post_logout_redirect_uris": [], "id_token_signing_alg": "RS256", "access_token_format": "opaque",
            "access_token_ttl_seconds": 3600, "skip_consent": false, "refresh_token_grace_seconds": 0,
            "registration": "manual", "is_active": true,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00.123Z",
            "client_secret": "lk_cs_verysecret", "some_future_field": 1
        }))
        .unwrap();
        assert_eq!(c.client_secret.as_ref().map(Secret::expose), Some("lk_cs_verysecret"));
        assert!(!format!("{c:?}").contains("verysecret"));
    }
}
