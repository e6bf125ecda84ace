//! Resource servers: the APIs and MCP servers that accept an app's tokens. Each has a
//! canonical identifier URI (the RFC 8707 `resource` value and the RFC 9728 `resource`),
//! optional short aliases, the scopes it accepts, and whether tokens must be bound to it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::scope;
use crate::validate::{self, ValidationError, ValidationErrors};
use crate::{Id, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceServer {
    pub id: Id,
    #[serde(rename = "oauth_app_id")]
    pub app_id: Id,
    pub identifier: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub scopes: Vec<String>,
    pub require_binding: bool,
    /// The id it authenticates with at the introspection endpoint, once it has a secret.
    #[serde(rename = "introspection_client_id", skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Prefix of resource servers' introspection credentials (`lkrs_…`), distinct from clients'.
pub const CREDENTIAL_PREFIX: &str = "lkrs_";

/// Create (all of identifier and name required) or update (all optional) input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServerInput {
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub require_binding: Option<bool>,
}

/// The validated, operator-controlled fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceServerConfig {
    pub identifier: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub scopes: Vec<String>,
    pub require_binding: bool,
}

/// RFC 8707 §2: an absolute URI without a fragment (https, or http on loopback for local
/// development); a query is discouraged and refused here so identifiers compare cleanly.
pub fn validate_identifier(raw: &str) -> Result<String, ValidationError> {
    let err = |m: &str| Err(ValidationError::new("identifier", format!("{raw:?}: {m}")));
    if raw.len() > 2048 {
        return err("must be at most 2048 characters");
    }
    let Ok(url) = url::Url::parse(raw) else {
        return err("must be an absolute URI such as https://api.example.com/mcp");
    };
    if raw.contains('#') {
        return err("must not contain a fragment (RFC 8707)");
    }
    if url.query().is_some() {
        return err("must not contain a query");
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::redirect_uri::is_loopback_host(&url) => {}
        _ => return err("must use https (http only for loopback hosts)"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return err("must not contain user information");
    }
    Ok(raw.to_owned())
}

/// Aliases are short names callers may use instead of the identifier: 1-64 of
/// `a-z 0-9 - _ .`, not a URI.
pub fn validate_alias(field: &str, raw: &str) -> Result<String, ValidationError> {
    let ok = (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            format!("{raw:?}: use 1-64 lowercase letters, digits, '-', '_' or '.'"),
        ))
    }
}

impl ResourceServerInput {
    /// Validates the input applied to `current` (None on create). `app_scopes` are the
    /// app's scope names: a resource server can only accept scopes its app defines.
    pub fn apply(&self, current: Option<&ResourceServerConfig>, app_scopes: &[String]) -> Result<ResourceServerConfig, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let identifier = match (&self.identifier, current) {
            (Some(i), _) => errors.check(validate_identifier(i.trim())),
            (None, Some(c)) => Some(c.identifier.clone()),
            (None, None) => {
                errors.add("identifier", "is required");
                None
            }
        };
        let name = match (&self.name, current) {
            (Some(n), _) => errors.check(validate::text("name", n, 200)),
            (None, Some(c)) => Some(c.name.clone()),
            (None, None) => identifier.clone(),
        };
        let aliases = match (&self.aliases, current) {
            (Some(list), _) => {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                if list.len() > 10 {
                    errors.add("aliases", "at most 10 aliases");
                }
                for (i, a) in list.iter().enumerate() {
                    let field = format!("aliases[{i}]");
                    if let Some(a) = errors.check(validate_alias(&field, a))
                        && seen.insert(a.clone())
                    {
                        out.push(a);
                    }
                }
                out
            }
            (None, Some(c)) => c.aliases.clone(),
            (None, None) => vec![],
        };
        let scopes = match (&self.scopes, current) {
            (Some(list), _) => {
                let mut out: Vec<String> = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let field = format!("scopes[{i}]");
                    if let Some(s) = errors.check(scope::scope_token(&field, s)) {
                        if !app_scopes.contains(&s) {
                            errors.add(field, format!("{s:?} is not one of the app's scopes"));
                        } else if !out.contains(&s) {
                            out.push(s);
                        }
                    }
                }
                out
            }
            (None, Some(c)) => c.scopes.clone(),
            (None, None) => vec![],
        };
        let require_binding = self.require_binding.or(current.map(|c| c.require_binding)).unwrap_or(false);
        match (identifier, name) {
            (Some(identifier), Some(name)) if errors.is_empty() => Ok(ResourceServerConfig {
                identifier,
                name,
                aliases,
                scopes,
                require_binding,
            }),
            _ => Err(errors),
        }
    }
}

impl ResourceServer {
    pub fn config(&self) -> ResourceServerConfig {
        ResourceServerConfig {
            identifier: self.identifier.clone(),
            name: self.name.clone(),
            aliases: self.aliases.clone(),
            scopes: self.scopes.clone(),
            require_binding: self.require_binding,
        }
    }

    /// Whether `resource` (as sent by a caller) names this server.
    pub fn answers_to(&self, resource: &str) -> bool {
        self.identifier == resource || self.aliases.iter().any(|a| a == resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rules() {
        for (s, ok) in [
            ("https://api.example.com/mcp", true),
            ("https://api.example.com", true),
            ("http://127.0.0.1:3000/mcp", true),
            ("http://api.example.com/mcp", false),
            ("https://api.example.com/mcp#x", false),
            ("https://api.example.com/mcp?x=1", false),
            ("mcp", false),
            ("urn:example:api", false),
        ] {
            assert_eq!(validate_identifier(s).is_ok(), ok, "{s}");
        }
    }

    #[test]
    fn input_rules() {
        let app_scopes = vec!["read".to_owned(), "write".to_owned()];
        let input: ResourceServerInput = serde_json::from_value(
            serde_json::json!({"identifier": "https://api.example.com/mcp", "aliases": ["mcp"], "scopes": ["read"]}),
        )
        .unwrap();
        let c = input.apply(None, &app_scopes).unwrap();
        assert_eq!(c.name, "https://api.example.com/mcp");
        assert!(!c.require_binding);

        let bad: ResourceServerInput = serde_json::from_value(
            serde_json::json!({"identifier": "https://api.example.com/mcp", "aliases": ["Bad Alias"], "scopes": ["admin"]}),
        )
        .unwrap();
        let e = bad.apply(None, &app_scopes).unwrap_err();
        assert_eq!(e.0.len(), 2);

        let upd = ResourceServerInput {
            require_binding: Some(true),
            ..Default::default()
        };
        let c2 = upd.apply(Some(&c), &app_scopes).unwrap();
        assert!(c2.require_binding);
        assert_eq!(c2.aliases, c.aliases);
    }
}
