//! `latchkey clients`: the operator commands for an app's OAuth clients and their secrets.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{Body, Req, app_path, non_empty, prune, seg};

/// Client settings shared by `create` and `update`.
#[derive(Debug, Args)]
pub struct ClientOpts {
    /// Client name shown on the consent page
    #[arg(long)]
    name: Option<String>,
    /// Access token format: opaque or jwt
    #[arg(long, value_name = "opaque|jwt")]
    access_token_format: Option<String>,
    /// Access token lifetime in seconds (60 to 86400)
    #[arg(long, value_name = "SECS")]
    access_token_ttl: Option<i64>,
    /// URL of the client's JWKS (https), for private_key_jwt
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// File holding the client's public key in PEM, for private_key_jwt
    #[arg(long, value_name = "FILE")]
    public_key_pem_file: Option<PathBuf>,
    /// Where the client may send users after logout (repeatable)
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// Any other client fields as a JSON object, e.g. '{"skip_consent":true}' (options win)
    #[arg(long, value_name = "JSON")]
    body_json: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCmd {
    /// List an app's clients
    List {
        /// The app's slug
        app: String,
    },
    /// Show one client
    Get {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        id: String,
    },
    /// Create a client; a client secret, if its method uses one, is shown once
    Create {
        /// The app's slug
        app: String,
        /// client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none
        #[arg(long, value_name = "METHOD")]
        auth_method: String,
        /// Exact redirect URI (repeatable; at least one)
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// Grant type (repeatable)
        #[arg(
            long = "grant-type",
            value_name = "GRANT",
            default_values = ["authorization_code", "refresh_token"]
        )]
        grant_types: Vec<String>,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Change a client; only the given options change
    Update {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        id: String,
        /// New authentication method (switching to a secret method issues a secret, shown once)
        #[arg(long, value_name = "METHOD")]
        auth_method: Option<String>,
        /// The full new list of redirect URIs (repeatable)
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// The full new list of grant types (repeatable)
        #[arg(long = "grant-type", value_name = "GRANT")]
        grant_types: Vec<String>,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Deactivate a client: it stops authenticating and its tokens stop working
    Deactivate {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        id: String,
    },
    /// Reactivate a deactivated client
    Reactivate {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        id: String,
    },
    /// Issue a new client secret (shown once)
    RotateSecret {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        id: String,
        /// Seconds the previous secret keeps working (default 0: it stops at once)
        #[arg(long, value_name = "SECONDS")]
        overlap: Option<i64>,
    },
    /// List a client's secrets (hints and dates; never the secrets)
    Secrets {
        /// The app's slug
        app: String,
        /// The client's id or public client_id
        id: String,
    },
}

fn client_body(auth_method: Option<String>, redirect_uris: Vec<String>, grant_types: Vec<String>, o: ClientOpts) -> anyhow::Result<Value> {
    let mut body = match o.body_json.as_deref() {
        None => Map::new(),
        Some(raw) => match serde_json::from_str(raw).context("--body-json is not valid JSON")? {
            Value::Object(m) => m,
            _ => bail!("--body-json must be a JSON object"),
        },
    };
    let public_key_pem = match &o.public_key_pem_file {
        Some(f) => Some(std::fs::read_to_string(f).with_context(|| format!("reading the public key from {}", f.display()))?),
        None => None,
    };
    let flags = json!({
        "client_auth_method": auth_method,
        "redirect_uris": non_empty(redirect_uris),
        "grant_types": non_empty(grant_types),
        "client_name": o.name,
        "access_token_format": o.access_token_format,
        "access_token_ttl_seconds": o.access_token_ttl,
        "jwks_uri": o.jwks_uri,
        "public_key_pem": public_key_pem,
        "post_logout_redirect_uris": non_empty(o.post_logout_redirect_uris),
    });
    if let Value::Object(flags) = prune(flags) {
        body.extend(flags);
    }
    Ok(Value::Object(body))
}

/// One client's path; `id` is its record id or public client_id.
pub(super) fn client_path(app: &str, id: &str) -> String {
    format!("{}/clients/{}", app_path(app), seg(id))
}

pub(super) fn request(cmd: ClientsCmd) -> anyhow::Result<Req> {
    Ok(match cmd {
        ClientsCmd::List { app } => Req::get(format!("{}/clients", app_path(&app))),
        ClientsCmd::Get { app, id } => Req::get(client_path(&app, &id)),
        ClientsCmd::Create {
            app,
            auth_method,
            redirect_uris,
            grant_types,
            opts,
        } => Req::post(
            format!("{}/clients", app_path(&app)),
            client_body(Some(auth_method), redirect_uris, grant_types, opts)?,
        ),
        ClientsCmd::Update {
            app,
            id,
            auth_method,
            redirect_uris,
            grant_types,
            opts,
        } => Req::patch(client_path(&app, &id), client_body(auth_method, redirect_uris, grant_types, opts)?)?,
        ClientsCmd::Deactivate { app, id } => Req::new(Method::DELETE, client_path(&app, &id), Body::Empty),
        ClientsCmd::Reactivate { app, id } => Req::post_empty(format!("{}/reactivate", client_path(&app, &id))),
        ClientsCmd::RotateSecret { app, id, overlap } => {
            let path = format!("{}/rotate-secret", client_path(&app, &id));
            match overlap {
                Some(s) => Req::post(path, json!({ "overlap_seconds": s })),
                None => Req::post_empty(path),
            }
        }
        ClientsCmd::Secrets { app, id } => Req::get(format!("{}/secrets", client_path(&app, &id))),
    })
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use serde_json::json;

    use crate::cli::ops::Body;
    use crate::cli::ops::tests::parse;

    #[test]
    fn client_create_maps_to_one_request() {
        let c = parse(&[
            "latchkey",
            "clients",
            "create",
            "demo",
            "--auth-method",
            "client_secret_basic",
            "--redirect-uri",
            "https://a.example/cb",
            "--body-json",
            r#"{"skip_consent":true,"client_name":"ignored"}"#,
            "--name",
            "Web",
        ]);
        let r = c.request().expect("maps");
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.path, "/oauth/apps/demo/clients");
        let Body::Json(b) = r.body else { panic!("JSON body") };
        assert_eq!(
            b,
            json!({
                "client_auth_method": "client_secret_basic",
                "redirect_uris": ["https://a.example/cb"],
                "grant_types": ["authorization_code", "refresh_token"],
                "client_name": "Web",
                "skip_consent": true,
            })
        );
    }
}
