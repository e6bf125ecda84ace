//! THE verification decision: whether a presented token is good right now. Introspection,
//! userinfo, the refresh grant and the gateway all call [`check_token`] and then
//! [`standing_scopes`]; the reasons for saying no are an enum, checked in a fixed order so the
//! most fundamental problem is the one reported.

use serde::Serialize;

use crate::consent::{Memberships, scope_holds_on};
use crate::grant::GrantedResource;
use crate::scope::ScopeDefinition;
use crate::{Id, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// Not shaped like a Latchkey token at all.
    Malformed,
    /// Well-formed but not issued by this server (or long gone).
    Unknown,
    Expired,
    Revoked,
    GrantRevoked,
    ClientDeactivated,
    AppDisabled,
    SessionEnded,
    UserDisabled,
    WrongTenant,
    ResourceMismatch,
    PermissionDenied,
    RateLimited,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::Malformed => "malformed",
            DenyReason::Unknown => "unknown_token",
            DenyReason::Expired => "expired",
            DenyReason::Revoked => "revoked",
            DenyReason::GrantRevoked => "grant_revoked",
            DenyReason::ClientDeactivated => "client_deactivated",
            DenyReason::AppDisabled => "app_disabled",
            DenyReason::SessionEnded => "session_ended",
            DenyReason::UserDisabled => "user_disabled",
            DenyReason::WrongTenant => "wrong_tenant",
            DenyReason::ResourceMismatch => "resource_mismatch",
            DenyReason::PermissionDenied => "permission_denied",
            DenyReason::RateLimited => "rate_limited",
        }
    }
}

/// Whether a token is an access or a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

/// A stored token joined with everything its validity depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenState {
    pub id: Id,
    pub kind: TokenKind,
    pub deployment_id: Id,
    pub app_id: Id,
    pub app_slug: String,
    pub client_record_id: Id,
    pub client_id: String,
    pub user_id: Id,
    pub grant_id: Id,
    pub session_id: Option<Id>,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
    pub granted_resource: GrantedResource,
    pub auth_time: Option<Timestamp>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked: bool,
    pub grant_active: bool,
    pub client_active: bool,
    pub app_active: bool,
    /// The session it derives from has ended or expired.
    pub session_ended: bool,
    /// The user is disabled or deleted.
    pub user_disabled: bool,
}

/// Token-level checks, in order. `None` means the token was not found.
pub fn check_token(state: Option<&TokenState>, now: Timestamp) -> Result<&TokenState, DenyReason> {
    let s = state.ok_or(DenyReason::Unknown)?;
    if now >= s.expires_at {
        return Err(DenyReason::Expired);
    }
    if s.revoked {
        return Err(DenyReason::Revoked);
    }
    if !s.grant_active {
        return Err(DenyReason::GrantRevoked);
    }
    if !s.client_active {
        return Err(DenyReason::ClientDeactivated);
    }
    if !s.app_active {
        return Err(DenyReason::AppDisabled);
    }
    if s.session_ended {
        return Err(DenyReason::SessionEnded);
    }
    if s.user_disabled {
        return Err(DenyReason::UserDisabled);
    }
    Ok(s)
}

/// The scopes of a good token that still hold now, given the user's memberships: a grant on
/// an organization or workspace dies with the user's membership of it, and an organization or
/// workspace scope holds only while the user has its mapped permission there (an ex-member or
/// downgraded user keeps nothing of what they lost). Scopes the app does not define (the
/// OpenID ones) concern the user and stay. A token left with no scope is refused.
pub fn standing_scopes(t: &TokenState, defs: &[ScopeDefinition], m: &Memberships) -> Result<Vec<String>, DenyReason> {
    let member = match t.granted_resource {
        GrantedResource::User(u) => u == t.user_id,
        GrantedResource::Organization(o) => m.org(o).is_some(),
        GrantedResource::Workspace(w) => m.workspace(w).is_some(),
    };
    if !member {
        return Err(DenyReason::GrantRevoked);
    }
    let held: Vec<String> = t
        .scopes
        .iter()
        .filter(|s| match defs.iter().find(|d| &d.scope == *s) {
            Some(def) => scope_holds_on(def, t.granted_resource, t.user_id, m),
            None => true,
        })
        .cloned()
        .collect();
    if held.is_empty() {
        return Err(DenyReason::GrantRevoked);
    }
    Ok(held)
}

