//! `/oauth/apps`: list, get, create (JSON or the SDKs' multipart form), merge-safe PATCH,
//! verify-domain, logo upload; and the public `/logos/{app_id}` the consent page shows.

use std::collections::HashSet;
use std::net::IpAddr;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::app::{App, AppPatch, CreateApp, Logo};
use latchkey_core::audit::AuditAction;
use latchkey_core::scope::ScopeDefinitionInput;
use latchkey_core::{Id, ValidationErrors};
use latchkey_store::apps::AppChange;
use serde_json::{Value, json};

use crate::api::caller::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, parse_json, path_id};
use crate::services::secrets;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let apps = state.store.list_apps(caller.deployment_id).await?;
    Ok(Json(json!({ "apps": apps })))
}

pub async fn get(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<App>> {
    Ok(Json(state.store.app(caller.deployment_id, &slug).await?))
}

pub async fn create(State(state): State<AppState>, caller: Caller, req: Request) -> ApiResult<(StatusCode, Json<App>)> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (input, logo) = if ct.starts_with("multipart/form-data") {
        let mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::bad_request(format!("malformed multipart body: {}", e.body_text())))?;
        read_create_form(mp).await?
    } else {
        let ApiJson(input) = ApiJson::<CreateApp>::from_request(req, &state).await?;
        (input, None)
    };
    let new = input.validate(logo)?;
    let id = Id::generate();
    let key = secrets::signing_key(&state).await.map_err(|e| {
        tracing::error!(error = %e, "signing key generation failed");
        ApiError::internal()
    })?;
    let logo_url = new.logo.as_ref().map(|_| logo_url(&state, id, state.clock.now().millis()));
    let app = state
        .store
        .create_app(caller.deployment_id, id, &new, logo_url.as_deref(), &key, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(app)))
}

fn logo_url(state: &AppState, app_id: Id, version: i64) -> String {
    format!("{}/logos/{app_id}?v={version}", state.settings.public_url)
}

/// Reads the SDKs' create-app form: text fields plus an optional `logo` file.
async fn read_create_form(mut mp: Multipart) -> ApiResult<(CreateApp, Option<Logo>)> {
    let mut input = CreateApp::default();
    let mut seen = HashSet::new();
    let mut logo = None;
    let mut errors = ValidationErrors::new();
    let mut has_slug = false;
    let mut has_name = false;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("malformed multipart body: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if !seen.insert(name.clone()) {
            errors.add(name, "is sent more than once");
            continue;
        }
        if name == "logo" {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(format!("could not read the logo: {}", e.body_text())))?;
            if let Some(l) = errors.check(Logo::sniff(bytes.to_vec())) {
                logo = Some(l);
            }
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|e| ApiError::bad_request(format!("could not read field {name}: {}", e.body_text())))?;
        match name.as_str() {
            "slug" => {
                has_slug = true;
                input.slug = text;
            }
            "name" => {
                has_name = true;
                input.name = text;
            }
            "description" => input.description = Some(text),
            "fqdn" => input.fqdn = Some(text),
            "supported_scopes" => {
                input.supported_scopes = Some(text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect());
            }
            "scope_definitions" => match parse_json::<Vec<ScopeDefinitionInput>>(text.as_bytes()) {
                Ok(defs) => input.scope_definitions = Some(defs),
                Err(e) => errors.add(
                    "scope_definitions",
                    format!("must be a JSON array of scope definitions: {}", e.message),
                ),
            },
            "allow_dynamic_client_registration" => match text.as_str() {
                "true" => input.allow_dynamic_client_registration = Some(true),
                "false" => input.allow_dynamic_client_registration = Some(false),
                _ => errors.add(name, "must be \"true\" or \"false\""),
            },
            _ => errors.add(name, "is not a field of this form"),
        }
    }
    if !has_slug {
        errors.add("slug", "is required");
    }
    if !has_name {
        errors.add("name", "is required");
    }
    errors.finish(())?;
    Ok((input, logo))
}

pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(p): ApiJson<AppPatch>,
) -> ApiResult<Json<App>> {
    let app = state
        .store
        .modify_app(caller.deployment_id, &slug, &caller.actor, |app| {
            let patched = app.apply_patch(&p)?;
            let action = match p.is_active {
                Some(false) if app.is_active => AuditAction::AppDisabled,
                Some(true) if !app.is_active => AuditAction::AppEnabled,
                _ => AuditAction::AppUpdated,
            };
            Ok(AppChange {
                app: patched.app,
                removed_scopes: patched.removed_scopes,
                action,
                details: Value::Null,
            })
        })
        .await?;
    Ok(Json(app))
}

pub async fn upload_logo(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>, req: Request) -> ApiResult<Json<App>> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.starts_with("multipart/form-data") {
        return Err(ApiError::unsupported_media_type(
            "upload the logo as multipart/form-data with a `logo` file field",
        ));
    }
    let mut mp = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::bad_request(format!("malformed multipart body: {}", e.body_text())))?;
    let mut logo = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("malformed multipart body: {}", e.body_text())))?
    {
        if field.name() != Some("logo") {
            return Err(ValidationErrors::single(field.name().unwrap_or(""), "is not a field of this form: send only `logo`").into());
        }
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("could not read the logo: {}", e.body_text())))?;
        logo = Some(Logo::sniff(bytes.to_vec()).map_err(ValidationErrors::from)?);
    }
    let logo = logo.ok_or_else(|| ValidationErrors::single("logo", "is required"))?;
    let app = state.store.app(caller.deployment_id, &slug).await?;
    let url = logo_url(&state, app.id, state.clock.now().millis());
    Ok(Json(
        state
            .store
            .set_app_logo(caller.deployment_id, &slug, &logo, &url, &caller.actor)
            .await?,
    ))
}

/// The public logo of an app.
pub async fn logo(State(state): State<AppState>, Path(app_id): Path<String>) -> ApiResult<Response> {
    let id = path_id(&app_id, "logo")?;
    let (content_type, bytes, _) = state.store.app_logo(id).await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

/// Checks that the app's domain resolves to the same addresses as the CNAME target, and
/// stores the result.
pub async fn verify_domain(State(state): State<AppState>, caller: Caller, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let app = state.store.app(caller.deployment_id, &slug).await?;
    let domain = app
        .fqdn
        .clone()
        .ok_or_else(|| ApiError::conflict("the app has no custom domain (fqdn): set one with PATCH first"))?;
    let target = state.settings.cname_target.clone();
    let (mine, theirs) = tokio::join!(resolve(&domain), resolve(&target));
    let verified = domain_points_at(&mine, &theirs);
    let app = state
        .store
        .record_domain_check(caller.deployment_id, &slug, verified, &caller.actor)
        .await?;
    Ok(Json(json!({
        "domain": domain,
        "cname_target": target,
        "verified": app.domain_verified,
    })))
}

async fn resolve(host: &str) -> Vec<IpAddr> {
    let lookup = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::lookup_host((host, 443))).await;
    match lookup {
        Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
        _ => Vec::new(),
    }
}

/// A domain points at the target when it resolves and shares an address with it (what a
/// CNAME, or A/AAAA records copied from the target, produce).
fn domain_points_at(domain: &[IpAddr], target: &[IpAddr]) -> bool {
    !domain.is_empty() && domain.iter().any(|a| target.contains(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_check() {
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        assert!(domain_points_at(&[a], &[a, b]));
        assert!(!domain_points_at(&[b], &[a]));
        assert!(!domain_points_at(&[], &[a]));
        assert!(!domain_points_at(&[a], &[]));
    }
}
