//! The error answers of the gateway check (`POST /v1/authz/check`), in the published SDKs'
//! shape: `{"allowed": false, "reason", "request_id", "error", "message"}` with
//! `Cache-Control: no-store`. Token-level denials are 401 so that SDK code that never reads
//! `allowed` still fails closed; a store failure is 503 (never an allow).

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::verify::DenyReason;
use latchkey_store::StoreError;
use serde_json::json;

/// Why a check is refused before an answer in the wire format can be built.
#[derive(Debug)]
pub enum Refusal {
    /// A malformed check request: 400.
    BadRequest(Cow<'static, str>),
    /// No or a bad backend API key where one is needed: 401 with a `Bearer` challenge.
    Unauthenticated(&'static str),
    /// The token is not good (unknown, expired, revoked, …): 401 with the reason.
    Denied(DenyReason),
    /// The store could not answer: 503, the cause logged.
    Unavailable(String),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Unavailable(e.to_string())
    }
}

/// A [`Refusal`] with the request id it answers.
#[derive(Debug)]
pub struct GatewayError {
    pub request_id: String,
    pub refusal: Refusal,
}

fn deny_message(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::Malformed => "the principal is not a Latchkey access token",
        DenyReason::Unknown => "the token is not known",
        DenyReason::Expired => "the token has expired",
        DenyReason::Revoked => "the token was revoked",
        DenyReason::GrantRevoked => "the user's grant was revoked",
        DenyReason::ClientDeactivated => "the client was deactivated",
        DenyReason::AppDisabled => "the app is disabled",
        DenyReason::SessionEnded => "the user's session has ended",
        DenyReason::UserDisabled => "the user is disabled",
        DenyReason::WrongTenant => "the token belongs to another deployment",
        DenyReason::ResourceMismatch => "the token is not valid for this resource",
        DenyReason::PermissionDenied | DenyReason::RateLimited => "denied",
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let rid = self.request_id;
        let (status, body, challenge) = match self.refusal {
            Refusal::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "message": message, "allowed": false, "request_id": rid}),
                false,
            ),
            Refusal::Unauthenticated(message) => (
                StatusCode::UNAUTHORIZED,
                json!({"allowed": false, "reason": "unauthenticated", "request_id": rid, "error": "unauthorized", "message": message}),
                true,
            ),
            Refusal::Denied(reason) => {
                metrics::counter!("latchkey_gateway_checks_total", "outcome" => "denied", "reason" => reason.as_str()).increment(1);
                (
                    StatusCode::UNAUTHORIZED,
                    json!({"allowed": false, "reason": reason.as_str(), "request_id": rid, "error": "unauthorized", "message": deny_message(reason)}),
                    false,
                )
            }
            Refusal::Unavailable(cause) => {
                tracing::error!(error = %cause, "gateway check failed");
                metrics::counter!("latchkey_gateway_checks_total", "outcome" => "error", "reason" => "").increment(1);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"allowed": false, "reason": "unavailable", "request_id": rid, "error": "unavailable", "message": "the gateway could not check the token; try again"}),
                    false,
                )
            }
        };
        let mut r = (status, axum::Json(body)).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if challenge {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"latchkey\""));
        }
        r
    }
}
