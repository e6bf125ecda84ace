//! Per-process throttles of unauthenticated actions that cost CPU or storage: hosted
//! sign-in attempts (password hashing) and dynamic client registration.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Per-process throttles (each server instance its own).
pub struct Throttles {
    /// Sign-in attempts per email address and per browser: 10 a minute.
    pub login: DefaultKeyedRateLimiter<String>,
    /// Dynamic registrations per client IP: 20 a minute.
    pub register: DefaultKeyedRateLimiter<std::net::IpAddr>,
}

impl Default for Throttles {
    fn default() -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Throttles {
            login: RateLimiter::keyed(per_minute(10)),
            register: RateLimiter::keyed(per_minute(20)),
        }
    }
}
