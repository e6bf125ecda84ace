//! OAuth apps, their scope definitions and logos.

use std::collections::HashMap;

use latchkey_core::app::{App, Logo, NewApp};
use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::scope::{ScopeCategory, ScopeDefinition};
use latchkey_core::{Id, Timestamp, ValidationErrors};
use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;

use crate::keys::{NewSigningKey, insert_signing_key};
use crate::row::{RowExt, flag};
use crate::{Result, Store, StoreError, Tx, like_escape};

/// Id, slug and deployment of an app: what request routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSummary {
    pub id: Id,
    pub deployment_id: Id,
    pub slug: String,
}

fn app_from_row(row: &AnyRow, scopes: Vec<ScopeDefinition>) -> Result<App> {
    Ok(App {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        slug: row.text("slug")?,
        name: row.text("name")?,
        description: row.opt_text("description")?,
        logo_url: row.opt_text("logo_url")?,
        fqdn: row.opt_text("fqdn")?,
        scopes,
        allow_dynamic_client_registration: row.flag("allow_dynamic_client_registration")?,
        dcr_require_initial_access_token: row.flag("dcr_require_initial_token")?,
        is_active: row.flag("is_active")?,
        domain_verified: row.flag("domain_verified")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn scope_from_row(row: &AnyRow) -> Result<ScopeDefinition> {
    let category = row.text("category")?;
    Ok(ScopeDefinition {
        scope: row.text("scope")?,
        display_name: row.text("display_name")?,
        description: row.text("description")?,
        archived: row.flag("archived")?,
        category: ScopeCategory::parse("category", &category).map_err(|_| StoreError::Corrupt(format!("scope category {category:?}")))?,
        organization_permission: row.opt_text("organization_permission")?,
        workspace_permission: row.opt_text("workspace_permission")?,
    })
}

async fn write_scopes(tx: &mut Tx, app_id: Id, scopes: &[ScopeDefinition]) -> Result<()> {
    sqlx::query("DELETE FROM oauth_scopes WHERE app_id = $1")
        .bind(app_id.get())
        .execute(&mut **tx)
        .await?;
    for (pos, s) in scopes.iter().enumerate() {
        sqlx::query(
            "INSERT INTO oauth_scopes (app_id, scope, position, display_name, description, archived, category, organization_permission, workspace_permission)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(app_id.get())
        .bind(s.scope.clone())
        .bind(pos as i64)
        .bind(s.display_name.clone())
        .bind(s.description.clone())
        .bind(flag(s.archived))
        .bind(s.category.as_str())
        .bind(s.organization_permission.clone())
        .bind(s.workspace_permission.clone())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn scopes_of(tx: impl sqlx::AnyExecutor<'_>, app_id: Id) -> Result<Vec<ScopeDefinition>> {
    let rows = sqlx::query("SELECT * FROM oauth_scopes WHERE app_id = $1 ORDER BY position")
        .bind(app_id.get())
        .fetch_all(tx)
        .await?;
    rows.iter().map(scope_from_row).collect()
}

/// The audit details of a change: the fields whose values differ, before and after.
pub(crate) fn diff(before: &Value, after: &Value) -> Value {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return json!({"before": before, "after": after});
    };
    let mut bo = Map::new();
    let mut ao = Map::new();
    for (k, av) in a {
        if k == "updated_at" {
            continue;
        }
        let bv = b.get(k).unwrap_or(&Value::Null);
        if bv != av {
            bo.insert(k.clone(), bv.clone());
            ao.insert(k.clone(), av.clone());
        }
    }
    json!({"before": bo, "after": ao})
}

/// How an app change is described in the audit trail.
pub struct AppChange {
    pub app: App,
    /// Scopes the change removes; refused while an active grant holds one.
    pub removed_scopes: Vec<String>,
    pub action: AuditAction,
    /// Extra details merged into the event (the scope concerned, …).
    pub details: Value,
}

impl Store {
    pub async fn create_app(
        &self,
        deployment_id: Id,
        id: Id,
        new: &NewApp,
        logo_url: Option<&str>,
        key: &NewSigningKey,
        actor: &Actor,
    ) -> Result<App> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query(
            "INSERT INTO oauth_apps (id, deployment_id, slug, name, description, fqdn, logo_url, allow_dynamic_client_registration, is_active, domain_verified, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 0, $9, $9)",
        )
        .bind(id.get())
        .bind(deployment_id.get())
        .bind(new.slug.clone())
        .bind(new.name.clone())
        .bind(new.description.clone())
        .bind(new.fqdn.clone())
        .bind(logo_url.map(str::to_owned))
        .bind(flag(new.allow_dynamic_client_registration))
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(|| match &new.fqdn {
            Some(f) => format!("an app with slug {:?} or domain {f:?} already exists", new.slug),
            None => format!("an app with slug {:?} already exists", new.slug),
        }))?;
        write_scopes(&mut tx, id, &new.scopes).await?;
        if let Some(logo) = &new.logo {
            write_logo(&mut tx, id, logo, now).await?;
        }
        insert_signing_key(&mut tx, id, key, now).await?;
        let app = load_app(&mut tx, id).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::AppCreated, "app", id)
                .app(id)
                .details(json!({"after": app, "signing_key": key.kid})),
        )
        .await?;
        tx.commit().await?;
        Ok(app)
    }

    /// An app of this deployment, by slug.
    pub async fn app(&self, deployment_id: Id, slug: &str) -> Result<App> {
        let row = sqlx::query("SELECT * FROM oauth_apps WHERE deployment_id = $1 AND slug = $2")
            .bind(deployment_id.get())
            .bind(slug)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("app"))?;
        let id = row.id("id")?;
        app_from_row(&row, scopes_of(self.pool(), id).await?)
    }

    /// Any deployment's app by slug (for issuer routing).
    pub async fn app_by_slug(&self, slug: &str) -> Result<App> {
        let row = sqlx::query("SELECT * FROM oauth_apps WHERE slug = $1")
            .bind(slug)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("app"))?;
        let id = row.id("id")?;
        app_from_row(&row, scopes_of(self.pool(), id).await?)
    }

    /// Any app by id.
    pub async fn app_by_id(&self, id: Id) -> Result<App> {
        let mut tx = self.pool().begin().await?;
        let app = load_app(&mut tx, id).await;
        tx.commit().await?;
        app
    }

    /// The app whose custom domain is `fqdn` (for issuer routing by Host).
    pub async fn app_by_fqdn(&self, fqdn: &str) -> Result<App> {
        let row = sqlx::query("SELECT * FROM oauth_apps WHERE fqdn = $1")
            .bind(fqdn)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("app"))?;
        let id = row.id("id")?;
        app_from_row(&row, scopes_of(self.pool(), id).await?)
    }

    pub async fn list_apps(&self, deployment_id: Id) -> Result<Vec<App>> {
        let rows = sqlx::query("SELECT * FROM oauth_apps WHERE deployment_id = $1 ORDER BY id")
            .bind(deployment_id.get())
            .fetch_all(self.pool())
            .await?;
        let scope_rows = sqlx::query(
            "SELECT s.* FROM oauth_scopes s JOIN oauth_apps a ON a.id = s.app_id WHERE a.deployment_id = $1 ORDER BY s.app_id, s.position",
        )
        .bind(deployment_id.get())
        .fetch_all(self.pool())
        .await?;
        let mut scopes: HashMap<i64, Vec<ScopeDefinition>> = HashMap::new();
        for r in &scope_rows {
            scopes.entry(r.id("app_id")?.get()).or_default().push(scope_from_row(r)?);
        }
        rows.iter()
            .map(|r| {
                let id = r.id("id")?;
                app_from_row(r, scopes.remove(&id.get()).unwrap_or_default())
            })
            .collect()
    }

    /// Read-modify-write of one app: `change` sees the current app and returns the new one
    /// (or a validation error, which changes nothing). Runs under the write lock, refuses to
    /// remove scopes that live grants hold, and records the event with a before/after diff.
    pub async fn modify_app(
        &self,
        deployment_id: Id,
        slug: &str,
        actor: &Actor,
        change: impl FnOnce(&App) -> Result<AppChange, ValidationErrors>,
    ) -> Result<App> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let sql = format!(
            "SELECT id FROM oauth_apps WHERE deployment_id = $1 AND slug = $2{}",
            self.dialect().for_update()
        );
        let id = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(deployment_id.get())
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("app"))?
            .id("id")?;
        let before = load_app(&mut tx, id).await?;
        let AppChange {
            app: mut after,
            removed_scopes,
            action,
            details,
        } = change(&before).map_err(StoreError::Invalid)?;
        for scope in &removed_scopes {
            let held = sqlx::query(
                "SELECT id FROM oauth_grants WHERE app_id = $1 AND status = 'active' AND (' ' || scopes || ' ') LIKE $2 ESCAPE '\\' LIMIT 1",
            )
            .bind(id.get())
            .bind(format!("% {} %", like_escape(scope)))
            .fetch_optional(&mut *tx)
            .await?;
            if held.is_some() {
                return Err(StoreError::Conflict(format!(
                    "scope {scope:?} is held by active grants: archive it instead, or revoke those grants first"
                )));
            }
        }
        after.updated_at = now;
        sqlx::query(
            "UPDATE oauth_apps SET name = $1, description = $2, fqdn = $3, allow_dynamic_client_registration = $4, is_active = $5, domain_verified = $6, updated_at = $7, dcr_require_initial_token = $9 WHERE id = $8",
        )
        .bind(after.name.clone())
        .bind(after.description.clone())
        .bind(after.fqdn.clone())
        .bind(flag(after.allow_dynamic_client_registration))
        .bind(flag(after.is_active))
        .bind(flag(after.domain_verified))
        .bind(now.millis())
        .bind(id.get())
        .bind(flag(after.dcr_require_initial_access_token))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(|| format!("another app already uses the domain {:?}", after.fqdn.clone().unwrap_or_default())))?;
        if after.scopes != before.scopes {
            write_scopes(&mut tx, id, &after.scopes).await?;
        }
        let after = load_app(&mut tx, id).await?;
        let mut d = diff(
            &serde_json::to_value(&before).unwrap_or_default(),
            &serde_json::to_value(&after).unwrap_or_default(),
        );
        if let (Some(obj), Some(extra)) = (d.as_object_mut(), details.as_object()) {
            obj.extend(extra.clone());
        }
        tx.record(NewAuditEvent::new(action, "app", id).app(id).details(d)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Stores the outcome of a domain check.
    pub async fn record_domain_check(&self, deployment_id: Id, slug: &str, verified: bool, actor: &Actor) -> Result<App> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let row = sqlx::query("SELECT id, fqdn, domain_verified FROM oauth_apps WHERE deployment_id = $1 AND slug = $2")
            .bind(deployment_id.get())
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("app"))?;
        let id = row.id("id")?;
        let was = row.flag("domain_verified")?;
        sqlx::query("UPDATE oauth_apps SET domain_verified = $1, domain_checked_at = $2 WHERE id = $3")
            .bind(flag(verified))
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::AppDomainChecked, "app", id)
                .app(id)
                .details(json!({"fqdn": row.opt_text("fqdn")?, "verified": verified, "was_verified": was})),
        )
        .await?;
        let app = load_app(&mut tx, id).await?;
        tx.commit().await?;
        Ok(app)
    }

    pub async fn set_app_logo(&self, deployment_id: Id, slug: &str, logo: &Logo, logo_url: &str, actor: &Actor) -> Result<App> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let id = sqlx::query("SELECT id FROM oauth_apps WHERE deployment_id = $1 AND slug = $2")
            .bind(deployment_id.get())
            .bind(slug)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("app"))?
            .id("id")?;
        write_logo(&mut tx, id, logo, now).await?;
        sqlx::query("UPDATE oauth_apps SET logo_url = $1, updated_at = $2 WHERE id = $3")
            .bind(logo_url)
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::AppLogoUpdated, "app", id)
                .app(id)
                .details(json!({"content_type": logo.content_type, "bytes": logo.bytes.len()})),
        )
        .await?;
        let app = load_app(&mut tx, id).await?;
        tx.commit().await?;
        Ok(app)
    }

    /// The logo bytes of an app (public: logos are shown on consent pages).
    pub async fn app_logo(&self, app_id: Id) -> Result<(String, Vec<u8>, Timestamp)> {
        use base64::Engine;
        let row = sqlx::query("SELECT content_type, data, updated_at FROM oauth_app_logos WHERE app_id = $1")
            .bind(app_id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("logo"))?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(row.text("data")?)
            .map_err(|e| StoreError::Corrupt(format!("logo data: {e}")))?;
        Ok((row.text("content_type")?, data, row.ts("updated_at")?))
    }
}

async fn write_logo(tx: &mut Tx, app_id: Id, logo: &Logo, now: Timestamp) -> Result<()> {
    use base64::Engine;
    sqlx::query("DELETE FROM oauth_app_logos WHERE app_id = $1")
        .bind(app_id.get())
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO oauth_app_logos (app_id, content_type, data, updated_at) VALUES ($1, $2, $3, $4)")
        .bind(app_id.get())
        .bind(logo.content_type)
        .bind(base64::engine::general_purpose::STANDARD.encode(&logo.bytes))
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn load_app(tx: &mut sqlx::AnyConnection, id: Id) -> Result<App> {
    let row = sqlx::query("SELECT * FROM oauth_apps WHERE id = $1")
        .bind(id.get())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("app"))?;
    let scopes = scopes_of(&mut *tx, id).await?;
    app_from_row(&row, scopes)
}
