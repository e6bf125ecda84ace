//! The command line: `latchkey serve` runs the server; every other command is an operator
//! command that calls a running server's backend API (so the server stays the one place
//! that validates, audits and invalidates caches).

pub mod ops;
mod render;

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{LogFormat, ServeArgs};

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey: a self-hosted OAuth 2.1 / OpenID Connect authorization server with a token gateway",
    after_help = "Secrets are read from the environment only:\n  LATCHKEY_SECRET_KEY          master key (base64url or hex, 32 bytes); default: <data-dir>/secret.key\n  LATCHKEY_BOOTSTRAP_API_KEY   first backend API key on an empty store (lk_api_…); default: generated and printed once\n  LATCHKEY_API_KEY             backend API key used by the operator commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrations are applied on start)
    Serve(ServeArgs),
    /// Create another deployment (tenant) directly in the database and print its first
    /// backend API key once. Takes the same database and key settings as `serve`.
    CreateDeployment(CreateDeploymentArgs),
    #[command(flatten)]
    Ops(ops::OpsCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::CreateDeployment(args) => create_deployment(args).await,
        Command::Ops(cmd) => ops::run(cmd).await,
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

#[derive(Debug, clap::Args)]
pub struct CreateDeploymentArgs {
    /// Name of the new deployment
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub store: ServeArgs,
}

async fn create_deployment(args: CreateDeploymentArgs) -> anyhow::Result<()> {
    let name = latchkey_core::validate::text("name", &args.name, 100).map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = args.store.resolve()?;
    let clock: Arc<dyn latchkey_core::Clock> = Arc::new(latchkey_core::SystemClock);
    let store = latchkey_store::Store::connect(&settings.database_url, clock, 1)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying database migrations")?;
    let (key, record) = crate::services::secrets::api_key(&settings.master_key.hasher(), "bootstrap", None);
    let deployment = store.create_deployment(&name, &record).await?;
    store.close().await;
    println!(
        "Created deployment {} ({name}). Its backend API key (shown only now):\n\n    {}\n",
        deployment.id,
        key.expose()
    );
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format.unwrap_or_default());
    let settings = args.resolve()?;
    let listen = settings.listen;
    let public_url = settings.public_url.clone();
    let clock: Arc<dyn latchkey_core::Clock> = Arc::new(latchkey_core::SystemClock);
    let server = crate::build(settings, clock).await?;
    if let Some(key) = &server.generated_api_key {
        // Printed once, to stdout, and never logged: this is the only time it can be read.
        println!(
            "\nCreated the default deployment. Its backend API key (shown only now, store it safely):\n\n    {}\n\nUse it as `Authorization: Bearer <key>`, or export LATCHKEY_API_KEY for the CLI.\n",
            key.expose()
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let listen = listener.local_addr().unwrap_or(listen);
    tracing::info!(%listen, %public_url, database = server.state.store.dialect().name(), "latchkey is listening");
    axum::serve(
        listener,
        server.router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let stopping = server.state.stopping.clone();
        async move {
            crate::shutdown_signal().await;
            stopping.send_replace(true);
        }
    })
    .await?;
    server.state.telemetry.flush(&server.state.store).await;
    server.state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
