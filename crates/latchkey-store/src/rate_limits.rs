//! Gateway rate limit rules of an app.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::rate_limit::{RateLimitRule, RuleConfig, RuleScope};
use latchkey_core::{Id, ValidationErrors};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::apps::diff;
use crate::row::RowExt;
use crate::{Result, Store, StoreError, Tx};

fn rule_from_row(r: &AnyRow) -> Result<RateLimitRule> {
    let scope = r.text("scope")?;
    Ok(RateLimitRule {
        id: r.id("id")?,
        app_id: r.id("app_id")?,
        name: r.text("name")?,
        scope: RuleScope::parse(&scope).ok_or_else(|| StoreError::Corrupt(format!("rule scope {scope:?}")))?,
        client_id: r.opt_id("client_id")?,
        window_seconds: r.try_get_i64("window_seconds")?,
        max_requests: r.try_get_i64("max_requests")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

trait I64 {
    fn try_get_i64(&self, col: &str) -> Result<i64>;
}

impl I64 for AnyRow {
    fn try_get_i64(&self, col: &str) -> Result<i64> {
        use sqlx::Row;
        Ok(self.try_get::<i64, _>(col)?)
    }
}

async fn app_and_client(tx: &mut Tx, deployment_id: Id, slug: &str, client: Option<&str>) -> Result<(Id, Option<Id>)> {
    let app = sqlx::query("SELECT id FROM oauth_apps WHERE deployment_id = $1 AND slug = $2")
        .bind(deployment_id.get())
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("app"))?
        .id("id")?;
    let client = match client {
        None => None,
        Some(key) => {
            let row = match key.parse::<Id>() {
                Ok(id) => {
                    sqlx::query("SELECT id FROM oauth_clients WHERE app_id = $1 AND id = $2")
                        .bind(app.get())
                        .bind(id.get())
                        .fetch_optional(&mut **tx)
                        .await?
                }
                Err(_) => {
                    sqlx::query("SELECT id FROM oauth_clients WHERE app_id = $1 AND client_id = $2")
                        .bind(app.get())
                        .bind(key.to_owned())
                        .fetch_optional(&mut **tx)
                        .await?
                }
            };
            Some(row.ok_or(StoreError::NotFound("client"))?.id("id")?)
        }
    };
    Ok((app, client))
}

async fn load(tx: &mut Tx, app: Id, id: Id) -> Result<RateLimitRule> {
    let row = sqlx::query("SELECT * FROM rate_limit_rules WHERE app_id = $1 AND id = $2")
        .bind(app.get())
        .bind(id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("rate limit rule"))?;
    rule_from_row(&row)
}

impl Store {
    pub async fn rate_limit_rules_of(&self, app_id: Id) -> Result<Vec<RateLimitRule>> {
        let rows = sqlx::query("SELECT * FROM rate_limit_rules WHERE app_id = $1 ORDER BY id")
            .bind(app_id.get())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(rule_from_row).collect()
    }

    pub async fn list_rate_limit_rules(&self, deployment_id: Id, slug: &str) -> Result<Vec<RateLimitRule>> {
        let app = self.app(deployment_id, slug).await?;
        self.rate_limit_rules_of(app.id).await
    }

    pub async fn create_rate_limit_rule(&self, deployment_id: Id, slug: &str, c: &RuleConfig, actor: &Actor) -> Result<RateLimitRule> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let (app, client) = app_and_client(&mut tx, deployment_id, slug, c.client.as_deref()).await?;
        let id = Id::generate();
        sqlx::query(
            "INSERT INTO rate_limit_rules (id, app_id, name, scope, client_id, window_seconds, max_requests, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id.get())
        .bind(app.get())
        .bind(c.name.clone())
        .bind(c.scope.as_str())
        .bind(client.map(Id::get))
        .bind(c.window_seconds)
        .bind(c.max_requests)
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(|| format!("a rule named {:?} already exists", c.name)))?;
        let rule = load(&mut tx, app, id).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::RateLimitCreated, "rate_limit_rule", id)
                .app(app)
                .details(json!({"after": rule})),
        )
        .await?;
        tx.commit().await?;
        Ok(rule)
    }

    pub async fn update_rate_limit_rule(
        &self,
        deployment_id: Id,
        slug: &str,
        id: Id,
        actor: &Actor,
        change: impl FnOnce(&RateLimitRule) -> Result<RuleConfig, ValidationErrors>,
    ) -> Result<RateLimitRule> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let (app, _) = app_and_client(&mut tx, deployment_id, slug, None).await?;
        let before = load(&mut tx, app, id).await?;
        let c = change(&before).map_err(StoreError::Invalid)?;
        let (_, client) = app_and_client(&mut tx, deployment_id, slug, c.client.as_deref()).await?;
        sqlx::query("UPDATE rate_limit_rules SET name = $1, scope = $2, client_id = $3, window_seconds = $4, max_requests = $5, updated_at = $6 WHERE id = $7")
            .bind(c.name.clone())
            .bind(c.scope.as_str())
            .bind(client.map(Id::get))
            .bind(c.window_seconds)
            .bind(c.max_requests)
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::unique(|| format!("a rule named {:?} already exists", c.name)))?;
        let after = load(&mut tx, app, id).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::RateLimitUpdated, "rate_limit_rule", id)
                .app(app)
                .details(diff(
                    &serde_json::to_value(&before).unwrap_or_default(),
                    &serde_json::to_value(&after).unwrap_or_default(),
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_rate_limit_rule(&self, deployment_id: Id, slug: &str, id: Id, actor: &Actor) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        let (app, _) = app_and_client(&mut tx, deployment_id, slug, None).await?;
        let before = load(&mut tx, app, id).await?;
        sqlx::query("DELETE FROM rate_limit_rules WHERE id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::RateLimitDeleted, "rate_limit_rule", id)
                .app(app)
                .details(json!({"before": before})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
