//! Resource servers registered for an app. Identifiers are unique per app, and no alias may
//! name two servers of one app (or shadow another server's identifier).

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::resource_server::{ResourceServer, ResourceServerConfig};
use latchkey_core::{Id, Timestamp};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::apps::diff;
use crate::row::{RowExt, flag, to_json};
use crate::{Result, Store, StoreError, Tx};

fn server_from_row(row: &AnyRow) -> Result<ResourceServer> {
    Ok(ResourceServer {
        id: row.id("id")?,
        app_id: row.id("app_id")?,
        identifier: row.text("identifier")?,
        name: row.text("name")?,
        aliases: row.json("aliases")?,
        scopes: row.json("scopes")?,
        require_binding: row.flag("require_binding")?,
        credential_id: row.opt_text("credential_id")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

async fn servers_of(tx: &mut Tx, app_id: Id) -> Result<Vec<ResourceServer>> {
    let rows = sqlx::query("SELECT * FROM resource_servers WHERE app_id = $1 ORDER BY id")
        .bind(app_id.get())
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(server_from_row).collect()
}

/// Refuses a configuration whose identifier or aliases collide with another server's.
fn check_unique(config: &ResourceServerConfig, others: &[ResourceServer]) -> Result<()> {
    for o in others {
        if o.identifier == config.identifier {
            return Err(StoreError::Conflict(format!(
                "resource server {:?} already exists",
                config.identifier
            )));
        }
        for a in &config.aliases {
            if o.answers_to(a) {
                return Err(StoreError::Conflict(format!(
                    "alias {a:?} already names resource server {:?}",
                    o.identifier
                )));
            }
        }
        if config.aliases.contains(&o.identifier) || o.aliases.contains(&config.identifier) {
            return Err(StoreError::Conflict(format!(
                "{:?} already names resource server {:?}",
                config.identifier, o.identifier
            )));
        }
    }
    Ok(())
}

async fn write_server(tx: &mut Tx, id: Id, app_id: Id, c: &ResourceServerConfig, now: Timestamp, insert: bool) -> Result<()> {
    let sql = if insert {
        "INSERT INTO resource_servers (identifier, name, aliases, scopes, require_binding, updated_at, id, app_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $6)"
    } else {
        "UPDATE resource_servers SET identifier = $1, name = $2, aliases = $3, scopes = $4, require_binding = $5, updated_at = $6 WHERE id = $7 AND app_id = $8"
    };
    sqlx::query(sql)
        .bind(c.identifier.clone())
        .bind(c.name.clone())
        .bind(to_json(&c.aliases))
        .bind(to_json(&c.scopes))
        .bind(flag(c.require_binding))
        .bind(now.millis())
        .bind(id.get())
        .bind(app_id.get())
        .execute(&mut **tx)
        .await
        .map_err(StoreError::unique(|| format!("resource server {:?} already exists", c.identifier)))?;
    Ok(())
}

async fn app_id_of(tx: &mut Tx, deployment_id: Id, slug: &str) -> Result<Id> {
    sqlx::query("SELECT id FROM oauth_apps WHERE deployment_id = $1 AND slug = $2")
        .bind(deployment_id.get())
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("app"))?
        .id("id")
}

impl Store {
    pub async fn list_resource_servers(&self, deployment_id: Id, slug: &str) -> Result<Vec<ResourceServer>> {
        let app = self.app(deployment_id, slug).await?;
        self.resource_servers_of(app.id).await
    }

    pub async fn resource_servers_of(&self, app_id: Id) -> Result<Vec<ResourceServer>> {
        let rows = sqlx::query("SELECT * FROM resource_servers WHERE app_id = $1 ORDER BY id")
            .bind(app_id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(server_from_row).collect()
    }

    /// Every resource server, in any app, with this identifier.
    pub async fn resource_servers_by_identifier(&self, identifier: &str) -> Result<Vec<ResourceServer>> {
        let rows = sqlx::query("SELECT * FROM resource_servers WHERE identifier = $1 ORDER BY id")
            .bind(identifier)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(server_from_row).collect()
    }

    pub async fn resource_server(&self, deployment_id: Id, slug: &str, id: Id) -> Result<ResourceServer> {
        self.list_resource_servers(deployment_id, slug)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("resource server"))
    }

    pub async fn create_resource_server(
        &self,
        deployment_id: Id,
        slug: &str,
        config: &ResourceServerConfig,
        actor: &Actor,
    ) -> Result<ResourceServer> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let app_id = app_id_of(&mut tx, deployment_id, slug).await?;
        check_unique(config, &servers_of(&mut tx, app_id).await?)?;
        let id = Id::generate();
        write_server(&mut tx, id, app_id, config, now, true).await?;
        let server = servers_of(&mut tx, app_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("resource server"))?;
        tx.record(
            NewAuditEvent::new(AuditAction::ResourceServerCreated, "resource_server", id)
                .app(app_id)
                .details(json!({"after": server})),
        )
        .await?;
        tx.commit().await?;
        Ok(server)
    }

    /// Applies `change` to the current configuration under the write lock.
    pub async fn update_resource_server(
        &self,
        deployment_id: Id,
        slug: &str,
        id: Id,
        actor: &Actor,
        change: impl FnOnce(&ResourceServer) -> Result<ResourceServerConfig, latchkey_core::ValidationErrors>,
    ) -> Result<ResourceServer> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let app_id = app_id_of(&mut tx, deployment_id, slug).await?;
        let all = servers_of(&mut tx, app_id).await?;
        let (mine, others): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| s.id == id);
        let before = mine.into_iter().next().ok_or(StoreError::NotFound("resource server"))?;
        let config = change(&before).map_err(StoreError::Invalid)?;
        check_unique(&config, &others)?;
        write_server(&mut tx, id, app_id, &config, now, false).await?;
        let after = servers_of(&mut tx, app_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("resource server"))?;
        tx.record(
            NewAuditEvent::new(AuditAction::ResourceServerUpdated, "resource_server", id)
                .app(app_id)
                .details(diff(
                    &serde_json::to_value(&before).unwrap_or_default(),
                    &serde_json::to_value(&after).unwrap_or_default(),
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Gives a resource server a new introspection secret (the old one stops at once).
    pub async fn set_resource_server_secret(
        &self,
        deployment_id: Id,
        slug: &str,
        id: Id,
        credential_id: &str,
        secret_hash: &str,
        actor: &Actor,
    ) -> Result<ResourceServer> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let app_id = app_id_of(&mut tx, deployment_id, slug).await?;
        servers_of(&mut tx, app_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("resource server"))?;
        sqlx::query("UPDATE resource_servers SET credential_id = $1, secret_hash = $2, updated_at = $3 WHERE id = $4")
            .bind(credential_id.to_owned())
            .bind(secret_hash.to_owned())
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::ResourceServerSecretRotated, "resource_server", id)
                .app(app_id)
                .details(json!({"introspection_client_id": credential_id, "rotated_at": now})),
        )
        .await?;
        let server = servers_of(&mut tx, app_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("resource server"))?;
        tx.commit().await?;
        Ok(server)
    }

    /// A resource server of `app_id` by its introspection credential id, with its secret hash.
    pub async fn resource_server_by_credential(&self, app_id: Id, credential_id: &str) -> Result<Option<(ResourceServer, String)>> {
        let row = sqlx::query("SELECT * FROM resource_servers WHERE app_id = $1 AND credential_id = $2")
            .bind(app_id.get())
            .bind(credential_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => match r.opt_text("secret_hash")? {
                Some(h) => Ok(Some((server_from_row(&r)?, h))),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    pub async fn delete_resource_server(&self, deployment_id: Id, slug: &str, id: Id, actor: &Actor) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        let app_id = app_id_of(&mut tx, deployment_id, slug).await?;
        let before = servers_of(&mut tx, app_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("resource server"))?;
        sqlx::query("DELETE FROM resource_servers WHERE id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::ResourceServerDeleted, "resource_server", id)
                .app(app_id)
                .details(json!({"before": before})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
