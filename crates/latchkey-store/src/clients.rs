//! OAuth clients and their secrets. A client may hold several secrets at once (during a
//! rotation overlap); each is stored as an HMAC, plus a sealed copy only for
//! `client_secret_jwt`, whose assertions are verified with the secret itself.

use latchkey_core::app::App;
use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::client::{Client, ClientConfig, ClientSecretInfo, Registration};
use latchkey_core::{Id, Timestamp, ValidationErrors};
use serde_json::{Value, json};
use sqlx::any::AnyRow;

use crate::apps::diff;
use crate::grants::{GrantFilter, revoke_grants_where};
use crate::row::{RowExt, flag, to_json};
use crate::{Result, Store, StoreError, Tx};

/// A secret to store: its keyed hash, its sealed value when it must be recoverable, and
/// the hint shown to operators.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub id: Id,
    pub hash: String,
    pub sealed: Option<String>,
    pub hint: String,
}

/// A live secret as the token endpoint needs it.
#[derive(Debug, Clone)]
pub struct SecretCheck {
    pub id: Id,
    pub hash: String,
    pub sealed: Option<String>,
    pub expires_at: Option<Timestamp>,
    /// False for the newest secret, true for one kept alive by a rotation overlap.
    pub superseded: bool,
}

fn client_from_row(row: &AnyRow) -> Result<Client> {
    let reg = row.text("registration")?;
    Ok(Client {
        id: row.id("id")?,
        app_id: row.id("app_id")?,
        deployment_id: row.id("deployment_id")?,
        client_id: row.text("client_id")?,
        config: row.json::<ClientConfig>("config")?,
        registration: Registration::parse(&reg).ok_or_else(|| StoreError::Corrupt(format!("registration {reg:?}")))?,
        is_active: row.flag("is_active")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn secret_info_from_row(row: &AnyRow) -> Result<ClientSecretInfo> {
    Ok(ClientSecretInfo {
        id: row.id("id")?,
        hint: row.text("hint")?,
        created_at: row.ts("created_at")?,
        created_by: row.opt_text("created_by")?,
        expires_at: row.opt_ts("expires_at")?,
        last_used_at: row.opt_ts("last_used_at")?,
    })
}

async fn insert_secret(tx: &mut Tx, client_id: Id, s: &NewSecret, actor: &Actor, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_client_secrets (id, client_id, secret_hash, sealed_secret, hint, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id.get())
    .bind(client_id.get())
    .bind(s.hash.clone())
    .bind(s.sealed.clone())
    .bind(s.hint.clone())
    .bind(now.millis())
    .bind(actor.reference())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes every secret of the client that is valid after `until` expire at `until`.
async fn expire_secrets(tx: &mut Tx, client_id: Id, until: Timestamp) -> Result<u64> {
    let r = sqlx::query("UPDATE oauth_client_secrets SET expires_at = $1 WHERE client_id = $2 AND (expires_at IS NULL OR expires_at > $1)")
        .bind(until.millis())
        .bind(client_id.get())
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// The lookup condition for a client path segment: the record id or the public client_id.
fn client_key(key: &str) -> (&'static str, ClientKey) {
    match key.parse::<Id>() {
        Ok(id) => ("c.id = $3", ClientKey::Id(id)),
        Err(_) => ("c.client_id = $3", ClientKey::ClientId(key.to_owned())),
    }
}

enum ClientKey {
    Id(Id),
    ClientId(String),
}

/// What a client change does, as decided by the caller from the current client.
pub struct ClientChange {
    pub config: ClientConfig,
    pub is_active: bool,
    pub action: AuditAction,
    /// A secret to issue (old ones stop working at once).
    pub new_secret: Option<NewSecret>,
    /// Whether every secret stops working (the client no longer uses one).
    pub drop_secrets: bool,
}

/// A client to create.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: Id,
    pub client_id: String,
    pub config: ClientConfig,
    pub registration: Registration,
    /// Its first secret, for methods that use one.
    pub secret: Option<NewSecret>,
    /// For dynamically registered clients: the HMAC of the RFC 7592 registration access token.
    pub registration_token_hash: Option<String>,
    /// The HMAC of the initial access token the registration was made with, whose use is
    /// counted in the same transaction (the registration fails if it is no longer live).
    pub initial_access_token_hash: Option<String>,
}

impl Store {
    pub async fn create_client(&self, app: &App, new: &NewClient, actor: &Actor) -> Result<Client> {
        let NewClient {
            id,
            client_id,
            config,
            registration,
            secret,
            registration_token_hash,
            initial_access_token_hash,
        } = new;
        let (id, secret) = (*id, secret.as_ref());
        let mut tx = self.write(app.deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query(
            "INSERT INTO oauth_clients (id, deployment_id, app_id, client_id, config, registration, is_active, created_at, updated_at, registration_token_hash)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8)",
        )
        .bind(id.get())
        .bind(app.deployment_id.get())
        .bind(app.id.get())
        .bind(client_id.clone())
        .bind(to_json(config))
        .bind(registration.as_str())
        .bind(now.millis())
        .bind(registration_token_hash.clone())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(|| "a client with this client_id already exists".into()))?;
        if let Some(s) = secret {
            insert_secret(&mut tx, id, s, actor, now).await?;
        }
        if let Some(h) = initial_access_token_hash {
            crate::registration::count_initial_access_token_use(&mut tx, app.id, h, now).await?;
        }
        let client = load_client(&mut tx, id).await?;
        tx.record(
            NewAuditEvent::new(
                if *registration == Registration::Dynamic {
                    AuditAction::ClientRegistered
                } else {
                    AuditAction::ClientCreated
                },
                "client",
                id,
            )
            .app(app.id)
            .client(client_id)
            .details(json!({"after": client, "secret_hint": secret.map(|s| s.hint.clone())})),
        )
        .await?;
        tx.commit().await?;
        Ok(client)
    }

    /// The active, dynamically registered client whose registration access token has this
    /// HMAC, in app `app_id`.
    pub async fn client_by_registration_token(&self, app_id: Id, token_hash: &str) -> Result<Option<Client>> {
        let row = sqlx::query("SELECT * FROM oauth_clients WHERE registration_token_hash = $1 AND app_id = $2 AND is_active = 1")
            .bind(token_hash)
            .bind(app_id.get())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    /// RFC 7592 update: replaces a registered client's configuration.
    pub async fn replace_registration(&self, client: &Client, config: &ClientConfig, actor: &Actor) -> Result<Client> {
        let mut tx = self.write(client.deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query("UPDATE oauth_clients SET config = $1, updated_at = $2 WHERE id = $3 AND is_active = 1")
            .bind(to_json(config))
            .bind(now.millis())
            .bind(client.id.get())
            .execute(&mut *tx)
            .await?;
        let after = load_client(&mut tx, client.id).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::ClientRegistrationUpdated, "client", client.id)
                .app(client.app_id)
                .client(&client.client_id)
                .details(diff(
                    &serde_json::to_value(client).unwrap_or_default(),
                    &serde_json::to_value(&after).unwrap_or_default(),
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// RFC 7592 delete: the client is deactivated, its secrets and registration token stop
    /// working, and its grants are revoked.
    pub async fn deregister(&self, client: &Client, actor: &Actor) -> Result<()> {
        let mut tx = self.write(client.deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query(
            "UPDATE oauth_clients SET is_active = 0, deactivated_at = $1, registration_token_hash = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now.millis())
        .bind(client.id.get())
        .execute(&mut *tx)
        .await?;
        expire_secrets(&mut tx, client.id, now).await?;
        let revoked = revoke_grants_where(&mut tx, client.deployment_id, GrantFilter::Client(client.id), "client deregistered").await?;
        tx.record(
            NewAuditEvent::new(AuditAction::ClientRegistrationDeleted, "client", client.id)
                .app(client.app_id)
                .client(&client.client_id)
                .details(json!({"grants_revoked": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes dynamically registered clients created before `before` that never got a
    /// grant (abandoned registrations), with their consent transactions; returns how many.
    pub async fn reap_unused_registrations(&self, before: latchkey_core::Timestamp) -> Result<u64> {
        let mut tx = self.write_unscoped().await?;
        let rows = sqlx::query(
            "SELECT c.id, c.client_id, c.app_id, c.deployment_id FROM oauth_clients c
             WHERE c.registration = 'dynamic' AND c.created_at < $1 AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = c.id)",
        )
        .bind(before.millis())
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let id = r.id("id")?;
            sqlx::query("DELETE FROM consent_requests WHERE client_id = $1")
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
            tx.record_for(
                r.id("deployment_id")?,
                &Actor::system(),
                NewAuditEvent::new(AuditAction::ClientReaped, "client", id)
                    .app(r.id("app_id")?)
                    .client(&r.text("client_id")?)
                    .details(json!({"reason": "registered but never used"})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// A client of the app `slug` in this deployment, by record id or public client_id.
    pub async fn client(&self, deployment_id: Id, slug: &str, key: &str) -> Result<Client> {
        let (cond, k) = client_key(key);
        let sql = format!(
            "SELECT c.* FROM oauth_clients c JOIN oauth_apps a ON a.id = c.app_id WHERE a.deployment_id = $1 AND a.slug = $2 AND {cond}"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(deployment_id.get())
            .bind(slug.to_owned());
        let q = match k {
            ClientKey::Id(id) => q.bind(id.get()),
            ClientKey::ClientId(c) => q.bind(c),
        };
        let row = q.fetch_optional(self.pool()).await?.ok_or(StoreError::NotFound("client"))?;
        client_from_row(&row)
    }

    /// Any client by its public client_id (for the OAuth runtime).
    pub async fn client_by_client_id(&self, client_id: &str) -> Result<Client> {
        let row = sqlx::query("SELECT * FROM oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("client"))?;
        client_from_row(&row)
    }

    pub async fn list_clients(&self, deployment_id: Id, slug: &str) -> Result<Vec<Client>> {
        let app = self.app(deployment_id, slug).await?;
        let rows = sqlx::query("SELECT * FROM oauth_clients WHERE app_id = $1 ORDER BY id")
            .bind(app.id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(client_from_row).collect()
    }

    /// Read-modify-write of one client under the write lock; `change` decides from the
    /// current client and may refuse with a validation error, which changes nothing.
    pub async fn modify_client(
        &self,
        deployment_id: Id,
        slug: &str,
        key: &str,
        actor: &Actor,
        change: impl FnOnce(&Client) -> Result<ClientChange, ValidationErrors>,
    ) -> Result<Client> {
        let current = self.client(deployment_id, slug, key).await?;
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let sql = format!("SELECT id FROM oauth_clients WHERE id = $1{}", self.dialect().for_update());
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(current.id.get())
            .fetch_one(&mut *tx)
            .await?;
        let before = load_client(&mut tx, current.id).await?;
        let ch = change(&before).map_err(StoreError::Invalid)?;
        sqlx::query("UPDATE oauth_clients SET config = $1, is_active = $2, updated_at = $3, deactivated_at = $4 WHERE id = $5")
            .bind(to_json(&ch.config))
            .bind(flag(ch.is_active))
            .bind(now.millis())
            .bind((!ch.is_active).then_some(now.millis()))
            .bind(before.id.get())
            .execute(&mut *tx)
            .await?;
        if ch.drop_secrets || ch.new_secret.is_some() {
            expire_secrets(&mut tx, before.id, now).await?;
        }
        if let Some(s) = &ch.new_secret {
            insert_secret(&mut tx, before.id, s, actor, now).await?;
        }
        let after = load_client(&mut tx, before.id).await?;
        let mut details = diff(
            &serde_json::to_value(&before).unwrap_or_default(),
            &serde_json::to_value(&after).unwrap_or_default(),
        );
        if let Some(obj) = details.as_object_mut() {
            if let Some(s) = &ch.new_secret {
                obj.insert("new_secret_hint".into(), Value::String(s.hint.clone()));
            }
            if ch.drop_secrets {
                obj.insert("secrets_dropped".into(), Value::Bool(true));
            }
        }
        tx.record(
            NewAuditEvent::new(ch.action, "client", before.id)
                .app(before.app_id)
                .client(&before.client_id)
                .details(details),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Issues `new` as the client's current secret. Secrets valid until now stay valid for
    /// `overlap_seconds` more (0: they stop at once); none is ever extended.
    pub async fn rotate_client_secret(
        &self,
        deployment_id: Id,
        slug: &str,
        key: &str,
        new: &NewSecret,
        overlap_seconds: i64,
        actor: &Actor,
    ) -> Result<(Client, ClientSecretInfo)> {
        let client = self.client(deployment_id, slug, key).await?;
        if !client.config.auth_method().uses_secret() {
            return Err(StoreError::Conflict(format!(
                "client {} authenticates with {}: it has no secret to rotate",
                client.client_id,
                client.config.auth_method()
            )));
        }
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let until = now.plus_seconds(overlap_seconds);
        let kept = expire_secrets(&mut tx, client.id, until).await?;
        insert_secret(&mut tx, client.id, new, actor, now).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::ClientSecretRotated, "client", client.id)
                .app(client.app_id)
                .client(&client.client_id)
                .details(json!({
                    "new_secret_hint": new.hint,
                    "overlap_seconds": overlap_seconds,
                    "previous_secrets_valid_until": (overlap_seconds > 0 && kept > 0).then_some(until),
                    "rotated_at": now,
                })),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM oauth_client_secrets WHERE id = $1")
            .bind(new.id.get())
            .fetch_one(&mut *tx)
            .await?;
        let info = secret_info_from_row(&row)?;
        tx.commit().await?;
        Ok((client, info))
    }

    /// The client's secrets, newest first, including expired ones (never their values).
    pub async fn list_client_secrets(&self, deployment_id: Id, slug: &str, key: &str) -> Result<Vec<ClientSecretInfo>> {
        let client = self.client(deployment_id, slug, key).await?;
        let rows = sqlx::query("SELECT * FROM oauth_client_secrets WHERE client_id = $1 ORDER BY id DESC")
            .bind(client.id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(secret_info_from_row).collect()
    }

    /// Secrets that authenticate the client now, newest first.
    pub async fn live_client_secrets(&self, client_record_id: Id) -> Result<Vec<SecretCheck>> {
        let now = self.now();
        let rows = sqlx::query(
            "SELECT * FROM oauth_client_secrets WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC",
        )
        .bind(client_record_id.get())
        .bind(now.millis())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(SecretCheck {
                    id: r.id("id")?,
                    hash: r.text("secret_hash")?,
                    sealed: r.opt_text("sealed_secret")?,
                    expires_at: r.opt_ts("expires_at")?,
                    superseded: i > 0,
                })
            })
            .collect()
    }
}

pub(crate) async fn load_client(tx: &mut Tx, id: Id) -> Result<Client> {
    let row = sqlx::query("SELECT * FROM oauth_clients WHERE id = $1")
        .bind(id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("client"))?;
    client_from_row(&row)
}

impl Store {
    /// Records a use of a superseded client secret (inside a rotation overlap).
    pub async fn record_secret_use(&self, deployment_id: Id, app_id: Id, client_id: &str, secret_id: Id, superseded: bool) -> Result<()> {
        let mut tx = self.write(deployment_id, &Actor::client(client_id)).await?;
        let now = tx.now();
        sqlx::query("UPDATE oauth_client_secrets SET last_used_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(secret_id.get())
            .execute(&mut *tx)
            .await?;
        if superseded {
            tx.record(
                NewAuditEvent::new(AuditAction::ClientSupersededSecretUsed, "client_secret", secret_id)
                    .app(app_id)
                    .client(client_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
