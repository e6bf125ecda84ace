//! The OAuth 2.1 / OpenID Connect runtime of every app issuer: discovery and JWKS, the
//! authorization endpoint and the hosted sign-in / consent pages, the token, introspection,
//! revocation and userinfo endpoints, and RP-initiated logout. Which app a request is for is
//! decided by [`issuer::Issuer`].

pub mod authorize;
pub mod client_auth;
pub mod cookies;
pub mod discovery;
pub mod interaction;
pub mod introspect;
pub mod issuer;
pub mod jwks_fetch;
pub mod logout;
pub mod pages;
pub mod protected_resource;
pub mod registration;
pub mod token;
pub mod tokens;
pub mod userinfo;

use axum::Router;
use axum::http::{HeaderName, Method, header};
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};

use crate::state::AppState;

/// The runtime routes, relative to an issuer (path issuers reach them through `/a/{slug}`).
pub fn routes() -> Router<AppState> {
    // Endpoints browsers' JavaScript clients call directly (discovery, token, userinfo…) are
    // open to any origin; they never rely on cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("dpop")])
        .expose_headers([header::WWW_AUTHENTICATE]);
    let api = Router::new()
        .route("/.well-known/openid-configuration", get(discovery::configuration))
        .route("/.well-known/oauth-authorization-server", get(discovery::configuration))
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/oauth/token", post(token::token))
        .route("/oauth/introspect", post(introspect::introspect))
        .route("/oauth/revoke", post(introspect::revoke))
        .route("/oauth/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/oauth/register", post(registration::register))
        .route(
            "/oauth/register/{client_id}",
            get(registration::manage).put(registration::manage).delete(registration::manage),
        )
        .layer(cors);
    Router::new()
        .merge(api)
        .route("/oauth/authorize", get(authorize::authorize).post(authorize::authorize))
        .route("/oauth/consent/init", get(interaction::init))
        .route("/oauth/consent/login", post(interaction::login))
        .route("/oauth/consent/decide", post(interaction::decide))
        .route("/oauth/consent/complete", get(interaction::complete))
        .route("/oauth/logout", get(logout::logout).post(logout::logout))
        .route("/assets/latchkey.css", get(pages::css))
        .route("/.well-known/oauth-protected-resource", get(protected_resource::metadata))
        .route("/.well-known/oauth-protected-resource/{*path}", get(protected_resource::metadata))
}
