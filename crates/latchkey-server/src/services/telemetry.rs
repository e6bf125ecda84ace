//! What the gateway learns without writing on the check path: grant last-used times and
//! verification failures / permission denials, gathered in memory and written in batches —
//! one audit event per (deployment, client, reason) and period, with its count and a sample,
//! so garbage tokens cannot flood the store. Also the Prometheus metrics.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use latchkey_core::audit::{AuditAction, NewAuditEvent};
use latchkey_core::verify::DenyReason;
use latchkey_core::{Id, Timestamp};
use latchkey_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    deployment: Id,
    app: Option<Id>,
    client_id: Option<String>,
    /// The deny reason, or the missing permissions for a permission denial.
    what: String,
    permission: bool,
}

#[derive(Debug, Clone)]
struct Agg {
    count: u64,
    first: Timestamp,
    last: Timestamp,
    sample: serde_json::Value,
}

#[derive(Default)]
pub struct Telemetry {
    denials: Mutex<HashMap<Key, Agg>>,
    grant_uses: Mutex<HashMap<Id, Timestamp>>,
}

/// Distinct keys gathered per period; beyond it, new keys are only counted in metrics.
const MAX_KEYS: usize = 10_000;

impl Telemetry {
    pub fn grant_used(&self, grant: Id, at: Timestamp) {
        let mut g = self.grant_uses.lock().unwrap_or_else(|p| p.into_inner());
        g.insert(grant, at);
    }

    fn add(&self, key: Key, at: Timestamp, sample: serde_json::Value) {
        let mut d = self.denials.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = d.get_mut(&key) {
            a.count += 1;
            a.last = at;
            return;
        }
        if d.len() < MAX_KEYS {
            d.insert(
                key,
                Agg {
                    count: 1,
                    first: at,
                    last: at,
                    sample,
                },
            );
        }
    }

    /// A token-level failure (the token's deployment when known, else the caller's).
    pub fn verification_failed(
        &self,
        deployment: Id,
        app: Option<Id>,
        client_id: Option<&str>,
        reason: DenyReason,
        at: Timestamp,
        sample: serde_json::Value,
    ) {
        self.add(
            Key {
                deployment,
                app,
                client_id: client_id.map(str::to_owned),
                what: reason.as_str().to_owned(),
                permission: false,
            },
            at,
            sample,
        );
    }

    pub fn permission_denied(
        &self,
        deployment: Id,
        app: Id,
        client_id: &str,
        missing: &[String],
        at: Timestamp,
        sample: serde_json::Value,
    ) {
        self.add(
            Key {
                deployment,
                app: Some(app),
                client_id: Some(client_id.to_owned()),
                what: missing.join(" "),
                permission: true,
            },
            at,
            sample,
        );
    }

    /// Writes what was gathered since the last flush.
    pub async fn flush(&self, store: &Store) {
        let uses: Vec<(Id, Timestamp)> = std::mem::take(&mut *self.grant_uses.lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect();
        if let Err(e) = store.touch_grants(&uses).await {
            tracing::warn!(error = %e, "recording grant use");
        }
        let denials = std::mem::take(&mut *self.denials.lock().unwrap_or_else(|p| p.into_inner()));
        let events: Vec<(Id, NewAuditEvent)> = denials
            .into_iter()
            .map(|(k, a)| {
                let (action, details) = if k.permission {
                    (
                        AuditAction::GatewayPermissionDenied,
                        json!({"missing_permissions": k.what.split(' ').collect::<Vec<_>>(), "count": a.count, "first_at": a.first, "last_at": a.last, "sample": a.sample}),
                    )
                } else {
                    (AuditAction::GatewayVerificationFailed, json!({"reason": k.what, "count": a.count, "first_at": a.first, "last_at": a.last, "sample": a.sample}))
                };
                let mut ev = NewAuditEvent::new(action, "client", k.client_id.clone().unwrap_or_else(|| "unknown".into())).details(details);
                ev.app_id = k.app;
                ev.client_id = k.client_id;
                (k.deployment, ev)
            })
            .collect();
        if let Err(e) = store.record_gateway_events(events).await {
            tracing::warn!(error = %e, "recording gateway denials");
        }
    }
}

/// The process-wide Prometheus recorder (installed once; servers in one process share it).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder =
            PrometheusBuilder::new().set_buckets(&[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0]);
        match builder.and_then(|b| b.install_recorder()) {
            Ok(h) => h,
            // Another recorder is installed (only possible in embedding tests): keep a private one.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}
