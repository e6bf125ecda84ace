//! [`Error`]: what can go wrong talking to Latchkey, and [`TokenDenyReason`], why the gateway
//! refused a token.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from a Latchkey call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work (a URL that is not http(s), an API key that cannot be a
    /// header value, a missing environment variable).
    #[error("invalid Latchkey client configuration: {0}")]
    Config(String),

    /// The gateway refused the token itself (HTTP 401): it is malformed, unknown, expired,
    /// revoked, its grant / client / app / session / user is gone, it belongs to another
    /// deployment, or it is not valid for this resource. `Unauthenticated` means the *caller*
    /// (this client's API key) was refused, not the token.
    #[error("the gateway denied the token ({reason}): {message}")]
    Denied {
        status: u16,
        reason: TokenDenyReason,
        message: String,
        request_id: Option<String>,
    },

    /// Any other non-2xx answer, with the server's error code and message
    /// (`{"error": code, "message": …, "details": …}`).
    #[error("Latchkey answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Option<Value>,
    },

    /// The server answered 502, 503 or 504: it could not do its work right now (its database
    /// is unreachable, or a proxy in front of it is). Retry later.
    #[error("Latchkey is unavailable ({status}): {message}")]
    Unavailable { status: u16, message: String },

    /// The request cannot be sent as built (e.g. a value the chosen encoding cannot carry).
    /// Nothing was sent.
    #[error("cannot send this request: {0}")]
    InvalidRequest(String),

    /// The request did not complete: connection refused, TLS failure, timeout.
    #[error("could not reach Latchkey: {0}")]
    Http(#[from] reqwest::Error),

    /// A 2xx answer whose body is not what this SDK expects.
    #[error("unexpected answer from Latchkey: {0}")]
    Decode(String),
}

impl Error {
    /// The HTTP status of an answer that was an error (`None` for transport and decode errors).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Denied { status, .. } | Error::Api { status, .. } | Error::Unavailable { status, .. } => Some(*status),
            Error::Http(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether the server could not be reached or could not answer: worth retrying, never a
    /// reason to let a request through.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::Http(_))
    }

    /// The token-level reason of a [`Error::Denied`].
    pub fn deny_reason(&self) -> Option<&TokenDenyReason> {
        match self {
            Error::Denied { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The error for a non-2xx answer of the backend API (and of the gateway, apart from its
    /// 401s, which [`Error::denied`] reads).
    pub(crate) fn from_answer(status: u16, body: &[u8]) -> Error {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let message = parsed.as_ref().and_then(|b| b.message.clone()).unwrap_or_else(|| snippet(body));
        if matches!(status, 502..=504) {
            return Error::Unavailable { status, message };
        }
        let (code, details) = match parsed {
            Some(b) => (b.error.unwrap_or_default(), b.details),
            None => (String::new(), None),
        };
        Error::Api {
            status,
            code,
            message,
            details,
        }
    }

    /// The error for a gateway 401: `{"allowed": false, "reason", "request_id", "message"}`.
    pub(crate) fn denied(status: u16, body: &[u8]) -> Error {
        let b: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        Error::Denied {
            status,
            reason: TokenDenyReason::parse(b.reason.as_deref().unwrap_or("")),
            message: b.message.unwrap_or_else(|| snippet(body)),
            request_id: b.request_id.filter(|r| !r.is_empty()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    error: Option<String>,
    message: Option<String>,
    details: Option<Value>,
    reason: Option<String>,
    request_id: Option<String>,
}

/// The start of a body that is not the JSON error shape (a proxy's HTML page, say).
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Why the gateway refused a token (the `reason` of its 401 answers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenDenyReason {
    /// Not shaped like a Latchkey access token.
    Malformed,
    /// Well-formed, but not a token this server issued (or long gone).
    UnknownToken,
    Expired,
    /// The token was revoked (RFC 7009, refresh-token reuse, …).
    Revoked,
    /// The user's grant to the client was revoked.
    GrantRevoked,
    ClientDeactivated,
    AppDisabled,
    /// The user's session that approved the token has ended (logout).
    SessionEnded,
    UserDisabled,
    /// The token belongs to another deployment than the caller's API key.
    WrongTenant,
    /// The token is bound (RFC 8707) to other resources, or this resource requires binding.
    ResourceMismatch,
    /// The caller's API key is missing, unknown or revoked: a problem of the resource
    /// server's configuration, not of the token.
    Unauthenticated,
    /// A reason this SDK does not know yet (or none was given).
    Other(String),
}

impl TokenDenyReason {
    pub fn parse(s: &str) -> Self {
        match s {
            "malformed" => Self::Malformed,
            "unknown_token" => Self::UnknownToken,
            "expired" => Self::Expired,
            "revoked" => Self::Revoked,
            "grant_revoked" => Self::GrantRevoked,
            "client_deactivated" => Self::ClientDeactivated,
            "app_disabled" => Self::AppDisabled,
            "session_ended" => Self::SessionEnded,
            "user_disabled" => Self::UserDisabled,
            "wrong_tenant" => Self::WrongTenant,
            "resource_mismatch" => Self::ResourceMismatch,
            "unauthenticated" => Self::Unauthenticated,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire name (`grant_revoked`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownToken => "unknown_token",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::GrantRevoked => "grant_revoked",
            Self::ClientDeactivated => "client_deactivated",
            Self::AppDisabled => "app_disabled",
            Self::SessionEnded => "session_ended",
            Self::UserDisabled => "user_disabled",
            Self::WrongTenant => "wrong_tenant",
            Self::ResourceMismatch => "resource_mismatch",
            Self::Unauthenticated => "unauthenticated",
            Self::Other(s) => s,
        }
    }

    /// Whether the refusal is about the token the end user presented (as opposed to the
    /// caller's own credentials, [`TokenDenyReason::Unauthenticated`]).
    pub fn is_token_problem(&self) -> bool {
        !matches!(self, Self::Unauthenticated)
    }
}

impl fmt::Display for TokenDenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips() {
        for s in [
            "malformed",
            "unknown_token",
            "expired",
            "revoked",
            "grant_revoked",
            "client_deactivated",
            "app_disabled",
            "session_ended",
            "user_disabled",
            "wrong_tenant",
            "resource_mismatch",
            "unauthenticated",
            "something_new",
        ] {
            assert_eq!(TokenDenyReason::parse(s).as_str(), s);
        }
        assert_eq!(TokenDenyReason::parse("x"), TokenDenyReason::Other("x".into()));
    }

    #[test]
    fn answers_become_typed_errors() {
        let e = Error::denied(
            401,
            br#"{"allowed":false,"reason":"grant_revoked","request_id":"r1","error":"unauthorized","message":"the user's grant was revoked"}"#,
        );
        assert!(matches!(
            &e,
            Error::Denied { status: 401, reason: TokenDenyReason::GrantRevoked, request_id: Some(r), .. } if r == "r1"
        ));
        let e = Error::from_answer(404, br#"{"error":"not_found","message":"app not found"}"#);
        assert!(matches!(&e, Error::Api { status: 404, code, message, .. } if code == "not_found" && message == "app not found"));
        let e = Error::from_answer(503, b"<html>bad gateway</html>");
        assert!(matches!(&e, Error::Unavailable { status: 503, message } if message.contains("bad gateway")));
        assert!(e.is_unavailable());
        let e = Error::denied(401, b"");
        assert!(matches!(e, Error::Denied { reason: TokenDenyReason::Other(r), .. } if r.is_empty()));
    }
}
