//! `latchkey resource-servers`: the operator commands for the APIs and MCP servers that accept an app's tokens.

use clap::Subcommand;
use serde_json::json;

use super::{Req, app_path, non_empty, seg};

#[derive(Debug, Subcommand)]
pub enum ResourceServersCmd {
    /// List an app's resource servers
    List {
        /// The app's slug
        app: String,
    },
    /// Show one resource server
    Get {
        /// The app's slug
        app: String,
        /// The resource server's id
        id: String,
    },
    /// Register a resource server
    Create {
        /// The app's slug
        app: String,
        /// The resource indicator clients ask for (an absolute URI)
        #[arg(long, value_name = "URI")]
        identifier: String,
        /// Display name
        #[arg(long)]
        name: Option<String>,
        /// Another URI the server also answers to (repeatable)
        #[arg(long = "alias", value_name = "URI")]
        aliases: Vec<String>,
        /// A scope of the app this server accepts (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Require tokens to be bound to this server (audience-restricted)
        #[arg(long)]
        require_binding: bool,
    },
    /// Change a resource server; only the given options change
    Update {
        /// The app's slug
        app: String,
        /// The resource server's id
        id: String,
        /// New identifier URI
        #[arg(long, value_name = "URI")]
        identifier: Option<String>,
        /// New display name
        #[arg(long)]
        name: Option<String>,
        /// The full new list of aliases (repeatable)
        #[arg(long = "alias", value_name = "URI")]
        aliases: Vec<String>,
        /// The full new list of accepted scopes (repeatable)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Whether tokens must be bound to this server
        #[arg(long, value_name = "true|false")]
        require_binding: Option<bool>,
    },
    /// Delete a resource server
    Delete {
        /// The app's slug
        app: String,
        /// The resource server's id
        id: String,
    },
    /// Issue the resource server a new secret for the introspection endpoint (shown once)
    RotateSecret {
        /// The app's slug
        app: String,
        /// The resource server's id
        id: String,
    },
}

pub(super) fn request(cmd: ResourceServersCmd) -> anyhow::Result<Req> {
    let list_path = |app: &str| format!("{}/resource-servers", app_path(app));
    let one_path = |app: &str, id: &str| format!("{}/{}", list_path(app), seg(id));
    Ok(match cmd {
        ResourceServersCmd::List { app } => Req::get(list_path(&app)),
        ResourceServersCmd::Get { app, id } => Req::get(one_path(&app, &id)),
        ResourceServersCmd::Create {
            app,
            identifier,
            name,
            aliases,
            scopes,
            require_binding,
        } => Req::post(
            list_path(&app),
            json!({
                "identifier": identifier,
                "name": name,
                "aliases": non_empty(aliases),
                "scopes": non_empty(scopes),
                "require_binding": require_binding.then_some(true),
            }),
        ),
        ResourceServersCmd::Update {
            app,
            id,
            identifier,
            name,
            aliases,
            scopes,
            require_binding,
        } => Req::patch(
            one_path(&app, &id),
            json!({
                "identifier": identifier,
                "name": name,
                "aliases": non_empty(aliases),
                "scopes": non_empty(scopes),
                "require_binding": require_binding,
            }),
        )?,
        ResourceServersCmd::Delete { app, id } => Req::delete(one_path(&app, &id)),
        ResourceServersCmd::RotateSecret { app, id } => Req::post_empty(format!("{}/rotate-secret", one_path(&app, &id))),
    })
}
