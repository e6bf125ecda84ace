//! The request builders of the management API: [`ApiCall`] for operations without options,
//! and one builder per operation that has some.

use reqwest::{Method, RequestBuilder};
use serde::Serialize;

use crate::client::{LatchkeyClient, execute};
use crate::error::{Error, Result};
use crate::models::{CreateOAuthAppRequest, GrantStatus, OAuthApp, OAuthGrant, RotatedSecret};

/// A prepared management call; run it with [`ApiCall::send`].
#[must_use = "a call does nothing until it is sent: add `.send().await`"]
#[derive(Debug)]
pub struct ApiCall<T> {
    request: RequestBuilder,
    decode: fn(&[u8]) -> serde_json::Result<T>,
}

impl<T> ApiCall<T> {
    pub(crate) fn new(request: RequestBuilder, decode: fn(&[u8]) -> serde_json::Result<T>) -> Self {
        ApiCall { request, decode }
    }

    /// Sends the call: the typed answer, or an [`Error`](crate::Error) (`Api` with the server's
    /// error code for 4xx/5xx, `Unavailable` for 502-504, `Http` when the server cannot be
    /// reached).
    pub async fn send(self) -> Result<T> {
        execute(self.request, self.decode).await
    }
}

pub(super) fn json<T: serde::de::DeserializeOwned>(b: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(b)
}

/// `create_oauth_app`: JSON, or the SDKs' multipart form when a logo is attached.
#[must_use = "a call does nothing until it is sent: add `.send().await`"]
#[derive(Debug)]
pub struct CreateOAuthAppBuilder {
    client: LatchkeyClient,
    request: CreateOAuthAppRequest,
    logo: Option<(Vec<u8>, String)>,
}

impl CreateOAuthAppBuilder {
    pub(crate) fn new(client: LatchkeyClient, request: CreateOAuthAppRequest) -> Self {
        CreateOAuthAppBuilder {
            client,
            request,
            logo: None,
        }
    }

    /// Attaches a logo (PNG, JPEG, GIF or WebP, at most 256 KiB; the server checks the bytes).
    pub fn logo(mut self, bytes: Vec<u8>, file_name: impl Into<String>) -> Self {
        self.logo = Some((bytes, file_name.into()));
        self
    }

    pub async fn send(self) -> Result<OAuthApp> {
        let url = super::path(&[super::Lit("oauth"), super::Lit("apps")]);
        let request = self.client.api(Method::POST, &url);
        let request = match self.logo {
            None => request.json(&self.request),
            Some((bytes, name)) => request.multipart(form(self.request, bytes, name)?),
        };
        execute(request, json).await
    }
}

/// The multipart form of the published SDKs: text fields (scopes comma-joined, definitions
/// as a JSON string) and the `logo` file. A scope containing `,` (legal in RFC 6749) cannot
/// travel comma-joined: refused before anything is sent.
fn form(r: CreateOAuthAppRequest, logo: Vec<u8>, file_name: String) -> Result<reqwest::multipart::Form> {
    use reqwest::multipart::{Form, Part};
    if let Some(bad) = r.supported_scopes.iter().flatten().find(|s| s.contains(',')) {
        return Err(Error::InvalidRequest(format!(
            "scope {bad:?} contains a comma, which the multipart form cannot carry: create the app without a logo"
        )));
    }
    let mut f = Form::new().text("slug", r.slug).text("name", r.name);
    if let Some(d) = r.description {
        f = f.text("description", d);
    }
    if let Some(d) = r.fqdn {
        f = f.text("fqdn", d);
    }
    if let Some(s) = r.supported_scopes {
        f = f.text("supported_scopes", s.join(","));
    }
    if let Some(defs) = r.scope_definitions {
        let defs = serde_json::to_string(&defs).map_err(|e| Error::InvalidRequest(format!("scope_definitions: {e}")))?;
        f = f.text("scope_definitions", defs);
    }
    if let Some(a) = r.allow_dynamic_client_registration {
        f = f.text("allow_dynamic_client_registration", a.to_string());
    }
    Ok(f.part("logo", Part::bytes(logo).file_name(file_name)))
}

/// `rotate_oauth_client_secret`.
#[must_use = "a call does nothing until it is sent: add `.send().await`"]
#[derive(Debug)]
pub struct RotateOAuthClientSecretBuilder {
    client: LatchkeyClient,
    path: String,
    overlap_seconds: Option<u32>,
}

impl RotateOAuthClientSecretBuilder {
    pub(crate) fn new(client: LatchkeyClient, path: String) -> Self {
        RotateOAuthClientSecretBuilder {
            client,
            path,
            overlap_seconds: None,
        }
    }

    /// Keeps the previous secret working for this many seconds (at most 30 days), so
    /// deployed clients can switch without downtime. Default: it stops at once.
    pub fn overlap_seconds(mut self, seconds: u32) -> Self {
        self.overlap_seconds = Some(seconds);
        self
    }

    pub async fn send(self) -> Result<RotatedSecret> {
        #[derive(Serialize)]
        struct Body {
            overlap_seconds: u32,
        }
        let mut request = self.client.api(Method::POST, &self.path);
        if let Some(overlap_seconds) = self.overlap_seconds {
            request = request.json(&Body { overlap_seconds });
        }
        execute(request, json).await
    }
}

/// `list_oauth_grants` / `list_user_oauth_grants`.
#[must_use = "a call does nothing until it is sent: add `.send().await`"]
#[derive(Debug)]
pub struct ListOAuthGrantsBuilder {
    client: LatchkeyClient,
    path: String,
    status: Option<GrantStatus>,
    limit: Option<u32>,
}

impl ListOAuthGrantsBuilder {
    pub(crate) fn new(client: LatchkeyClient, path: String) -> Self {
        ListOAuthGrantsBuilder {
            client,
            path,
            status: None,
            limit: None,
        }
    }

    /// Only grants with this status (default: all).
    pub fn status(mut self, status: GrantStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// At most this many grants (1 to 1000; default 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub async fn send(self) -> Result<Vec<OAuthGrant>> {
        let mut query = Vec::new();
        if let Some(s) = self.status {
            query.push(format!("status={}", s.as_str()));
        }
        if let Some(l) = self.limit {
            query.push(format!("limit={l}"));
        }
        let url = if query.is_empty() {
            self.path
        } else {
            format!("{}?{}", self.path, query.join("&"))
        };
        execute(self.client.api(Method::GET, &url), |b| {
            serde_json::from_slice::<super::Grants>(b).map(|w| w.grants)
        })
        .await
    }
}

/// `revoke_oauth_grant`.
#[must_use = "a call does nothing until it is sent: add `.send().await`"]
#[derive(Debug)]
pub struct RevokeOAuthGrantBuilder {
    client: LatchkeyClient,
    path: String,
    reason: Option<String>,
}

impl RevokeOAuthGrantBuilder {
    pub(crate) fn new(client: LatchkeyClient, path: String) -> Self {
        RevokeOAuthGrantBuilder {
            client,
            path,
            reason: None,
        }
    }

    /// Why, for the audit trail (at most 500 characters).
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Revokes the grant; answers it (`status: revoked`).
    pub async fn send(self) -> Result<OAuthGrant> {
        #[derive(Serialize)]
        struct Body {
            reason: String,
        }
        let mut request = self.client.api(Method::POST, &self.path);
        if let Some(reason) = self.reason {
            request = request.json(&Body { reason });
        }
        execute(request, json).await
    }
}
