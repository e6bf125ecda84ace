//! OAuth apps: each one an issuer with a stable slug, an optional custom domain, its scopes
//! and clients. This module holds the model, the rules for slugs, domains and logos, and
//! the merge-safe update.

use serde::{Deserialize, Serialize, Serializer};

use crate::scope::{self, ScopeDefinition, ScopeDefinitionInput};
use crate::validate::{self, ValidationError, ValidationErrors};
use crate::{Id, Timestamp};

pub const MAX_LOGO_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub id: Id,
    pub deployment_id: Id,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub fqdn: Option<String>,
    pub scopes: Vec<ScopeDefinition>,
    pub allow_dynamic_client_registration: bool,
    /// Whether dynamic registration needs an initial access token (RFC 7591 §3).
    pub dcr_require_initial_access_token: bool,
    pub is_active: bool,
    pub domain_verified: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl App {
    pub fn scope(&self, name: &str) -> Option<&ScopeDefinition> {
        self.scopes.iter().find(|d| d.scope == name)
    }

    /// Whether clients may ask for `name` now: defined and not archived.
    pub fn offers_scope(&self, name: &str) -> bool {
        self.scope(name).is_some_and(|d| !d.archived)
    }

    /// The scopes clients may ask for now, in order.
    pub fn active_scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().filter(|d| !d.archived).map(|d| d.scope.as_str())
    }

    pub fn scope_mut(&mut self, name: &str) -> Option<&mut ScopeDefinition> {
        self.scopes.iter_mut().find(|d| d.scope == name)
    }
}

/// The wire shape the published SDKs parse (`fqdn` is a required string there, so an app
/// without a custom domain sends `""`).
impl Serialize for App {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: Id,
            deployment_id: Id,
            slug: &'a str,
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            description: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            logo_url: Option<&'a str>,
            fqdn: &'a str,
            domain_verified: bool,
            supported_scopes: Vec<&'a str>,
            scope_definitions: &'a [ScopeDefinition],
            allow_dynamic_client_registration: bool,
            dcr_require_initial_access_token: bool,
            is_active: bool,
            created_at: Timestamp,
            updated_at: Timestamp,
        }
        Wire {
            id: self.id,
            deployment_id: self.deployment_id,
            slug: &self.slug,
            name: &self.name,
            description: self.description.as_deref(),
            logo_url: self.logo_url.as_deref(),
            fqdn: self.fqdn.as_deref().unwrap_or(""),
            domain_verified: self.domain_verified,
            supported_scopes: self.scopes.iter().map(|d| d.scope.as_str()).collect(),
            scope_definitions: &self.scopes,
            allow_dynamic_client_registration: self.allow_dynamic_client_registration,
            dcr_require_initial_access_token: self.dcr_require_initial_access_token,
            is_active: self.is_active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .serialize(s)
    }
}

/// A logo image as uploaded, checked by its leading bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Logo({}, {} bytes)", self.content_type, self.bytes.len())
    }
}

impl Logo {
    /// Accepts PNG, JPEG, GIF and WebP up to 256 KiB. SVG is refused: it can carry script.
    pub fn sniff(bytes: Vec<u8>) -> Result<Logo, ValidationError> {
        if bytes.is_empty() {
            return Err(ValidationError::new("logo", "the file is empty"));
        }
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(ValidationError::new(
                "logo",
                format!("must be at most {} KiB", MAX_LOGO_BYTES / 1024),
            ));
        }
        let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            "image/gif"
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            "image/webp"
        } else {
            return Err(ValidationError::new("logo", "must be a PNG, JPEG, GIF or WebP image"));
        };
        Ok(Logo { content_type, bytes })
    }
}

/// Slugs name an app in URLs and path issuers forever: 3-64 of `a-z 0-9 -`, starting with a
/// letter, not ending with `-`.
pub fn validate_slug(raw: &str) -> Result<String, ValidationError> {
    let ok = (3..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && raw.as_bytes()[0].is_ascii_lowercase()
        && !raw.ends_with('-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ValidationError::new(
            "slug",
            format!("{raw:?} is not a valid slug: use 3-64 lowercase letters, digits and '-', starting with a letter"),
        ))
    }
}

