//! What every request handler shares.

use std::sync::Arc;

use latchkey_core::Clock;
use latchkey_core::crypto::{Sealer, SecretHasher};
use latchkey_store::Store;

use crate::config::Settings;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hasher: SecretHasher,
    pub sealer: Arc<Sealer>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Cache of clients' `jwks_uri` key sets.
    pub jwks: crate::runtime::jwks_fetch::JwksFetcher,
    /// The gateway's caches, rate limiter and telemetry.
    pub gateway: Arc<crate::gateway::Gateway>,
    /// Throttles of the hosted sign-in and of dynamic registration.
    pub throttles: Arc<Throttles>,
    /// Becomes `true` when the server begins to shut down, so that long-lived responses (the
    /// change feed) end and graceful shutdown can finish.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

/// Per-process throttles (each server instance its own).
pub struct Throttles {
    /// Sign-in attempts per email address and per browser: 10 a minute.
    pub login: governor::DefaultKeyedRateLimiter<String>,
    /// Dynamic registrations per client IP: 20 a minute.
    pub register: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}

impl Default for Throttles {
    fn default() -> Self {
        use governor::{Quota, RateLimiter};
        use std::num::NonZeroU32;
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Throttles {
            login: RateLimiter::keyed(per_minute(10)),
            register: RateLimiter::keyed(per_minute(20)),
        }
    }
}

impl AppState {
    pub fn new(store: Store, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        AppState {
            hasher: settings.master_key.hasher(),
            sealer: Arc::new(settings.master_key.sealer()),
            settings: Arc::new(settings),
            store,
            clock,
            jwks: Default::default(),
            gateway: Default::default(),
            throttles: Default::default(),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}
