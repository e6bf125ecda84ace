//! `latchkey scopes`: the operator commands for an app's scopes (`/oauth/apps/{slug}/scopes`).

use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use super::{Body, Req, app_path, prune, seg};

#[derive(Debug, Subcommand)]
pub enum ScopesCmd {
    /// List an app's scopes
    List {
        /// The app's slug
        app: String,
    },
    /// Change a scope's consent-page text
    Update {
        /// The app's slug
        app: String,
        /// The scope (e.g. mcp:invoke)
        scope: String,
        /// Short name shown on the consent page
        #[arg(long)]
        display_name: Option<String>,
        /// Explanation shown on the consent page
        #[arg(long)]
        description: Option<String>,
    },
    /// Archive a scope: clients can no longer request it
    Archive {
        /// The app's slug
        app: String,
        /// The scope
        scope: String,
    },
    /// Make an archived scope requestable again
    Unarchive {
        /// The app's slug
        app: String,
        /// The scope
        scope: String,
    },
    /// Map a scope to a resource category and the directory permissions it requires
    Map {
        /// The app's slug
        app: String,
        /// The scope
        scope: String,
        /// What the scope grants access to: personal, organization or workspace
        #[arg(long, value_name = "personal|organization|workspace")]
        category: String,
        /// Organization permission a user needs to grant this scope
        #[arg(long, value_name = "P")]
        organization_permission: Option<String>,
        /// Workspace permission a user needs to grant this scope
        #[arg(long, value_name = "P")]
        workspace_permission: Option<String>,
    },
}

pub(super) fn request(cmd: ScopesCmd) -> anyhow::Result<Req> {
    let scope_path = |app: &str, scope: &str| format!("{}/scopes/{}", app_path(app), seg(scope));
    // Changes answer with the whole app; show its scopes.
    let focus = |r: Req| r.focus("scope_definitions");
    Ok(match cmd {
        ScopesCmd::List { app } => Req::get(format!("{}/scopes", app_path(&app))),
        ScopesCmd::Update {
            app,
            scope,
            display_name,
            description,
        } => focus(Req::patch(
            scope_path(&app, &scope),
            json!({"display_name": display_name, "description": description}),
        )?),
        ScopesCmd::Archive { app, scope } => focus(Req::post_empty(format!("{}/archive", scope_path(&app, &scope)))),
        ScopesCmd::Unarchive { app, scope } => focus(Req::post_empty(format!("{}/unarchive", scope_path(&app, &scope)))),
        ScopesCmd::Map {
            app,
            scope,
            category,
            organization_permission,
            workspace_permission,
        } => focus(Req::new(
            Method::PUT,
            format!("{}/mapping", scope_path(&app, &scope)),
            Body::Json(prune(json!({
                "category": category,
                "organization_permission": organization_permission,
                "workspace_permission": workspace_permission,
            }))),
        )),
    })
}
