//! [`LatchkeyAuth`]: the tower layer that turns `Authorization: Bearer …` into a verified
//! [`Principal`] by asking the Latchkey gateway, and the RFC 9728 metadata router.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use latchkey_client::gateway::{GatewayAuthzOptions, GatewayDenyReason, GatewayPrincipalType};
use latchkey_client::{Error, LatchkeyClient};
use tower::{Layer, Service};

use crate::cache::{self, PositiveCache};
use crate::challenge::Refusal;
use crate::config::{Checked, ConfigError, ResourceConfig, is_scope_token};
use crate::principal::Principal;

/// The authentication layer of a protected resource. Cheap to clone.
///
/// For each request it reads `Authorization: Bearer <token>`, asks the gateway
/// (`oauth_access_token`, the request's method, [`ResourceConfig::gateway_resource`], the
/// required permissions), and then either calls the inner service — with a [`Principal`] in
/// the request's extensions and **without** the `Authorization` header, so the client's
/// token never travels further — or answers:
///
/// | situation | answer |
/// |---|---|
/// | no bearer token (none, or another scheme) | 401 `WWW-Authenticate: Bearer [scope="…", ]resource_metadata="…"` |
/// | the gateway refuses the token (revoked, expired, unknown, grant revoked, …) | 401 `Bearer error="invalid_token", …` |
/// | the token lacks a required permission | 403 `Bearer error="insufficient_scope", scope="<required>", resource_metadata="…"` |
/// | rate limited | 429 with `Retry-After` |
/// | the gateway is unreachable, times out or fails | 503 — never let through |
/// | the gateway refuses this service's own API key | 500 (logged) |
///
/// `resource_metadata` is the absolute URL of the RFC 9728 document served by
/// [`LatchkeyAuth::metadata_router`]; `scope` lists the route's required permissions.
///
/// Required permissions (all of them) per route: [`LatchkeyAuth::require`] gives a layer for
/// `route_layer`. A `require` layer inside a layer of the *same* `LatchkeyAuth` does not ask
/// the gateway again: it checks the effective permissions the outer check returned (the same
/// rule the gateway applies, but the denial is then not in Latchkey's audit trail). Inside a
/// layer of another `LatchkeyAuth` it refuses with 500: that answer was for another resource.
///
/// Requests for the metadata document's own path always pass through unauthenticated.
#[derive(Debug, Clone)]
pub struct LatchkeyAuth {
    shared: Arc<Shared>,
    required: Arc<[String]>,
}

/// Which `LatchkeyAuth` verified a request (its shared state), so that nested `require`
/// layers trust only their own verification.
#[derive(Clone)]
struct VerifiedBy(Arc<Shared>);

#[derive(Debug, Clone)]
struct Shared {
    client: LatchkeyClient,
    checked: Checked,
    cache: Option<PositiveCache>,
}

impl LatchkeyAuth {
    /// A layer for the resource `config` describes, checking tokens with `client` (whose
    /// `gateway_url` and API key are used; keep its `timeout` short).
    pub fn new(client: LatchkeyClient, config: ResourceConfig) -> Result<Self, ConfigError> {
        Ok(LatchkeyAuth {
            shared: Arc::new(Shared {
                client,
                checked: Checked::new(config)?,
                cache: None,
            }),
            required: Arc::from(Vec::new()),
        })
    }

    /// Caches allowed answers for `ttl` (at most [`MAX_CACHE_TTL`](crate::MAX_CACHE_TTL), 5 s;
    /// zero turns the cache off, the default), keyed by a hash of (token, method, resource,
    /// required permissions) and never past the token's expiry. Refusals are never cached.
    ///
    /// Revocations are pushed: the layer follows Latchkey's change feed
    /// (`GET /v1/authz/changes`, with the client's API key) and empties the cache as soon as
    /// anything that could change an answer commits — a revoked token stops working here
    /// within the feed's delivery time (milliseconds), not after `ttl`. While the feed is
    /// not connected the cache is not used at all. Cached requests do not count against
    /// Latchkey's rate limits and are not in its audit trail. Consider it when every check
    /// crosses a slow network; next to Latchkey the gateway's own cache is enough.
    pub fn with_cache(self, ttl: Duration) -> Self {
        let mut shared = (*self.shared).clone();
        shared.cache = (!ttl.is_zero()).then(|| PositiveCache::new(ttl));
        // Follow the change feed from now when there is a runtime; else from the first check.
        if let Some(c) = &shared.cache
            && tokio::runtime::Handle::try_current().is_ok()
        {
            c.follow(&shared.client);
        }
        LatchkeyAuth {
            shared: Arc::new(shared),
            required: self.required,
        }
    }

