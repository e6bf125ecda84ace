//! Change notification for caches: every committed change that can affect whether a token is
//! good bumps its deployment's generation. Readers remember the generation they saw before
//! loading; a cached entry is stale once the generation moved. In-process, the bump happens
//! right after commit; on PostgreSQL a `pg_notify` inside the transaction (delivered on
//! commit) carries it to the other replicas, which `LISTEN`. If a notification is lost (the
//! listener reconnects), every generation moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use latchkey_core::Id;
use latchkey_core::audit::AuditAction;

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

/// Whether an audit action records a change a cache could hold (and so bumps its
/// deployment's generation). Exhaustive on purpose: a new action must decide.
pub fn invalidates(action: AuditAction) -> bool {
    use AuditAction as A;
    match action {
        // What a token's validity, an app's keys and settings, memberships, rate limits or API
        // keys depend on.
        A::ApiKeyRevoked
        | A::AppUpdated
        | A::AppDisabled
        | A::AppEnabled
        | A::AppDomainChecked
        | A::AppLogoUpdated
        | A::ClientUpdated
        | A::ClientDeactivated
        | A::ClientReactivated
        | A::ClientSecretRotated
        | A::ClientRegistrationUpdated
        | A::ClientRegistrationDeleted
        | A::CodeReplayed
        | A::DeploymentSettingsUpdated
        | A::GrantRevoked
        | A::MembershipCreated
        | A::MembershipUpdated
        | A::MembershipDeleted
        | A::OrganizationUpdated
        | A::OrganizationDeleted
        | A::RateLimitCreated
        | A::RateLimitUpdated
        | A::RateLimitDeleted
        | A::ResourceServerCreated
        | A::ResourceServerUpdated
        | A::ResourceServerSecretRotated
        | A::ResourceServerDeleted
        | A::ScopeUpdated
        | A::ScopeArchived
        | A::ScopeUnarchived
        | A::ScopeMappingSet
        | A::SessionEnded
        | A::SigningKeyRotated
        | A::SigningKeyCompromised
        | A::TokenReuseDetected
        | A::TokenRevoked
        | A::UserUpdated
        | A::UserDeleted
        | A::WorkspaceUpdated
        | A::WorkspaceDeleted => true,
        // Issuing tokens, signing in, consenting, creating things nothing cached refers to
        // yet. Anyone may register a client (RFC 7591); that must not flush every cache. A
        // reaped registration never had a grant, so no token refers to it.
        A::CodeIssued
        | A::CodeRedeemed
        | A::TokenRefreshed
        | A::UserSignedIn
        | A::UserSignInFailed
        | A::UserCreated
        | A::ConsentApproved
        | A::ConsentDenied
        | A::GrantCreated
        | A::GrantUpdated
        | A::ClientCreated
        | A::ClientRegistered
        | A::ClientReaped
        | A::InitialAccessTokenCreated
        | A::InitialAccessTokenRevoked
        | A::AppCreated
        | A::ApiKeyCreated
        | A::OrganizationCreated
        | A::WorkspaceCreated
        | A::DeploymentCreated
        | A::ClientSupersededSecretUsed
        | A::GatewayVerificationFailed
        | A::GatewayPermissionDenied => false,
    }
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
        assert!(invalidates(AuditAction::GrantRevoked) && invalidates(AuditAction::SessionEnded));
        assert!(!invalidates(AuditAction::TokenRefreshed) && !invalidates(AuditAction::ClientRegistered));
        assert!(invalidates(AuditAction::ClientRegistrationDeleted));
    }
}
