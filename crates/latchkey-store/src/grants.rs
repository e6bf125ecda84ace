//! Grants: a user's approval for a client on a resource. At most one grant per
//! (client, user, resource) is active; approving again widens it.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::grant::{Grant, GrantStatus, GrantedResource};
use latchkey_core::{Id, Timestamp, scope};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::row::{RowExt, opt_ts};
use crate::{Result, Store, StoreError, Tx};

const SELECT: &str = "SELECT g.*, a.slug AS app_slug, c.client_id AS public_client_id
    FROM oauth_grants g JOIN oauth_apps a ON a.id = g.app_id JOIN oauth_clients c ON c.id = g.client_id";

/// A grant to record.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub app_id: Id,
    pub client_record_id: Id,
    pub user_id: Id,
    pub resource: GrantedResource,
    pub scopes: Vec<String>,
    pub expires_at: Option<Timestamp>,
}

fn grant_from_row(row: &AnyRow) -> Result<Grant> {
    let status = row.text("status")?;
    let resource = row.text("resource")?;
    Ok(Grant {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        app_id: row.id("app_id")?,
        app_slug: row.text("app_slug")?,
        client_record_id: row.id("client_id")?,
        client_id: row.text("public_client_id")?,
        user_id: row.id("user_id")?,
        resource: resource
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("grant resource {resource:?}")))?,
        scopes: scope::split(&row.text("scopes")?),
        status: GrantStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("grant status {status:?}")))?,
        granted_at: row.ts("granted_at")?,
        expires_at: row.opt_ts("expires_at")?,
        revoked_at: row.opt_ts("revoked_at")?,
        revoked_by: row.opt_text("revoked_by")?,
        revoke_reason: row.opt_text("revoke_reason")?,
        last_used_at: row.opt_ts("last_used_at")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

async fn load_grant(tx: &mut Tx, id: Id) -> Result<Grant> {
    let sql = format!("{SELECT} WHERE g.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.get()).fetch_one(&mut **tx).await?;
    grant_from_row(&row)
}

/// Which active grants a cascading revocation reaches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GrantFilter {
    User(Id),
    Client(Id),
    Resource(GrantedResource),
}

/// Revokes every active grant the filter selects, recording one event per grant.
pub(crate) async fn revoke_grants_where(tx: &mut Tx, deployment_id: Id, filter: GrantFilter, reason: &str) -> Result<usize> {
    let base = format!("{SELECT} WHERE g.deployment_id = $1 AND g.status = 'active'");
    let q = match filter {
        GrantFilter::User(id) => sqlx::query(sqlx::AssertSqlSafe(format!("{base} AND g.user_id = $2")))
            .bind(deployment_id.get())
            .bind(id.get()),
        GrantFilter::Client(id) => sqlx::query(sqlx::AssertSqlSafe(format!("{base} AND g.client_id = $2")))
            .bind(deployment_id.get())
            .bind(id.get()),
        GrantFilter::Resource(r) => sqlx::query(sqlx::AssertSqlSafe(format!("{base} AND g.resource = $2")))
            .bind(deployment_id.get())
            .bind(r.to_string()),
    };
    let rows = q.fetch_all(&mut **tx).await?;
    for row in &rows {
        let g = grant_from_row(row)?;
        mark_revoked(tx, &g, reason).await?;
    }
    Ok(rows.len())
}

async fn mark_revoked(tx: &mut Tx, g: &Grant, reason: &str) -> Result<()> {
    let (now, revoked_by) = (tx.now(), tx.actor()?.reference());
    sqlx::query(
        "UPDATE oauth_grants SET status = 'revoked', revoked_at = $1, revoked_by = $2, revoke_reason = $3, updated_at = $1 WHERE id = $4",
    )
    .bind(now.millis())
    .bind(revoked_by)
    .bind(reason.to_owned())
    .bind(g.id.get())
    .execute(&mut **tx)
    .await?;
    tx.record(
        NewAuditEvent::new(AuditAction::GrantRevoked, "grant", g.id)
            .app(g.app_id)
            .client(&g.client_id)
            .details(json!({
                "user_id": g.user_id,
                "resource": g.resource,
                "scopes": g.scopes,
                "reason": reason,
                "revoked_at": now,
            })),
    )
    .await
}

