//! The backend management API: apps, scopes, clients, client secrets, grants, signing keys.
//!
//! Every operation returns a builder; finish it with `.send().await`. Paths take the app's
//! slug and a client's record `id` or public `client_id`; every path segment is
//! percent-encoded (a scope `mcp:invoke` travels as `mcp%3Ainvoke`).
//!
//! ```no_run
//! use latchkey_client::models::{ClientAuthMethod, CreateOAuthAppRequest, CreateOAuthClientRequest, GrantType};
//! use latchkey_client::{LatchkeyClient, LatchkeyConfig};
//!
//! # async fn run() -> latchkey_client::Result<()> {
//! let client = LatchkeyClient::new(LatchkeyConfig::from_env()?)?;
//! let oauth = client.oauth();
//!
//! let mut app = CreateOAuthAppRequest::new("acme", "Acme");
//! app.supported_scopes = Some(vec!["read".into(), "write".into(), "mcp:invoke".into()]);
//! oauth.create_oauth_app(app).send().await?;
//!
//! let created = oauth
//!     .create_oauth_client(
//!         "acme",
//!         CreateOAuthClientRequest::new(
//!             ClientAuthMethod::ClientSecretBasic,
//!             vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
//!             vec!["https://app.example.com/callback".into()],
//!         ),
//!     )
//!     .send()
//!     .await?;
//! let secret = created.client_secret.expect("shown once, on creation");
//!
//! // Later: rotate, keeping the old secret valid for an hour.
//! let rotated = oauth.rotate_oauth_client_secret("acme", &created.client_id).overlap_seconds(3600).send().await?;
//! # let _ = (secret, rotated); Ok(()) }
//! ```

mod builders;

pub use builders::{ApiCall, CreateOAuthAppBuilder, ListOAuthGrantsBuilder, RevokeOAuthGrantBuilder, RotateOAuthClientSecretBuilder};

use reqwest::Method;
use serde::Deserialize;

use crate::client::LatchkeyClient;
use crate::models::{
    ClientSecretInfo, CreateOAuthAppRequest, CreateOAuthClientRequest, DomainVerification, OAuthApp, OAuthClient, OAuthGrant,
    ScopeDefinition, SetOAuthScopeMappingRequest, SigningKey, UpdateOAuthAppRequest, UpdateOAuthClientRequest, UpdateOAuthScopeRequest,
};

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters.
pub(crate) fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/{a}/{b}/…` from literal parts (`&'static str`, sent as they are) and values (encoded).
pub(crate) fn path(parts: &[Part<'_>]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push('/');
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Val(s) => out.push_str(&segment(s)),
        }
    }
    out
}

