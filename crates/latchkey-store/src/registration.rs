//! Initial access tokens for dynamic client registration (RFC 7591 §3): when an app requires
//! one, registration requests must present a live token issued by an operator.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::{Id, Timestamp};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;

use crate::row::{RowExt, opt_ts};
use crate::{Result, Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitialAccessToken {
    pub id: Id,
    #[serde(rename = "oauth_app_id")]
    pub app_id: Id,
    pub name: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    pub uses: i64,
}

fn from_row(r: &AnyRow) -> Result<InitialAccessToken> {
    use sqlx::Row;
    Ok(InitialAccessToken {
        id: r.id("id")?,
        app_id: r.id("app_id")?,
        name: r.text("name")?,
        created_at: r.ts("created_at")?,
        created_by: r.opt_text("created_by")?,
        expires_at: r.opt_ts("expires_at")?,
        revoked_at: r.opt_ts("revoked_at")?,
        uses: r.try_get::<i64, _>("uses")?,
    })
}

impl Store {
    pub async fn create_initial_access_token(
        &self,
        deployment_id: Id,
        slug: &str,
        name: &str,
        token_hash: &str,
        expires_at: Option<Timestamp>,
        actor: &Actor,
    ) -> Result<InitialAccessToken> {
        let app = self.app(deployment_id, slug).await?;
        let id = Id::generate();
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query("INSERT INTO initial_access_tokens (id, app_id, name, token_hash, created_at, created_by, expires_at, uses) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)")
            .bind(id.get())
            .bind(app.id.get())
            .bind(name.to_owned())
            .bind(token_hash.to_owned())
            .bind(now.millis())
            .bind(actor.reference())
            .bind(opt_ts(expires_at))
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::InitialAccessTokenCreated, "initial_access_token", id)
                .app(app.id)
                .details(json!({"name": name, "expires_at": expires_at})),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM initial_access_tokens WHERE id = $1")
            .bind(id.get())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        from_row(&row)
    }

    pub async fn list_initial_access_tokens(&self, deployment_id: Id, slug: &str) -> Result<Vec<InitialAccessToken>> {
        let app = self.app(deployment_id, slug).await?;
        let rows = sqlx::query("SELECT * FROM initial_access_tokens WHERE app_id = $1 ORDER BY id DESC")
            .bind(app.id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn revoke_initial_access_token(&self, deployment_id: Id, slug: &str, id: Id, actor: &Actor) -> Result<InitialAccessToken> {
        let app = self.app(deployment_id, slug).await?;
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let n = sqlx::query("UPDATE initial_access_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND app_id = $3")
            .bind(now.millis())
            .bind(id.get())
            .bind(app.id.get())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound("initial access token"));
        }
        tx.record(NewAuditEvent::new(AuditAction::InitialAccessTokenRevoked, "initial_access_token", id).app(app.id))
            .await?;
        let row = sqlx::query("SELECT * FROM initial_access_tokens WHERE id = $1")
            .bind(id.get())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        from_row(&row)
    }

    /// Whether `token_hash` is a live initial access token of the app (changes nothing): the
    /// early answer; the use is counted when the client is created (`NewClient`).
    pub async fn initial_access_token_valid(&self, app_id: Id, token_hash: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM initial_access_tokens WHERE {LIVE}"
        )))
        .bind(app_id.get())
        .bind(token_hash)
        .bind(self.now().millis())
        .fetch_one(self.pool())
        .await?;
        Ok(n == 1)
    }
}

/// A live initial access token of app `$1` with hash `$2` at time `$3`.
const LIVE: &str = "app_id = $1 AND token_hash = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)";

/// Counts a registration with the initial access token `token_hash` in the registration's own
/// transaction; `NotFound` (which rolls the registration back) if it is no longer live.
pub(crate) async fn count_initial_access_token_use(tx: &mut Tx, app_id: Id, token_hash: &str, now: Timestamp) -> Result<()> {
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE initial_access_tokens SET uses = uses + 1 WHERE {LIVE}"
    )))
    .bind(app_id.get())
    .bind(token_hash.to_owned())
    .bind(now.millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound("initial access token"))
    }
}
