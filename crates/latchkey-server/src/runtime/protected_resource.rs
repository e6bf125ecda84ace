//! RFC 9728 protected resource metadata for resource servers whose identifier lives on this
//! server's own origin (hosted use): `GET /.well-known/oauth-protected-resource{path}` answers
//! for the resource server `{origin}{path}`. Resource servers elsewhere serve their own
//! document (the `latchkey-axum` middleware does).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "not_found", "message": "no protected resource is registered at this address"})),
    )
        .into_response()
}

/// The origin requests to this server are made to: the public URL's, or `https://{Host}` for
/// app domains.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    let public = url::Url::parse(&state.settings.public_url).ok();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    match public {
        Some(p) if p.host_str().is_some_and(|h| host.split(':').next() == Some(h)) || host.is_empty() => p.origin().ascii_serialization(),
        _ => format!("https://{}", host.split(':').next().unwrap_or(host)),
    }
}

pub async fn metadata(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().strip_prefix("/.well-known/oauth-protected-resource").unwrap_or("");
    let identifier = format!("{}{path}", origin(&state, &headers));
    let servers = match state.store.resource_servers_by_identifier(&identifier).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "resource server lookup");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // One identifier could be registered by apps of several deployments: then it is ambiguous.
    let [rs] = servers.as_slice() else { return not_found() };
    let Ok(app) = state.store.app_by_id(rs.app_id).await else {
        return not_found();
    };
    if !app.is_active {
        return not_found();
    }
    let issuer = crate::services::issuer::issuer_url(&state.settings, &app);
    let scopes: Vec<&str> = if rs.scopes.is_empty() {
        app.active_scopes().collect()
    } else {
        rs.scopes.iter().map(String::as_str).collect()
    };
    let mut resp = Json(json!({
        "resource": rs.identifier,
        "authorization_servers": [issuer],
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
        "resource_name": rs.name,
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    resp.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}
