//! An MCP server protected by Latchkey: the official Rust MCP SDK (rmcp) over streamable
//! HTTP, behind the `latchkey-axum` layer.
//!
//! - Every request to the MCP endpoint carries a bearer token that the Latchkey gateway
//!   checks (the layer refuses with the RFC 6750 / RFC 9728 challenges MCP clients follow);
//!   the layer puts the verified [`Principal`] into the request and strips the token.
//! - The RFC 9728 document is served at the path-inserted well-known URL of the endpoint
//!   (`/.well-known/oauth-protected-resource/mcp`), naming the Latchkey issuer.
//! - Tools read the principal of *their own* HTTP request (rmcp hands tools the request's
//!   `http::request::Parts`), so each call acts for whoever made it: `whoami` reports the
//!   caller, and the notes tools keep each user's notes apart and check permissions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::request::Parts;
use latchkey_axum::{LatchkeyAuth, Principal};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde_json::json;

/// The permission reading notes needs.
pub const READ: &str = "read";
/// The permission adding notes needs.
pub const WRITE: &str = "write";

/// Notes, per user: what a user adds only that user sees.
#[derive(Clone, Default)]
pub struct Notes(Arc<Mutex<HashMap<i64, Vec<String>>>>);

impl Notes {
    fn of(&self, user: i64) -> Vec<String> {
        self.0.lock().map(|m| m.get(&user).cloned().unwrap_or_default()).unwrap_or_default()
    }

    fn add(&self, user: i64, text: String) -> usize {
        match self.0.lock() {
            Ok(mut m) => {
                let list = m.entry(user).or_default();
                list.push(text);
                list.len()
            }
            Err(_) => 0,
        }
    }
}

/// The MCP service: one per session, sharing the notes.
#[derive(Clone)]
pub struct NotesServer {
    notes: Notes,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct AddNote {
    /// The note's text (at most 1000 characters).
    pub text: String,
}

/// The principal the layer verified for this very request. Without one the layer was not
/// in front of the service: a wiring mistake, reported as an internal error, never as
/// anonymous access.
fn principal(parts: &Parts) -> Result<&Principal, ErrorData> {
    parts
        .extensions
        .get::<Principal>()
        .ok_or_else(|| ErrorData::internal_error("the request was not authenticated", None))
}

fn refused(permission: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "this tool needs the `{permission}` permission; authorize again asking for the `{permission}` scope"
    ))])
}

#[tool_router]
impl NotesServer {
    pub fn new(notes: Notes) -> Self {
        NotesServer {
            notes,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Who is calling: the user, the OAuth client, the granted scopes and permissions")]
    fn whoami(&self, Extension(parts): Extension<Parts>) -> Result<CallToolResult, ErrorData> {
        let p = principal(&parts)?;
        let body = json!({
            "user_id": p.user_id.to_string(),
            "client_id": p.client_id,
            "scopes": p.scopes,
            "permissions": p.permissions,
            "granted_resource": p.granted_resource,
            "organization_id": p.organization_id.map(|id| id.to_string()),
            "workspace_id": p.workspace_id.map(|id| id.to_string()),
            "resource": p.oauth_resource,
        });
        Ok(CallToolResult::structured(body))
    }

    #[tool(description = "List the caller's notes (needs the `read` permission)")]
    fn list_notes(&self, Extension(parts): Extension<Parts>) -> Result<CallToolResult, ErrorData> {
        let p = principal(&parts)?;
        if !p.has_permission(READ) {
            return Ok(refused(READ));
        }
        Ok(CallToolResult::structured(json!({ "notes": self.notes.of(p.user_id) })))
    }

    #[tool(description = "Add a note for the caller (needs the `write` permission)")]
    fn add_note(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(AddNote { text }): Parameters<AddNote>,
    ) -> Result<CallToolResult, ErrorData> {
        let p = principal(&parts)?;
        if !p.has_permission(WRITE) {
            return Ok(refused(WRITE));
        }
        if text.trim().is_empty() || text.chars().count() > 1000 {
            return Err(ErrorData::invalid_params("text must be 1 to 1000 characters", None));
        }
        let count = self.notes.add(p.user_id, text);
        Ok(CallToolResult::structured(json!({ "count": count })))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for NotesServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("latchkey-mcp-example", env!("CARGO_PKG_VERSION")))
            .with_instructions("Notes for the signed-in user. `whoami` shows who is calling.")
    }
}

/// The whole HTTP app: the MCP endpoint at the path of `auth`'s resource URL, protected by
/// `auth` (which may require permissions of every request), and its public metadata document
/// (the only route outside the layer).
/// `allowed_hosts` are the `Host` values the MCP transport accepts (DNS-rebinding defence).
pub fn app(auth: &LatchkeyAuth, notes: Notes, allowed_hosts: Vec<String>) -> Router {
    let path = url::Url::parse(auth.resource())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let mcp = StreamableHttpService::new(
        move || Ok(NotesServer::new(notes.clone())),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().with_allowed_hosts(allowed_hosts),
    );
    // A resource at the root of its origin (`https://mcp.example.com`) is served everywhere
    // but the metadata path; axum does not nest at the root.
    let router = if path.is_empty() {
        Router::new().fallback_service(mcp)
    } else {
        Router::new().nest_service(&path, mcp)
    };
    router.layer(auth.clone()).merge(auth.metadata_router())
}
