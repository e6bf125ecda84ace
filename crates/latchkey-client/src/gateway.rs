//! The gateway check: `POST {gateway_url}/v1/authz/check`.
//!
//! The public shape is the `wacht` crate's `gateway` module (0.1.0-beta.9):
//! [`GatewayApi::check_authz_with_principal_type`] answers a [`GatewayCheckResponse`] whose
//! ids are parsed from the wire's decimal strings to `i64`, and
//! [`GatewayCheckResponse::resolve_principal_context`] gathers identity, scopes and resources
//! in one value. Where this SDK differs it is stricter: token-level refusals are
//! [`Error::Denied`] with a typed [`TokenDenyReason`](crate::TokenDenyReason) rather than a
//! generic API error.
//!
//! ```no_run
//! use latchkey_client::gateway::{GatewayAuthzOptions, GatewayPrincipalType};
//! use latchkey_client::{LatchkeyClient, LatchkeyConfig};
//!
//! # async fn run(token: &str) -> latchkey_client::Result<()> {
//! let client = LatchkeyClient::new(LatchkeyConfig::new("lk_api_…", "http://127.0.0.1:8080"))?;
//! let check = client
//!     .gateway()
//!     .check_authz_with_principal_type(
//!         GatewayPrincipalType::OauthAccessToken,
//!         token,
//!         "POST",
//!         "mcp",
//!         GatewayAuthzOptions { required_permissions: Some(vec!["read".into()]), ..Default::default() },
//!     )
//!     .await?; // Err(Error::Denied { .. }) for a revoked, expired, unknown … token
//! let principal = check.resolve_principal_context();
//! println!(
//!     "client {} acting for user {:?} with scopes {:?}",
//!     principal.identity.key_name, principal.owner_user_id, principal.metadata.scopes
//! );
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::LatchkeyClient;
use crate::error::{Error, Result};

/// The gateway API; get it from [`LatchkeyClient::gateway`].
#[derive(Debug, Clone)]
pub struct GatewayApi {
    client: LatchkeyClient,
}

/// What kind of credential is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayPrincipalType {
    /// A backend API key (not supported by the server yet: it answers 400).
    ApiKey,
    /// An OAuth access token issued by Latchkey.
    OauthAccessToken,
}

/// Optional parts of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayAuthzOptions {
    /// Address of the end user's client, for the audit trail.
    pub client_ip: Option<String>,
    /// `User-Agent` of the end user's client, for the audit trail.
    pub user_agent: Option<String>,
    /// Permissions the request needs, all of them (scopes, or organization / workspace
    /// permissions mapped from scopes).
    pub required_permissions: Option<Vec<String>>,
}

/// Why an otherwise good token was refused (HTTP 200 with `allowed: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayDenyReason {
    /// The token lacks a required permission (`metadata.missing_permissions` lists them).
    PermissionDenied,
    /// A rate-limit rule is full; see `blocked_rule` and `retry_after`.
    RateLimited,
}

/// One rate-limit rule's state after the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthzRateLimitState {
    pub rule: String,
    pub remaining: i64,
    pub limit: i64,
}

/// The gateway's answer to a check of a token that is itself valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayCheckResponse {
    pub request_id: String,
    /// Whether the request may proceed. When `false`, `reason` says why.
    pub allowed: bool,
    pub reason: Option<GatewayDenyReason>,
    /// The rate-limit rule that refused the request.
    pub blocked_rule: Option<String>,
    pub principal_type: GatewayPrincipalType,
    /// For an OAuth token: the client's record id.
    pub key_id: i64,
    pub deployment_id: i64,
    pub app_slug: String,
    /// For an OAuth token: the public `client_id`.
    pub key_name: String,
    /// The user the token acts for.
    pub owner_user_id: Option<i64>,
    /// Effective permissions: the token's scopes plus the organization / workspace
    /// permissions mapped from them that the user still holds.
    pub permissions: Vec<String>,
    /// `principal_type`, `scopes`, `oauth_resource`, `granted_resource`, `expires_at`,
    /// `grant_id`, `client_id`, `issuer`, `resource`, `method`, and `missing_permissions` on
    /// a permission denial.
    pub metadata: Value,
    pub organization_id: Option<i64>,
    pub workspace_id: Option<i64>,
    pub organization_membership_id: Option<i64>,
    pub workspace_membership_id: Option<i64>,
    pub rate_limits: Vec<AuthzRateLimitState>,
    /// Seconds until a rate-limited request may be retried.
    pub retry_after: Option<u32>,
    /// Headers a gateway in front of an upstream would add (`x-wacht-oauth-client-id`,
    /// `x-wacht-granted-resource`, …).
    pub headers: HashMap<String, String>,
}

