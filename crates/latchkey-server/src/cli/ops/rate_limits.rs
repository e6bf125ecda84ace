//! `latchkey rate-limits`: the operator commands for an app's gateway rate limit rules.

use clap::Subcommand;
use serde_json::json;

use super::{Req, app_path, seg};

#[derive(Debug, Subcommand)]
pub enum RateLimitsCmd {
    /// List an app's rules
    List {
        /// The app's slug
        app: String,
    },
    /// Add a rule: at most MAX admitted checks per WINDOW seconds
    Create {
        /// The app's slug
        app: String,
        /// Rule name (a-z 0-9 - _), shown in blocked_rule
        #[arg(long)]
        name: String,
        /// app (all the app's tokens together) or client (each client separately)
        #[arg(long, default_value = "client", value_name = "app|client")]
        scope: String,
        /// Only this client (record id or client_id)
        #[arg(long = "client", value_name = "CLIENT")]
        client_id: Option<String>,
        /// Window length in seconds
        #[arg(long, value_name = "SECONDS")]
        window: i64,
        /// Checks admitted per window
        #[arg(long, value_name = "N")]
        max: i64,
    },
    /// Change a rule; only the given options change
    Update {
        /// The app's slug
        app: String,
        /// The rule's id
        id: String,
        /// New window length in seconds
        #[arg(long, value_name = "SECONDS")]
        window: Option<i64>,
        /// New number of checks per window
        #[arg(long, value_name = "N")]
        max: Option<i64>,
    },
    /// Delete a rule
    Delete {
        /// The app's slug
        app: String,
        /// The rule's id
        id: String,
    },
}

pub(super) fn request(cmd: RateLimitsCmd) -> anyhow::Result<Req> {
    let list_path = |app: &str| format!("{}/rate-limits", app_path(app));
    Ok(match cmd {
        RateLimitsCmd::List { app } => Req::get(list_path(&app)),
        RateLimitsCmd::Create {
            app,
            name,
            scope,
            client_id,
            window,
            max,
        } => Req::post(
            list_path(&app),
            json!({"name": name, "scope": scope, "client_id": client_id, "window_seconds": window, "max_requests": max}),
        ),
        RateLimitsCmd::Update { app, id, window, max } => Req::patch(
            format!("{}/{}", list_path(&app), seg(&id)),
            json!({"window_seconds": window, "max_requests": max}),
        )?,
        RateLimitsCmd::Delete { app, id } => Req::delete(format!("{}/{}", list_path(&app), seg(&id))),
    })
}
