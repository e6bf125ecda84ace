//! Operator commands: each one is a single call to a running server's backend API.
//!
//! Every subcommand maps its arguments to a [`Req`] (method, path, query, body, and how to
//! show the answer); [`Api::send`] performs it and [`render`] prints the result. Nothing
//! here talks to the database: the server stays the one place that validates, audits and
//! invalidates caches.
//!
//! One module per resource, named after the backend API's module for it ([`crate::api`]);
//! this one holds what they share: the command enum, the request and the HTTP client.

mod api_keys;
mod apps;
mod audit;
mod clients;
mod consent_requests;
mod deployment;
mod directory;
mod grants;
mod initial_access_tokens;
mod keys;
mod rate_limits;
mod resource_servers;
mod scopes;

use std::fmt;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value};

use super::render::{self, View};

pub use api_keys::ApiKeysCmd;
pub use apps::AppsCmd;
pub use audit::AuditArgs;
pub use clients::{ClientOpts, ClientsCmd};
pub use consent_requests::ConsentRequestsCmd;
pub use deployment::DeploymentCmd;
pub use directory::{GroupCmd, OrgsCmd, UsersCmd, WorkspacesCmd};
pub use grants::GrantsCmd;
pub use initial_access_tokens::InitialAccessTokensCmd;
pub use keys::KeysCmd;
pub use rate_limits::RateLimitsCmd;
pub use resource_servers::ResourceServersCmd;
pub use scopes::ScopesCmd;

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
            OpsCommand::Apps { cmd, .. } => apps::request(cmd),
            OpsCommand::Scopes { cmd, .. } => scopes::request(cmd),
            OpsCommand::Clients { cmd, .. } => clients::request(cmd),
            OpsCommand::Grants { cmd, .. } => grants::request(cmd),
            OpsCommand::Keys { cmd, .. } => Ok(keys::request(cmd)),
            OpsCommand::ResourceServers { cmd, .. } => resource_servers::request(cmd),
            OpsCommand::Users { cmd, .. } => directory::users(cmd),
            OpsCommand::Orgs { cmd, .. } => Ok(directory::orgs(cmd)),
            OpsCommand::Workspaces { cmd, .. } => Ok(directory::workspaces(cmd)),
            OpsCommand::Audit { filter, .. } => Ok(audit::request(filter)),
            OpsCommand::ApiKeys { cmd, .. } => Ok(api_keys::request(cmd)),
            OpsCommand::InitialAccessTokens { cmd, .. } => Ok(initial_access_tokens::request(cmd)),
            OpsCommand::RateLimits { cmd, .. } => rate_limits::request(cmd),
            OpsCommand::Deployment { cmd, .. } => Ok(deployment::request(cmd)),
            OpsCommand::ConsentRequests { cmd, .. } => Ok(consent_requests::request(cmd)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

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

    /// Parses a full command line into its operator command.
    pub(super) fn parse(args: &[&str]) -> OpsCommand {
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
}
