//! The backend (management) API: one module per resource, each handler a thin adapter
//! from HTTP to a core rule and a store call.

pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod caller;
pub mod clients;
pub mod consent_requests;
pub mod deployment;
pub mod directory;
pub mod grants;
pub mod health;
pub mod initial_access_tokens;
pub mod keys;
pub mod rate_limits;
pub mod resource_servers;
pub mod scopes;
