//! The optional short positive cache: allowed checks, keyed by a SHA-256 of (token, method,
//! resource, required permissions), kept for a few seconds and never past the token's expiry.
//! Refusals are never cached.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::principal::Principal;

/// The longest a cached allowed answer may be used.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub(crate) struct PositiveCache {
    entries: moka::sync::Cache<[u8; 32], Arc<Principal>>,
}

impl std::fmt::Debug for PositiveCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PositiveCache")
            .field("entries", &self.entries.entry_count())
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
            entries: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl.min(MAX_CACHE_TTL))
                .build(),
        }
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<Arc<Principal>> {
        let p = self.entries.get(key)?;
        match p.expires_at {
            Some(e) if e <= OffsetDateTime::now_utc() => {
                self.entries.invalidate(key);
                None
            }
            _ => Some(p),
        }
    }

    pub(crate) fn insert(&self, key: [u8; 32], principal: Arc<Principal>) {
        self.entries.insert(key, principal);
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
        c.insert([1; 32], p(Some(OffsetDateTime::now_utc() + time::Duration::hours(1))));
        c.insert([2; 32], p(Some(OffsetDateTime::now_utc() - time::Duration::seconds(1))));
        assert!(c.get(&[1; 32]).is_some());
        assert!(c.get(&[2; 32]).is_none());
        assert!(c.get(&[3; 32]).is_none());
    }
}
