//! Gateway rate limit rules: at most `max_requests` admitted checks per sliding
//! `window_seconds`, counted for the whole app, for each client separately, or for one client.

use serde::{Deserialize, Serialize};

use crate::validate::{ValidationError, ValidationErrors};
use crate::{Id, Timestamp};

pub const MAX_WINDOW_SECONDS: i64 = 86_400;
pub const MAX_REQUESTS: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleScope {
    /// All checks of the app's tokens together.
    App,
    /// Each client separately (or only `client_id`, when set).
    Client,
}

impl RuleScope {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleScope::App => "app",
            RuleScope::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "app" => Some(RuleScope::App),
            "client" => Some(RuleScope::Client),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateLimitRule {
    pub id: Id,
    #[serde(rename = "oauth_app_id")]
    pub app_id: Id,
    pub name: String,
    pub scope: RuleScope,
    /// The client's record id when the rule is for one client only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Id>,
    pub window_seconds: i64,
    pub max_requests: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl RateLimitRule {
    /// Whether the rule counts checks of tokens issued to `client`.
    pub fn applies_to(&self, client: Id) -> bool {
        self.client_id.is_none_or(|c| c == client)
    }

    /// What the rule counts a check against: the app, or the client.
    pub fn subject(&self, app: Id, client: Id) -> Id {
        match self.scope {
            RuleScope::App => app,
            RuleScope::Client => client,
        }
    }

    /// The name shown in `blocked_rule` and `rate_limits[].rule`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.scope.as_str(), self.name)
    }
}

/// Create (name, window_seconds, max_requests required) or update input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// Record id or public client_id of one client (scope `client` only).
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub client_id: Option<Option<String>>,
    #[serde(default)]
    pub window_seconds: Option<i64>,
    #[serde(default)]
    pub max_requests: Option<i64>,
}

/// The validated fields of a rule (the client still named as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleConfig {
    pub name: String,
    pub scope: RuleScope,
    pub client: Option<String>,
    pub window_seconds: i64,
    pub max_requests: i64,
}

fn check_name(n: &str) -> Result<String, ValidationError> {
    let ok = (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(n.to_owned())
    } else {
        Err(ValidationError::new("name", "use 1-64 of a-z 0-9 - _"))
    }
}

impl RuleInput {
    pub fn apply(&self, current: Option<&RuleConfig>) -> Result<RuleConfig, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = match (&self.name, current) {
            (Some(n), _) => errors.check(check_name(n)),
            (None, Some(c)) => Some(c.name.clone()),
            (None, None) => {
                errors.add("name", "is required");
                None
            }
        };
        let scope = match (&self.scope, current) {
            (Some(s), _) => RuleScope::parse(s).or_else(|| {
                errors.add("scope", "must be app or client");
                None
            }),
            (None, Some(c)) => Some(c.scope),
            (None, None) => Some(RuleScope::Client),
        };
        let client = match &self.client_id {
            Some(c) => c.clone().filter(|c| !c.is_empty()),
            None => current.and_then(|c| c.client.clone()),
        };
        let mut number = |field: &str, v: Option<i64>, cur: Option<i64>, max: i64| match v.or(cur) {
            Some(n) if (1..=max).contains(&n) => Some(n),
            Some(_) => {
                errors.add(field, format!("must be between 1 and {max}"));
                None
            }
            None => {
                errors.add(field, "is required");
                None
            }
        };
        let window_seconds = number(
            "window_seconds",
            self.window_seconds,
            current.map(|c| c.window_seconds),
            MAX_WINDOW_SECONDS,
        );
        let max_requests = number("max_requests", self.max_requests, current.map(|c| c.max_requests), MAX_REQUESTS);
        if scope == Some(RuleScope::App) && client.is_some() {
            errors.add("client_id", "an app-wide rule cannot name a client; use scope client");
        }
        match (name, scope, window_seconds, max_requests) {
            (Some(name), Some(scope), Some(window_seconds), Some(max_requests)) if errors.is_empty() => Ok(RuleConfig {
                name,
                scope,
                client,
                window_seconds,
                max_requests,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_input_rules() {
        let ok: RuleInput =
            serde_json::from_value(serde_json::json!({"name": "burst", "window_seconds": 60, "max_requests": 100})).unwrap();
        let c = ok.apply(None).unwrap();
        assert_eq!((c.scope, c.window_seconds), (RuleScope::Client, 60));
        for bad in [
            serde_json::json!({"name": "Bad Name", "window_seconds": 60, "max_requests": 1}),
            serde_json::json!({"name": "x", "window_seconds": 0, "max_requests": 1}),
            serde_json::json!({"name": "x", "window_seconds": 60, "max_requests": 100001}),
            serde_json::json!({"name": "x", "window_seconds": 60}),
            serde_json::json!({"name": "x", "scope": "galaxy", "window_seconds": 60, "max_requests": 1}),
            serde_json::json!({"name": "x", "scope": "app", "client_id": "lkc_a", "window_seconds": 60, "max_requests": 1}),
        ] {
            let input: RuleInput = serde_json::from_value(bad.clone()).unwrap();
            assert!(input.apply(None).is_err(), "{bad}");
        }
        let upd: RuleInput = serde_json::from_value(serde_json::json!({"max_requests": 5})).unwrap();
        assert_eq!(upd.apply(Some(&c)).unwrap().max_requests, 5);
    }
}
