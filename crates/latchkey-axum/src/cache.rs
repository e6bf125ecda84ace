//! The optional short positive cache: allowed checks, keyed by a SHA-256 of (token, method,
//! resource, required permissions), kept for a few seconds and never past the token's expiry.
//! Refusals are never cached.
//!
//! Revocation is pushed: a background task follows Latchkey's change feed
//! (`GET /v1/authz/changes`) and empties the cache whenever the deployment's generation moves.
//! While the feed is not connected (not yet, or lost) nothing is served from the cache nor put
//! into it, so a revocation is never missed because a notification was. An answer the gateway
//! gave before a change but that arrives after it is not cached either (the epoch check).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, Weak};
use std::time::Duration;

use latchkey_client::LatchkeyClient;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::principal::Principal;

/// The longest a cached allowed answer may be used.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(5);
/// Waits between reconnections to the change feed, doubling up to the maximum.
const RECONNECT_MIN: Duration = Duration::from_millis(250);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(crate) struct PositiveCache {
    inner: Arc<Inner>,
}

struct Inner {
    entries: moka::sync::Cache<[u8; 32], Arc<Principal>>,
    /// Whether the change feed is connected: only then is the cache used.
    live: AtomicBool,
    /// Moves every time the cache is emptied; an answer is kept only if the epoch did not
    /// move while it was being fetched.
    epoch: AtomicU64,
    /// The change feed follower, started on first use (inside the runtime).
    follower: Once,
}

impl std::fmt::Debug for PositiveCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PositiveCache")
            .field("entries", &self.inner.entries.entry_count())
            .field("live", &self.inner.live.load(Ordering::Acquire))
            .finish()
    }
}

/// The key: a hash, so no token is kept in memory; fields are length-prefixed so that no two
/// different tuples hash the same input.
pub(crate) fn key(token: &str, method: &str, resource: &str, required: &[String]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [token, method, resource].into_iter().chain(required.iter().map(String::as_str)) {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

impl PositiveCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        PositiveCache {
            inner: Arc::new(Inner {
                entries: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(ttl.min(MAX_CACHE_TTL))
                    .build(),
                live: AtomicBool::new(false),
                epoch: AtomicU64::new(0),
                follower: Once::new(),
            }),
        }
    }

    /// Starts following the change feed through `client` (once; needs a Tokio runtime).
    pub(crate) fn follow(&self, client: &LatchkeyClient) {
        self.inner.follower.call_once(|| {
            tokio::spawn(follow(Arc::downgrade(&self.inner), client.clone()));
        });
    }

    pub(crate) fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::Acquire)
    }

    /// The epoch to hand back to [`PositiveCache::insert`].
    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<Arc<Principal>> {
        if !self.inner.live.load(Ordering::Acquire) {
            return None;
        }
        let p = self.inner.entries.get(key)?;
        match p.expires_at {
            Some(e) if e <= OffsetDateTime::now_utc() => {
                self.inner.entries.invalidate(key);
                None
            }
            _ => Some(p),
        }
    }

    /// Keeps an answer fetched since `epoch`, unless the cache was emptied meanwhile or the
    /// change feed is down.
    pub(crate) fn insert(&self, key: [u8; 32], principal: Arc<Principal>, epoch: u64) {
        if self.inner.live.load(Ordering::Acquire) && self.epoch() == epoch {
            self.inner.entries.insert(key, principal);
            // A change that landed during the insert must not leave the entry behind.
            if self.epoch() != epoch {
                self.inner.entries.invalidate(&key);
            }
        }
    }
}

impl Inner {
    fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    fn set_live(&self, live: bool) {
        if !live {
            self.live.store(false, Ordering::Release);
        }
        self.clear();
        if live {
            self.live.store(true, Ordering::Release);
        }
    }
}

/// Follows the change feed for as long as the cache exists: empties it on every new
/// generation, turns it off while disconnected, reconnects with a growing pause.
async fn follow(cache: Weak<Inner>, client: LatchkeyClient) {
    let mut pause = RECONNECT_MIN;
    loop {
        match client.gateway().changes().await {
            Ok(mut feed) => {
                let mut last = None;
                loop {
                    let next = feed.next_generation().await;
                    let Some(c) = cache.upgrade() else { return };
                    match next {
                        Ok(Some(generation)) => {
                            if last != Some(generation) {
                                c.set_live(true);
                                last = Some(generation);
                            }
                            pause = RECONNECT_MIN;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "lost Latchkey's change feed; not caching until it is back");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open Latchkey's change feed; not caching until it opens"),
        }
        match cache.upgrade() {
            Some(c) => c.set_live(false),
            None => return,
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RECONNECT_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_every_field() {
        let k = key("tok", "GET", "mcp", &["read".into()]);
        assert_eq!(k, key("tok", "GET", "mcp", &["read".into()]));
        for other in [
            key("tok2", "GET", "mcp", &["read".into()]),
            key("tok", "POST", "mcp", &["read".into()]),
            key("tok", "GET", "mcp2", &["read".into()]),
            key("tok", "GET", "mcp", &[]),
            key("tok", "GET", "mcp", &["re".into(), "ad".into()]),
            key("tokGET", "", "mcp", &["read".into()]),
        ] {
            assert_ne!(k, other);
        }
    }

    #[test]
    fn expired_tokens_are_not_served() {
        let c = PositiveCache::new(Duration::from_secs(60));
        let p = |expires_at| {
            Arc::new(Principal {
                user_id: 1,
                client_id: "c".into(),
                scopes: vec![],
                granted_resource: None,
                permissions: vec![],
                expires_at,
                organization_id: None,
                workspace_id: None,
                oauth_resource: None,
                deployment_id: 1,
                app_slug: "a".into(),
            })
        };
        c.inner.set_live(true);
        let e = c.epoch();
        c.insert([1; 32], p(Some(OffsetDateTime::now_utc() + time::Duration::hours(1))), e);
        c.insert([2; 32], p(Some(OffsetDateTime::now_utc() - time::Duration::seconds(1))), e);
        assert!(c.get(&[1; 32]).is_some());
        assert!(c.get(&[2; 32]).is_none());
        assert!(c.get(&[3; 32]).is_none());

        // A change empties it; an answer fetched before the change is not kept.
        c.inner.clear();
        assert!(c.get(&[1; 32]).is_none());
        c.insert([1; 32], p(None), e);
        assert!(c.get(&[1; 32]).is_none(), "fetched in an older epoch");
        c.insert([1; 32], p(None), c.epoch());
        assert!(c.get(&[1; 32]).is_some());

        // Without the change feed nothing is served or kept.
        c.inner.set_live(false);
        assert!(c.get(&[1; 32]).is_none());
        c.insert([4; 32], p(None), c.epoch());
        c.inner.live.store(true, Ordering::Release);
        assert!(c.get(&[4; 32]).is_none());
    }
}
