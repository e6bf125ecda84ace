//! `latchkey apps`: the operator commands for `/oauth/apps` (create, change, disable, domain, logo).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use super::{Body, LogoFile, Req, app_path, non_empty};

#[derive(Debug, Subcommand)]
pub enum AppsCmd {
    /// List the apps
    List,
    /// Show one app
    Get {
        /// The app's slug
        slug: String,
    },
    /// Create an app (with a new signing key)
    Create {
        /// URL-safe identifier, used in paths and issuer URLs
        #[arg(long)]
        slug: String,
        /// Display name shown on the consent page
        #[arg(long)]
        name: String,
        /// Longer description
        #[arg(long)]
        description: Option<String>,
        /// Custom domain the app's endpoints are served on
        #[arg(long)]
        fqdn: Option<String>,
        /// Supported scopes, comma-separated (e.g. read,write,mcp:invoke)
        #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
        scopes: Vec<String>,
        /// Allow clients to register themselves (RFC 7591 dynamic client registration)
        #[arg(long)]
        allow_dcr: bool,
        /// Logo image (PNG, JPEG, GIF or WebP, at most 256 KiB); sends the form as multipart
        #[arg(long, value_name = "FILE")]
        logo: Option<PathBuf>,
    },
    /// Change an app; only the given options change
    Update {
        /// The app's slug
        slug: String,
        /// New display name
        #[arg(long)]
        name: Option<String>,
        /// New description
        #[arg(long)]
        description: Option<String>,
        /// New custom domain
        #[arg(long)]
        fqdn: Option<String>,
        /// The full new list of supported scopes, comma-separated (scopes left out are removed)
        #[arg(long, value_delimiter = ',', value_name = "SCOPES")]
        scopes: Vec<String>,
        /// Whether clients may register themselves
        #[arg(long, value_name = "true|false")]
        allow_dcr: Option<bool>,
        /// Whether dynamic registration needs an initial access token (see `initial-access-tokens`)
        #[arg(long, value_name = "true|false")]
        dcr_require_iat: Option<bool>,
    },
    /// Disable an app: it stops issuing and accepting tokens
    Disable {
        /// The app's slug
        slug: String,
    },
    /// Enable a disabled app
    Enable {
        /// The app's slug
        slug: String,
    },
    /// Check that the app's custom domain points at this server, and record the result
    VerifyDomain {
        /// The app's slug
        slug: String,
    },
    /// Upload or replace the app's logo
    SetLogo {
        /// The app's slug
        slug: String,
        /// Logo image (PNG, JPEG, GIF or WebP, at most 256 KiB)
        file: PathBuf,
    },
}

pub(super) fn request(cmd: AppsCmd) -> anyhow::Result<Req> {
    Ok(match cmd {
        AppsCmd::List => Req::get("/oauth/apps"),
        AppsCmd::Get { slug } => Req::get(app_path(&slug)),
        AppsCmd::Create {
            slug,
            name,
            description,
            fqdn,
            scopes,
            allow_dcr,
            logo: Some(file),
        } => {
            let mut fields = vec![("slug", slug), ("name", name)];
            fields.extend(description.map(|d| ("description", d)));
            fields.extend(fqdn.map(|f| ("fqdn", f)));
            if !scopes.is_empty() {
                fields.push(("supported_scopes", scopes.join(",")));
            }
            if allow_dcr {
                fields.push(("allow_dynamic_client_registration", "true".into()));
            }
            Req::new(Method::POST, "/oauth/apps", Body::Form(fields, Some(read_logo(&file)?)))
        }
        AppsCmd::Create {
            slug,
            name,
            description,
            fqdn,
            scopes,
            allow_dcr,
            logo: None,
        } => Req::post(
            "/oauth/apps",
            json!({
                "slug": slug,
                "name": name,
                "description": description,
                "fqdn": fqdn,
                "supported_scopes": non_empty(scopes),
                "allow_dynamic_client_registration": allow_dcr.then_some(true),
            }),
        ),
        AppsCmd::Update {
            slug,
            name,
            description,
            fqdn,
            scopes,
            allow_dcr,
            dcr_require_iat,
        } => Req::patch(
            app_path(&slug),
            json!({
                "name": name,
                "description": description,
                "fqdn": fqdn,
                "supported_scopes": non_empty(scopes),
                "allow_dynamic_client_registration": allow_dcr,
                "dcr_require_initial_access_token": dcr_require_iat,
            }),
        )?,
        AppsCmd::Disable { slug } => Req::patch(app_path(&slug), json!({"is_active": false}))?,
        AppsCmd::Enable { slug } => Req::patch(app_path(&slug), json!({"is_active": true}))?,
        AppsCmd::VerifyDomain { slug } => Req::post_empty(format!("{}/verify-domain", app_path(&slug))),
        AppsCmd::SetLogo { slug, file } => Req::new(
            Method::PUT,
            format!("{}/logo", app_path(&slug)),
            Body::Form(vec![], Some(read_logo(&file)?)),
        ),
    })
}

fn read_logo(file: &Path) -> anyhow::Result<LogoFile> {
    let bytes = std::fs::read(file).with_context(|| format!("reading the logo {}", file.display()))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "logo".into());
    Ok(LogoFile { file_name, bytes })
}