impl Store {
    /// The user's active grants to a client, newest first (for remembered consent).
    pub async fn active_grants_for(&self, client_record_id: Id, user_id: Id) -> Result<Vec<Grant>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE g.client_id = $1 AND g.user_id = $2 AND g.status = 'active' ORDER BY g.id DESC"
        )))
        .bind(client_record_id.get())
        .bind(user_id.get())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Records a user's approval. An active grant for the same (client, user, resource) is
    /// widened to the union of its scopes and the new ones instead of duplicated.
    pub async fn upsert_grant(&self, deployment_id: Id, new: &NewGrant, actor: &Actor) -> Result<Grant> {
        let mut tx = self.write(deployment_id, actor).await?;
        let grant = upsert_grant(&mut tx, deployment_id, new).await?;
        tx.commit().await?;
        Ok(grant)
    }

    pub async fn grant(&self, deployment_id: Id, id: Id) -> Result<Grant> {
        let sql = format!("{SELECT} WHERE g.deployment_id = $1 AND g.id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(deployment_id.get())
            .bind(id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("grant"))?;
        grant_from_row(&row)
    }

    /// A client's grants, newest first, optionally only those with `status`.
    pub async fn list_client_grants(
        &self,
        deployment_id: Id,
        slug: &str,
        client_key: &str,
        status: Option<GrantStatus>,
        limit: u32,
    ) -> Result<Vec<Grant>> {
        let client = self.client(deployment_id, slug, client_key).await?;
        let sql = format!("{SELECT} WHERE g.client_id = $1 AND ($2 = '' OR g.status = $2) ORDER BY g.id DESC LIMIT $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client.id.get())
            .bind(status.map(GrantStatus::as_str).unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// A user's grants across all apps of the deployment, newest first.
    pub async fn list_user_grants(&self, deployment_id: Id, user_id: Id, status: Option<GrantStatus>, limit: u32) -> Result<Vec<Grant>> {
        self.user(deployment_id, user_id).await?;
        let sql =
            format!("{SELECT} WHERE g.deployment_id = $1 AND g.user_id = $2 AND ($3 = '' OR g.status = $3) ORDER BY g.id DESC LIMIT $4");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(deployment_id.get())
            .bind(user_id.get())
            .bind(status.map(GrantStatus::as_str).unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Revokes one of a client's grants. Unknown grant (or one of another client): not
    /// found. Already revoked: succeeds and changes nothing.
    pub async fn revoke_grant(
        &self,
        deployment_id: Id,
        slug: &str,
        client_key: &str,
        grant_id: Id,
        reason: &str,
        actor: &Actor,
    ) -> Result<Grant> {
        let client = self.client(deployment_id, slug, client_key).await?;
        let mut tx = self.write(deployment_id, actor).await?;
        let sql = format!("{SELECT} WHERE g.id = $1 AND g.client_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(grant_id.get())
            .bind(client.id.get())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("grant"))?;
        let grant = grant_from_row(&row)?;
        if grant.status == GrantStatus::Revoked {
            return Ok(grant);
        }
        mark_revoked(&mut tx, &grant, reason).await?;
        let grant = load_grant(&mut tx, grant_id).await?;
        tx.commit().await?;
        Ok(grant)
    }
}

impl Store {
    /// Records when grants were last used (batched by the gateway; not audited).
    pub async fn touch_grants(&self, uses: &[(Id, Timestamp)]) -> Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for (id, at) in uses {
            sqlx::query("UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(at.millis())
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Records a user's approval in `tx`. An active grant for the same (client, user, resource)
/// is widened to the union of its scopes and the new ones instead of duplicated.
pub(crate) async fn upsert_grant(tx: &mut Tx, deployment_id: Id, new: &NewGrant) -> Result<Grant> {
    let now = tx.now();
    let existing =
        sqlx::query("SELECT id, scopes FROM oauth_grants WHERE client_id = $1 AND user_id = $2 AND resource = $3 AND status = 'active'")
            .bind(new.client_record_id.get())
            .bind(new.user_id.get())
            .bind(new.resource.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    let (id, action, scopes) = match existing {
        Some(row) => {
            let id = row.id("id")?;
            let mut scopes = scope::split(&row.text("scopes")?);
            for s in &new.scopes {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            sqlx::query("UPDATE oauth_grants SET scopes = $1, granted_at = $2, expires_at = $3, updated_at = $2 WHERE id = $4")
                .bind(scope::join(&scopes))
                .bind(now.millis())
                .bind(opt_ts(new.expires_at))
                .bind(id.get())
                .execute(&mut **tx)
                .await?;
            (id, AuditAction::GrantUpdated, scopes)
        }
        None => {
            let id = Id::generate();
            sqlx::query(
                "INSERT INTO oauth_grants (id, deployment_id, app_id, client_id, user_id, resource, scopes, status, granted_at, expires_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $8, $8)",
            )
            .bind(id.get())
            .bind(deployment_id.get())
            .bind(new.app_id.get())
            .bind(new.client_record_id.get())
            .bind(new.user_id.get())
            .bind(new.resource.to_string())
            .bind(scope::join(&new.scopes))
            .bind(now.millis())
            .bind(opt_ts(new.expires_at))
            .execute(&mut **tx)
            .await?;
            (id, AuditAction::GrantCreated, new.scopes.clone())
        }
    };
    let grant = load_grant(tx, id).await?;
    tx.record(
        NewAuditEvent::new(action, "grant", id)
            .app(new.app_id)
            .client(&grant.client_id)
            .details(json!({"user_id": new.user_id, "resource": new.resource, "scopes": scopes})),
    )
    .await?;
    Ok(grant)
}
