//! Every path the server answers, and the handler it goes to. Start here to find where a
//! request is handled. Prefixed forms are rewritten before routing (`crate::http::rewrite`):
//! `/deployments/{id}/…` reaches the management routes scoped to a deployment, `/a/{slug}/…`
//! and `/.well-known/{document}/a/{slug}` reach a path issuer's runtime routes.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::routing::{get, patch, post};
use latchkey_core::directory::MembershipKind;
use tower_http::cors::{Any, CorsLayer};

use crate::api::{
    api_keys, apps, audit, clients, consent_requests, deployment, directory, grants, health, initial_access_tokens, keys, rate_limits,
    resource_servers, scopes,
};
use crate::gateway::{changes, check};
use crate::http::error::ApiError;
use crate::http::{self, MAX_BODY};
use crate::runtime::{
    assets, authorize, discovery, interaction, introspect, logout, protected_resource, registration, revoke, token, userinfo,
};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/logos/{app_id}", get(apps::logo))
        .merge(gateway())
        .merge(management())
        .merge(runtime())
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
    http::serve(routes)
}

/// The gateway resource servers call. Its answers are never cached; `check` sets `no-store`
/// itself, because a route layer costs the hot path measurably.
fn gateway() -> Router<AppState> {
    Router::new()
        .route("/v1/authz/check", post(check::check))
        .route("/v1/authz/changes", get(changes::changes))
}

/// The backend (management) API, Bearer backend API key; also served under
/// `/deployments/{deployment_id}` (see [`crate::http::rewrite`]).
fn management() -> Router<AppState> {
    use MembershipKind::{Organization, Workspace};
    Router::new()
        .route("/oauth/apps", get(apps::list).post(apps::create))
        .route("/oauth/apps/{slug}", get(apps::get).patch(apps::patch))
        .route("/oauth/apps/{slug}/verify-domain", post(apps::verify_domain))
        .route("/oauth/apps/{slug}/logo", post(apps::upload_logo).put(apps::upload_logo))
        .route("/oauth/apps/{slug}/scopes", get(scopes::list))
        .route("/oauth/apps/{slug}/scopes/{scope}", patch(scopes::patch))
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
            patch(rate_limits::update).delete(rate_limits::delete),
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
            patch(|s, c, p, b| directory::update_membership(Organization, s, c, p, b))
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
            patch(|s, c, p, b| directory::update_membership(Workspace, s, c, p, b))
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

/// The OAuth runtime, relative to an issuer (path issuers reach it through `/a/{slug}`).
fn runtime() -> Router<AppState> {
    // Endpoints browsers' JavaScript clients call directly (discovery, token, userinfo…) are
    // open to any origin; they never rely on cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("dpop")])
        .expose_headers([header::WWW_AUTHENTICATE]);
    // Answers about live credentials: never cached.
    let endpoints = http::no_store(
        Router::new()
            .route("/oauth/token", post(token::token))
            .route("/oauth/introspect", post(introspect::introspect))
            .route("/oauth/revoke", post(revoke::revoke))
            .route("/oauth/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
            .route("/oauth/register", post(registration::register))
            .route(
                "/oauth/register/{client_id}",
                get(registration::manage).put(registration::manage).delete(registration::manage),
            ),
    );
    let documents = Router::new()
        .route("/.well-known/openid-configuration", get(discovery::configuration))
        .route("/.well-known/oauth-authorization-server", get(discovery::configuration))
        .route("/.well-known/jwks.json", get(discovery::jwks));
    Router::new()
        .merge(endpoints.merge(documents).layer(cors))
        .route("/oauth/authorize", get(authorize::authorize).post(authorize::authorize))
        .route("/oauth/consent/init", get(interaction::consent::init))
        .route("/oauth/consent/login", post(interaction::login::login))
        .route("/oauth/consent/decide", post(interaction::consent::decide))
        .route("/oauth/consent/complete", get(interaction::complete::complete))
        .route("/oauth/logout", get(logout::logout).post(logout::logout))
        .route("/assets/latchkey.css", get(assets::css))
        .route("/.well-known/oauth-protected-resource", get(protected_resource::metadata))
        .route("/.well-known/oauth-protected-resource/{*path}", get(protected_resource::metadata))
}
