//! Grants: one user's approval for one client, on one resource (the user personally, or an
//! organization or workspace they belong to), for a set of scopes.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::{Id, Timestamp};

const URN_PREFIX: &str = "urn:latchkey:";

/// The resource a grant is made on, written `urn:latchkey:{user|organization|workspace}:{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantedResource {
    User(Id),
    Organization(Id),
    Workspace(Id),
}

impl GrantedResource {
    pub fn kind(self) -> &'static str {
        match self {
            GrantedResource::User(_) => "user",
            GrantedResource::Organization(_) => "organization",
            GrantedResource::Workspace(_) => "workspace",
        }
    }

    pub fn id(self) -> Id {
        match self {
            GrantedResource::User(id) | GrantedResource::Organization(id) | GrantedResource::Workspace(id) => id,
        }
    }
}

impl fmt::Display for GrantedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{URN_PREFIX}{}:{}", self.kind(), self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a granted resource: expected urn:latchkey:user:ID, urn:latchkey:organization:ID or urn:latchkey:workspace:ID")]
pub struct ParseResourceError;

impl FromStr for GrantedResource {
    type Err = ParseResourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix(URN_PREFIX).ok_or(ParseResourceError)?;
        let (kind, id) = rest.split_once(':').ok_or(ParseResourceError)?;
        let id: Id = id.parse().map_err(|_| ParseResourceError)?;
        match kind {
            "user" => Ok(GrantedResource::User(id)),
            "organization" => Ok(GrantedResource::Organization(id)),
            "workspace" => Ok(GrantedResource::Workspace(id)),
            _ => Err(ParseResourceError),
        }
    }
}

impl Serialize for GrantedResource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(GrantStatus::Active),
            "revoked" => Some(GrantStatus::Revoked),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub id: Id,
    pub deployment_id: Id,
    pub app_id: Id,
    pub app_slug: String,
    /// The client's record id.
    pub client_record_id: Id,
    /// The client's public `client_id`.
    pub client_id: String,
    pub user_id: Id,
    pub resource: GrantedResource,
    pub scopes: Vec<String>,
    pub status: GrantStatus,
    pub granted_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: Id,
            api_auth_app_slug: &'a str,
            oauth_app_id: Id,
            oauth_client_id: Id,
            client_id: &'a str,
            resource: GrantedResource,
            scopes: &'a [String],
            status: GrantStatus,
            granted_at: Timestamp,
            #[serde(skip_serializing_if = "Option::is_none")]
            expires_at: Option<Timestamp>,
            #[serde(skip_serializing_if = "Option::is_none")]
            revoked_at: Option<Timestamp>,
            #[serde(skip_serializing_if = "Option::is_none")]
            revoked_by: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            revoke_reason: Option<&'a str>,
            granted_by_user_id: Id,
            user_id: Id,
            #[serde(skip_serializing_if = "Option::is_none")]
            last_used_at: Option<Timestamp>,
            created_at: Timestamp,
            updated_at: Timestamp,
        }
        Wire {
            id: self.id,
            api_auth_app_slug: &self.app_slug,
            oauth_app_id: self.app_id,
            oauth_client_id: self.client_record_id,
            client_id: &self.client_id,
            resource: self.resource,
            scopes: &self.scopes,
            status: self.status,
            granted_at: self.granted_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by.as_deref(),
            revoke_reason: self.revoke_reason.as_deref(),
            granted_by_user_id: self.user_id,
            user_id: self.user_id,
            last_used_at: self.last_used_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_urns_round_trip() {
        for s in ["urn:latchkey:user:12", "urn:latchkey:organization:3", "urn:latchkey:workspace:99"] {
            assert_eq!(s.parse::<GrantedResource>().unwrap().to_string(), s);
        }
        for bad in [
            "urn:latchkey:team:1",
            "urn:latchkey:user:",
            "urn:latchkey:user:-1",
            "urn:other:user:1",
            "user:1",
        ] {
            assert!(bad.parse::<GrantedResource>().is_err(), "{bad}");
        }
    }
}