/// The kind of token behind a resolved principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayTokenType {
    ApiKey,
    OauthToken,
}

/// Who a checked token stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayPrincipalIdentity {
    pub principal_type: GatewayPrincipalType,
    pub key_id: i64,
    pub deployment_id: i64,
    pub app_slug: String,
    pub key_name: String,
    pub owner_user_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub workspace_id: Option<i64>,
    pub organization_membership_id: Option<i64>,
    pub workspace_membership_id: Option<i64>,
}

/// The token's metadata, typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayPrincipalMetadata {
    pub principal_type: GatewayTokenType,
    /// The effective permissions the check was decided on.
    pub permissions_checked: Vec<String>,
    /// The effective permissions when the grant is on an organization (else empty).
    pub organization_permissions: Vec<String>,
    /// The effective permissions when the grant is on a workspace (else empty).
    pub workspace_permissions: Vec<String>,
    pub scopes: Vec<String>,
    /// Canonical identifier of the resource server the check was for (RFC 8707), when known.
    pub oauth_resource: Option<String>,
    /// What the user granted access to: `urn:latchkey:{user|organization|workspace}:{id}`.
    pub granted_resource: Option<String>,
    /// When the token expires, RFC 3339.
    pub expires_at: Option<String>,
    /// The whole `metadata` object as received.
    pub raw: Value,
}

/// Identity, permissions and metadata of a checked token in one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedGatewayPrincipalContext {
    pub token_type: GatewayTokenType,
    pub identity: GatewayPrincipalIdentity,
    pub metadata: GatewayPrincipalMetadata,
    pub owner_user_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub workspace_id: Option<i64>,
    pub permissions: Vec<String>,
}

#[derive(Serialize)]
struct CheckRequest<'a> {
    principal: PrincipalOut<'a>,
    resource: &'a str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_permissions: Option<&'a [String]>,
}

#[derive(Serialize)]
struct PrincipalOut<'a> {
    #[serde(rename = "type")]
    kind: GatewayPrincipalType,
    value: &'a str,
}

/// The wire answer: ids are decimal strings.
#[derive(Deserialize)]
struct CheckAnswer {
    request_id: String,
    allowed: bool,
    reason: Option<GatewayDenyReason>,
    #[serde(default)]
    blocked_rule: Option<String>,
    identity: Option<IdentityIn>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    rate_limits: Vec<AuthzRateLimitState>,
    #[serde(default)]
    retry_after: Option<u32>,
    #[serde(default)]
    headers: HashMap<String, String>,
}

#[derive(Deserialize)]
struct IdentityIn {
    key_id: String,
    deployment_id: String,
    app_slug: String,
    key_name: String,
    owner_user_id: Option<String>,
    #[serde(default)]
    principal_type: Option<GatewayPrincipalType>,
    organization_id: Option<String>,
    workspace_id: Option<String>,
    organization_membership_id: Option<String>,
    workspace_membership_id: Option<String>,
}

fn id(field: &str, value: &str) -> Result<i64> {
    value
        .parse()
        .map_err(|_| Error::Decode(format!("gateway answer: identity.{field} {value:?} is not a decimal id")))
}

fn opt_id(field: &str, value: Option<String>) -> Result<Option<i64>> {
    value.map(|v| id(field, &v)).transpose()
}

