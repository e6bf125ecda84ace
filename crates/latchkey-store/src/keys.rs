//! Per-app signing keys. Exactly one is `active` (a partial unique index enforces it);
//! rotation retires it, compromise withdraws a key and, if it was the active one, puts the
//! replacement in its place in the same transaction.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::signing_key::{KeyStatus, SigningKey};
use latchkey_core::{Id, Timestamp};
use serde_json::{Value, json};
use sqlx::any::AnyRow;

use crate::row::{RowExt, to_json};
use crate::{Result, Store, StoreError, Tx};

/// A key pair to store: the public half in the clear, the private half already sealed.
#[derive(Debug, Clone)]
pub struct NewSigningKey {
    pub id: Id,
    pub kid: String,
    pub algorithm: String,
    pub public_key_pem: String,
    pub public_jwk: Value,
    pub sealed_private_key: String,
}

fn key_from_row(row: &AnyRow) -> Result<SigningKey> {
    let status = row.text("status")?;
    Ok(SigningKey {
        id: row.id("id")?,
        app_id: row.id("app_id")?,
        kid: row.text("kid")?,
        algorithm: row.text("algorithm")?,
        status: KeyStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("key status {status:?}")))?,
        public_key_pem: row.text("public_key_pem")?,
        public_jwk: row.json("public_jwk")?,
        created_at: row.ts("created_at")?,
        retired_at: row.opt_ts("retired_at")?,
        compromised_at: row.opt_ts("compromised_at")?,
    })
}

pub(crate) async fn insert_signing_key(tx: &mut Tx, app_id: Id, key: &NewSigningKey, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (id, app_id, kid, algorithm, status, public_key_pem, public_jwk, sealed_private_key, created_at)
         VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8)",
    )
    .bind(key.id.get())
    .bind(app_id.get())
    .bind(key.kid.clone())
    .bind(key.algorithm.clone())
    .bind(key.public_key_pem.clone())
    .bind(to_json(&key.public_jwk))
    .bind(key.sealed_private_key.clone())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn app_id_for_update(store: &Store, tx: &mut Tx, deployment_id: Id, slug: &str) -> Result<Id> {
    let sql = format!(
        "SELECT id FROM oauth_apps WHERE deployment_id = $1 AND slug = $2{}",
        store.dialect().for_update()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(deployment_id.get())
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("app"))?
        .id("id")
}

async fn key_by_id(tx: &mut Tx, id: Id) -> Result<SigningKey> {
    let row = sqlx::query("SELECT * FROM signing_keys WHERE id = $1")
        .bind(id.get())
        .fetch_one(&mut **tx)
        .await?;
    key_from_row(&row)
}

impl Store {
    /// All of an app's keys, newest first.
    pub async fn list_signing_keys(&self, deployment_id: Id, slug: &str) -> Result<Vec<SigningKey>> {
        let app = self.app(deployment_id, slug).await?;
        self.signing_keys_of(app.id).await
    }

    pub async fn signing_keys_of(&self, app_id: Id) -> Result<Vec<SigningKey>> {
        let rows = sqlx::query("SELECT * FROM signing_keys WHERE app_id = $1 ORDER BY id DESC")
            .bind(app_id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// The active key's public record and sealed private half.
    pub async fn active_signing_key(&self, app_id: Id) -> Result<(SigningKey, String)> {
        let row = sqlx::query("SELECT * FROM signing_keys WHERE app_id = $1 AND status = 'active'")
            .bind(app_id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("active signing key"))?;
        Ok((key_from_row(&row)?, row.text("sealed_private_key")?))
    }

    /// Retires the active key and activates `new`.
    pub async fn rotate_signing_key(&self, deployment_id: Id, slug: &str, new: &NewSigningKey, actor: &Actor) -> Result<SigningKey> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let app_id = app_id_for_update(self, &mut tx, deployment_id, slug).await?;
        let old = sqlx::query("SELECT kid FROM signing_keys WHERE app_id = $1 AND status = 'active'")
            .bind(app_id.get())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.text("kid"))
            .transpose()?;
        sqlx::query("UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE app_id = $2 AND status = 'active'")
            .bind(now.millis())
            .bind(app_id.get())
            .execute(&mut *tx)
            .await?;
        insert_signing_key(&mut tx, app_id, new, now).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::SigningKeyRotated, "signing_key", &new.kid)
                .app(app_id)
                .details(json!({"retired": old, "active": new.kid})),
        )
        .await?;
        let key = key_by_id(&mut tx, new.id).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Marks a key compromised: it leaves the JWKS and nothing it signed verifies. If it
    /// was the active key, `replacement` becomes active (and is required). Compromising a
    /// compromised key succeeds and changes nothing.
    pub async fn compromise_signing_key(
        &self,
        deployment_id: Id,
        slug: &str,
        kid: &str,
        replacement: Option<&NewSigningKey>,
        actor: &Actor,
    ) -> Result<SigningKey> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let app_id = app_id_for_update(self, &mut tx, deployment_id, slug).await?;
        let row = sqlx::query("SELECT * FROM signing_keys WHERE app_id = $1 AND kid = $2")
            .bind(app_id.get())
            .bind(kid)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("signing key"))?;
        let key = key_from_row(&row)?;
        if key.status == KeyStatus::Compromised {
            return Ok(key);
        }
        sqlx::query("UPDATE signing_keys SET status = 'compromised', compromised_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(key.id.get())
            .execute(&mut *tx)
            .await?;
        let replaced_by = match (key.status, replacement) {
            (KeyStatus::Active, Some(r)) => {
                insert_signing_key(&mut tx, app_id, r, now).await?;
                Some(r.kid.clone())
            }
            (KeyStatus::Active, None) => {
                return Err(StoreError::Conflict("the key became active meanwhile; retry".into()));
            }
            _ => None,
        };
        tx.record(
            NewAuditEvent::new(AuditAction::SigningKeyCompromised, "signing_key", kid)
                .app(app_id)
                .details(json!({
                    "previous_status": key.status.as_str(),
                    "replaced_by": replaced_by,
                })),
        )
        .await?;
        let key = key_by_id(&mut tx, key.id).await?;
        tx.commit().await?;
        Ok(key)
    }
}
