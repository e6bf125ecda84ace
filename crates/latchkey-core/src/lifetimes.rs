//! How long each thing the server hands out stays valid, in seconds, in one place.
//!
//! Access tokens are not here: their lifetime is per client
//! ([`ClientConfig::access_token_ttl_seconds`](crate::client::ClientConfig), default
//! [`DEFAULT_ACCESS_TOKEN_TTL`](crate::client::DEFAULT_ACCESS_TOKEN_TTL)), as is the refresh
//! token grace period.

/// Authorization codes: one minute. RFC 6749 §4.1.2 says a code "MUST expire shortly after it
/// is issued" and recommends at most ten minutes; the client redeems it right after the
/// redirect, so one minute is plenty and keeps a leaked code's window small.
pub const CODE_TTL_SECONDS: i64 = 60;

/// Consent transactions (from `/oauth/authorize` to the user's decision, hosted or external):
/// ten minutes, time enough to sign in and read the consent page, short enough that an
/// abandoned transaction soon stops being usable.
pub const CONSENT_TTL_SECONDS: i64 = 600;

/// End-user sessions (and their cookie's `Max-Age`): two weeks, after which the user signs
/// in again. Tokens carry their session, so ending it revokes them.
pub const SESSION_TTL_SECONDS: i64 = 14 * 24 * 3600;

/// The browser-binding cookie (`lk_b`) that ties a consent transaction to the browser that
/// started it: a year. It is a random identifier, not a credential, and renewing it would
/// only break transactions in flight.
pub const BROWSER_COOKIE_SECONDS: i64 = 365 * 24 * 3600;

/// Refresh tokens: 30 days, and each rotation starts a new 30 days, so an app in regular
/// use stays signed in while an unused one expires (RFC 9700 §4.14.2 suggests expiring
/// refresh tokens that go unused).
pub const REFRESH_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// OpenID Connect ID tokens: one hour. The ID token is proof of an authentication event for
/// the client to consume at once (OIDC Core §2 `exp`), not a credential to keep.
pub const ID_TOKEN_TTL_SECONDS: i64 = 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_keep_their_documented_relations() {
        let rows: &[(&str, bool)] = &[
            ("codes expire within RFC 6749's ten minutes", CODE_TTL_SECONDS <= 600),
            ("a consent transaction is short-lived", CONSENT_TTL_SECONDS <= 3600),
            ("ID tokens are shorter than sessions", ID_TOKEN_TTL_SECONDS < SESSION_TTL_SECONDS),
            (
                "the browser binding outlives a session",
                BROWSER_COOKIE_SECONDS >= SESSION_TTL_SECONDS,
            ),
            (
                "every lifetime is positive",
                [
                    CODE_TTL_SECONDS,
                    CONSENT_TTL_SECONDS,
                    SESSION_TTL_SECONDS,
                    BROWSER_COOKIE_SECONDS,
                    REFRESH_TTL_SECONDS,
                    ID_TOKEN_TTL_SECONDS,
                ]
                .iter()
                .all(|&s| s > 0),
            ),
        ];
        for (what, holds) in rows {
            assert!(holds, "{what}");
        }
    }
}
