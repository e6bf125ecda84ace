//! Operator commands: each one is a single call to a running server's backend API.
//!
//! Every subcommand maps its arguments to a [`Req`] (method, path, query, body, and how to
//! show the answer); [`Api::send`] performs it and [`render`] prints the result. Nothing
//! here talks to the database: the server stays the one place that validates, audits and
//! invalidates caches.

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::render::{self, View};

/// How to reach the server; accepted by every operator command, before or after its
/// subcommand.
#[derive(Clone, Args)]
pub struct Conn {
    /// Base URL of the running Latchkey server
    #[arg(
        long,
        env = "LATCHKEY_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL",
        global = true
    )]
    pub url: String,
    /// Backend API key (lk_api_…); prefer the environment variable, flags end up in shell history
    #[arg(long, env = "LATCHKEY_API_KEY", hide_env_values = true, value_name = "KEY", global = true)]
    pub api_key: Option<String>,
    /// Print the server's JSON response instead of human-readable output
    #[arg(long, global = true)]
    pub json: bool,
}

/// The API key never appears in debug output.
impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("json", &self.json)
            .finish()
    }
}

#[derive(Debug, Subcommand)]
pub enum OpsCommand {
    /// Manage OAuth apps (one per product you protect)
    Apps {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: AppsCmd,
    },
    /// Manage an app's scopes: text, archiving, mapping to directory permissions
    Scopes {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: ScopesCmd,
    },
    /// Manage an app's OAuth clients and their secrets
    Clients {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: ClientsCmd,
    },
    /// Inspect and revoke grants (a user's consent to a client)
    Grants {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: GrantsCmd,
    },
    /// Manage an app's token signing keys
    Keys {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: KeysCmd,
    },
    /// Manage the APIs and MCP servers that accept an app's tokens
    ResourceServers {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: ResourceServersCmd,
    },
    /// Manage users of the built-in directory
    Users {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: UsersCmd,
    },
    /// Manage organizations and their members
    Orgs {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: OrgsCmd,
    },
    /// Manage workspaces (inside organizations) and their members
    Workspaces {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: WorkspacesCmd,
    },
    /// Read the audit trail, newest first
    Audit {
        #[command(flatten)]
        conn: Conn,
        #[command(flatten)]
        filter: AuditArgs,
    },
    /// Manage the deployment's backend API keys
    ApiKeys {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: ApiKeysCmd,
    },
    /// Manage an app's initial access tokens, which let partners register clients dynamically
    InitialAccessTokens {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: InitialAccessTokensCmd,
    },
    /// Manage an app's gateway rate limit rules
    RateLimits {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: RateLimitsCmd,
    },
    /// Show or change the deployment's settings
    Deployment {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: DeploymentCmd,
    },
    /// Answer consent requests for an external consent page
    ConsentRequests {
        #[command(flatten)]
        conn: Conn,
        #[command(subcommand)]
        cmd: ConsentRequestsCmd,
    },
}

// ----- apps -----

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

