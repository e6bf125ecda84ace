//! The OAuth 2.1 / OpenID Connect runtime of every app issuer: discovery and JWKS, the
//! authorization endpoint and the hosted sign-in / consent pages, the token, introspection,
//! revocation and userinfo endpoints, and RP-initiated logout. Which app a request is for is
//! decided by [`crate::services::issuer`]; the extractors that
//! carry it are in [`issuer`].

pub mod assets;
pub mod authorize;
pub mod discovery;
pub mod interaction;
pub mod introspect;
pub mod issuer;
pub mod logout;
pub mod protected_resource;
pub mod registration;
pub mod revoke;
pub mod token;
pub mod userinfo;
