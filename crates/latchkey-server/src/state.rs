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
        }
    }
}
