//! The gateway's caches of verified state: tokens (by hash), apps (scopes, resource servers,
//! rate limit rules), users' memberships, deployments' settings and backend API keys.
//!
//! An entry remembers its deployment's change generation (see `latchkey_store::bus`) as read
//! *before* it was loaded, and is used only while that generation is current: any committed
//! change in the deployment (a revocation, a deactivation, a scope mapping…) makes the next
//! check reload. Entries also expire after a bounded time, so a lost cross-replica
//! notification cannot keep stale state longer than that. Unknown tokens are remembered
//! briefly, so garbage does not reach the database on every request.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::Id;
use latchkey_core::app::App;
use latchkey_core::consent::Memberships;
use latchkey_core::rate_limit::RateLimitRule;
use latchkey_core::resource_server::ResourceServer;
use latchkey_core::signing_key::SigningKey;
use latchkey_core::verify::TokenState;
use latchkey_store::deployments::ApiKey;
use latchkey_store::{Result, Store};
use moka::sync::Cache;
use serde_json::Value;

use crate::config::Settings;

/// How long anything may be served from the cache without a reload (bounded staleness if a
/// change notification is lost).
pub const MAX_STALENESS: Duration = Duration::from_secs(10);
/// How long an unknown token or API key is remembered as unknown.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(2);
/// How long a stale entry is kept to remember which deployment its token or key belongs to
/// (which never changes), so that a reload is one query, not two.
const KEEP_FOR_DEPLOYMENT: Duration = Duration::from_secs(600);

struct Entry<T> {
    generation: u64,
    loaded: Instant,
    value: T,
}

impl<T> Entry<T> {
    fn new(generation: u64, value: T) -> Arc<Self> {
        Arc::new(Entry {
            generation,
            loaded: Instant::now(),
            value,
        })
    }
}

/// What the gateway needs about an app.
#[derive(Debug)]
pub struct AppData {
    pub app: App,
    /// Its issuer identifier (`runtime::issuer::issuer_url`).
    pub issuer: String,
    /// Its signing keys (public halves), to verify JWT access tokens.
    pub keys: Vec<SigningKey>,
    pub servers: Vec<ResourceServer>,
    pub rules: Vec<RateLimitRule>,
}

type ByHash<T> = Cache<String, Arc<Entry<Option<Arc<T>>>>>;
type Of<K, T> = Cache<K, Arc<Entry<Arc<T>>>>;

pub struct Caches {
    tokens: ByHash<TokenState>,
    apps: Of<Id, AppData>,
    users: Of<Id, Memberships>,
    settings: Of<Id, Value>,
    api_keys: ByHash<ApiKey>,
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
            tokens: Cache::builder().max_capacity(200_000).time_to_live(KEEP_FOR_DEPLOYMENT).build(),
            apps: Cache::builder().max_capacity(10_000).time_to_live(MAX_STALENESS).build(),
            users: Cache::builder().max_capacity(100_000).time_to_live(MAX_STALENESS).build(),
            settings: Cache::builder().max_capacity(10_000).time_to_live(MAX_STALENESS).build(),
            api_keys: Cache::builder().max_capacity(10_000).time_to_live(KEEP_FOR_DEPLOYMENT).build(),
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

/// Something of `deployment`, loaded by `load` unless a fresh copy is cached. The
/// generation is read before `load` runs (futures do nothing until awaited), so a change
/// committed during the load leaves the entry stale rather than wrong.
async fn of_deployment<K, T>(
    cache: &Of<K, T>,
    store: &Store,
    key: K,
    deployment: Id,
    load: impl Future<Output = Result<T>>,
) -> Result<Arc<T>>
where
    K: Hash + Eq + Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    if let Some(e) = cache.get(&key)
        && fresh(&e, store, Some(deployment))
    {
        return Ok(e.value.clone());
    }
    let generation = store.bus().generation(deployment);
    let value = Arc::new(load.await?);
    cache.insert(key, Entry::new(generation, value.clone()));
    Ok(value)
}

/// Something found by a hash (a token, an API key), whose deployment is learned from it.
async fn by_hash<T, Fut>(
    cache: &ByHash<T>,
    store: &Store,
    hash: &str,
    deployment_of: fn(&T) -> Id,
    load: impl Fn() -> Fut,
) -> Result<(Option<Arc<T>>, Source)>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<Option<T>>>,
{
    let known = match cache.get(hash) {
        Some(e) => {
            let deployment = e.value.as_deref().map(deployment_of);
            if fresh(&e, store, deployment) {
                return Ok((e.value.clone(), Source::Hit));
            }
            deployment
        }
        None => None,
    };
    // The generation must be read before loading. Something seen for the first time has no
    // known deployment yet: load once to learn it, then again under its generation.
    let deployment = match known {
        Some(d) => Some(d),
        None => load().await?.as_ref().map(deployment_of),
    };
    let Some(deployment) = deployment else {
        cache.insert(hash.to_owned(), Entry::new(0, None));
        return Ok((None, Source::Miss));
    };
    let generation = store.bus().generation(deployment);
    let value = load().await?.map(Arc::new);
    cache.insert(hash.to_owned(), Entry::new(generation, value.clone()));
    Ok((value, Source::Miss))
}

impl Caches {
    /// A token's state by its hash (None: unknown).
    pub async fn token(&self, store: &Store, hash: &str) -> Result<(Option<Arc<TokenState>>, Source)> {
        by_hash(&self.tokens, store, hash, |t| t.deployment_id, || store.token_state(hash)).await
    }

    /// A live backend API key by hash (None: unknown or revoked).
    pub async fn api_key(&self, store: &Store, hash: &str) -> Result<Option<Arc<ApiKey>>> {
        Ok(
            by_hash(&self.api_keys, store, hash, |k| k.deployment_id, || store.api_key_by_hash(hash))
                .await?
                .0,
        )
    }

    pub async fn app(&self, store: &Store, settings: &Settings, deployment: Id, app_id: Id) -> Result<Arc<AppData>> {
        of_deployment(&self.apps, store, app_id, deployment, async {
            let app = store.app_by_id(app_id).await?;
            Ok(AppData {
                issuer: crate::services::issuer::issuer_url(settings, &app),
                keys: store.signing_keys_of(app_id).await?,
                servers: store.resource_servers_of(app_id).await?,
                rules: store.rate_limit_rules_of(app_id).await?,
                app,
            })
        })
        .await
    }

    pub async fn memberships(&self, store: &Store, deployment: Id, user: Id) -> Result<Arc<Memberships>> {
        of_deployment(&self.users, store, user, deployment, store.memberships_of(user)).await
    }

    pub async fn settings(&self, store: &Store, deployment: Id) -> Result<Arc<Value>> {
        of_deployment(&self.settings, store, deployment, deployment, async {
            Ok(store.deployment(deployment).await?.settings)
        })
        .await
    }

    /// Whether a key's use should be written now (at most once a minute per key).
    pub fn should_touch(&self, key: Id) -> bool {
        let first = !self.touched.contains_key(&key);
        if first {
            self.touched.insert(key, ());
        }
        first
    }
}
