//! Which app (issuer) a runtime request is for: a path issuer `{public_url}/a/{slug}` (the
//! prefix is stripped before routing, see `http::rewrite`), or an app with its own domain
//! found by the request's Host and issuing as `https://{fqdn}`. Every endpoint, document and
//! token of an app uses its one issuer string.

use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use latchkey_core::app::App;
use latchkey_store::{Store, StoreError};

use crate::config::Settings;
use crate::http::IssuerPath;

#[derive(Debug, Clone)]
pub struct Issuer {
    pub app: App,
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    /// Whether the issuer is served over https (cookies get `Secure` and `__Host-`).
    pub secure: bool,
}

impl Issuer {
    /// An absolute URL of one of this issuer's endpoints (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub fn token_endpoint(&self) -> String {
        self.url("/oauth/token")
    }

    /// A disabled app serves nothing but this error — except introspection, revocation and
    /// userinfo, which answer for its tokens through the verification decision ("inactive").
    pub fn active(self) -> Result<Self, IssuerError> {
        if self.app.is_active { Ok(self) } else { Err(IssuerError::Disabled) }
    }
}

/// Why no issuer could serve the request.
#[derive(Debug)]
pub enum IssuerError {
    NotFound,
    Disabled,
    /// The lookup failed; the cause, for the log.
    Internal(String),
}

impl IssuerError {
    pub fn status(&self) -> StatusCode {
        match self {
            IssuerError::NotFound => StatusCode::NOT_FOUND,
            IssuerError::Disabled => StatusCode::FORBIDDEN,
            IssuerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            IssuerError::NotFound => "No OAuth app is served at this address.",
            IssuerError::Disabled => "This application has been disabled by its operator.",
            IssuerError::Internal(_) => "The server failed to handle the request.",
        }
    }
}

fn host_of(parts: &Parts) -> Option<String> {
    let raw = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.host())?;
    // "[v6]:port" or "name:port": the port never matters for routing.
    let host = match raw.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => raw.split(':').next().unwrap_or(raw),
    };
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

/// Which app serves a request: the path issuer the router found (`IssuerPath`), else the
/// app whose domain is the request's Host.
pub async fn resolve(store: &Store, settings: &Settings, parts: &Parts) -> Result<Issuer, IssuerError> {
    let lookup = match parts.extensions.get::<IssuerPath>() {
        Some(IssuerPath(slug)) => store.app_by_slug(slug).await.map(|app| (app, true)),
        None => match host_of(parts) {
            Some(host) => store.app_by_fqdn(&host).await.map(|app| (app, false)),
            None => Err(StoreError::NotFound("app")),
        },
    };
    let (app, by_path) = match lookup {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => return Err(IssuerError::NotFound),
        Err(e) => return Err(IssuerError::Internal(format!("issuer lookup: {e}"))),
    };
    // An app with its own domain is served only there, so it has one issuer; a path
    // issuer only under the public URL.
    if app.fqdn.is_some() == by_path {
        return Err(IssuerError::NotFound);
    }
    let issuer = issuer_url(settings, &app);
    let secure = issuer.starts_with("https://");
    Ok(Issuer { app, issuer, secure })
}

/// The issuer identifier of `app`: `https://{fqdn}` for an app with its own domain, else
/// `{public_url}/a/{slug}`. The one place this string is made: `iss` claims, metadata, the
/// gateway's answers and RFC 9728 documents must all agree on it byte for byte.
pub fn issuer_url(settings: &Settings, app: &App) -> String {
    match &app.fqdn {
        Some(fqdn) => format!("https://{fqdn}"),
        None => format!("{}/a/{}", settings.public_url, app.slug),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(host: &str) -> Parts {
        let (p, _) = axum::http::Request::builder()
            .uri("/x")
            .header("host", host)
            .body(())
            .unwrap()
            .into_parts();
        p
    }

    #[test]
    fn hosts_lose_ports_case_and_trailing_dots() {
        assert_eq!(host_of(&parts("Auth.Example.com:8443")).unwrap(), "auth.example.com");
        assert_eq!(host_of(&parts("auth.example.com.")).unwrap(), "auth.example.com");
        assert_eq!(host_of(&parts("[::1]:8080")).unwrap(), "::1");
        assert_eq!(host_of(&parts("127.0.0.1")).unwrap(), "127.0.0.1");
    }
}
