//! [`Principal`]: who a verified request acts for, and its extractor.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use latchkey_client::gateway::GatewayCheckResponse;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The verified principal of a request, inserted into its extensions by
/// [`LatchkeyAuth`](crate::LatchkeyAuth). Take it in a handler as an extractor (a request
/// the layer did not verify is a 500, a wiring mistake), or as `Option<Principal>`.
///
/// ```
/// use latchkey_axum::Principal;
///
/// async fn whoami(principal: Principal) -> String {
///     format!("user {} through client {} with {:?}", principal.user_id, principal.client_id, principal.scopes)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user the token acts for.
    pub user_id: i64,
    /// The OAuth client's public `client_id`.
    pub client_id: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// What the user granted access to: `urn:latchkey:{user|organization|workspace}:{id}`.
    pub granted_resource: Option<String>,
    /// Effective permissions: the scopes plus the organization / workspace permissions
    /// mapped from them that the user still holds.
    pub permissions: Vec<String>,
    /// When the token expires.
    pub expires_at: Option<OffsetDateTime>,
    /// The organization the grant is on (directly, or through its workspace).
    pub organization_id: Option<i64>,
    /// The workspace the grant is on.
    pub workspace_id: Option<i64>,
    /// The canonical identifier of the resource server the token was checked for (RFC 8707).
    pub oauth_resource: Option<String>,
    /// The Latchkey deployment (tenant) of the token.
    pub deployment_id: i64,
    /// The Latchkey app that issued the token.
    pub app_slug: String,
}

impl Principal {
    /// Builds the principal of an allowed check (`None` when the answer has no user: not an
    /// OAuth access token).
    pub fn from_check(r: &GatewayCheckResponse) -> Option<Principal> {
        let ctx = r.resolve_principal_context();
        Some(Principal {
            user_id: r.owner_user_id?,
            client_id: r.key_name.clone(),
            scopes: ctx.metadata.scopes,
            granted_resource: ctx.metadata.granted_resource,
            permissions: r.permissions.clone(),
            expires_at: ctx.metadata.expires_at.and_then(|e| OffsetDateTime::parse(&e, &Rfc3339).ok()),
            organization_id: r.organization_id,
            workspace_id: r.workspace_id,
            oauth_resource: ctx.metadata.oauth_resource,
            deployment_id: r.deployment_id,
            app_slug: r.app_slug.clone(),
        })
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether `permission` is among the effective permissions.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// The required permissions this principal lacks.
    pub fn missing<'a>(&self, required: &'a [String]) -> Vec<&'a str> {
        required.iter().filter(|p| !self.has_permission(p)).map(String::as_str).collect()
    }
}

/// Rejection of the [`Principal`] extractor when no [`LatchkeyAuth`](crate::LatchkeyAuth)
/// layer verified the request: a 500, since the route is wired wrongly.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no Principal in the request: the route is not behind a LatchkeyAuth layer")]
pub struct MissingPrincipal;

impl IntoResponse for MissingPrincipal {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(
                serde_json::json!({"error": "server_error", "error_description": "authentication is not configured for this route"}),
            ),
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = MissingPrincipal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or(MissingPrincipal)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Principal>().cloned())
    }
}
