//! `latchkey initial-access-tokens`: the operator commands for an app's dynamic registration tokens.

use clap::Subcommand;
use serde_json::json;

use super::{Req, app_path, seg};

#[derive(Debug, Subcommand)]
pub enum InitialAccessTokensCmd {
    /// List an app's initial access tokens (never the tokens themselves)
    List {
        /// The app's slug
        app: String,
    },
    /// Create an initial access token (shown once)
    Create {
        /// The app's slug
        app: String,
        /// Who the token is for
        #[arg(long)]
        name: String,
        /// Lifetime in seconds (60 to a year); without it the token lives until revoked
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<i64>,
    },
    /// Revoke an initial access token; clients it registered stay registered
    Revoke {
        /// The app's slug
        app: String,
        /// The token's id
        id: String,
    },
}

pub(super) fn request(cmd: InitialAccessTokensCmd) -> Req {
    match cmd {
        InitialAccessTokensCmd::List { app } => Req::get(format!("{}/initial-access-tokens", app_path(&app))),
        InitialAccessTokensCmd::Create { app, name, expires_in } => Req::post(
            format!("{}/initial-access-tokens", app_path(&app)),
            json!({ "name": name, "expires_in_seconds": expires_in }),
        ),
        InitialAccessTokensCmd::Revoke { app, id } => {
            Req::post_empty(format!("{}/initial-access-tokens/{}/revoke", app_path(&app), seg(&id)))
        }
    }
}
