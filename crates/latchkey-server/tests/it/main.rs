//! The server's integration tests, in one binary: one module per area, each saying in its own
//! doc what it covers. The shared harness (the in-process server, the scripted browser, the
//! OAuth helpers, the runner for the programs under `compat/`) is the `latchkey-testkit`
//! crate; what runs the `latchkey` executable itself (`binary`, `cli`) is here, because only
//! the server's own integration tests get `CARGO_BIN_EXE_latchkey`.

mod binary;
mod cli;
mod compat_authlib;
mod compat_oidc_node;
mod compat_wacht_backend;
mod compat_wacht_backend_gateway;
mod compat_wacht_rs;
mod consent_atomicity;
mod ex_members;
mod gateway;
mod introspection;
mod malformed;
mod management;
mod mcp_conformance;
mod mcp_e2e;
mod oauth_attacks;
mod oauth_flow;
mod oauth_operator;
mod registration;
mod smoke;
