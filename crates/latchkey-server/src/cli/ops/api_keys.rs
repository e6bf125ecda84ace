//! `latchkey api-keys`: the operator commands for the deployment's backend API keys.

use clap::Subcommand;
use serde_json::json;

use super::{Req, seg};

#[derive(Debug, Subcommand)]
pub enum ApiKeysCmd {
    /// List the backend API keys (hints only)
    List,
    /// Create a backend API key (shown once)
    Create {
        /// What the key is for
        #[arg(long)]
        name: String,
    },
    /// Revoke a backend API key; it stops working at once
    Revoke {
        /// The key's id
        id: String,
    },
}

pub(super) fn request(cmd: ApiKeysCmd) -> Req {
    match cmd {
        ApiKeysCmd::List => Req::get("/api-keys"),
        ApiKeysCmd::Create { name } => Req::post("/api-keys", json!({ "name": name })),
        ApiKeysCmd::Revoke { id } => Req::post_empty(format!("/api-keys/{}/revoke", seg(&id))),
    }
}
