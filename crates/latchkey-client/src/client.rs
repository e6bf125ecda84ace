//! [`LatchkeyClient`]: one pooled HTTP client, shared by clones, and the plumbing every call
//! goes through (URLs, answers → typed values or [`Error`]s).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};

use crate::config::LatchkeyConfig;
use crate::error::{Error, Result};

/// A Latchkey client. Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// # fn main() -> latchkey_client::Result<()> {
/// use latchkey_client::{LatchkeyClient, LatchkeyConfig};
///
/// let client = LatchkeyClient::new(LatchkeyConfig::from_env()?)?;
/// let gateway = client.gateway();
/// let oauth = client.oauth();
/// # let _ = (gateway, oauth); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LatchkeyClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: LatchkeyConfig,
    http: reqwest::Client,
    /// `base_url` and `gateway_url` without a trailing slash.
    base: String,
    gateway: String,
}

/// `url` checked to be an absolute http(s) URL without query or fragment, without its
/// trailing slash.
fn base_url(field: &str, url: &str) -> Result<String> {
    let parsed = url::Url::parse(url).map_err(|e| Error::Config(format!("{field} {url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(Error::Config(format!("{field} {url:?} must be an http(s) URL")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::Config(format!("{field} {url:?} must not have a query or fragment")));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl LatchkeyClient {
    /// Builds the client (no network traffic yet). Fails on a URL that is not http(s) or an
    /// API key that cannot be sent in a header.
    pub fn new(config: LatchkeyConfig) -> Result<Self> {
        let base = base_url("base_url", &config.base_url)?;
        let gateway = base_url("gateway_url", &config.gateway_url)?;
        let mut auth = HeaderValue::try_from(format!("Bearer {}", config.api_key.expose()))
            .map_err(|_| Error::Config("the API key contains characters that cannot be sent in a header".into()))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?;
        Ok(LatchkeyClient {
            inner: Arc::new(Inner {
                config,
                http,
                base,
                gateway,
            }),
        })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &LatchkeyConfig {
        &self.inner.config
    }

    /// The gateway check (`POST {gateway_url}/v1/authz/check`).
    pub fn gateway(&self) -> crate::gateway::GatewayApi {
        crate::gateway::GatewayApi::new(self.clone())
    }

    /// The backend management API: apps, scopes, clients, grants, signing keys.
    pub fn oauth(&self) -> crate::oauth::OAuthApi {
        crate::oauth::OAuthApi::new(self.clone())
    }

    /// A request to the backend API; `path` starts with `/` and has its segments encoded
    /// already (see [`crate::oauth::path`]).
    pub(crate) fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.inner.http.request(method, format!("{}{path}", self.inner.base))
    }

    pub(crate) fn gateway_request(&self) -> RequestBuilder {
        self.inner.http.post(format!("{}/v1/authz/check", self.inner.gateway))
    }

    /// The change feed lives as long as the connection: the client's timeout, meant for
    /// single calls, gives way to the feed's own idle timeout.
    pub(crate) fn change_feed_request(&self) -> RequestBuilder {
        self.inner
            .http
            .get(format!("{}/v1/authz/changes", self.inner.gateway))
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(Duration::from_secs(100 * 365 * 24 * 3600))
    }
}

/// Sends `request` and turns the answer into a `T` (2xx, decoded by `decode`) or an [`Error`].
pub(crate) async fn execute<T>(request: RequestBuilder, decode: fn(&[u8]) -> serde_json::Result<T>) -> Result<T> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status.is_success() {
        decode(&body).map_err(|e| Error::Decode(format!("{status} answer: {e}")))
    } else {
        Err(Error::from_answer(status.as_u16(), &body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_trimmed() {
        let c = LatchkeyClient::new(LatchkeyConfig::new("k", "http://127.0.0.1:8080/").with_gateway_url("https://gw.example.com/base/"))
            .unwrap();
        assert_eq!(c.inner.base, "http://127.0.0.1:8080");
        assert_eq!(c.inner.gateway, "https://gw.example.com/base");
        for bad in ["127.0.0.1:8080", "ftp://x", "http://x/?a=b", "not a url"] {
            assert!(
                matches!(LatchkeyClient::new(LatchkeyConfig::new("k", bad)), Err(Error::Config(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            LatchkeyClient::new(LatchkeyConfig::new("bad\nkey", "http://x")),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = LatchkeyClient::new(LatchkeyConfig::new("lk_api_supersecret", "http://x")).unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
