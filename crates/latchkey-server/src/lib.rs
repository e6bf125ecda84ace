//! The `latchkey` binary's library half: configuration, the HTTP server (backend API,
//! health), the operator CLI, and start-up (migrations, first-start bootstrap).

pub mod api;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod gateway;
pub mod http;
pub mod runtime;
pub mod state;

use std::sync::Arc;

use anyhow::Context;
use latchkey_core::{Clock, Secret};
use latchkey_store::Store;

pub use config::Settings;
pub use state::AppState;

/// A server ready to accept connections.
pub struct Server {
    pub state: AppState,
    pub router: axum::Router,
    /// The backend API key created by the first start, when one was generated (to print once).
    pub generated_api_key: Option<Secret>,
}

/// Connects to the store, applies migrations, bootstraps an empty store, and builds the
/// router.
pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Server> {
    gateway::telemetry::prometheus();
    let store = Store::connect(&settings.database_url, clock.clone(), settings.db_max_connections)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying database migrations")?;
    let state = AppState::new(store, settings, clock);
    let generated_api_key = bootstrap(&state).await?;
    spawn_flusher(&state);
    spawn_reaper(&state);
    Ok(Server {
        router: http::router(state.clone()),
        state,
        generated_api_key,
    })
}

/// On a first start against an empty store: the default deployment and its first backend
/// API key (`LATCHKEY_BOOTSTRAP_API_KEY`, or a generated one that is returned to print).
async fn bootstrap(state: &AppState) -> anyhow::Result<Option<Secret>> {
    let given = state.settings.bootstrap_api_key.clone();
    let was_given = given.is_some();
    let (secret, record) = credentials::api_key(&state.hasher, "bootstrap", given);
    match state
        .store
        .bootstrap(&record)
        .await
        .context("bootstrapping the default deployment")?
    {
        Some(d) => {
            tracing::info!(deployment_id = %d.id, "created the default deployment and its first backend API key");
            Ok((!was_given).then_some(secret))
        }
        None => Ok(None),
    }
}

/// How often the gateway's batched writes (grant last-used times, aggregated denials) land.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Writes the gateway's gathered telemetry every [`FLUSH_EVERY`], off the check path. The task
/// ends with the last handle to the state.
fn spawn_flusher(state: &AppState) {
    let weak = std::sync::Arc::downgrade(&state.gateway);
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(gw) = weak.upgrade() else { break };
            gw.telemetry.flush(&store).await;
        }
    });
}

/// Deletes abandoned dynamic registrations once an hour.
fn spawn_reaper(state: &AppState) {
    let weak = std::sync::Arc::downgrade(&state.gateway);
    let (store, clock, age) = (state.store.clone(), state.clock.clone(), state.settings.dcr_reap_after);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if weak.upgrade().is_none() {
                break;
            }
            let before = clock.now().plus_seconds(-(age.as_secs() as i64));
            match store.reap_unused_registrations(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reaped = n, "deleted dynamic registrations that were never used"),
                Err(e) => tracing::warn!(error = %e, "reaping registrations"),
            }
        }
    });
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
