//! `GET /oauth/consent/complete`: finishes a transaction decided through the backend API (an
//! external consent page accepted or rejected it) and sends the browser back to the client.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use latchkey_core::audit::Actor;
use latchkey_core::oauth::ErrorCode;
use latchkey_store::consents::{Approval, ConsentStatus};

use super::approval::{Approved, finish};
use super::transaction::{Stage, opened};
use crate::http::error::PageError;
use crate::runtime::authorize::{branding, error_to_request};
use crate::runtime::issuer::HostedIssuer;
use crate::state::AppState;

pub async fn complete(
    State(state): State<AppState>,
    HostedIssuer(iss): HostedIssuer,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let b = branding(&iss);
    let page = |e: PageError| e.branded(&b);
    let t = opened(&state, &iss, &uri, &headers, Stage::Any).await?;
    let req = t.req().clone();
    match (
        t.consent.status,
        t.consent.user_id,
        t.consent.granted_resource,
        t.consent.granted_scopes.clone(),
    ) {
        (ConsentStatus::Approved, Some(user_id), Some(resource), Some(scopes)) => {
            let session = match t.consent.session_id {
                Some(sid) => state.store.session(sid).await.map_err(|e| page(e.into()))?,
                None => None,
            };
            let approved = Approved {
                how: Approval::Complete,
                user_id,
                session_id: t.consent.session_id,
                auth_time: session.map(|s| s.auth_time).unwrap_or_else(|| state.clock.now()),
                resource,
                scopes,
                actor: Actor::user(user_id, None),
            };
            finish(&state, &iss, &t, approved, &Method::GET).await
        }
        (ConsentStatus::Denied, _, _, _) => {
            let completed = state.store.complete_consent(t.consent.id).await.map_err(|e| {
                page(PageError::server_error(format_args!(
                    "completing the denial of {}: {e}",
                    t.consent.id
                )))
            })?;
            if !completed {
                return Err(page(PageError::already_answered()));
            }
            Ok(error_to_request(&iss, &req, ErrorCode::AccessDenied, "the user denied access"))
        }
        (ConsentStatus::Pending, _, _, _) => Err(page(PageError::new(
            StatusCode::CONFLICT,
            "Waiting for your decision",
            "The request has not been answered yet.",
        ))),
        _ => Err(page(PageError::already_answered())),
    }
}
