//! `latchkey grants`: the operator commands that list, show and revoke grants.

use clap::Subcommand;
use serde_json::json;

use super::clients::client_path;
use super::{Req, seg};

#[derive(Debug, Subcommand)]
pub enum GrantsCmd {
    /// List a client's grants
    List {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        client: String,
        /// Which grants: active, revoked or all
        #[arg(long, value_name = "active|revoked|all")]
        status: Option<String>,
        /// At most this many (1 to 1000)
        #[arg(long)]
        limit: Option<u32>,
    },
    /// List the grants a user has made, across apps
    ForUser {
        /// The user's id
        user_id: String,
        /// Which grants: active, revoked or all
        #[arg(long, value_name = "active|revoked|all")]
        status: Option<String>,
        /// At most this many (1 to 1000)
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one grant
    Get {
        /// The grant's id
        grant_id: String,
    },
    /// Revoke a grant: its tokens stop working (revoking twice is harmless)
    Revoke {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        client: String,
        /// The grant's id
        grant_id: String,
        /// Why, recorded with the revocation
        #[arg(long)]
        reason: Option<String>,
    },
}

pub(super) fn request(cmd: GrantsCmd) -> anyhow::Result<Req> {
    Ok(match cmd {
        GrantsCmd::List {
            app,
            client,
            status,
            limit,
        } => Req::get(format!("{}/grants", client_path(&app, &client)))
            .query("status", status)
            .query("limit", limit),
        GrantsCmd::ForUser { user_id, status, limit } => Req::get(format!("/users/{}/grants", seg(&user_id)))
            .query("status", status)
            .query("limit", limit),
        GrantsCmd::Get { grant_id } => Req::get(format!("/grants/{}", seg(&grant_id))),
        GrantsCmd::Revoke {
            app,
            client,
            grant_id,
            reason,
        } => {
            let path = format!("{}/grants/{}/revoke", client_path(&app, &client), seg(&grant_id));
            match reason {
                Some(r) => Req::post(path, json!({ "reason": r })),
                None => Req::post_empty(path),
            }
        }
    })
}
