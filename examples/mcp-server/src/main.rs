//! `latchkey-mcp-example`: run the notes MCP server behind Latchkey.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use latchkey_axum::{LatchkeyAuth, ResourceConfig};
use latchkey_client::{LatchkeyClient, LatchkeyConfig};
use latchkey_mcp_example::{Notes, READ, WRITE, app};

/// An MCP server (streamable HTTP) whose every request is checked by the Latchkey gateway.
///
/// The Latchkey connection comes from the environment: LATCHKEY_API_KEY (a backend API key,
/// required), LATCHKEY_URL (default http://127.0.0.1:8080) and LATCHKEY_GATEWAY_URL
/// (default: LATCHKEY_URL).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on
    #[arg(long, env = "MCP_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The MCP endpoint's canonical URL, as registered in Latchkey as a resource server; its
    /// path is where the endpoint is served
    #[arg(long, env = "MCP_RESOURCE_URL", default_value = "http://127.0.0.1:3000/mcp")]
    resource: String,
    /// The issuer of the Latchkey app whose tokens this server accepts, exactly as in its
    /// metadata (e.g. http://127.0.0.1:8080/a/acme)
    #[arg(long, env = "LATCHKEY_ISSUER")]
    issuer: String,
    /// Permissions every MCP request needs (comma-separated); clients are told to ask for them
    #[arg(long, env = "MCP_REQUIRED_SCOPES", value_delimiter = ',', default_value = READ)]
    require: Vec<String>,
    /// Cache allowed gateway answers this many seconds (at most 5; 0 = ask on every request)
    #[arg(long, env = "MCP_CACHE_SECONDS", default_value_t = 0)]
    cache_seconds: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let client = LatchkeyClient::new(LatchkeyConfig::from_env()?.with_timeout(Duration::from_secs(3)))?;
    let resource_host = url::Url::parse(&args.resource)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .context("--resource must be an absolute URL")?;
    let auth = LatchkeyAuth::new(
        client,
        ResourceConfig {
            scopes_supported: vec![READ.into(), WRITE.into()],
            resource_name: Some("Latchkey example notes".into()),
            ..ResourceConfig::new(&args.resource, &args.issuer)
        },
    )?
    .with_cache(Duration::from_secs(args.cache_seconds));
    let auth = auth.require(args.require.iter().filter(|s| !s.is_empty()).cloned());
    let hosts = vec![resource_host, "localhost".into(), "127.0.0.1".into(), "::1".into()];
    let router = app(&auth, Notes::default(), hosts);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(resource = %args.resource, metadata = %auth.metadata_url(), "MCP server listening on {}", args.listen);
    // With connection info, the end user's address reaches Latchkey's audit trail.
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
