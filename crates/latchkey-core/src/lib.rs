//! Latchkey's protocol rules and models, free of I/O.
//!
//! Everything here is plain data and pure functions: identifiers, the secret and key
//! handling primitives, the models of apps, scopes, clients, grants, signing keys,
//! resource servers and the built-in directory, and the validation rules that decide
//! whether an operator's input is acceptable. Nothing in this crate talks to a database
//! or the network; `latchkey-store` persists these models and `latchkey-server` turns
//! HTTP requests into them.

pub mod app;
pub mod audit;
pub mod authorize;
pub mod client;
pub mod clock;
pub mod consent;
pub mod crypto;
pub mod directory;
pub mod gateway;
pub mod grant;
pub mod id;
pub mod introspection;
pub mod jws;
pub mod lifetimes;
pub mod oauth;
pub mod password;
pub mod pkce;
pub mod rate_limit;
pub mod redirect_uri;
pub mod registration;
pub mod resource_server;
pub mod scope;
pub mod secret;
pub mod signing_key;
pub mod timestamp;
pub mod token_request;
pub mod validate;
pub mod verify;

pub use clock::{Clock, ManualClock, SystemClock};
pub use id::Id;
pub use secret::Secret;
pub use timestamp::Timestamp;
pub use validate::{ValidationError, ValidationErrors};