impl CheckAnswer {
    fn into_response(self) -> Result<GatewayCheckResponse> {
        let identity = self
            .identity
            .ok_or_else(|| Error::Decode("gateway answer without identity".into()))?;
        let metadata = self.metadata.unwrap_or_else(|| Value::Object(Default::default()));
        let principal_type = identity
            .principal_type
            .or_else(|| match metadata.get("principal_type").and_then(Value::as_str) {
                Some("api_key") => Some(GatewayPrincipalType::ApiKey),
                Some("oauth_access_token") => Some(GatewayPrincipalType::OauthAccessToken),
                _ => None,
            })
            .unwrap_or(GatewayPrincipalType::ApiKey);
        Ok(GatewayCheckResponse {
            request_id: self.request_id,
            allowed: self.allowed,
            reason: self.reason,
            blocked_rule: self.blocked_rule,
            principal_type,
            key_id: id("key_id", &identity.key_id)?,
            deployment_id: id("deployment_id", &identity.deployment_id)?,
            app_slug: identity.app_slug,
            key_name: identity.key_name,
            owner_user_id: opt_id("owner_user_id", identity.owner_user_id)?,
            permissions: self.permissions,
            metadata,
            organization_id: opt_id("organization_id", identity.organization_id)?,
            workspace_id: opt_id("workspace_id", identity.workspace_id)?,
            organization_membership_id: opt_id("organization_membership_id", identity.organization_membership_id)?,
            workspace_membership_id: opt_id("workspace_membership_id", identity.workspace_membership_id)?,
            rate_limits: self.rate_limits,
            retry_after: self.retry_after,
            headers: self.headers,
        })
    }
}

impl GatewayApi {
    pub(crate) fn new(client: LatchkeyClient) -> Self {
        GatewayApi { client }
    }

    /// Asks whether `principal_value` may perform `method` on `resource` (a resource
    /// server's canonical identifier or alias, or any resource name) with
    /// `options.required_permissions`.
    ///
    /// - `Ok` with `allowed: true`: go ahead.
    /// - `Ok` with `allowed: false`: the token is good but lacks a permission
    ///   ([`GatewayDenyReason::PermissionDenied`]) or is rate limited
    ///   ([`GatewayDenyReason::RateLimited`]).
    /// - `Err(`[`Error::Denied`]`)`: the token itself is refused (401), with its reason.
    /// - `Err(`[`Error::Unavailable`]`)` / `Err(`[`Error::Http`]`)`: no answer — refuse the
    ///   request, never let it through.
    /// - `Err(`[`Error::Api`]`)`: a malformed check (400), e.g. an empty resource.
    pub async fn check_authz_with_principal_type(
        &self,
        principal_type: GatewayPrincipalType,
        principal_value: &str,
        method: &str,
        resource: &str,
        options: GatewayAuthzOptions,
    ) -> Result<GatewayCheckResponse> {
        let body = CheckRequest {
            principal: PrincipalOut {
                kind: principal_type,
                value: principal_value,
            },
            resource,
            method,
            client_ip: options.client_ip.as_deref(),
            user_agent: options.user_agent.as_deref(),
            required_permissions: options.required_permissions.as_deref(),
        };
        let response = self.client.gateway_request().json(&body).send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        match status {
            200..=299 => serde_json::from_slice::<CheckAnswer>(&bytes)
                .map_err(|e| Error::Decode(format!("gateway answer: {e}")))?
                .into_response(),
            401 => Err(Error::denied(status, &bytes)),
            _ => Err(Error::from_answer(status, &bytes)),
        }
    }

    /// Opens the deployment's change feed (`GET {gateway_url}/v1/authz/changes`): see
    /// [`crate::changes`].
    pub async fn changes(&self) -> Result<crate::changes::ChangeFeed> {
        crate::changes::open(&self.client).await
    }
}

