//! Deployments (tenants) and the backend API keys that act for them.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::{Id, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use crate::row::{RowExt, to_json};
use crate::{Result, Store, StoreError};

/// The deployment created on first start.
pub const DEFAULT_DEPLOYMENT_ID: Id = Id::from_i64(1);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub id: Id,
    pub name: String,
    pub settings: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A backend API key's record; the key itself exists only as `key_hash`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    pub id: Id,
    pub deployment_id: Id,
    pub name: String,
    pub hint: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// A key to store: its hash and display hint, never the key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: Id,
    pub name: String,
    pub key_hash: String,
    pub hint: String,
}

fn api_key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        name: row.text("name")?,
        hint: row.text("hint")?,
        created_at: row.ts("created_at")?,
        created_by: row.opt_text("created_by")?,
        last_used_at: row.opt_ts("last_used_at")?,
        revoked_at: row.opt_ts("revoked_at")?,
    })
}

fn deployment_from_row(row: &sqlx::any::AnyRow) -> Result<Deployment> {
    Ok(Deployment {
        id: row.id("id")?,
        name: row.text("name")?,
        settings: row.json("settings")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

impl Store {
    /// Creates the default deployment and its first API key if the store has no deployment
    /// yet. Returns None when it already existed. Safe against concurrent first starts: the
    /// default deployment has a fixed id, so only one insert wins.
    pub async fn bootstrap(&self, key: &NewApiKey) -> Result<Option<Deployment>> {
        let mut tx = self.write(DEFAULT_DEPLOYMENT_ID, &Actor::system()).await?;
        let exists = sqlx::query("SELECT id FROM deployments LIMIT 1").fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Ok(None);
        }
        match insert_deployment(&mut tx, DEFAULT_DEPLOYMENT_ID, "default", key).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        self.deployment(DEFAULT_DEPLOYMENT_ID).await.map(Some)
    }

    /// Creates another deployment (tenant) with its first API key.
    pub async fn create_deployment(&self, name: &str, key: &NewApiKey) -> Result<Deployment> {
        let id = Id::generate();
        let mut tx = self.write(id, &Actor::system()).await?;
        insert_deployment(&mut tx, id, name, key).await?;
        tx.commit().await?;
        self.deployment(id).await
    }

    pub async fn deployment(&self, id: Id) -> Result<Deployment> {
        let row = sqlx::query("SELECT * FROM deployments WHERE id = $1")
            .bind(id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("deployment"))?;
        deployment_from_row(&row)
    }

    /// Replaces a deployment's settings document.
    pub async fn set_deployment_settings(&self, id: Id, settings: &Value, actor: &Actor) -> Result<Deployment> {
        let mut tx = self.write(id, actor).await?;
        let now = tx.now();
        let before = sqlx::query("SELECT settings FROM deployments WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("deployment"))?
            .json::<Value>("settings")?;
        sqlx::query("UPDATE deployments SET settings = $1, updated_at = $2 WHERE id = $3")
            .bind(to_json(settings))
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::DeploymentSettingsUpdated, "deployment", id)
                .details(json!({"before": before, "after": settings})),
        )
        .await?;
        tx.commit().await?;
        self.deployment(id).await
    }

    /// The live (not revoked) API key with this hash.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    /// Records that a key was used, at most once a minute per key so requests do not
    /// turn into writes.
    pub async fn touch_api_key(&self, id: Id) -> Result<()> {
        let now = self.now();
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(now.millis())
            .bind(id.get())
            .bind(now.millis() - 60_000)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn create_api_key(&self, deployment_id: Id, key: &NewApiKey, actor: &Actor) -> Result<ApiKey> {
        let mut tx = self.write(deployment_id, actor).await?;
        insert_api_key(&mut tx, deployment_id, key).await?;
        tx.commit().await?;
        self.api_key(deployment_id, key.id).await
    }

    pub async fn api_key(&self, deployment_id: Id, id: Id) -> Result<ApiKey> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1 AND deployment_id = $2")
            .bind(id.get())
            .bind(deployment_id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("api key"))?;
        api_key_from_row(&row)
    }

    pub async fn list_api_keys(&self, deployment_id: Id) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE deployment_id = $1 ORDER BY id")
            .bind(deployment_id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    /// Revokes a key. Revoking a revoked key changes nothing and succeeds.
    pub async fn revoke_api_key(&self, deployment_id: Id, id: Id, actor: &Actor) -> Result<ApiKey> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let key = sqlx::query("SELECT * FROM api_keys WHERE id = $1 AND deployment_id = $2")
            .bind(id.get())
            .bind(deployment_id.get())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("api key"))?;
        let key = api_key_from_row(&key)?;
        if key.revoked_at.is_none() {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
                .bind(now.millis())
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
            tx.record(NewAuditEvent::new(AuditAction::ApiKeyRevoked, "api_key", id).details(json!({"name": key.name})))
                .await?;
        }
        tx.commit().await?;
        self.api_key(deployment_id, id).await
    }
}

/// Inserts a deployment with its first API key, in a transaction acting for the system in it.
async fn insert_deployment(tx: &mut crate::Tx, id: Id, name: &str, key: &NewApiKey) -> Result<()> {
    let now = tx.now();
    sqlx::query("INSERT INTO deployments (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(id.get())
        .bind(name.to_owned())
        .bind("{}")
        .bind(now.millis())
        .execute(&mut **tx)
        .await
        .map_err(StoreError::unique(|| format!("deployment {id} already exists")))?;
    insert_api_key(tx, id, key).await?;
    tx.record(NewAuditEvent::new(AuditAction::DeploymentCreated, "deployment", id).details(json!({ "name": name })))
        .await
}

async fn insert_api_key(tx: &mut crate::Tx, deployment_id: Id, key: &NewApiKey) -> Result<()> {
    let (now, created_by) = (tx.now(), tx.actor()?.reference());
    sqlx::query(
        "INSERT INTO api_keys (id, deployment_id, name, key_hash, hint, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.id.get())
    .bind(deployment_id.get())
    .bind(key.name.clone())
    .bind(key.key_hash.clone())
    .bind(key.hint.clone())
    .bind(now.millis())
    .bind(created_by)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::unique(|| "an API key with this value already exists".into()))?;
    tx.record(NewAuditEvent::new(AuditAction::ApiKeyCreated, "api_key", key.id).details(json!({"name": key.name, "hint": key.hint})))
        .await
}
