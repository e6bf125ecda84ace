//! Change notification for caches: every committed change that can affect whether a token is
//! good bumps its deployment's generation. Readers remember the generation they saw before
//! loading; a cached entry is stale once the generation moved. In-process, the bump happens
//! right after commit; on PostgreSQL a `pg_notify` inside the transaction (delivered on
//! commit) carries it to the other replicas, which `LISTEN`. If a notification is lost (the
//! listener reconnects), every generation moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use latchkey_core::Id;

/// Generations are kept in buckets by deployment id: deployments sharing a bucket only cause
/// each other extra reloads, never a missed one.
const BUCKETS: usize = 1024;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "latchkey_changes";

#[derive(Debug)]
pub struct Bus {
    buckets: Box<[AtomicU64]>,
    /// Ticks on every change, for those who wait for one (the change feed) rather than poll.
    ticks: tokio::sync::watch::Sender<u64>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            ticks: tokio::sync::watch::Sender::new(0),
        }
    }
}

fn bucket(deployment: Id) -> usize {
    (deployment.get().unsigned_abs() as usize).wrapping_mul(0x9E37_79B9) % BUCKETS
}

impl Bus {
    pub fn new() -> Arc<Self> {
        Arc::new(Bus::default())
    }

    /// The current generation for a deployment's data.
    pub fn generation(&self, deployment: Id) -> u64 {
        self.buckets[bucket(deployment)].load(Ordering::Acquire)
    }

    /// Something in the deployment changed.
    pub fn changed(&self, deployment: Id) {
        self.buckets[bucket(deployment)].fetch_add(1, Ordering::AcqRel);
        self.ticks.send_modify(|t| *t = t.wrapping_add(1));
    }

    /// Everything may have changed (a notification may have been lost).
    pub fn changed_all(&self) {
        for b in self.buckets.iter() {
            b.fetch_add(1, Ordering::AcqRel);
        }
        self.ticks.send_modify(|t| *t = t.wrapping_add(1));
    }

    /// Wakes on every later change (of any deployment: compare [`Bus::generation`]).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.ticks.subscribe()
    }
}

/// Audit actions that record no change a cache could hold: issuing tokens, signing in,
/// creating things nothing cached refers to yet. Everything else invalidates.
pub fn invalidates(action: &str) -> bool {
    !matches!(
        action,
        "code.issued"
            | "code.redeemed"
            | "token.refreshed"
            | "user.signed_in"
            | "user.sign_in_failed"
            | "user.created"
            | "consent.approved"
            | "consent.denied"
            | "grant.created"
            | "grant.updated"
            | "client.created"
            // Anyone may register a client (RFC 7591); that must not flush every cache. A
            // reaped registration never had a grant, so no token refers to it.
            | "client.registered"
            | "client.reaped"
            | "initial_access_token.created"
            | "initial_access_token.revoked"
            | "app.created"
            | "api_key.created"
            | "organization.created"
            | "workspace.created"
            | "deployment.created"
            | "client.superseded_secret_used"
            | "gateway.verification_failed"
            | "gateway.permission_denied"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_move_per_deployment() {
        let bus = Bus::default();
        let (a, b) = (Id::from_i64(1), Id::from_i64(2));
        let (ga, gb) = (bus.generation(a), bus.generation(b));
        bus.changed(a);
        assert_eq!(bus.generation(a), ga + 1);
        assert_eq!(bus.generation(b), gb);
        bus.changed_all();
        assert_eq!(bus.generation(b), gb + 1);
        assert!(invalidates("grant.revoked") && invalidates("session.ended") && !invalidates("token.refreshed"));
        assert!(!invalidates("client.registered") && invalidates("client.registration_deleted"));
    }
}
