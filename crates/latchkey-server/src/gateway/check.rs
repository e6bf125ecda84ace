//! `POST /v1/authz/check`: the gateway every resource server asks, on every request, whether a
//! bearer token is still good for this resource with these permissions. Wire format of the
//! published SDKs (`@wacht/backend` `checkAuthz`, the `wacht` crate's `gateway.rs`).
//!
//! Order of the decision (each failure a named reason): malformed or unknown token, expired,
//! revoked, grant revoked, client deactivated, app disabled, session ended, wrong tenant,
//! resource mismatch — all answered 401 so SDK code that never reads `allowed` still fails
//! closed — then permission denied and rate limited, answered 200 with `allowed: false`.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::gateway::{CheckContext, CheckRequest, resource_identity};
use latchkey_core::secret::SecretKind;
use latchkey_core::verify::DenyReason;
use latchkey_core::{Id, scope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::error::gateway::{GatewayError, Refusal};
use crate::http::extract::sends_json;
use crate::services::api_keys::{self, ApiKeyAuth};
use crate::services::cache::Source;
use crate::services::limiter::RuleState;
use crate::services::tokens;
use crate::state::AppState;

/// No `Debug`: `value` is the bearer token itself.
#[derive(Deserialize)]
struct Principal {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

#[derive(Deserialize)]
struct CheckBody {
    principal: Principal,
    resource: String,
    method: String,
    #[serde(default)]
    client_ip: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    required_permissions: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct Identity {
    key_id: String,
    deployment_id: String,
    app_slug: String,
    key_name: String,
    owner_user_id: Option<String>,
    organization_id: Option<String>,
    workspace_id: Option<String>,
    organization_membership_id: Option<String>,
    workspace_membership_id: Option<String>,
    principal_type: &'static str,
}

#[derive(Debug, Serialize)]
struct CheckResponse {
    request_id: String,
    allowed: bool,
    reason: Option<&'static str>,
    blocked_rule: Option<String>,
    identity: Identity,
    permissions: Vec<String>,
    metadata: Value,
    rate_limits: Vec<RuleState>,
    retry_after: Option<i64>,
    headers: std::collections::BTreeMap<&'static str, String>,
}

fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// JSON with `Cache-Control: no-store` (set here rather than by a route layer: a layer costs
/// the hot path measurably, see the README's benchmark).
fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn valid_method(m: &str) -> bool {
    (1..=16).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
}

pub async fn check(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, GatewayError> {
    let started = Instant::now();
    let rid = request_id(&headers);
    let answer = run(&state, &headers, &body, &rid).await;
    metrics::histogram!("latchkey_gateway_check_duration_seconds").record(started.elapsed().as_secs_f64());
    answer.map_err(|refusal| GatewayError { request_id: rid, refusal })
}

fn bad_request(message: impl Into<std::borrow::Cow<'static, str>>) -> Result<Response, Refusal> {
    Err(Refusal::BadRequest(message.into()))
}

async fn run(state: &AppState, headers: &HeaderMap, body: &Bytes, rid: &str) -> Result<Response, Refusal> {
    // Who is asking: a backend API key, or nobody (allowed per deployment, checked below).
    let caller = match api_keys::authenticate(state, headers).await? {
        ApiKeyAuth::Missing => None,
        ApiKeyAuth::Found(k) => Some(k.deployment_id),
        ApiKeyAuth::Invalid(_) => return Err(Refusal::Unauthenticated("send a backend API key as Authorization: Bearer lk_api_…")),
        ApiKeyAuth::Unknown => return Err(Refusal::Unauthenticated("the API key is unknown or revoked")),
    };

    if !sends_json(headers) {
        return bad_request("send the check as JSON with Content-Type: application/json");
    }
    let req: CheckBody = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("malformed check request: {e}")),
    };
    let required = req.required_permissions.unwrap_or_default();
    if req.resource.is_empty() || req.resource.len() > 2048 {
        return bad_request("resource must be 1 to 2048 characters");
    }
    if !valid_method(&req.method) {
        return bad_request("method must be an HTTP method such as GET or POST");
    }
    if required.len() > 100 || required.iter().any(|p| p.is_empty() || p.len() > 128) {
        return bad_request("required_permissions: at most 100 permissions of 1 to 128 characters");
    }
    match req.principal.kind.as_str() {
        "oauth_access_token" => {}
        "api_key" => {
            return bad_request("principal type api_key is not supported yet: check oauth_access_token principals");
        }
        other => return bad_request(format!("unknown principal type {other:?}: use oauth_access_token")),
    }
    // What the audit records of a denied check: the request as the resource server saw it
    // (built only for denials: allowed checks are the hot path).
    let sample = || {
        json!({
            "resource": req.resource,
            "method": req.method,
            "client_ip": req.client_ip.as_deref().and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok()).map(|ip| ip.to_string()),
            "user_agent": req.user_agent.as_deref().map(|ua| ua.chars().take(256).collect::<String>()),
        })
    };

    let now = state.clock.now();
    let token = req.principal.value.trim();
    // Opaque tokens are stored by their hash; JWT access tokens by their `jti`, and are
    // verified against their app's keys once their record is found.
    let (hash, jwt) = if SecretKind::AccessToken.looks_valid(token) {
        (state.hasher.hash(token), false)
    } else if let Some(jti) = tokens::unverified_jti(token) {
        (tokens::jwt_hash(state, &jti), true)
    } else {
        // Anonymous garbage has no tenant to record it under.
        if let Some(d) = caller {
            state
                .telemetry
                .verification_failed(d, None, None, DenyReason::Malformed, now, sample());
        }
        return Err(Refusal::Denied(DenyReason::Malformed));
    };
    let (found, source) = state.caches.token(&state.store, &hash).await?;
    metrics::counter!("latchkey_gateway_cache_total", "result" => if source == Source::Hit { "hit" } else { "miss" }).increment(1);
    let found = found.filter(|t| t.kind == latchkey_core::verify::TokenKind::Access);
    let genuine = match (&found, jwt) {
        (Some(t), true) => {
            let app = state.caches.app(&state.store, &state.settings, t.deployment_id, t.app_id).await?;
            tokens::verify_own_jwt(&app.keys, &app.issuer, token, &["iss", "jti"]).is_some()
        }
        (found, _) => found.is_some(),
    };
    let Some(t) = found.filter(|_| genuine) else {
        if let Some(d) = caller {
            state
                .telemetry
                .verification_failed(d, None, None, DenyReason::Unknown, now, sample());
        }
        return Err(Refusal::Denied(DenyReason::Unknown));
    };
    // Anonymous checks only where the token's deployment allows them.
    if caller.is_none() {
        let settings = state.caches.settings(&state.store, t.deployment_id).await?;
        if !settings.get("allow_anonymous_gateway").and_then(Value::as_bool).unwrap_or(false) {
            return Err(Refusal::Unauthenticated(
                "send a backend API key as Authorization: Bearer lk_api_… (for @wacht/backend, add it with the fetch option)",
            ));
        }
    }
    let (app, memberships) = tokio::try_join!(
        state.caches.app(&state.store, &state.settings, t.deployment_id, t.app_id),
        state.caches.memberships(&state.store, t.deployment_id, t.user_id)
    )?;
    let ctx = CheckContext {
        token: &t,
        scope_defs: &app.app.scopes,
        servers: &app.servers,
        memberships: &memberships,
    };
    let check = CheckRequest {
        caller_deployment: caller,
        resource: &req.resource,
        required_permissions: &required,
    };
    let decision = match latchkey_core::gateway::decide(&ctx, &check, now) {
        Ok(d) => d,
        Err(reason) => {
            // A token of another tenant is recorded for the caller, never for the token's owner.
            match (reason, caller) {
                (DenyReason::WrongTenant, Some(c)) => state.telemetry.verification_failed(c, None, None, reason, now, sample()),
                _ => state
                    .telemetry
                    .verification_failed(t.deployment_id, Some(t.app_id), Some(&t.client_id), reason, now, sample()),
            }
            return Err(Refusal::Denied(reason));
        }
    };
    state.telemetry.grant_used(t.grant_id, now);

    let issuer = &app.issuer;
    let ri = resource_identity(t.granted_resource, &memberships);
    let s = |id: Id| id.to_string();
    let identity = Identity {
        key_id: s(t.client_record_id),
        deployment_id: s(t.deployment_id),
        app_slug: t.app_slug.clone(),
        key_name: t.client_id.clone(),
        owner_user_id: Some(s(t.user_id)),
        organization_id: ri.organization_id.map(s),
        workspace_id: ri.workspace_id.map(s),
        organization_membership_id: ri.organization_membership_id.map(s),
        workspace_membership_id: ri.workspace_membership_id.map(s),
        principal_type: "oauth_access_token",
    };
    let mut metadata = json!({
        "principal_type": "oauth_access_token",
        "scopes": decision.scopes,
        "oauth_resource": decision.oauth_resource,
        "granted_resource": t.granted_resource.to_string(),
        "expires_at": t.expires_at,
        "grant_id": s(t.grant_id),
        "client_id": t.client_id,
        "issuer": issuer,
        "resource": req.resource,
        "method": req.method,
    });
    let mut hdrs = std::collections::BTreeMap::new();
    hdrs.insert("x-wacht-oauth-client-id", t.client_id.clone());
    hdrs.insert("x-wacht-granted-resource", t.granted_resource.to_string());
    hdrs.insert("x-wacht-oauth-issuer", issuer.clone());
    hdrs.insert("x-wacht-principal-type", "oauth_access_token".to_owned());
    hdrs.insert("x-wacht-deployment-id", s(t.deployment_id));
    hdrs.insert("x-wacht-scopes", scope::join(&decision.scopes));
    hdrs.insert("x-wacht-permissions", decision.permissions.join(" "));
    hdrs.insert("x-wacht-user-id", s(t.user_id));
    if let Some(r) = &decision.oauth_resource {
        hdrs.insert("x-wacht-oauth-resource", r.clone());
    }

    let mut body = CheckResponse {
        request_id: rid.to_owned(),
        allowed: true,
        reason: None,
        blocked_rule: None,
        identity,
        permissions: decision.permissions.clone(),
        metadata: Value::Null,
        rate_limits: vec![],
        retry_after: None,
        headers: hdrs,
    };
    if !decision.allowed() {
        metadata["missing_permissions"] = json!(decision.missing);
        body.metadata = metadata;
        body.allowed = false;
        body.reason = Some("permission_denied");
        state
            .telemetry
            .permission_denied(t.deployment_id, t.app_id, &t.client_id, &decision.missing, now, sample());
        metrics::counter!("latchkey_gateway_checks_total", "outcome" => "denied", "reason" => "permission_denied").increment(1);
        return Ok(json_response(StatusCode::OK, &body));
    }
    match state.limiter.check(&app.rules, t.app_id, t.client_record_id, now.millis()) {
        Ok(states) => {
            body.metadata = metadata;
            let extra = rate_headers(&states, None);
            body.rate_limits = states;
            metrics::counter!("latchkey_gateway_checks_total", "outcome" => "allowed", "reason" => "").increment(1);
            let mut r = json_response(StatusCode::OK, &body);
            r.headers_mut().extend(extra);
            Ok(r)
        }
        Err(blocked) => {
            body.metadata = metadata;
            body.allowed = false;
            body.reason = Some("rate_limited");
            body.blocked_rule = Some(blocked.rule.clone());
            body.retry_after = Some(blocked.retry_after);
            let extra = rate_headers(&blocked.states, Some(blocked.retry_after));
            body.rate_limits = blocked.states;
            metrics::counter!("latchkey_gateway_checks_total", "outcome" => "denied", "reason" => "rate_limited").increment(1);
            let mut r = json_response(StatusCode::OK, &body);
            r.headers_mut().extend(extra);
            Ok(r)
        }
    }
}

/// `x-ratelimit-*` for the tightest rule, and `retry-after` when refused.
fn rate_headers(states: &[RuleState], retry_after: Option<i64>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(tight) = states.iter().min_by_key(|s| s.remaining) {
        let mut put = |name: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(HeaderName::from_static(name), v);
            }
        };
        put("x-ratelimit-limit", tight.limit.to_string());
        put("x-ratelimit-remaining", tight.remaining.to_string());
        put("x-ratelimit-reset", tight.reset_seconds.to_string());
        if let Some(r) = retry_after {
            put("retry-after", r.to_string());
        }
    }
    h
}
