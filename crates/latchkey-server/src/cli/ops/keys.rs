//! `latchkey keys`: the operator commands for an app's token signing keys (`/oauth/apps/{slug}/signing-keys`).

use clap::Subcommand;

use super::{Req, app_path, seg};

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// List an app's signing keys (public halves only)
    List {
        /// The app's slug
        app: String,
    },
    /// Replace the active key; the old one is retired but still published
    Rotate {
        /// The app's slug
        app: String,
    },
    /// Withdraw a key at once (replaced if it was the active one)
    Compromise {
        /// The app's slug
        app: String,
        /// The key's kid
        kid: String,
    },
}

pub(super) fn request(cmd: KeysCmd) -> Req {
    let keys_path = |app: &str| format!("{}/signing-keys", app_path(app));
    match cmd {
        KeysCmd::List { app } => Req::get(keys_path(&app)),
        KeysCmd::Rotate { app } => Req::post_empty(format!("{}/rotate", keys_path(&app))).focus("new"),
        KeysCmd::Compromise { app, kid } => Req::post_empty(format!("{}/{}/compromise", keys_path(&app), seg(&kid))),
    }
}