fn apps(cmd: AppsCmd) -> anyhow::Result<Req> {
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

// ----- scopes -----

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

fn scopes(cmd: ScopesCmd) -> anyhow::Result<Req> {
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

// ----- clients -----

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

fn clients(cmd: ClientsCmd) -> anyhow::Result<Req> {
    let client_path = |app: &str, id: &str| format!("{}/clients/{}", app_path(app), seg(id));
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

// ----- grants -----

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

fn grants(cmd: GrantsCmd) -> anyhow::Result<Req> {
    let client_path = |app: &str, id: &str| format!("{}/clients/{}", app_path(app), seg(id));
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

// ----- signing keys -----

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

fn keys(cmd: KeysCmd) -> Req {
    let keys_path = |app: &str| format!("{}/signing-keys", app_path(app));
    match cmd {
        KeysCmd::List { app } => Req::get(keys_path(&app)),
        KeysCmd::Rotate { app } => Req::post_empty(format!("{}/rotate", keys_path(&app))).focus("new"),
        KeysCmd::Compromise { app, kid } => Req::post_empty(format!("{}/{}/compromise", keys_path(&app), seg(&kid))),
    }
}

// ----- resource servers -----

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

fn resource_servers(cmd: ResourceServersCmd) -> anyhow::Result<Req> {
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

// ----- users -----

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// List users, newest first
    List {
        /// Only the user with this email
        #[arg(long)]
        email: Option<String>,
        /// At most this many (1 to 500; default 100)
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor)
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
    },
    /// Show one user
    Get {
        /// The user's id
        id: String,
    },
    /// Create a user
    Create {
        /// Email address (the login name)
        #[arg(long)]
        email: String,
        /// Full name
        #[arg(long)]
        name: Option<String>,
        /// Given name
        #[arg(long)]
        given_name: Option<String>,
        /// Family name
        #[arg(long)]
        family_name: Option<String>,
        /// Mark the email address as verified
        #[arg(long)]
        email_verified: bool,
        /// Read a password from the first line of stdin (never pass it as an argument)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user; only the given options change
    Update {
        /// The user's id
        id: String,
        /// New email address
        #[arg(long)]
        email: Option<String>,
        /// New full name
        #[arg(long)]
        name: Option<String>,
        /// New given name
        #[arg(long)]
        given_name: Option<String>,
        /// New family name
        #[arg(long)]
        family_name: Option<String>,
        /// Whether the email address is verified
        #[arg(long, value_name = "true|false")]
        email_verified: Option<bool>,
        /// Whether the user may sign in
        #[arg(long, value_name = "true|false")]
        active: Option<bool>,
        /// Set a new password, read from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user
    Delete {
        /// The user's id
        id: String,
    },
    /// List a user's organization and workspace memberships
    Memberships {
        /// The user's id
        id: String,
    },
}

fn users(cmd: UsersCmd) -> anyhow::Result<Req> {
    let user_path = |id: &str| format!("/users/{}", seg(id));
    Ok(match cmd {
        UsersCmd::List { email, limit, before } => Req::get("/users")
            .query("email", email)
            .query("limit", limit)
            .query("before", before)
            .more("--before"),
        UsersCmd::Get { id } => Req::get(user_path(&id)),
        UsersCmd::Create {
            email,
            name,
            given_name,
            family_name,
            email_verified,
            password_stdin,
        } => Req::post(
            "/users",
            json!({
                "email": email,
                "name": name,
                "given_name": given_name,
                "family_name": family_name,
                "email_verified": email_verified.then_some(true),
                "password": password_stdin.then(read_password).transpose()?,
            }),
        ),
        UsersCmd::Update {
            id,
            email,
            name,
            given_name,
            family_name,
            email_verified,
            active,
            password_stdin,
        } => Req::patch(
            user_path(&id),
            json!({
                "email": email,
                "name": name,
                "given_name": given_name,
                "family_name": family_name,
                "email_verified": email_verified,
                "is_active": active,
                "password": password_stdin.then(read_password).transpose()?,
            }),
        )?,
        UsersCmd::Delete { id } => Req::delete(user_path(&id)),
        UsersCmd::Memberships { id } => Req::get(format!("{}/memberships", user_path(&id))),
    })
}

/// The first line of stdin, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!(
            "--password-stdin: no password on stdin; pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | latchkey users create … --password-stdin`"
        );
    }
    Ok(password.to_owned())
}

// ----- organizations and workspaces -----

/// Subcommands organizations and workspaces share.
#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Show one by its id
    Get {
        /// Its id
        id: String,
    },
    /// Rename one
    Rename {
        /// Its id
        id: String,
        /// The new name
        #[arg(long)]
        name: String,
    },
    /// Delete one
    Delete {
        /// Its id
        id: String,
    },
    /// List one's members
    Members {
        /// Its id
        id: String,
    },
    /// Add a user as a member
    AddMember {
        /// The organization's or workspace's id
        group: String,
        /// The user's id
        user: String,
        /// A permission the member holds (repeatable)
        #[arg(long = "permission", value_name = "P")]
        permissions: Vec<String>,
    },
    /// Replace a member's permissions (none given: the member keeps no permissions)
    SetPermissions {
        /// The organization's or workspace's id
        group: String,
        /// The user's id
        user: String,
        /// A permission the member holds (repeatable)
        #[arg(long = "permission", value_name = "P")]
        permissions: Vec<String>,
    },
    /// Remove a member
    RemoveMember {
        /// The organization's or workspace's id
        group: String,
        /// The user's id
        user: String,
    },
}

fn group(base: &str, cmd: GroupCmd) -> Req {
    let one = |id: &str| format!("{base}/{}", seg(id));
    let member = |g: &str, u: &str| format!("{}/memberships/{}", one(g), seg(u));
    match cmd {
        GroupCmd::Get { id } => Req::get(one(&id)),
        GroupCmd::Rename { id, name } => Req::new(Method::PATCH, one(&id), Body::Json(json!({ "name": name }))),
        GroupCmd::Delete { id } => Req::delete(one(&id)),
        GroupCmd::Members { id } => Req::get(format!("{}/memberships", one(&id))),
        GroupCmd::AddMember { group, user, permissions } => Req::post(
            format!("{}/memberships", one(&group)),
            json!({ "user_id": user, "permissions": permissions }),
        ),
        GroupCmd::SetPermissions { group, user, permissions } => Req::new(
            Method::PATCH,
            member(&group, &user),
            Body::Json(json!({ "permissions": permissions })),
        ),
        GroupCmd::RemoveMember { group, user } => {
            let mut r = Req::delete(member(&group, &user));
            r.view.done = "removed";
            r
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OrgsCmd {
    /// List organizations, newest first
    List {
        /// At most this many (1 to 500; default 100)
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor)
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
    },
    /// Create an organization
    Create {
        /// Its name
        #[arg(long)]
        name: String,
    },
    #[command(flatten)]
    Common(GroupCmd),
}

fn orgs(cmd: OrgsCmd) -> Req {
    match cmd {
        OrgsCmd::List { limit, before } => Req::get("/organizations")
            .query("limit", limit)
            .query("before", before)
            .more("--before"),
        OrgsCmd::Create { name } => Req::post("/organizations", json!({ "name": name })),
        OrgsCmd::Common(c) => group("/organizations", c),
    }
}

#[derive(Debug, Subcommand)]
pub enum WorkspacesCmd {
    /// List workspaces, newest first
    List {
        /// Only the workspaces of this organization (its id)
        #[arg(long, value_name = "ID")]
        organization: Option<String>,
        /// At most this many (1 to 500; default 100)
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor)
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
    },
    /// Create a workspace in an organization
    Create {
        /// The organization it belongs to (its id)
        #[arg(long, value_name = "ID")]
        organization: String,
        /// Its name
        #[arg(long)]
        name: String,
    },
    #[command(flatten)]
    Common(GroupCmd),
}

fn workspaces(cmd: WorkspacesCmd) -> Req {
    match cmd {
        WorkspacesCmd::List {
            organization,
            limit,
            before,
        } => Req::get("/workspaces")
            .query("organization_id", organization)
            .query("limit", limit)
            .query("before", before)
            .more("--before"),
        WorkspacesCmd::Create { organization, name } => Req::post("/workspaces", json!({ "organization_id": organization, "name": name })),
        WorkspacesCmd::Common(c) => group("/workspaces", c),
    }
}

// ----- audit -----

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this action (client.secret_rotated), or a prefix ending in '.' (client.)
    #[arg(long)]
    action: Option<String>,
    /// Only events about this public client_id
    #[arg(long)]
    client_id: Option<String>,
    /// Only events about this app (its id)
    #[arg(long, value_name = "ID")]
    app_id: Option<String>,
    /// Only events by this actor (api_key:ID, or just the kind: api_key, user, client, system)
    #[arg(long)]
    actor: Option<String>,
    /// Only events about this object id
    #[arg(long, value_name = "ID")]
    target_id: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-01-31T12:00:00Z)
    #[arg(long, value_name = "RFC3339")]
    since: Option<String>,
    /// Only events before this time (RFC 3339)
    #[arg(long, value_name = "RFC3339")]
    until: Option<String>,
    /// At most this many (1 to 500; default 100)
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Continue after this cursor (the previous page's next_cursor)
    #[arg(long)]
    cursor: Option<String>,
}

fn audit(a: AuditArgs) -> Req {
    Req::get("/audit-events")
        .query("action", a.action)
        .query("client_id", a.client_id)
        .query("app_id", a.app_id)
        .query("actor", a.actor)
        .query("target_id", a.target_id)
        .query("since", a.since)
        .query("until", a.until)
        .query("limit", a.limit)
        .query("cursor", a.cursor)
        .more("--cursor")
}

// ----- API keys -----

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

fn api_keys(cmd: ApiKeysCmd) -> Req {
    match cmd {
        ApiKeysCmd::List => Req::get("/api-keys"),
        ApiKeysCmd::Create { name } => Req::post("/api-keys", json!({ "name": name })),
        ApiKeysCmd::Revoke { id } => Req::post_empty(format!("/api-keys/{}/revoke", seg(&id))),
    }
}

// ----- initial access tokens -----

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

fn initial_access_tokens(cmd: InitialAccessTokensCmd) -> Req {
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

// ----- rate limits -----

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

fn rate_limits(cmd: RateLimitsCmd) -> anyhow::Result<Req> {
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

// ----- deployment and consent requests -----

#[derive(Debug, Subcommand)]
pub enum DeploymentCmd {
    /// Show the deployment and its settings
    Get,
    /// Send /oauth/authorize to your own consent page instead of the hosted one
    SetConsentUrl {
        /// Absolute https URL; it receives ?handoff_id=…
        #[arg(value_name = "URL")]
        consent_url: String,
    },
    /// Go back to the hosted sign-in and consent pages
    ClearConsentUrl,
    /// Let callers without a backend API key check this deployment's tokens at the gateway
    AllowAnonymousGateway {
        /// true or false
        #[arg(value_name = "true|false", action = clap::ArgAction::Set)]
        allow: bool,
    },
}

fn deployment(cmd: DeploymentCmd) -> Req {
    match cmd {
        DeploymentCmd::Get => Req::get("/deployment"),
        DeploymentCmd::SetConsentUrl { consent_url } => Req::patch_raw("/deployment", json!({"settings": {"consent_url": consent_url}})),
        DeploymentCmd::ClearConsentUrl => Req::patch_raw("/deployment", json!({"settings": {"consent_url": null}})),
        DeploymentCmd::AllowAnonymousGateway { allow } => {
            Req::patch_raw("/deployment", json!({"settings": {"allow_anonymous_gateway": allow}}))
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConsentRequestsCmd {
    /// Show a pending request (client, scopes, resources)
    Get {
        /// The handoff_id your consent page received
        handoff_id: String,
    },
    /// Approve it for a user and a resource; prints the URL to send the browser to
    Accept {
        /// The handoff_id your consent page received
        handoff_id: String,
        /// The user who approved
        #[arg(long)]
        user: String,
        /// urn:latchkey:user:ID, urn:latchkey:organization:ID or urn:latchkey:workspace:ID
        #[arg(long, value_name = "URN")]
        resource: String,
        /// Grant only these of the requested scopes (repeatable; default: all)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Deny it; prints the URL to send the browser to
    Reject {
        /// The handoff_id your consent page received
        handoff_id: String,
    },
}

fn consent_requests(cmd: ConsentRequestsCmd) -> Req {
    match cmd {
        ConsentRequestsCmd::Get { handoff_id } => Req::get(format!("/consent-requests/{}", seg(&handoff_id))),
        ConsentRequestsCmd::Accept {
            handoff_id,
            user,
            resource,
            scopes,
        } => Req::post(
            format!("/consent-requests/{}/accept", seg(&handoff_id)),
            json!({"user_id": user, "granted_resource": resource, "scopes": non_empty(scopes)}),
        ),
        ConsentRequestsCmd::Reject { handoff_id } => Req::post_empty(format!("/consent-requests/{}/reject", seg(&handoff_id))),
    }
}

// ----- running -----

impl OpsCommand {
    fn conn(&self) -> &Conn {
        match self {
            OpsCommand::Apps { conn, .. }
            | OpsCommand::Scopes { conn, .. }
            | OpsCommand::Clients { conn, .. }
            | OpsCommand::Grants { conn, .. }
            | OpsCommand::Keys { conn, .. }
            | OpsCommand::ResourceServers { conn, .. }
            | OpsCommand::Users { conn, .. }
            | OpsCommand::Orgs { conn, .. }
            | OpsCommand::Workspaces { conn, .. }
            | OpsCommand::Audit { conn, .. }
            | OpsCommand::ApiKeys { conn, .. }
            | OpsCommand::InitialAccessTokens { conn, .. }
            | OpsCommand::RateLimits { conn, .. }
            | OpsCommand::Deployment { conn, .. }
            | OpsCommand::ConsentRequests { conn, .. } => conn,
        }
    }

    /// The one backend API call this command makes.
    fn request(self) -> anyhow::Result<Req> {
        match self {
            OpsCommand::Apps { cmd, .. } => apps(cmd),
            OpsCommand::Scopes { cmd, .. } => scopes(cmd),
            OpsCommand::Clients { cmd, .. } => clients(cmd),
            OpsCommand::Grants { cmd, .. } => grants(cmd),
            OpsCommand::Keys { cmd, .. } => Ok(keys(cmd)),
            OpsCommand::ResourceServers { cmd, .. } => resource_servers(cmd),
            OpsCommand::Users { cmd, .. } => users(cmd),
            OpsCommand::Orgs { cmd, .. } => Ok(orgs(cmd)),
            OpsCommand::Workspaces { cmd, .. } => Ok(workspaces(cmd)),
            OpsCommand::Audit { filter, .. } => Ok(audit(filter)),
            OpsCommand::ApiKeys { cmd, .. } => Ok(api_keys(cmd)),
            OpsCommand::InitialAccessTokens { cmd, .. } => Ok(initial_access_tokens(cmd)),
            OpsCommand::RateLimits { cmd, .. } => rate_limits(cmd),
            OpsCommand::Deployment { cmd, .. } => Ok(deployment(cmd)),
            OpsCommand::ConsentRequests { cmd, .. } => Ok(consent_requests(cmd)),
        }
    }
}

pub async fn run(cmd: OpsCommand) -> anyhow::Result<()> {
    let conn = cmd.conn().clone();
    // Check the connection settings before reading stdin or files.
    let api = Api::new(&conn)?;
    let req = cmd.request()?;
    let view = req.view;
    let answer = api.send(req).await?;
    print!("{}", render::render(answer.as_ref(), conn.json, &view));
    Ok(())
}

/// One backend API call.
struct Req {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Body,
    view: View,
}

enum Body {
    Empty,
    Json(Value),
    /// A multipart form: text fields and an optional `logo` file.
    Form(Vec<(&'static str, String)>, Option<LogoFile>),
}

struct LogoFile {
    file_name: String,
    bytes: Vec<u8>,
}

impl Req {
    fn new(method: Method, path: impl Into<String>, body: Body) -> Req {
        Req {
            method,
            path: path.into(),
            query: Vec::new(),
            body,
            view: View::default(),
        }
    }

    fn get(path: impl Into<String>) -> Req {
        Req::new(Method::GET, path, Body::Empty)
    }

    /// A POST with a JSON body (absent optional fields left out).
    fn post(path: impl Into<String>, body: Value) -> Req {
        Req::new(Method::POST, path, Body::Json(prune(body)))
    }

    fn post_empty(path: impl Into<String>) -> Req {
        Req::new(Method::POST, path, Body::Empty)
    }

    /// A PATCH of the given fields; refuses to send one that changes nothing.
    fn patch(path: impl Into<String>, body: Value) -> anyhow::Result<Req> {
        let body = prune(body);
        if body.as_object().is_some_and(Map::is_empty) {
            bail!("nothing to change: pass at least one option (see --help)");
        }
        Ok(Req::new(Method::PATCH, path, Body::Json(body)))
    }

    /// A PATCH sent exactly as given (nulls included: they clear settings).
    fn patch_raw(path: impl Into<String>, body: Value) -> Req {
        Req::new(Method::PATCH, path, Body::Json(body))
    }

    fn delete(path: impl Into<String>) -> Req {
        let mut r = Req::new(Method::DELETE, path, Body::Empty);
        r.view.done = "deleted";
        r
    }

    fn query(mut self, name: &'static str, value: Option<impl ToString>) -> Req {
        if let Some(v) = value {
            self.query.push((name, v.to_string()));
        }
        self
    }

    /// Show this field of the answer rather than all of it.
    fn focus(mut self, field: &'static str) -> Req {
        self.view.focus = Some(field);
        self
    }

    /// The option that asks for the next page of this listing.
    fn more(mut self, flag: &'static str) -> Req {
        self.view.more = Some(flag);
        self
    }
}

/// The HTTP client for one command.
struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

const NO_API_KEY: &str = "no backend API key: set LATCHKEY_API_KEY (or pass --api-key). \
`latchkey serve` prints one the first time it starts on an empty database (or uses \
LATCHKEY_BOOTSTRAP_API_KEY); with a key in hand, `latchkey api-keys create --name NAME` makes more";

impl Api {
    fn new(conn: &Conn) -> anyhow::Result<Api> {
        let key = conn
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| anyhow!(NO_API_KEY))?;
        let base = conn.url.trim().trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&base).with_context(|| format!("--url {base:?} is not a URL (e.g. http://127.0.0.1:8080)"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("--url {base:?} must start with http:// or https://");
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("latchkey-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .context("setting up the HTTP client")?;
        Ok(Api {
            http,
            base,
            key: key.to_owned(),
        })
    }

    /// Sends the request; returns the JSON answer (`None` for an empty one, e.g. 204), or
    /// the server's error as `message (status code)`.
    async fn send(&self, req: Req) -> anyhow::Result<Option<Value>> {
        let mut url =
            url::Url::parse(&format!("{}{}", self.base, req.path)).with_context(|| format!("building the URL for {}", req.path))?;
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.query);
        }
        let mut rb = self
            .http
            .request(req.method, url)
            .bearer_auth(&self.key)
            .header(reqwest::header::ACCEPT, "application/json");
        rb = match req.body {
            Body::Empty => rb,
            Body::Json(v) => rb.json(&v),
            Body::Form(fields, logo) => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k, v);
                }
                if let Some(l) = logo {
                    form = form.part("logo", reqwest::multipart::Part::bytes(l.bytes).file_name(l.file_name));
                }
                rb.multipart(form)
            }
        };
        let resp = rb.send().await.map_err(|e| {
            anyhow::Error::new(e.without_url()).context(format!(
                "could not reach the Latchkey server at {} (check --url / LATCHKEY_URL, and that `latchkey serve` is running there)",
                self.base
            ))
        })?;
        let status = resp.status();
        let text = resp.text().await.context("reading the server's answer")?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if !status.is_success() {
            return Err(server_error(status, body.as_ref(), &text));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        body.map(Some)
            .ok_or_else(|| anyhow!("the server answered {status} with something that is not JSON: {}", snippet(&text)))
    }
}

fn server_error(status: reqwest::StatusCode, body: Option<&Value>, text: &str) -> anyhow::Error {
    let field = |k: &str| body.and_then(|b| b.get(k)).and_then(Value::as_str);
    match field("message") {
        Some(message) => anyhow!(
            "{} ({} {})",
            render::clean(message),
            status.as_u16(),
            render::clean(field("error").unwrap_or("error"))
        ),
        None => anyhow!(
            "the server answered {status}{}",
            if text.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", snippet(text))
            }
        ),
    }
}

fn snippet(text: &str) -> String {
    let s: String = text.trim().chars().take(200).collect();
    render::clean(&s)
}

// ----- helpers -----

/// Percent-encodes one path segment: everything but letters, digits and `*-._`
/// (`mcp:invoke` becomes `mcp%3Ainvoke`).
fn seg(s: &str) -> String {
    // byte_serialize writes a space as '+' (form style) and a '+' as %2B; paths want %20.
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn app_path(slug: &str) -> String {
    format!("/oauth/apps/{}", seg(slug))
}

/// An empty repeatable option means "not given".
fn non_empty(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

/// Drops the top-level fields that are `null` (options not given).
fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

fn read_logo(file: &Path) -> anyhow::Result<LogoFile> {
    let bytes = std::fs::read(file).with_context(|| format!("reading the logo {}", file.display()))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "logo".into());
    Ok(LogoFile { file_name, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(seg("mcp:invoke"), "mcp%3Ainvoke");
        assert_eq!(seg("a b+c/d"), "a%20b%2Bc%2Fd");
        assert_eq!(seg("my-app_1.x"), "my-app_1.x");
    }

    #[test]
    fn patch_refuses_an_empty_change() {
        assert!(Req::patch("/x", json!({"name": null})).is_err());
        assert!(Req::patch("/x", json!({"name": "n"})).is_ok());
    }

    fn parse(args: &[&str]) -> OpsCommand {
        let cli = crate::cli::Cli::try_parse_from(args).expect("parses");
        let crate::cli::Command::Ops(c) = cli.command else {
            panic!("not an ops command")
        };
        c
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        for args in [
            &["latchkey", "apps", "--json", "--api-key", "lk_api_x", "list"][..],
            &["latchkey", "apps", "list", "--json", "--api-key", "lk_api_x"][..],
        ] {
            let c = parse(args);
            assert!(c.conn().json);
            assert_eq!(c.conn().api_key.as_deref(), Some("lk_api_x"));
        }
    }

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