fn strings(metadata: &Value, key: &str) -> Vec<String> {
    metadata
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn string(metadata: &Value, key: &str) -> Option<String> {
    metadata.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl GatewayCheckResponse {
    /// Identity, permissions and the typed metadata of the checked token.
    pub fn resolve_principal_context(&self) -> ResolvedGatewayPrincipalContext {
        let token_type = match self.principal_type {
            GatewayPrincipalType::ApiKey => GatewayTokenType::ApiKey,
            GatewayPrincipalType::OauthAccessToken => GatewayTokenType::OauthToken,
        };
        let when = |present: bool| if present { self.permissions.clone() } else { Vec::new() };
        let m = &self.metadata;
        ResolvedGatewayPrincipalContext {
            token_type,
            identity: GatewayPrincipalIdentity {
                principal_type: self.principal_type,
                key_id: self.key_id,
                deployment_id: self.deployment_id,
                app_slug: self.app_slug.clone(),
                key_name: self.key_name.clone(),
                owner_user_id: self.owner_user_id,
                organization_id: self.organization_id,
                workspace_id: self.workspace_id,
                organization_membership_id: self.organization_membership_id,
                workspace_membership_id: self.workspace_membership_id,
            },
            metadata: GatewayPrincipalMetadata {
                principal_type: token_type,
                permissions_checked: self.permissions.clone(),
                organization_permissions: when(self.organization_id.is_some()),
                workspace_permissions: when(self.workspace_id.is_some()),
                scopes: strings(m, "scopes"),
                oauth_resource: string(m, "oauth_resource"),
                granted_resource: string(m, "granted_resource"),
                expires_at: string(m, "expires_at"),
                raw: m.clone(),
            },
            owner_user_id: self.owner_user_id,
            organization_id: self.organization_id,
            workspace_id: self.workspace_id,
            permissions: self.permissions.clone(),
        }
    }

    /// `metadata.missing_permissions` of a permission denial.
    pub fn missing_permissions(&self) -> Vec<String> {
        strings(&self.metadata, "missing_permissions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(v: Value) -> Result<GatewayCheckResponse> {
        serde_json::from_value::<CheckAnswer>(v).unwrap().into_response()
    }

    fn allowed() -> Value {
        json!({
            "request_id": "r1", "allowed": true, "reason": null, "blocked_rule": null,
            "identity": {"key_id": "11", "deployment_id": "1", "app_slug": "acme", "key_name": "lkc_x",
                         "owner_user_id": "42", "organization_id": "7", "workspace_id": null,
                         "organization_membership_id": "8", "workspace_membership_id": null,
                         "principal_type": "oauth_access_token"},
            "permissions": ["read", "projects:edit"],
            "metadata": {"principal_type": "oauth_access_token", "scopes": ["read"], "oauth_resource": "https://api.test/mcp",
                         "granted_resource": "urn:latchkey:organization:7", "expires_at": "2030-01-01T00:00:00Z"},
            "rate_limits": [{"rule": "burst", "remaining": 9, "limit": 10}], "retry_after": null,
            "headers": {"x-wacht-oauth-client-id": "lkc_x"}
        })
    }

    #[test]
    fn ids_are_parsed_and_the_context_resolved() {
        let r = answer(allowed()).unwrap();
        assert_eq!((r.key_id, r.deployment_id, r.owner_user_id), (11, 1, Some(42)));
        assert_eq!(
            (r.organization_id, r.organization_membership_id, r.workspace_id),
            (Some(7), Some(8), None)
        );
        assert_eq!(r.rate_limits[0].remaining, 9);
        let c = r.resolve_principal_context();
        assert_eq!(c.token_type, GatewayTokenType::OauthToken);
        assert_eq!(c.identity.key_name, "lkc_x");
        assert_eq!(c.metadata.scopes, vec!["read"]);
        assert_eq!(c.metadata.organization_permissions, vec!["read", "projects:edit"]);
        assert!(c.metadata.workspace_permissions.is_empty());
        assert_eq!(c.metadata.granted_resource.as_deref(), Some("urn:latchkey:organization:7"));
        assert_eq!(c.metadata.expires_at.as_deref(), Some("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn malformed_answers_are_decode_errors() {
        let mut v = allowed();
        v["identity"]["key_id"] = json!("eleven");
        assert!(matches!(answer(v), Err(Error::Decode(_))));
        let mut v = allowed();
        v.as_object_mut().unwrap().remove("identity");
        assert!(matches!(answer(v), Err(Error::Decode(_))));
        // An unknown reason on a 200 must not parse as allowed.
        let mut v = allowed();
        v["reason"] = json!("something_new");
        assert!(serde_json::from_value::<CheckAnswer>(v).is_err());
    }

    #[test]
    fn the_request_has_the_wire_shape() {
        let perms = vec!["read".to_owned()];
        let body = CheckRequest {
            principal: PrincipalOut {
                kind: GatewayPrincipalType::OauthAccessToken,
                value: "lk_at_x",
            },
            resource: "mcp",
            method: "POST",
            client_ip: None,
            user_agent: Some("ua"),
            required_permissions: Some(&perms),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"principal": {"type": "oauth_access_token", "value": "lk_at_x"}, "resource": "mcp", "method": "POST",
                   "user_agent": "ua", "required_permissions": ["read"]})
        );
    }
}
