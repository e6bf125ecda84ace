//! The gateway's caches of verified state: tokens (by hash), apps (scopes, resource servers,
//! rate limit rules), users' memberships, deployments' settings and backend API keys.
//!
//! An entry remembers its deployment's change generation (see `latchkey_store::bus`) as read
//! *before* it was loaded, and is used only while that generation is current: any committed
//! change in the deployment (a revocation, a deactivation, a scope mapping…) makes the next
//! check reload. Entries also expire after a bounded time, so a lost cross-replica
//! notification cannot keep stale state longer than that. Unknown tokens are remembered
//! briefly, so garbage does not reach the database on every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::Id;
use latchkey_core::app::App;
use latchkey_core::consent::Memberships;
use latchkey_core::rate_limit::RateLimitRule;
use latchkey_core::resource_server::ResourceServer;
use latchkey_core::verify::TokenState;
use latchkey_store::deployments::ApiKey;
use latchkey_store::{Result, Store};
use moka::sync::Cache;
use serde_json::Value;

/// How long anything may be served from the cache without a reload (bounded staleness if a
/// change notification is lost).
pub const MAX_STALENESS: Duration = Duration::from_secs(10);
/// How long an unknown token or API key is remembered as unknown.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(2);

struct Entry<T> {
    generation: u64,
    loaded: Instant,
    value: T,
}

/// What the gateway needs about an app.
#[derive(Debug)]
pub struct AppData {
    pub app: App,
    pub servers: Vec<ResourceServer>,
    pub rules: Vec<RateLimitRule>,
}

pub struct Caches {
    tokens: Cache<String, Arc<Entry<Option<TokenState>>>>,
    apps: Cache<Id, Arc<Entry<Arc<AppData>>>>,
    users: Cache<Id, Arc<Entry<Arc<Memberships>>>>,
    settings: Cache<Id, Arc<Entry<Arc<Value>>>>,
    api_keys: Cache<String, Arc<Entry<Option<ApiKey>>>>,
    /// API keys whose last use was recorded in the last minute.
    touched: Cache<Id, ()>,
}

/// Whether the cache answered or the store had to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Hit,
    Miss,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            tokens: Cache::builder().max_capacity(200_000).time_to_live(MAX_STALENESS).build(),
            apps: Cache::builder().max_capacity(10_000).time_to_live(MAX_STALENESS).build(),
            users: Cache::builder().max_capacity(100_000).time_to_live(MAX_STALENESS).build(),
            settings: Cache::builder().max_capacity(10_000).time_to_live(MAX_STALENESS).build(),
            api_keys: Cache::builder().max_capacity(10_000).time_to_live(MAX_STALENESS).build(),
            touched: Cache::builder().max_capacity(10_000).time_to_live(Duration::from_secs(60)).build(),
        }
    }
}

fn fresh<T>(e: &Entry<T>, store: &Store, deployment: Option<Id>) -> bool {
    match deployment {
        Some(d) => store.bus().generation(d) == e.generation && e.loaded.elapsed() < MAX_STALENESS,
        None => e.loaded.elapsed() < NEGATIVE_TTL,
    }
}

impl Caches {
    /// A token's state by its hash (None: unknown).
    pub async fn token(&self, store: &Store, hash: &str) -> Result<(Option<TokenState>, Source)> {
        let known = match self.tokens.get(hash) {
            Some(e) => {
                let deployment = e.value.as_ref().map(|t| t.deployment_id);
                if fresh(&e, store, deployment) {
                    return Ok((e.value.clone(), Source::Hit));
                }
                deployment
            }
            None => None,
        };
        // The generation must be read before loading. A token seen for the first time has
        // no known deployment yet: load once to learn it, then load again under its generation.
        let deployment = match known {
            Some(d) => Some(d),
            None => store.token_state(hash).await?.map(|t| t.deployment_id),
        };
        let Some(deployment) = deployment else {
            self.tokens.insert(
                hash.to_owned(),
                Arc::new(Entry {
                    generation: 0,
                    loaded: Instant::now(),
                    value: None,
                }),
            );
            return Ok((None, Source::Miss));
        };
        let generation = store.bus().generation(deployment);
        let value = store.token_state(hash).await?;
        self.tokens.insert(
            hash.to_owned(),
            Arc::new(Entry {
                generation,
                loaded: Instant::now(),
                value: value.clone(),
            }),
        );
        Ok((value, Source::Miss))
    }

    pub async fn app(&self, store: &Store, deployment: Id, app_id: Id) -> Result<Arc<AppData>> {
        if let Some(e) = self.apps.get(&app_id)
            && fresh(&e, store, Some(deployment))
        {
            return Ok(e.value.clone());
        }
        let generation = store.bus().generation(deployment);
        let data = Arc::new(AppData {
            app: store.app_by_id(app_id).await?,
            servers: store.resource_servers_of(app_id).await?,
            rules: store.rate_limit_rules_of(app_id).await?,
        });
        self.apps.insert(
            app_id,
            Arc::new(Entry {
                generation,
                loaded: Instant::now(),
                value: data.clone(),
            }),
        );
        Ok(data)
    }

    pub async fn memberships(&self, store: &Store, deployment: Id, user: Id) -> Result<Arc<Memberships>> {
        if let Some(e) = self.users.get(&user)
            && fresh(&e, store, Some(deployment))
        {
            return Ok(e.value.clone());
        }
        let generation = store.bus().generation(deployment);
        let m = Arc::new(store.memberships_of(user).await?);
        self.users.insert(
            user,
            Arc::new(Entry {
                generation,
                loaded: Instant::now(),
                value: m.clone(),
            }),
        );
        Ok(m)
    }

    pub async fn settings(&self, store: &Store, deployment: Id) -> Result<Arc<Value>> {
        if let Some(e) = self.settings.get(&deployment)
            && fresh(&e, store, Some(deployment))
        {
            return Ok(e.value.clone());
        }
        let generation = store.bus().generation(deployment);
        let s = Arc::new(store.deployment(deployment).await?.settings);
        self.settings.insert(
            deployment,
            Arc::new(Entry {
                generation,
                loaded: Instant::now(),
                value: s.clone(),
            }),
        );
        Ok(s)
    }

    /// Whether a key's use should be written now (at most once a minute per key).
    pub fn should_touch(&self, key: Id) -> bool {
        let first = !self.touched.contains_key(&key);
        if first {
            self.touched.insert(key, ());
        }
        first
    }

    /// A live backend API key by hash (None: unknown or revoked).
    pub async fn api_key(&self, store: &Store, hash: &str) -> Result<Option<ApiKey>> {
        let known = match self.api_keys.get(hash) {
            Some(e) => {
                let deployment = e.value.as_ref().map(|k| k.deployment_id);
                if fresh(&e, store, deployment) {
                    return Ok(e.value.clone());
                }
                deployment
            }
            None => None,
        };
        let deployment = match known {
            Some(d) => Some(d),
            None => store.api_key_by_hash(hash).await?.map(|k| k.deployment_id),
        };
        let Some(deployment) = deployment else {
            self.api_keys.insert(
                hash.to_owned(),
                Arc::new(Entry {
                    generation: 0,
                    loaded: Instant::now(),
                    value: None,
                }),
            );
            return Ok(None);
        };
        let generation = store.bus().generation(deployment);
        let key = store.api_key_by_hash(hash).await?;
        self.api_keys.insert(
            hash.to_owned(),
            Arc::new(Entry {
                generation,
                loaded: Instant::now(),
                value: key.clone(),
            }),
        );
        Ok(key)
    }
}