#[cfg(test)]
impl TokenState {
    /// A live access token of user 4 on their personal resource, for the core's unit tests.
    pub(crate) fn sample() -> TokenState {
        TokenState {
            id: Id::from_i64(1),
            kind: TokenKind::Access,
            deployment_id: Id::from_i64(1),
            app_id: Id::from_i64(2),
            app_slug: "acme".into(),
            client_record_id: Id::from_i64(3),
            client_id: "lkc_x".into(),
            user_id: Id::from_i64(4),
            grant_id: Id::from_i64(5),
            session_id: Some(Id::from_i64(6)),
            scopes: vec!["read".into()],
            resources: vec![],
            granted_resource: GrantedResource::User(Id::from_i64(4)),
            auth_time: None,
            issued_at: Timestamp::from_millis(0),
            expires_at: Timestamp::from_millis(10_000),
            revoked: false,
            grant_active: true,
            client_active: true,
            app_active: true,
            session_ended: false,
            user_disabled: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> TokenState {
        TokenState::sample()
    }

    #[test]
    fn each_reason_in_order() {
        let now = Timestamp::from_millis(5_000);
        assert!(check_token(Some(&good()), now).is_ok());
        assert_eq!(check_token(None, now).unwrap_err(), DenyReason::Unknown);
        type Break = fn(&mut TokenState);
        let cases: Vec<(Break, DenyReason)> = vec![
            (|s| s.expires_at = Timestamp::from_millis(5_000), DenyReason::Expired),
            (|s| s.revoked = true, DenyReason::Revoked),
            (|s| s.grant_active = false, DenyReason::GrantRevoked),
            (|s| s.client_active = false, DenyReason::ClientDeactivated),
            (|s| s.app_active = false, DenyReason::AppDisabled),
            (|s| s.session_ended = true, DenyReason::SessionEnded),
            (|s| s.user_disabled = true, DenyReason::UserDisabled),
        ];
        for (f, reason) in &cases {
            let mut s = good();
            f(&mut s);
            assert_eq!(check_token(Some(&s), now).unwrap_err(), *reason);
        }
        // Several problems: the first in the order wins.
        let mut s = good();
        s.app_active = false;
        s.revoked = true;
        assert_eq!(check_token(Some(&s), now).unwrap_err(), DenyReason::Revoked);
    }

    #[test]
    fn scopes_stand_only_while_the_membership_and_permission_do() {
        use crate::consent::OrgMembership;
        use crate::scope::{ScopeCategory, ScopeMapping};
        let org = Id::from_i64(10);
        let mut org_read = ScopeDefinition::bare("org:read");
        org_read.set_mapping(ScopeMapping::new(ScopeCategory::Organization, Some("projects:view"), None, "").unwrap());
        let defs = [org_read, ScopeDefinition::bare("read")];
        let member = |perms: &[&str]| Memberships {
            organizations: vec![OrgMembership {
                membership_id: Id::from_i64(100),
                organization_id: org,
                name: "Acme".into(),
                permissions: perms.iter().map(|p| p.to_string()).collect(),
            }],
            workspaces: vec![],
        };
        let none = Memberships::default();
        let token = |resource: GrantedResource, scopes: &[&str]| TokenState {
            granted_resource: resource,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..good()
        };
        let on_org = GrantedResource::Organization(org);
        let personal = GrantedResource::User(Id::from_i64(4));
        // (token, memberships, expected standing scopes or the deny reason)
        type Case = (TokenState, Memberships, Result<Vec<&'static str>, DenyReason>);
        let cases: Vec<Case> = vec![
            (
                token(on_org, &["org:read", "openid"]),
                member(&["projects:view"]),
                Ok(vec!["org:read", "openid"]),
            ),
            (token(on_org, &["org:read", "openid"]), none.clone(), Err(DenyReason::GrantRevoked)),
            (token(on_org, &["org:read", "read"]), member(&[]), Ok(vec!["read"])),
            (token(on_org, &["org:read"]), member(&[]), Err(DenyReason::GrantRevoked)),
            (token(on_org, &["org:read", "openid"]), member(&[]), Ok(vec!["openid"])),
            (token(personal, &["read", "openid"]), none.clone(), Ok(vec!["read", "openid"])),
            (
                token(GrantedResource::User(Id::from_i64(99)), &["read"]),
                none,
                Err(DenyReason::GrantRevoked),
            ),
        ];
        for (t, m, want) in cases {
            let want = want.map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(standing_scopes(&t, &defs, &m), want, "{:?} on {:?}", t.scopes, t.granted_resource);
        }
    }
}
