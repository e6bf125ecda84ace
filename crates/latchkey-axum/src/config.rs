//! [`ResourceConfig`]: what this protected resource is, and where its RFC 9728 metadata
//! document lives (path insertion, §3.1).

/// Describes the protected resource (your API or MCP server).
///
/// ```
/// use latchkey_axum::ResourceConfig;
///
/// let config = ResourceConfig {
///     scopes_supported: vec!["read".into(), "write".into()],
///     ..ResourceConfig::new("https://api.example.com/mcp", "https://auth.example.com/a/acme")
/// };
/// assert_eq!(config.gateway_resource, "https://api.example.com/mcp");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceConfig {
    /// The canonical URL of this protected resource, e.g. `https://api.example.com/mcp`
    /// (RFC 8707 / RFC 9728 `resource`): what clients request tokens for. Sent exactly as
    /// written in the metadata document. https (http only for local development), no query,
    /// no fragment.
    pub resource: String,
    /// The issuer of the Latchkey app that issues this resource's tokens, exactly as in its
    /// authorization-server metadata (`https://auth.example.com/a/acme`, or the app's
    /// `https://{fqdn}`). Clients compare it as a string: do not add or drop a trailing slash.
    pub authorization_server: String,
    /// Scopes this resource understands, advertised in the metadata document.
    pub scopes_supported: Vec<String>,
    /// What the middleware sends the gateway as `resource`: the canonical URL (the default,
    /// and what an empty string means) or an alias of the resource server registered in
    /// Latchkey.
    pub gateway_resource: String,
    /// Human-readable name for the metadata document (`resource_name`).
    pub resource_name: Option<String>,
}

impl ResourceConfig {
    /// A resource at `resource`, whose tokens come from the issuer `authorization_server`;
    /// the gateway is asked about `resource` itself.
    pub fn new(resource: impl Into<String>, authorization_server: impl Into<String>) -> Self {
        let resource = resource.into();
        ResourceConfig {
            gateway_resource: resource.clone(),
            resource,
            authorization_server: authorization_server.into(),
            scopes_supported: Vec::new(),
            resource_name: None,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource configuration: {0}")]
pub struct ConfigError(pub String);

/// The checked configuration and what follows from it.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub config: ResourceConfig,
    pub gateway_resource: String,
    /// Path of the metadata document on this server (`/.well-known/oauth-protected-resource/mcp`).
    pub metadata_path: String,
    /// Its absolute URL, for `resource_metadata` in challenges.
    pub metadata_url: String,
}

fn err<T>(m: String) -> Result<T, ConfigError> {
    Err(ConfigError(m))
}

/// RFC 6749 §3.3 scope token characters (also what may appear in a `scope="…"` challenge).
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn http_url(field: &str, raw: &str) -> Result<url::Url, ConfigError> {
    if raw.is_empty() || raw.len() > 2048 {
        return err(format!("{field} must be 1 to 2048 characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| ConfigError(format!("{field} {raw:?} is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return err(format!("{field} {raw:?} must be an https URL (http for local development)"));
    }
    if raw.contains('#') || url.query().is_some() {
        return err(format!("{field} {raw:?} must have no query and no fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return err(format!("{field} {raw:?} must not contain user information"));
    }
    Ok(url)
}

impl Checked {
    pub fn new(config: ResourceConfig) -> Result<Checked, ConfigError> {
        let url = http_url("resource", &config.resource)?;
        http_url("authorization_server", &config.authorization_server)?;
        if let Some(bad) = config.scopes_supported.iter().find(|s| !is_scope_token(s)) {
            return err(format!("scopes_supported: {bad:?} is not a scope token"));
        }
        let gateway_resource = if config.gateway_resource.is_empty() {
            config.resource.clone()
        } else {
            config.gateway_resource.clone()
        };
        if gateway_resource.len() > 2048 {
            return err("gateway_resource must be at most 2048 characters".into());
        }
        // RFC 9728 §3.1: the well-known string goes between the host and the path; a
        // terminating slash of the path is dropped (as RFC 8414 §3.1 does for issuers).
        let path = url.path().trim_end_matches('/');
        if path.contains(['{', '}']) {
            return err(format!("resource {:?} must not contain braces in its path", config.resource));
        }
        let metadata_path = format!("/.well-known/oauth-protected-resource{path}");
        let metadata_url = format!("{}{metadata_path}", url.origin().ascii_serialization());
        Ok(Checked {
            config,
            gateway_resource,
            metadata_path,
            metadata_url,
        })
    }

    /// The RFC 9728 document.
    pub fn metadata(&self) -> serde_json::Value {
        let c = &self.config;
        let mut doc = serde_json::json!({
            "resource": c.resource,
            "authorization_servers": [c.authorization_server],
            "bearer_methods_supported": ["header"],
        });
        if !c.scopes_supported.is_empty() {
            doc["scopes_supported"] = serde_json::json!(c.scopes_supported);
        }
        if let Some(name) = &c.resource_name {
            doc["resource_name"] = serde_json::json!(name);
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(resource: &str) -> Result<Checked, ConfigError> {
        Checked::new(ResourceConfig::new(resource, "https://auth.example.com/a/acme"))
    }

    #[test]
    fn metadata_location_by_path_insertion() {
        for (resource, path, url) in [
            (
                "https://api.example.com/mcp",
                "/.well-known/oauth-protected-resource/mcp",
                "https://api.example.com/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://api.example.com",
                "/.well-known/oauth-protected-resource",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com/",
                "/.well-known/oauth-protected-resource",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com:8443/v1/mcp/",
                "/.well-known/oauth-protected-resource/v1/mcp",
                "https://api.example.com:8443/.well-known/oauth-protected-resource/v1/mcp",
            ),
            (
                "http://127.0.0.1:3000/mcp",
                "/.well-known/oauth-protected-resource/mcp",
                "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp",
            ),
        ] {
            let c = checked(resource).unwrap();
            assert_eq!((c.metadata_path.as_str(), c.metadata_url.as_str()), (path, url), "{resource}");
            assert_eq!(c.metadata()["resource"], resource, "echoed exactly");
            assert_eq!(c.gateway_resource, resource);
        }
    }

    #[test]
    fn bad_configurations_are_refused() {
        for bad in [
            "",
            "api.example.com/mcp",
            "ftp://api.example.com/mcp",
            "https://api.example.com/mcp?x=1",
            "https://api.example.com/mcp#frag",
            "https://user:pw@api.example.com/mcp",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
        let mut c = ResourceConfig::new("https://api.example.com/mcp", "https://auth.example.com");
        c.scopes_supported = vec!["read write".into()];
        assert!(Checked::new(c).is_err());
        assert!(Checked::new(ResourceConfig::new("https://api.example.com/mcp", "not a url")).is_err());
    }

    #[test]
    fn the_document_echoes_the_configuration() {
        let c = Checked::new(ResourceConfig {
            scopes_supported: vec!["read".into(), "mcp:invoke".into()],
            resource_name: Some("Acme MCP".into()),
            gateway_resource: "mcp".into(),
            ..ResourceConfig::new("https://api.example.com/mcp", "https://auth.example.com/a/acme")
        })
        .unwrap();
        assert_eq!(c.gateway_resource, "mcp");
        assert_eq!(
            c.metadata(),
            serde_json::json!({
                "resource": "https://api.example.com/mcp",
                "authorization_servers": ["https://auth.example.com/a/acme"],
                "scopes_supported": ["read", "mcp:invoke"],
                "bearer_methods_supported": ["header"],
                "resource_name": "Acme MCP"
            })
        );
    }
}
