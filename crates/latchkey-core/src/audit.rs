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

/// An event about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: String,
    pub app_id: Option<Id>,
    /// The public client_id, when the event concerns a client.
    pub client_id: Option<String>,
    pub details: Value,
}

impl NewAuditEvent {
    pub fn new(action: &'static str, target_type: &'static str, target_id: impl ToString) -> Self {
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
