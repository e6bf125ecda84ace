//! HTTP plumbing below every surface: the error types (`error`), extractors (`extract`),
//! cookies, the hosted pages' renderer (`pages`), request ids, and the path rewrite that lets
//! every route be declared once (see [`rewrite`]). The route table is `crate::routes`.

pub mod cookies;
pub mod error;
pub mod extract;
pub mod pages;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted (logos are at most 256 KiB).
pub const MAX_BODY: usize = 1024 * 1024;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = latchkey_core::crypto::b64url(&latchkey_core::crypto::random_bytes::<12>());
        id.parse().ok().map(RequestId::new)
    }
}

/// The deployment named by a `/deployments/{deployment_id}/…` prefix, which [`rewrite`]
/// strips before routing; the API key extractor checks it.
#[derive(Debug, Clone)]
pub struct DeploymentScope(pub String);

/// The app named by a path issuer (`/a/{slug}/…`, or RFC 8414 path insertion
/// `/.well-known/{document}/a/{slug}`), which [`rewrite`] strips before routing.
#[derive(Debug, Clone)]
pub struct IssuerPath(pub String);

fn with_path(req: &mut Request<axum::body::Body>, path: &str) -> bool {
    let new = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    match new.parse() {
        Ok(uri) => {
            *req.uri_mut() = uri;
            true
        }
        Err(_) => false,
    }
}

/// Rewrites prefixed paths so every route is declared once:
/// `/deployments/{id}/<route>` → `<route>` (management API scoped to a deployment),
/// `/a/{slug}/<route>` → `<route>` (a path issuer's endpoints and OIDC discovery), and
/// `/.well-known/{doc}/a/{slug}` → `/.well-known/{doc}` (RFC 8414 path insertion).
fn rewrite(mut req: Request<axum::body::Body>) -> Request<axum::body::Body> {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/deployments/")
        && let Some((id, tail)) = rest.split_once('/')
    {
        if with_path(&mut req, &format!("/{tail}")) {
            req.extensions_mut().insert(DeploymentScope(id.to_owned()));
        }
    } else if let Some(rest) = path.strip_prefix("/a/")
        && let Some((slug, tail)) = rest.split_once('/')
    {
        if with_path(&mut req, &format!("/{tail}")) {
            req.extensions_mut().insert(IssuerPath(slug.to_owned()));
        }
    } else if let Some(rest) = path.strip_prefix("/.well-known/")
        && let Some((doc, slug)) = rest.split_once("/a/")
        && (doc == "openid-configuration" || doc == "oauth-authorization-server")
        && !slug.is_empty()
        && !slug.contains('/')
        && with_path(&mut req, &format!("/.well-known/{doc}"))
    {
        req.extensions_mut().insert(IssuerPath(slug.to_owned()));
    }
    req
}

/// `Cache-Control: no-store` and `Pragma: no-cache` on every response of the routes it wraps
/// (RFC 6749 §5.1 for token responses; also introspection, revocation, userinfo,
/// registration and the gateway, whose answers are about live credentials).
pub fn no_store<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ))
}

/// The outer layers around the route table: the prefix [`rewrite`] before routing, then
/// tracing with the request id, which is made here when the client sent none and echoed in
/// the response.
pub fn serve(routes: Router) -> Router {
    Router::new()
        .fallback_service(tower::ServiceBuilder::new().map_request(rewrite).service(routes))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
}
