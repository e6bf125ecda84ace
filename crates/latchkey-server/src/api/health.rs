//! Unauthenticated operational endpoints: liveness (`/healthz`), readiness with a database
//! ping (`/readyz`), and Prometheus metrics (`/metrics`; no secrets in them, but protect the
//! port if the numbers are sensitive).

use axum::extract::State;
use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::services::telemetry;
use crate::state::AppState;

pub async fn metrics() -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        telemetry::prometheus().render(),
    )
}

pub async fn healthz() -> axum::Json<Value> {
    axum::Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(axum::Json(json!({"status": "ready", "database": state.store.dialect().name()}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the database is unreachable",
            ))
        }
    }
}
