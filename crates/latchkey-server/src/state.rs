//! What every request handler shares. Depends only on the configuration and the lower tier of
//! [`crate::services`].

use std::sync::Arc;

use latchkey_core::Clock;
use latchkey_core::crypto::{Sealer, SecretHasher};
use latchkey_store::Store;

use crate::config::Settings;
use crate::services::cache::Caches;
use crate::services::dns::{Resolver, SystemResolver};
use crate::services::fetch::JwksFetcher;
use crate::services::limiter::Limiter;
use crate::services::telemetry::Telemetry;
use crate::services::throttle::Throttles;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hasher: SecretHasher,
    pub sealer: Arc<Sealer>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// DNS for the outbound fetcher and domain verification (tests put a `StaticResolver`).
    pub dns: Arc<dyn Resolver>,
    /// Cache of clients' `jwks_uri` key sets, fetched through the hardened fetcher.
    pub jwks: JwksFetcher,
    /// Tokens, apps, memberships, settings and API keys, valid while their deployment's
    /// change generation holds (the gateway, authorize and API-key authentication read them).
    pub caches: Arc<Caches>,
    /// The gateway's rate-limit windows.
    pub limiter: Arc<Limiter>,
    /// The gateway's batched writes (grant last-used times, aggregated denials).
    pub telemetry: Arc<Telemetry>,
    /// Throttles of the hosted sign-in and of dynamic registration.
    pub throttles: Arc<Throttles>,
    /// Becomes `true` when the server begins to shut down, so that long-lived responses (the
    /// change feed) end and graceful shutdown can finish.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        AppState {
            hasher: settings.master_key.hasher(),
            sealer: Arc::new(settings.master_key.sealer()),
            settings: Arc::new(settings),
            store,
            clock,
            dns: Arc::new(SystemResolver::default()),
            jwks: Default::default(),
            caches: Default::default(),
            limiter: Default::default(),
            telemetry: Default::default(),
            throttles: Default::default(),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}