    /// The same authentication, additionally requiring every one of `permissions` (scopes,
    /// or organization / workspace permissions mapped from scopes). Use it per route:
    ///
    /// ```no_run
    /// # use axum::{Router, routing::{get, post}};
    /// # fn app(auth: latchkey_axum::LatchkeyAuth) -> Router {
    /// Router::new()
    ///     .route("/projects", get(|| async { "list" }).route_layer(auth.require(["read"])))
    ///     .route("/projects", post(|| async { "create" }).route_layer(auth.require(["write"])))
    ///     .merge(auth.metadata_router())
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When a permission is not a scope token (1 to 128 visible ASCII characters without
    /// space, `"` or `\`) or more than 100 are given: a programming error, found at start-up.
    pub fn require<I, P>(&self, permissions: I) -> LatchkeyAuth
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let required: Vec<String> = permissions.into_iter().map(Into::into).collect();
        if let Some(bad) = required.iter().find(|p| !is_scope_token(p)) {
            panic!("LatchkeyAuth::require: {bad:?} is not a permission (1-128 visible ASCII characters, no space, quote or backslash)");
        }
        assert!(required.len() <= 100, "LatchkeyAuth::require: at most 100 permissions");
        LatchkeyAuth {
            shared: self.shared.clone(),
            required: Arc::from(required),
        }
    }

    /// Whether the positive cache is in use: configured, and Latchkey's change feed
    /// connected (only then are answers served from it). For health checks and tests.
    pub fn cache_is_live(&self) -> bool {
        self.shared.cache.as_ref().is_some_and(PositiveCache::is_live)
    }

    /// The permissions this layer requires.
    pub fn required_permissions(&self) -> &[String] {
        &self.required
    }

    /// The canonical URL of the protected resource (`ResourceConfig::resource`).
    pub fn resource(&self) -> &str {
        &self.shared.checked.config.resource
    }

    /// Path of the metadata document on this server, e.g.
    /// `/.well-known/oauth-protected-resource/mcp` for `https://host/mcp`.
    pub fn metadata_path(&self) -> &str {
        &self.shared.checked.metadata_path
    }

    /// Absolute URL of the metadata document (the challenges' `resource_metadata`).
    pub fn metadata_url(&self) -> &str {
        &self.shared.checked.metadata_url
    }

    /// The RFC 9728 protected resource metadata document.
    pub fn metadata(&self) -> serde_json::Value {
        self.shared.checked.metadata()
    }

    /// A router answering `GET` (and `HEAD`) at [`LatchkeyAuth::metadata_path`] with the
    /// metadata document. Merge it into your app *outside* any authentication layer (it is
    /// public): `app.merge(auth.metadata_router())`.
    pub fn metadata_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let body = self.metadata().to_string();
        let handler = move || {
            let body = body.clone();
            async move {
                (
                    [
                        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                        (CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
                    ],
                    body,
                )
                    .into_response()
            }
        };
        Router::new().route(self.metadata_path(), axum::routing::get(handler))
    }

    /// Verifies the request: `Ok` with the Authorization header removed and the principal
    /// inserted, or the refusal to answer.
    async fn authorize<B>(&self, req: &mut Request<B>) -> Result<(), Response> {
        let refuse = |r: Refusal| r.response(&self.required, self.metadata_url());
        // An outer layer of this same LatchkeyAuth already verified the token for this
        // resource: check the extra permissions against its answer. A principal verified by
        // another LatchkeyAuth (another resource) is not this resource's answer, and its token
        // is gone from the request: a wiring mistake, refused.
        if let Some(p) = req.extensions().get::<Principal>() {
            let ours = req
                .extensions()
                .get::<VerifiedBy>()
                .is_some_and(|v| Arc::ptr_eq(&v.0, &self.shared));
            if !ours {
                tracing::error!(
                    "a LatchkeyAuth layer for another resource verified this request; nest `require` layers of the same LatchkeyAuth"
                );
                return Err(refuse(Refusal::Misconfigured));
            }
            return if p.missing(&self.required).is_empty() {
                Ok(())
            } else {
                Err(refuse(Refusal::InsufficientScope))
            };
        }
        if req.uri().path() == self.metadata_path() {
            return Ok(());
        }
        let token = bearer_token(req).map_err(refuse)?;
        let context = GatewayAuthzOptions {
            client_ip: req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip().to_string()),
            user_agent: req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
            required_permissions: None,
        };
        let principal = self.check(&token, req.method().as_str(), context).await.map_err(refuse)?;
        req.headers_mut().remove(AUTHORIZATION);
        req.extensions_mut().insert(principal);
        req.extensions_mut().insert(VerifiedBy(self.shared.clone()));
        Ok(())
    }

    /// Asks the gateway (or the cache) about `token` for a request with `method`; `context`
    /// carries the end user's address and user agent.
    async fn check(&self, token: &str, method: &str, context: GatewayAuthzOptions) -> Result<Principal, Refusal> {
        let shared = &self.shared;
        let resource = &shared.checked.gateway_resource;
        let cached = shared.cache.as_ref().map(|c| {
            c.follow(&shared.client);
            (c, cache::key(token, method, resource, &self.required), c.epoch())
        });
        if let Some((c, k, _)) = &cached
            && let Some(p) = c.get(k)
        {
            return Ok((*p).clone());
        }
        let options = GatewayAuthzOptions {
            required_permissions: (!self.required.is_empty()).then(|| self.required.to_vec()),
            ..context
        };
        let answer = shared
            .client
            .gateway()
            .check_authz_with_principal_type(GatewayPrincipalType::OauthAccessToken, token, method, resource, options)
            .await;
        let r = match answer {
            Ok(r) => r,
            Err(Error::Denied { reason, request_id, .. }) if !reason.is_token_problem() => {
                tracing::error!(%reason, ?request_id, "the gateway refused this service's API key: check the LatchkeyClient configuration");
                return Err(Refusal::Misconfigured);
            }
            Err(Error::Denied { reason, .. }) => {
                return Err(Refusal::InvalidToken(format!("the access token is not valid here ({reason})")));
            }
            Err(Error::Api { status: 400, message, .. }) => {
                return Err(Refusal::InvalidRequest(format!("the request cannot be checked: {message}")));
            }
            Err(e @ (Error::Api { .. } | Error::Config(_))) => {
                tracing::error!(error = %e, "the gateway refused the check: check the middleware's configuration");
                return Err(Refusal::Misconfigured);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the gateway could not be asked; refusing the request");
                return Err(Refusal::Unavailable);
            }
        };
        match (r.allowed, r.reason) {
            (true, _) => {}
            (false, Some(GatewayDenyReason::PermissionDenied)) => return Err(Refusal::InsufficientScope),
            (false, Some(GatewayDenyReason::RateLimited)) => {
                return Err(Refusal::RateLimited {
                    retry_after: r.retry_after.unwrap_or(1).max(1),
                });
            }
            (false, None) => {
                tracing::error!(request_id = %r.request_id, "the gateway refused without a reason; refusing the request");
                return Err(Refusal::Unavailable);
            }
        }
        let Some(principal) = Principal::from_check(&r) else {
            tracing::error!(request_id = %r.request_id, "the gateway allowed a principal without a user; refusing the request");
            return Err(Refusal::Unavailable);
        };
        if let Some((c, k, epoch)) = cached {
            c.insert(k, Arc::new(principal.clone()), epoch);
        }
        Ok(principal)
    }
}

