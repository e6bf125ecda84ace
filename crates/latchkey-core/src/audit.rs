//! The audit trail: who did what to which object, and what changed. Events are appended in
//! the same transaction as the change they describe and never updated.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::{Id, Timestamp};

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `api_key`, `user`, `client`, `system`.
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    ApiKey,
    User,
    Client,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::ApiKey => "api_key",
            ActorKind::User => "user",
            ActorKind::Client => "client",
            ActorKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api_key" => Some(ActorKind::ApiKey),
            "user" => Some(ActorKind::User),
            "client" => Some(ActorKind::Client),
            "system" => Some(ActorKind::System),
            _ => None,
        }
    }
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            kind: ActorKind::System,
            id: "latchkey".into(),
            name: None,
        }
    }

    pub fn api_key(id: Id, name: &str) -> Self {
        Actor {
            kind: ActorKind::ApiKey,
            id: id.to_string(),
            name: Some(name.to_owned()),
        }
    }

    /// An OAuth client acting for itself (token requests, revocation).
    pub fn client(client_id: &str) -> Self {
        Actor {
            kind: ActorKind::Client,
            id: client_id.to_owned(),
            name: None,
        }
    }

    /// An end user (sign-in, consent, logout).
    pub fn user(id: Id, email: Option<&str>) -> Self {
        Actor {
            kind: ActorKind::User,
            id: id.to_string(),
            name: email.map(str::to_owned),
        }
    }

    /// `api_key:123` — the form stored in `revoked_by` / `created_by` columns.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.id)
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{} ({n})", self.reference()),
            None => f.write_str(&self.reference()),
        }
    }
}

/// Declares [`AuditAction`] with its stored names, so that the list, `as_str` and `ALL` cannot
/// drift apart.
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Every action the audit trail records. The stored (and served) name is
        /// [`AuditAction::as_str`]; events read back carry it as a string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The `namespace.verb` name stored in `audit_events.action`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }
        }
    };
}

audit_actions! {
    /// A backend API key was created (with a deployment, or through the API).
    ApiKeyCreated => "api_key.created",
    /// A backend API key was revoked.
    ApiKeyRevoked => "api_key.revoked",
    /// An app was created (with its first signing key).
    AppCreated => "app.created",
    /// An app changed through PATCH (settings or its scope list).
    AppUpdated => "app.updated",
    /// An app was disabled (`is_active` set to false).
    AppDisabled => "app.disabled",
    /// A disabled app was enabled again.
    AppEnabled => "app.enabled",
    /// An app's domain verification ran; the outcome is in the details.
    AppDomainChecked => "app.domain_checked",
    /// An app's logo was replaced.
    AppLogoUpdated => "app.logo_updated",
    /// A client was created through the backend API.
    ClientCreated => "client.created",
    /// A client registered itself (RFC 7591 dynamic registration).
    ClientRegistered => "client.registered",
    /// A client's configuration changed through the backend API.
    ClientUpdated => "client.updated",
    /// A client was deactivated (its grants revoked, its tokens stop working).
    ClientDeactivated => "client.deactivated",
    /// A deactivated client was reactivated.
    ClientReactivated => "client.reactivated",
    /// A client's secret was rotated (optionally keeping the old one for an overlap).
    ClientSecretRotated => "client.secret_rotated",
    /// A client authenticated with a secret superseded by a rotation, inside the overlap.
    ClientSupersededSecretUsed => "client.superseded_secret_used",
    /// A registered client replaced its metadata (RFC 7592 update).
    ClientRegistrationUpdated => "client.registration_updated",
    /// A registered client deleted its registration (RFC 7592 delete): deactivated, grants revoked.
    ClientRegistrationDeleted => "client.registration_deleted",
    /// A dynamically registered client that never got a grant was deleted by the reaper.
    ClientReaped => "client.reaped",
    /// An authorization code was issued after consent.
    CodeIssued => "code.issued",
    /// An authorization code was exchanged for tokens.
    CodeRedeemed => "code.redeemed",
    /// A redeemed authorization code was presented again; its tokens were revoked.
    CodeReplayed => "code.replayed",
    /// A user (or the product, through the consent handoff) approved a consent request.
    ConsentApproved => "consent.approved",
    /// A user (or the product, through the consent handoff) denied a consent request.
    ConsentDenied => "consent.denied",
    /// A deployment (tenant) was created.
    DeploymentCreated => "deployment.created",
    /// A deployment's settings document was replaced.
    DeploymentSettingsUpdated => "deployment.settings_updated",
    /// The gateway refused tokens of a client for missing permissions (aggregated).
    GatewayPermissionDenied => "gateway.permission_denied",
    /// The gateway refused tokens that failed verification (aggregated).
    GatewayVerificationFailed => "gateway.verification_failed",
    /// A user's consent created a grant.
    GrantCreated => "grant.created",
    /// A user's consent widened an existing grant.
    GrantUpdated => "grant.updated",
    /// A grant was revoked (by an operator, or by a cascade from a client, user, or group).
    GrantRevoked => "grant.revoked",
    /// An initial access token for dynamic registration was created.
    InitialAccessTokenCreated => "initial_access_token.created",
    /// An initial access token was revoked.
    InitialAccessTokenRevoked => "initial_access_token.revoked",
    /// A user was added to an organization or workspace.
    MembershipCreated => "membership.created",
    /// A membership's permissions changed.
    MembershipUpdated => "membership.updated",
    /// A user was removed from an organization or workspace.
    MembershipDeleted => "membership.deleted",
    /// An organization was created.
    OrganizationCreated => "organization.created",
    /// An organization was renamed.
    OrganizationUpdated => "organization.updated",
    /// An organization was deleted (with its workspaces, memberships and grants on them).
    OrganizationDeleted => "organization.deleted",
    /// A rate-limit rule was created.
    RateLimitCreated => "rate_limit.created",
    /// A rate-limit rule changed.
    RateLimitUpdated => "rate_limit.updated",
    /// A rate-limit rule was deleted.
    RateLimitDeleted => "rate_limit.deleted",
    /// A resource server was registered for an app.
    ResourceServerCreated => "resource_server.created",
    /// A resource server changed.
    ResourceServerUpdated => "resource_server.updated",
    /// A resource server's introspection secret was rotated.
    ResourceServerSecretRotated => "resource_server.secret_rotated",
    /// A resource server was deleted.
    ResourceServerDeleted => "resource_server.deleted",
    /// A scope's display text changed.
    ScopeUpdated => "scope.updated",
    /// A scope was archived (no longer offered).
    ScopeArchived => "scope.archived",
    /// An archived scope was offered again.
    ScopeUnarchived => "scope.unarchived",
    /// A scope's permission mapping was replaced.
    ScopeMappingSet => "scope.mapping_set",
    /// An end-user session ended (RP-initiated logout); its tokens end with it.
    SessionEnded => "session.ended",
    /// An app's signing key was rotated.
    SigningKeyRotated => "signing_key.rotated",
    /// An app's signing key was marked compromised and replaced.
    SigningKeyCompromised => "signing_key.compromised",
    /// A refresh token was rotated into new tokens.
    TokenRefreshed => "token.refreshed",
    /// A rotated refresh token was presented again; its family was revoked.
    TokenReuseDetected => "token.reuse_detected",
    /// A client revoked one of its tokens (RFC 7009).
    TokenRevoked => "token.revoked",
    /// A user was created in the directory.
    UserCreated => "user.created",
    /// A user's profile, password or status changed.
    UserUpdated => "user.updated",
    /// A user was deleted (their grants revoked).
    UserDeleted => "user.deleted",
    /// A user signed in (hosted page, or a session made for the consent handoff).
    UserSignedIn => "user.signed_in",
    /// A sign-in on the hosted page failed; the reason is in the details, never the password.
    UserSignInFailed => "user.sign_in_failed",
    /// A workspace was created.
    WorkspaceCreated => "workspace.created",
    /// A workspace was renamed.
    WorkspaceUpdated => "workspace.updated",
    /// A workspace was deleted (with its memberships and grants on it).
    WorkspaceDeleted => "workspace.deleted",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub action: AuditAction,
    pub target_type: &'static str,
    pub target_id: String,
    pub app_id: Option<Id>,
    /// The public client_id, when the event concerns a client.
    pub client_id: Option<String>,
    pub details: Value,
}

