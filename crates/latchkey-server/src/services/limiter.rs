//! Sliding-window rate limiting of gateway checks. Each (rule, subject) keeps the times of
//! the checks it admitted within the window; a check is admitted only if every applicable
//! rule has room, and only admitted checks are counted. When a rule is full, the wait is
//! until its oldest admitted check leaves the window. Counts are per replica.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use latchkey_core::Id;
use latchkey_core::rate_limit::RateLimitRule;
use moka::sync::Cache;
use serde::Serialize;

/// One rule's state after a check, as reported in `rate_limits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleState {
    pub rule: String,
    pub remaining: i64,
    pub limit: i64,
    /// Seconds until the window has room again (for headers).
    #[serde(skip)]
    pub reset_seconds: i64,
}

/// A refusal: the rule that is full and the seconds until a slot frees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub rule: String,
    pub retry_after: i64,
    pub states: Vec<RuleState>,
}

pub struct Limiter {
    windows: Cache<(Id, Id), Arc<Mutex<VecDeque<i64>>>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            windows: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(Duration::from_secs(latchkey_core::rate_limit::MAX_WINDOW_SECONDS as u64))
                .build(),
        }
    }
}

fn ceil_seconds(ms: i64) -> i64 {
    (ms.max(0) + 999) / 1000
}

impl Limiter {
    /// Checks (and on success counts) one check of `client`'s token in `app` at `now_ms`.
    pub fn check(&self, rules: &[RateLimitRule], app: Id, client: Id, now_ms: i64) -> Result<Vec<RuleState>, Blocked> {
        let applicable: Vec<&RateLimitRule> = rules.iter().filter(|r| r.applies_to(client)).collect();
        let mut admitted: Vec<Arc<Mutex<VecDeque<i64>>>> = Vec::with_capacity(applicable.len());
        let mut states = Vec::with_capacity(applicable.len());
        for rule in &applicable {
            let window_ms = rule.window_seconds * 1000;
            let w = self
                .windows
                .get_with((rule.id, rule.subject(app, client)), || Arc::new(Mutex::new(VecDeque::new())));
            let mut q = w.lock().unwrap_or_else(|p| p.into_inner());
            while q.front().is_some_and(|t| *t <= now_ms - window_ms) {
                q.pop_front();
            }
            if q.len() as i64 >= rule.max_requests {
                let retry = ceil_seconds(q.front().map_or(0, |t| t + window_ms - now_ms)).max(1);
                drop(q);
                // Undo what this check already counted under earlier rules.
                for w in admitted {
                    let mut q = w.lock().unwrap_or_else(|p| p.into_inner());
                    q.pop_back();
                }
                states.push(RuleState {
                    rule: rule.label(),
                    remaining: 0,
                    limit: rule.max_requests,
                    reset_seconds: retry,
                });
                return Err(Blocked {
                    rule: rule.label(),
                    retry_after: retry,
                    states,
                });
            }
            q.push_back(now_ms);
            let reset = ceil_seconds(q.front().map_or(0, |t| t + window_ms - now_ms));
            states.push(RuleState {
                rule: rule.label(),
                remaining: rule.max_requests - q.len() as i64,
                limit: rule.max_requests,
                reset_seconds: reset,
            });
            drop(q);
            admitted.push(w);
        }
        Ok(states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::Timestamp;
    use latchkey_core::rate_limit::RuleScope;

    fn rule(id: i64, scope: RuleScope, client: Option<i64>, window: i64, max: i64) -> RateLimitRule {
        RateLimitRule {
            id: Id::from_i64(id),
            app_id: Id::from_i64(1),
            name: format!("r{id}"),
            scope,
            client_id: client.map(Id::from_i64),
            window_seconds: window,
            max_requests: max,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn sliding_window_counts_only_admitted_checks() {
        let l = Limiter::default();
        let (app, a, b) = (Id::from_i64(1), Id::from_i64(10), Id::from_i64(11));
        let rules = vec![rule(1, RuleScope::Client, None, 10, 2), rule(2, RuleScope::App, None, 10, 3)];
        let s = l.check(&rules, app, a, 0).unwrap();
        assert_eq!(s.iter().map(|r| r.remaining).collect::<Vec<_>>(), [1, 2]);
        l.check(&rules, app, a, 1_000).unwrap();
        // Client a is full (2 per 10 s); it frees 10 s after its first check.
        let blocked = l.check(&rules, app, a, 2_500).unwrap_err();
        assert_eq!((blocked.rule.as_str(), blocked.retry_after), ("client:r1", 8));
        // The refused check was not counted against the app rule: b gets the last app slot.
        let s = l.check(&rules, app, b, 3_000).unwrap();
        assert_eq!(s[1].remaining, 0);
        let blocked = l.check(&rules, app, b, 3_100).unwrap_err();
        assert_eq!(blocked.rule, "app:r2");
        // b's refused check did not use b's own client slot either.
        assert_eq!(
            l.check(&rules, app, b, 10_001).unwrap()[0].remaining,
            0,
            "only the admitted check at 3 s counts for b"
        );
        // After the window slides, a has room again.
        assert!(l.check(&rules, app, a, 11_000).is_ok());
    }

    #[test]
    fn client_specific_rules_apply_to_that_client_only() {
        let l = Limiter::default();
        let rules = vec![rule(1, RuleScope::Client, Some(10), 60, 1)];
        let app = Id::from_i64(1);
        l.check(&rules, app, Id::from_i64(10), 0).unwrap();
        assert!(l.check(&rules, app, Id::from_i64(10), 1).is_err());
        for i in 0..5 {
            assert!(l.check(&rules, app, Id::from_i64(11), i).unwrap().is_empty());
        }
    }
}
