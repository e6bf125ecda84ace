//! The `latchkey` binary's library half: configuration, the HTTP server, the operator CLI,
//! and start-up (migrations, first-start bootstrap, periodic jobs).
//!
//! Layers, top to bottom (each depends only on those below it): `routes` (every path) →
//! the endpoints in `api`, `runtime` and `gateway` → `services` (what several endpoints
//! share) → `state` → `http` (plumbing: errors, extractors, rewrite) and `config`.

pub mod api;
pub mod cli;
pub mod config;
pub mod gateway;
pub mod http;
#[cfg(test)]
mod module_graph;
pub mod routes;
pub mod runtime;
pub mod services;
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
/// router; DNS goes to the system's resolvers.
pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Server> {
    build_with_dns(settings, clock, Arc::new(services::dns::SystemResolver::default())).await
}

/// [`build`] with the given DNS resolver (tests answer lookups themselves).
pub async fn build_with_dns(settings: Settings, clock: Arc<dyn Clock>, dns: Arc<dyn services::dns::Resolver>) -> anyhow::Result<Server> {
    services::telemetry::prometheus();
    let store = Store::connect(&settings.database_url, clock.clone(), settings.db_max_connections)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying database migrations")?;
    let mut state = AppState::new(store, settings, clock);
    state.dns = dns;
    let generated_api_key = bootstrap(&state).await?;
    spawn_flusher(&state);
    spawn_reaper(&state);
    Ok(Server {
        router: routes::router(state.clone()),
        state,
        generated_api_key,
    })
}

/// On a first start against an empty store: the default deployment and its first backend
/// API key (`LATCHKEY_BOOTSTRAP_API_KEY`, or a generated one that is returned to print).
async fn bootstrap(state: &AppState) -> anyhow::Result<Option<Secret>> {
    let given = state.settings.bootstrap_api_key.clone();
    let was_given = given.is_some();
    let (secret, record) = services::secrets::api_key(&state.hasher, "bootstrap", given);
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

/// Runs `job` every `every` — the first time one period after start-up, not at it — for as
/// long as the state is alive (its telemetry has a handle left).
fn spawn_periodic<Fut>(state: &AppState, every: std::time::Duration, job: impl Fn() -> Fut + Send + 'static)
where
    Fut: std::future::Future<Output = ()> + Send,
{
    let alive = std::sync::Arc::downgrade(&state.telemetry);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if alive.strong_count() == 0 {
                break;
            }
            job().await;
        }
    });
}

/// Writes the gateway's gathered telemetry every [`FLUSH_EVERY`], off the check path.
fn spawn_flusher(state: &AppState) {
    let (telemetry, store) = (std::sync::Arc::downgrade(&state.telemetry), state.store.clone());
    spawn_periodic(state, FLUSH_EVERY, move || {
        let (telemetry, store) = (telemetry.clone(), store.clone());
        async move {
            if let Some(t) = telemetry.upgrade() {
                t.flush(&store).await;
            }
        }
    });
}

/// Once an hour: deletes abandoned dynamic registrations and expired client-assertion `jti`s.
fn spawn_reaper(state: &AppState) {
    let (store, clock, age) = (state.store.clone(), state.clock.clone(), state.settings.dcr_reap_after);
    spawn_periodic(state, std::time::Duration::from_secs(3600), move || {
        let (store, clock) = (store.clone(), clock.clone());
        async move {
            let now = clock.now();
            match store.reap_unused_registrations(now.plus_seconds(-(age.as_secs() as i64))).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reaped = n, "deleted dynamic registrations that were never used"),
                Err(e) => tracing::warn!(error = %e, "reaping registrations"),
            }
            if let Err(e) = store.reap_expired_assertion_jtis(now).await {
                tracing::warn!(error = %e, "reaping client assertion ids");
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