impl NewAuditEvent {
    pub fn new(action: AuditAction, target_type: &'static str, target_id: impl ToString) -> Self {
        NewAuditEvent {
            action,
            target_type,
            target_id: target_id.to_string(),
            app_id: None,
            client_id: None,
            details: Value::Null,
        }
    }

    pub fn app(mut self, app_id: Id) -> Self {
        self.app_id = Some(app_id);
        self
    }

    pub fn client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: Id,
    pub deployment_id: Id,
    pub occurred_at: Timestamp,
    pub actor: Actor,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub details: Value,
}

/// Filters for reading the trail, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// Exact action (`client.secret_rotated`) or a prefix ending in `.` (`client.`).
    pub action: Option<String>,
    pub client_id: Option<String>,
    pub app_id: Option<Id>,
    /// `api_key:123`, or just the kind (`api_key`).
    pub actor: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Return events with ids below this (the previous page's `next_cursor`).
    pub before: Option<Id>,
    pub limit: u32,
}

pub const MAX_AUDIT_PAGE: u32 = 500;
pub const DEFAULT_AUDIT_PAGE: u32 = 100;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::AuditAction;

    #[test]
    fn action_names_are_unique_and_namespace_dot_verb() {
        let mut seen = BTreeSet::new();
        for a in AuditAction::ALL {
            let name = a.as_str();
            assert!(seen.insert(name), "{name} is used twice");
            let (ns, verb) = name.split_once('.').unwrap_or_else(|| panic!("{name} has no '.'"));
            for part in [ns, verb] {
                assert!(
                    !part.is_empty()
                        && part.starts_with(|c: char| c.is_ascii_lowercase())
                        && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{name} is not namespace.verb in lower snake case"
                );
            }
        }
    }

    /// README.md's "Audit actions" section lists exactly the actions the code records.
    #[test]
    fn readme_lists_every_action() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("\n## Audit actions\n")
            .nth(1)
            .expect("README.md has an \"Audit actions\" section");
        let section = section.split("\n## ").next().unwrap_or(section);
        let listed: BTreeSet<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(name, _)| name))
            .collect();
        let actual: BTreeSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(listed, actual, "README.md's audit actions differ from AuditAction");
    }
}