/// An app's custom issuer host: a lowercase DNS name of at least two labels (no IP
/// address, port, scheme or path).
pub fn validate_fqdn(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let err = |m: &str| Err(ValidationError::new("fqdn", format!("{raw:?}: {m}")));
    if name.is_empty() || name.len() > 253 {
        return err("must be a DNS name of 1-253 characters");
    }
    if name.contains("://") || name.contains('/') || name.contains(':') {
        return err("give the host name only, without scheme, port or path");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return err("must have at least two labels, e.g. auth.example.com");
    }
    for label in &labels {
        let ok = (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return err("each label must be 1-63 letters, digits or '-', not starting or ending with '-'");
        }
    }
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return err("must be a DNS name, not an IP address");
    }
    Ok(name)
}

/// Create-app input, from JSON or from the SDKs' multipart form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub fqdn: Option<String>,
    #[serde(default)]
    pub supported_scopes: Option<Vec<String>>,
    #[serde(default)]
    pub scope_definitions: Option<Vec<ScopeDefinitionInput>>,
    #[serde(default)]
    pub allow_dynamic_client_registration: Option<bool>,
}

/// A validated new app, ready to store.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub fqdn: Option<String>,
    pub scopes: Vec<ScopeDefinition>,
    pub allow_dynamic_client_registration: bool,
    pub logo: Option<Logo>,
}

impl CreateApp {
    pub fn validate(self, logo: Option<Logo>) -> Result<NewApp, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let slug = errors.check(validate_slug(self.slug.trim()));
        let name = errors.check(validate::text("name", &self.name, 200));
        let description = errors.check(validate::optional_text("description", self.description.as_deref(), 2000));
        let fqdn = match self.fqdn.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(f) => errors.check(validate_fqdn(f)).map(Some),
        };
        let scopes = match scope::merge_scopes(&[], self.supported_scopes.as_deref(), self.scope_definitions.as_deref()) {
            Ok(m) => Some(m.scopes),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        match (slug, name, description, fqdn, scopes) {
            (Some(slug), Some(name), Some(description), Some(fqdn), Some(scopes)) if errors.is_empty() => Ok(NewApp {
                slug,
                name,
                description,
                fqdn,
                scopes,
                allow_dynamic_client_registration: self.allow_dynamic_client_registration.unwrap_or(false),
                logo,
            }),
            _ => Err(errors),
        }
    }
}

/// PATCH body for an app. Every field is optional; absent fields keep their values.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub fqdn: Option<Option<String>>,
    #[serde(default)]
    pub supported_scopes: Option<Vec<String>>,
    #[serde(default)]
    pub scope_definitions: Option<Vec<ScopeDefinitionInput>>,
    #[serde(default)]
    pub allow_dynamic_client_registration: Option<bool>,
    #[serde(default)]
    pub dcr_require_initial_access_token: Option<bool>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// Distinguishes "absent" (None) from "null" (Some(None)) in PATCH bodies.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The outcome of applying a patch: the new app and the scopes it drops.
#[derive(Debug, Clone)]
pub struct PatchedApp {
    pub app: App,
    pub removed_scopes: Vec<String>,
}

