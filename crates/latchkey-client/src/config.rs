//! [`LatchkeyConfig`]: where Latchkey is and how to authenticate to it.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The URL `from_env` uses when `LATCHKEY_URL` is not set: the server's default listen
/// address, as for the `latchkey` CLI.
pub(crate) const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// How to reach Latchkey.
///
/// `Debug` output never shows the API key.
///
/// ```
/// use std::time::Duration;
/// use latchkey_client::LatchkeyConfig;
///
/// let mut config = LatchkeyConfig::new("lk_api_…", "https://auth.example.com");
/// config.timeout = Duration::from_secs(3);
/// assert_eq!(config.gateway_url, "https://auth.example.com");
/// assert!(!format!("{config:?}").contains("lk_api_"));
/// ```
#[derive(Debug, Clone)]
pub struct LatchkeyConfig {
    /// A backend API key (`lk_api_…`), sent as `Authorization: Bearer …`. It decides the
    /// deployment every call acts on.
    pub api_key: Secret,
    /// Base URL of the backend API, e.g. `https://auth.example.com` (a path prefix such as
    /// `…/deployments/1` is kept).
    pub base_url: String,
    /// Base URL of the gateway (`{gateway_url}/v1/authz/check`); the same server as
    /// `base_url` unless the gateway is deployed apart.
    pub gateway_url: String,
    /// Whole-request timeout (connect, send, answer). Keep it short for the gateway, which
    /// sits on every request of a resource server.
    pub timeout: Duration,
    /// `User-Agent` of every request.
    pub user_agent: String,
}

impl LatchkeyConfig {
    /// A configuration for the server at `base_url` (the gateway at the same URL), with a
    /// 10 second timeout.
    pub fn new(api_key: impl Into<String>, base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        LatchkeyConfig {
            api_key: Secret::new(api_key),
            gateway_url: base_url.clone(),
            base_url,
            timeout: Duration::from_secs(10),
            user_agent: concat!("latchkey-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Reads `LATCHKEY_API_KEY` (required), `LATCHKEY_URL` (default `http://127.0.0.1:8080`,
    /// as for the CLI) and `LATCHKEY_GATEWAY_URL` (default: `LATCHKEY_URL`). Empty values count
    /// as unset.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let api_key = get("LATCHKEY_API_KEY")
            .ok_or_else(|| Error::Config("LATCHKEY_API_KEY is not set: export a backend API key (lk_api_…)".into()))?;
        let mut config = Self::new(api_key, get("LATCHKEY_URL").unwrap_or_else(|| DEFAULT_URL.to_owned()));
        if let Some(g) = get("LATCHKEY_GATEWAY_URL") {
            config.gateway_url = g;
        }
        Ok(config)
    }

    /// Sets the gateway's base URL.
    pub fn with_gateway_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = url.into();
        self
    }

    /// Sets the whole-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the `User-Agent`.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn from_env_reads_the_three_variables() {
        let c = LatchkeyConfig::from_lookup(env(&[
            ("LATCHKEY_API_KEY", "lk_api_x"),
            ("LATCHKEY_URL", "https://auth.example.com"),
            ("LATCHKEY_GATEWAY_URL", "https://gw.example.com"),
        ]))
        .unwrap();
        assert_eq!(c.api_key.expose(), "lk_api_x");
        assert_eq!(c.base_url, "https://auth.example.com");
        assert_eq!(c.gateway_url, "https://gw.example.com");

        let c = LatchkeyConfig::from_lookup(env(&[("LATCHKEY_API_KEY", "lk_api_x"), ("LATCHKEY_GATEWAY_URL", "")])).unwrap();
        assert_eq!((c.base_url.as_str(), c.gateway_url.as_str()), (DEFAULT_URL, DEFAULT_URL));

        let e = LatchkeyConfig::from_lookup(env(&[("LATCHKEY_URL", "https://auth.example.com")])).unwrap_err();
        assert!(matches!(e, Error::Config(m) if m.contains("LATCHKEY_API_KEY")));
    }

    #[test]
    fn debug_hides_the_key() {
        let c = LatchkeyConfig::new("lk_api_supersecret", "http://x");
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