/// The bearer token of the request (RFC 6750 §2.1): exactly one Authorization header with
/// the `Bearer` scheme (case-insensitive) and a non-empty token.
fn bearer_token<B>(req: &Request<B>) -> Result<String, Refusal> {
    let mut values = req.headers().get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Refusal::NoToken);
    };
    if values.next().is_some() {
        return Err(Refusal::InvalidRequest("send one Authorization header".into()));
    }
    let value = value
        .to_str()
        .map_err(|_| Refusal::InvalidToken("the Authorization header is not text".into()))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::NoToken);
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(Refusal::InvalidToken("the bearer token is empty".into()));
    }
    Ok(token.to_owned())
}

impl<S> Layer<S> for LatchkeyAuth {
    type Service = LatchkeyAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LatchkeyAuthService { auth: self.clone(), inner }
    }
}

/// The service [`LatchkeyAuth`] wraps around a route or router.
#[derive(Debug, Clone)]
pub struct LatchkeyAuthService<S> {
    auth: LatchkeyAuth,
    inner: S,
}

impl<S, B> Service<Request<B>> for LatchkeyAuthService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The clone is not ready; call the instance that was polled ready and keep the clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.authorize(&mut req).await {
                Ok(()) => inner.call(req).await,
                Err(refusal) => Ok(refusal),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(values: &[&str]) -> Request<()> {
        let mut b = Request::builder().uri("/mcp");
        for v in values {
            b = b.header(AUTHORIZATION, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        assert_eq!(bearer_token(&req(&["Bearer lk_at_x"])), Ok("lk_at_x".into()));
        assert_eq!(bearer_token(&req(&["bearer   lk_at_x "])), Ok("lk_at_x".into()));
        assert_eq!(bearer_token(&req(&[])), Err(Refusal::NoToken));
        assert_eq!(bearer_token(&req(&["Basic YTpi"])), Err(Refusal::NoToken));
        assert_eq!(bearer_token(&req(&["Bearerlk_at_x"])), Err(Refusal::NoToken));
        assert!(matches!(bearer_token(&req(&["Bearer "])), Err(Refusal::InvalidToken(_))));
        assert!(matches!(
            bearer_token(&req(&["Bearer a", "Bearer b"])),
            Err(Refusal::InvalidRequest(_))
        ));
    }

    #[test]
    #[should_panic(expected = "is not a permission")]
    fn require_refuses_non_tokens() {
        let client = LatchkeyClient::new(latchkey_client::LatchkeyConfig::new("k", "http://127.0.0.1:1")).unwrap();
        let auth = LatchkeyAuth::new(
            client,
            ResourceConfig::new("https://api.example.com/mcp", "https://auth.example.com"),
        )
        .unwrap();
        let _ = auth.require(["read write"]);
    }
}
