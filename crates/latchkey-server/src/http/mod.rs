//! HTTP plumbing: the router (which path goes to which handler), request ids, tracing,
//! body limits, health endpoints.

pub mod error;
pub mod extract;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::{get, post};
use latchkey_core::directory::MembershipKind;
use serde_json::{Value, json};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::api::{
    api_keys, apps, audit, clients, consent_requests, deployment, directory, grants, initial_access_tokens, keys, rate_limits,
    resource_servers, scopes,
};
use crate::http::error::ApiError;
use crate::state::AppState;

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

/// The management routes (also served under `/deployments/{deployment_id}`, see [`rewrite`]).
fn management() -> Router<AppState> {
    use MembershipKind::{Organization, Workspace};
    Router::new()
        .route("/oauth/apps", get(apps::list).post(apps::create))
        .route("/oauth/apps/{slug}", get(apps::get).patch(apps::patch))
        .route("/oauth/apps/{slug}/verify-domain", post(apps::verify_domain))
        .route("/oauth/apps/{slug}/logo", post(apps::upload_logo).put(apps::upload_logo))
        .route("/oauth/apps/{slug}/scopes", get(scopes::list))
        .route("/oauth/apps/{slug}/scopes/{scope}", axum::routing::patch(scopes::patch))
        .route("/oauth/apps/{slug}/scopes/{scope}/archive", post(scopes::archive))
        .route("/oauth/apps/{slug}/scopes/{scope}/unarchive", post(scopes::unarchive))
        .route(
            "/oauth/apps/{slug}/scopes/{scope}/mapping",
            post(scopes::set_mapping).put(scopes::set_mapping),
        )
        .route("/oauth/apps/{slug}/clients", get(clients::list).post(clients::create))
        .route(
            "/oauth/apps/{slug}/clients/{id}",
            get(clients::get).patch(clients::patch).delete(clients::deactivate),
        )
        .route("/oauth/apps/{slug}/clients/{id}/reactivate", post(clients::reactivate))
        .route("/oauth/apps/{slug}/clients/{id}/rotate-secret", post(clients::rotate_secret))
        .route("/oauth/apps/{slug}/clients/{id}/secrets", get(clients::secrets))
        .route("/oauth/apps/{slug}/clients/{id}/grants", get(grants::list_for_client))
        .route("/oauth/apps/{slug}/clients/{id}/grants/{grant_id}/revoke", post(grants::revoke))
        .route("/oauth/apps/{slug}/signing-keys", get(keys::list))
        .route("/oauth/apps/{slug}/signing-keys/rotate", post(keys::rotate))
        .route("/oauth/apps/{slug}/signing-keys/{kid}/compromise", post(keys::compromise))
        .route(
            "/oauth/apps/{slug}/resource-servers",
            get(resource_servers::list).post(resource_servers::create),
        )
        .route(
            "/oauth/apps/{slug}/resource-servers/{id}",
            get(resource_servers::get)
                .patch(resource_servers::update)
                .delete(resource_servers::delete),
        )
        .route(
            "/oauth/apps/{slug}/resource-servers/{id}/rotate-secret",
            post(resource_servers::rotate_secret),
        )
        .route("/oauth/apps/{slug}/rate-limits", get(rate_limits::list).post(rate_limits::create))
        .route(
            "/oauth/apps/{slug}/rate-limits/{id}",
            axum::routing::patch(rate_limits::update).delete(rate_limits::delete),
        )
        .route(
            "/oauth/apps/{slug}/initial-access-tokens",
            get(initial_access_tokens::list).post(initial_access_tokens::create),
        )
        .route(
            "/oauth/apps/{slug}/initial-access-tokens/{id}/revoke",
            post(initial_access_tokens::revoke),
        )
        .route("/grants/{grant_id}", get(grants::get))
        .route("/users", get(directory::list_users).post(directory::create_user))
        .route(
            "/users/{id}",
            get(directory::get_user)
                .patch(directory::update_user)
                .delete(directory::delete_user),
        )
        .route("/users/{id}/grants", get(grants::list_for_user))
        .route("/users/{id}/memberships", get(directory::user_memberships))
        .route("/organizations", get(directory::list_orgs).post(directory::create_org))
        .route(
            "/organizations/{id}",
            get(directory::get_org).patch(directory::update_org).delete(directory::delete_org),
        )
        .route(
            "/organizations/{id}/memberships",
            get(|s, c, p| directory::list_memberships(Organization, s, c, p))
                .post(|s, c, p, b| directory::add_membership(Organization, s, c, p, b)),
        )
        .route(
            "/organizations/{id}/memberships/{user_id}",
            axum::routing::patch(|s, c, p, b| directory::update_membership(Organization, s, c, p, b))
                .delete(|s, c, p| directory::remove_membership(Organization, s, c, p)),
        )
        .route("/workspaces", get(directory::list_workspaces).post(directory::create_workspace))
        .route(
            "/workspaces/{id}",
            get(directory::get_workspace)
                .patch(directory::update_workspace)
                .delete(directory::delete_workspace),
        )
        .route(
            "/workspaces/{id}/memberships",
            get(|s, c, p| directory::list_memberships(Workspace, s, c, p))
                .post(|s, c, p, b| directory::add_membership(Workspace, s, c, p, b)),
        )
        .route(
            "/workspaces/{id}/memberships/{user_id}",
            axum::routing::patch(|s, c, p, b| directory::update_membership(Workspace, s, c, p, b))
                .delete(|s, c, p| directory::remove_membership(Workspace, s, c, p)),
        )
        .route("/deployment", get(deployment::get).patch(deployment::patch))
        .route("/consent-requests/{handoff_id}", get(consent_requests::get))
        .route("/consent-requests/{handoff_id}/accept", post(consent_requests::accept))
        .route("/consent-requests/{handoff_id}/reject", post(consent_requests::reject))
        .route("/audit-events", get(audit::list))
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api-keys/{id}/revoke", post(api_keys::revoke))
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

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/logos/{app_id}", get(apps::logo))
        .route("/v1/authz/check", post(crate::gateway::check))
        .route("/v1/authz/changes", get(crate::gateway::changes::changes))
        .route("/metrics", get(metrics))
        .merge(management())
        .merge(crate::runtime::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    Router::new()
        .fallback_service(tower::ServiceBuilder::new().map_request(rewrite).service(routes))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
}

/// Prometheus metrics (no secrets in them; protect the port if the numbers are sensitive).
async fn metrics() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::gateway::telemetry::prometheus().render(),
    )
}

async fn healthz() -> axum::Json<Value> {
    axum::Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(axum::Json(json!({"status": "ready", "database": state.store.dialect().name()}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the database is unreachable",
            ))
        }
    }
}