#[derive(Clone, Copy)]
pub(crate) enum Part<'a> {
    Lit(&'static str),
    Val(&'a str),
}

use Part::{Lit, Val};

/// `/oauth/apps/{slug}/…`.
fn app_path<'a>(slug: &'a str, rest: &[Part<'a>]) -> String {
    let mut parts = vec![Lit("oauth"), Lit("apps"), Val(slug)];
    parts.extend_from_slice(rest);
    path(&parts)
}

#[derive(Deserialize)]
struct Apps {
    apps: Vec<OAuthApp>,
}
#[derive(Deserialize)]
struct Scopes {
    scopes: Vec<ScopeDefinition>,
}
#[derive(Deserialize)]
struct Clients {
    clients: Vec<OAuthClient>,
}
#[derive(Deserialize)]
pub(crate) struct Grants {
    pub(crate) grants: Vec<OAuthGrant>,
}
#[derive(Deserialize)]
struct Secrets {
    secrets: Vec<ClientSecretInfo>,
}
#[derive(Deserialize)]
struct Keys {
    keys: Vec<SigningKey>,
}
#[derive(Deserialize)]
struct Rotated {
    new: SigningKey,
}

/// The management API; get it from [`LatchkeyClient::oauth`].
#[derive(Debug, Clone)]
pub struct OAuthApi {
    client: LatchkeyClient,
}

impl OAuthApi {
    pub(crate) fn new(client: LatchkeyClient) -> Self {
        OAuthApi { client }
    }

    fn call<T>(&self, method: Method, path: String, decode: fn(&[u8]) -> serde_json::Result<T>) -> ApiCall<T> {
        ApiCall::new(self.client.api(method, &path), decode)
    }

    /// A call answering the object itself.
    fn object<T: serde::de::DeserializeOwned>(&self, method: Method, path: String) -> ApiCall<T> {
        self.call(method, path, builders::json)
    }

    /// A call with a JSON body, answering the object itself.
    fn with_body<T: serde::de::DeserializeOwned>(&self, method: Method, path: String, body: &impl serde::Serialize) -> ApiCall<T> {
        ApiCall::new(self.client.api(method, &path).json(body), builders::json)
    }

    // Apps.

    /// `GET /oauth/apps`.
    pub fn list_oauth_apps(&self) -> ApiCall<Vec<OAuthApp>> {
        self.call(Method::GET, path(&[Lit("oauth"), Lit("apps")]), |b| {
            serde_json::from_slice::<Apps>(b).map(|w| w.apps)
        })
    }

    /// `POST /oauth/apps`: JSON, or multipart when a logo is attached with
    /// [`CreateOAuthAppBuilder::logo`]. Every app gets its first signing key.
    pub fn create_oauth_app(&self, request: CreateOAuthAppRequest) -> CreateOAuthAppBuilder {
        CreateOAuthAppBuilder::new(self.client.clone(), request)
    }

    /// `GET /oauth/apps/{slug}`.
    pub fn get_oauth_app(&self, slug: &str) -> ApiCall<OAuthApp> {
        self.object(Method::GET, app_path(slug, &[]))
    }

    /// `PATCH /oauth/apps/{slug}` (merge-safe; `is_active: Some(false)` disables the app).
    pub fn update_oauth_app(&self, slug: &str, request: UpdateOAuthAppRequest) -> ApiCall<OAuthApp> {
        self.with_body(Method::PATCH, app_path(slug, &[]), &request)
    }

    /// `POST /oauth/apps/{slug}/verify-domain`: checks the app's `fqdn` points at the server.
    pub fn verify_oauth_app_domain(&self, slug: &str) -> ApiCall<DomainVerification> {
        self.object(Method::POST, app_path(slug, &[Lit("verify-domain")]))
    }

    // Scopes.

    /// `GET /oauth/apps/{slug}/scopes`.
    pub fn list_oauth_scopes(&self, slug: &str) -> ApiCall<Vec<ScopeDefinition>> {
        self.call(Method::GET, app_path(slug, &[Lit("scopes")]), |b| {
            serde_json::from_slice::<Scopes>(b).map(|w| w.scopes)
        })
    }

    /// `PATCH /oauth/apps/{slug}/scopes/{scope}`: display name and description. Answers the app.
    pub fn update_oauth_scope(&self, slug: &str, scope: &str, request: UpdateOAuthScopeRequest) -> ApiCall<OAuthApp> {
        self.with_body(Method::PATCH, app_path(slug, &[Lit("scopes"), Val(scope)]), &request)
    }

    /// `POST /oauth/apps/{slug}/scopes/{scope}/archive`. Answers the app.
    pub fn archive_oauth_scope(&self, slug: &str, scope: &str) -> ApiCall<OAuthApp> {
        self.object(Method::POST, app_path(slug, &[Lit("scopes"), Val(scope), Lit("archive")]))
    }

    /// `POST /oauth/apps/{slug}/scopes/{scope}/unarchive`. Answers the app.
    pub fn unarchive_oauth_scope(&self, slug: &str, scope: &str) -> ApiCall<OAuthApp> {
        self.object(Method::POST, app_path(slug, &[Lit("scopes"), Val(scope), Lit("unarchive")]))
    }

    /// `POST /oauth/apps/{slug}/scopes/{scope}/mapping`: resource category and directory
    /// permissions. Answers the app.
    pub fn set_oauth_scope_mapping(&self, slug: &str, scope: &str, request: SetOAuthScopeMappingRequest) -> ApiCall<OAuthApp> {
        self.with_body(Method::POST, app_path(slug, &[Lit("scopes"), Val(scope), Lit("mapping")]), &request)
    }

    // Clients.

    /// `GET /oauth/apps/{slug}/clients` (never with secrets).
    pub fn list_oauth_clients(&self, slug: &str) -> ApiCall<Vec<OAuthClient>> {
        self.call(Method::GET, app_path(slug, &[Lit("clients")]), |b| {
            serde_json::from_slice::<Clients>(b).map(|w| w.clients)
        })
    }

    /// `POST /oauth/apps/{slug}/clients`. The answer carries the `client_secret` once (for
    /// secret-based auth methods).
    pub fn create_oauth_client(&self, slug: &str, request: CreateOAuthClientRequest) -> ApiCall<OAuthClient> {
        self.with_body(Method::POST, app_path(slug, &[Lit("clients")]), &request)
    }

    /// `GET /oauth/apps/{slug}/clients/{id}` (`id`: record id or `client_id`).
    pub fn get_oauth_client(&self, slug: &str, id: &str) -> ApiCall<OAuthClient> {
        self.object(Method::GET, app_path(slug, &[Lit("clients"), Val(id)]))
    }

    /// `PATCH /oauth/apps/{slug}/clients/{id}`.
    pub fn update_oauth_client(&self, slug: &str, id: &str, request: UpdateOAuthClientRequest) -> ApiCall<OAuthClient> {
        self.with_body(Method::PATCH, app_path(slug, &[Lit("clients"), Val(id)]), &request)
    }

    /// `DELETE /oauth/apps/{slug}/clients/{id}`: deactivates the client (its tokens stop
    /// working at once; it can be reactivated). Answers the client.
    pub fn deactivate_oauth_client(&self, slug: &str, id: &str) -> ApiCall<OAuthClient> {
        self.object(Method::DELETE, app_path(slug, &[Lit("clients"), Val(id)]))
    }

    /// `POST /oauth/apps/{slug}/clients/{id}/reactivate`.
    pub fn reactivate_oauth_client(&self, slug: &str, id: &str) -> ApiCall<OAuthClient> {
        self.object(Method::POST, app_path(slug, &[Lit("clients"), Val(id), Lit("reactivate")]))
    }

    /// `POST /oauth/apps/{slug}/clients/{id}/rotate-secret`, optionally keeping the previous
    /// secret valid for [`RotateOAuthClientSecretBuilder::overlap_seconds`].
    pub fn rotate_oauth_client_secret(&self, slug: &str, id: &str) -> RotateOAuthClientSecretBuilder {
        RotateOAuthClientSecretBuilder::new(
            self.client.clone(),
            app_path(slug, &[Lit("clients"), Val(id), Lit("rotate-secret")]),
        )
    }

    /// `GET /oauth/apps/{slug}/clients/{id}/secrets`: the client's secrets, newest first,
    /// expired ones included (records with hints and expiry, never the values).
    pub fn list_oauth_client_secrets(&self, slug: &str, id: &str) -> ApiCall<Vec<ClientSecretInfo>> {
        self.call(Method::GET, app_path(slug, &[Lit("clients"), Val(id), Lit("secrets")]), |b| {
            serde_json::from_slice::<Secrets>(b).map(|w| w.secrets)
        })
    }

    // Grants.

    /// `GET /oauth/apps/{slug}/clients/{id}/grants`, optionally filtered by status.
    pub fn list_oauth_grants(&self, slug: &str, client_id: &str) -> ListOAuthGrantsBuilder {
        ListOAuthGrantsBuilder::new(
            self.client.clone(),
            app_path(slug, &[Lit("clients"), Val(client_id), Lit("grants")]),
        )
    }

    /// `GET /users/{user_id}/grants`: every grant a user has given.
    pub fn list_user_oauth_grants(&self, user_id: &str) -> ListOAuthGrantsBuilder {
        ListOAuthGrantsBuilder::new(self.client.clone(), path(&[Lit("users"), Val(user_id), Lit("grants")]))
    }

    /// `GET /grants/{grant_id}`.
    pub fn get_oauth_grant(&self, grant_id: &str) -> ApiCall<OAuthGrant> {
        self.object(Method::GET, path(&[Lit("grants"), Val(grant_id)]))
    }

    /// `POST /oauth/apps/{slug}/clients/{id}/grants/{grant_id}/revoke`: every token of the
    /// grant stops working at once. Idempotent; an unknown grant is a 404.
    pub fn revoke_oauth_grant(&self, slug: &str, client_id: &str, grant_id: &str) -> RevokeOAuthGrantBuilder {
        RevokeOAuthGrantBuilder::new(
            self.client.clone(),
            app_path(slug, &[Lit("clients"), Val(client_id), Lit("grants"), Val(grant_id), Lit("revoke")]),
        )
    }

    // Signing keys.

    /// `GET /oauth/apps/{slug}/signing-keys`.
    pub fn list_signing_keys(&self, slug: &str) -> ApiCall<Vec<SigningKey>> {
        self.call(Method::GET, app_path(slug, &[Lit("signing-keys")]), |b| {
            serde_json::from_slice::<Keys>(b).map(|w| w.keys)
        })
    }

    /// `POST /oauth/apps/{slug}/signing-keys/rotate`: a new active key; the previous one is
    /// retired (still published). Answers the new key.
    pub fn rotate_signing_key(&self, slug: &str) -> ApiCall<SigningKey> {
        self.call(Method::POST, app_path(slug, &[Lit("signing-keys"), Lit("rotate")]), |b| {
            serde_json::from_slice::<Rotated>(b).map(|w| w.new)
        })
    }

    /// `POST /oauth/apps/{slug}/signing-keys/{kid}/compromise`: withdraws the key at once
    /// (replaced if it was the active one). Answers the compromised key.
    pub fn compromise_signing_key(&self, slug: &str, kid: &str) -> ApiCall<SigningKey> {
        self.object(Method::POST, app_path(slug, &[Lit("signing-keys"), Val(kid), Lit("compromise")]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LatchkeyConfig;

    #[test]
    fn prepared_calls_never_show_the_key() {
        let client = LatchkeyClient::new(LatchkeyConfig::new("lk_api_supersecret", "http://127.0.0.1:1")).unwrap();
        let oauth = client.oauth();
        assert!(!format!("{:?}", oauth.get_oauth_app("acme")).contains("supersecret"));
        assert!(!format!("{:?}", oauth.rotate_oauth_client_secret("acme", "c")).contains("supersecret"));
    }

    #[tokio::test]
    async fn a_comma_in_a_scope_cannot_travel_in_the_multipart_form() {
        let client = LatchkeyClient::new(LatchkeyConfig::new("k", "http://127.0.0.1:1")).unwrap();
        let mut req = CreateOAuthAppRequest::new("acme", "Acme");
        req.supported_scopes = Some(vec!["a,b".into()]);
        let e = client
            .oauth()
            .create_oauth_app(req)
            .logo(vec![1], "x.png")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(e, crate::Error::InvalidRequest(_)), "{e:?}");
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("mcp:invoke"), "mcp%3Ainvoke");
        assert_eq!(segment("a/b?c#d %"), "a%2Fb%3Fc%23d%20%25");
        assert_eq!(segment("lkc_AZaz09-._~"), "lkc_AZaz09-._~");
        assert_eq!(segment("é"), "%C3%A9");
        assert_eq!(
            app_path("acme", &[Lit("scopes"), Val("mcp:invoke"), Lit("archive")]),
            "/oauth/apps/acme/scopes/mcp%3Ainvoke/archive"
        );
    }
}