impl App {
    pub fn apply_patch(&self, patch: &AppPatch) -> Result<PatchedApp, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut app = self.clone();
        if let Some(name) = &patch.name
            && let Some(v) = errors.check(validate::text("name", name, 200))
        {
            app.name = v;
        }
        if let Some(desc) = &patch.description
            && let Some(v) = errors.check(validate::optional_text("description", desc.as_deref(), 2000))
        {
            app.description = v;
        }
        if let Some(fqdn) = &patch.fqdn {
            let new = match fqdn.as_deref().map(str::trim) {
                None | Some("") => Some(None),
                Some(f) => errors.check(validate_fqdn(f)).map(Some),
            };
            if let Some(new) = new {
                if new != app.fqdn {
                    app.domain_verified = false;
                }
                app.fqdn = new;
            }
        }
        let mut removed = Vec::new();
        if patch.supported_scopes.is_some() || patch.scope_definitions.is_some() {
            match scope::merge_scopes(&app.scopes, patch.supported_scopes.as_deref(), patch.scope_definitions.as_deref()) {
                Ok(m) => {
                    app.scopes = m.scopes;
                    removed = m.removed;
                }
                Err(e) => errors.0.extend(e.0),
            }
        }
        if let Some(v) = patch.allow_dynamic_client_registration {
            app.allow_dynamic_client_registration = v;
        }
        if let Some(v) = patch.is_active {
            app.is_active = v;
        }
        if let Some(v) = patch.dcr_require_initial_access_token {
            app.dcr_require_initial_access_token = v;
        }
        errors.finish(PatchedApp {
            app,
            removed_scopes: removed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_rules() {
        for (s, ok) in [
            ("acme", true),
            ("acme-mcp-2", true),
            ("ab", false),
            ("Acme", false),
            ("1acme", false),
            ("acme-", false),
            ("-acme", false),
            ("ac me", false),
            ("acme_x", false),
            ("acme/../x", false),
            (&"a".repeat(65), false),
        ] {
            assert_eq!(validate_slug(s).is_ok(), ok, "{s}");
        }
    }

    #[test]
    fn fqdn_rules() {
        assert_eq!(validate_fqdn("Auth.Example.COM.").unwrap(), "auth.example.com");
        for bad in [
            "localhost",
            "https://auth.example.com",
            "auth.example.com:8443",
            "auth.example.com/x",
            "10.0.0.1",
            "-a.example.com",
            "a_b.example.com",
            "",
        ] {
            assert!(validate_fqdn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn logos_are_sniffed() {
        assert_eq!(Logo::sniff(b"\x89PNG\r\n\x1a\nrest".to_vec()).unwrap().content_type, "image/png");
        assert_eq!(Logo::sniff(b"GIF89a...".to_vec()).unwrap().content_type, "image/gif");
        assert!(Logo::sniff(b"<svg onload=alert(1)>".to_vec()).is_err());
        assert!(Logo::sniff(vec![]).is_err());
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert!(Logo::sniff(big).is_err());
    }

    fn sample() -> App {
        CreateApp {
            slug: "acme".into(),
            name: "Acme".into(),
            supported_scopes: Some(vec!["read".into(), "write".into()]),
            ..Default::default()
        }
        .validate(None)
        .map(|n| App {
            id: Id::from_i64(1),
            deployment_id: Id::from_i64(2),
            slug: n.slug,
            name: n.name,
            description: n.description,
            logo_url: None,
            fqdn: Some("auth.acme.test".into()),
            scopes: n.scopes,
            allow_dynamic_client_registration: false,
            dcr_require_initial_access_token: false,
            is_active: true,
            domain_verified: true,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        })
        .unwrap()
    }

    #[test]
    fn patch_keeps_what_it_does_not_mention() {
        let mut app = sample();
        app.scopes[0].archived = true;
        let patched = app
            .apply_patch(&AppPatch {
                name: Some("Acme Corp".into()),
                ..Default::default()
            })
            .unwrap()
            .app;
        assert_eq!(patched.name, "Acme Corp");
        assert_eq!(patched.scopes, app.scopes);
        assert_eq!(patched.fqdn, app.fqdn);
        assert!(patched.domain_verified);

        let p: AppPatch = serde_json::from_str(r#"{"description": null, "fqdn": "new.acme.test"}"#).unwrap();
        let patched = app.apply_patch(&p).unwrap().app;
        assert_eq!(patched.description, None);
        assert_eq!(patched.fqdn.as_deref(), Some("new.acme.test"));
        assert!(!patched.domain_verified, "a new domain must be verified again");
    }

    #[test]
    fn serializes_with_the_wire_field_names() {
        let mut app = sample();
        app.fqdn = None;
        let v = serde_json::to_value(&app).unwrap();
        assert_eq!(v["id"], "1");
        assert_eq!(v["fqdn"], "");
        assert_eq!(v["supported_scopes"], serde_json::json!(["read", "write"]));
        assert_eq!(v["scope_definitions"][0]["category"], "");
        assert_eq!(v["scope_definitions"][0]["display_name"], "read");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
    }
}
