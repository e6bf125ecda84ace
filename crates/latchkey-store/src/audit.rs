//! The append-only audit trail: events are appended inside the transaction of the change they
//! describe ([`crate::Tx::record`]), and [`Store::audit_events`] reads them back, newest
//! first, by cursor.

use latchkey_core::Id;
use latchkey_core::audit::{Actor, ActorKind, AuditEvent, AuditQuery, NewAuditEvent};
use sqlx::any::AnyArguments;
use sqlx::{Arguments, AssertSqlSafe};

use crate::row::{RowExt, to_json};
use crate::{Result, Store, StoreError, Tx, like_escape};

/// Appends an event in the caller's transaction, at the transaction's time.
pub(crate) async fn append(tx: &mut Tx, deployment_id: Id, actor: &Actor, event: NewAuditEvent) -> Result<()> {
    let at = tx.now();
    if crate::bus::invalidates(event.action) {
        tx.touch(deployment_id).await?;
    }
    sqlx::query(
        "INSERT INTO audit_events (id, deployment_id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, app_id, client_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(Id::generate().get())
    .bind(deployment_id.get())
    .bind(at.millis())
    .bind(actor.kind.as_str())
    .bind(actor.id.clone())
    .bind(actor.name.clone())
    .bind(event.action.as_str())
    .bind(event.target_type)
    .bind(event.target_id)
    .bind(event.app_id.map(Id::get))
    .bind(event.client_id)
    .bind(to_json(&event.details))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEvent> {
    let kind = row.text("actor_type")?;
    Ok(AuditEvent {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        occurred_at: row.ts("occurred_at")?,
        actor: Actor {
            kind: ActorKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("actor_type {kind:?}")))?,
            id: row.text("actor_id")?,
            name: row.opt_text("actor_name")?,
        },
        action: row.text("action")?,
        target_type: row.text("target_type")?,
        target_id: row.text("target_id")?,
        app_id: row.opt_id("app_id")?,
        client_id: row.opt_text("client_id")?,
        details: row.json("details")?,
    })
}

impl Store {
    /// One page of a deployment's events, newest first. The page is full when it holds
    /// `limit` events; the next page starts `before` the last id.
    pub async fn audit_events(&self, deployment_id: Id, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut sql = String::from("SELECT * FROM audit_events WHERE deployment_id = $1");
        let mut args = AnyArguments::default();
        let mut n = 1;
        let mut push = |sql: &mut String, clause: &str| {
            n += 1;
            sql.push_str(&clause.replace('?', &format!("${n}")));
        };
        args.add(deployment_id.get()).map_err(sqlx::Error::Encode)?;
        if let Some(action) = &q.action {
            if action.ends_with('.') {
                push(&mut sql, " AND action LIKE ? ESCAPE '\\'");
                args.add(format!("{}%", like_escape(action))).map_err(sqlx::Error::Encode)?;
            } else {
                push(&mut sql, " AND action = ?");
                args.add(action.clone()).map_err(sqlx::Error::Encode)?;
            }
        }
        if let Some(c) = &q.client_id {
            push(&mut sql, " AND client_id = ?");
            args.add(c.clone()).map_err(sqlx::Error::Encode)?;
        }
        if let Some(app) = q.app_id {
            push(&mut sql, " AND app_id = ?");
            args.add(app.get()).map_err(sqlx::Error::Encode)?;
        }
        if let Some(actor) = &q.actor {
            match actor.split_once(':') {
                Some((kind, id)) => {
                    push(&mut sql, " AND actor_type = ?");
                    args.add(kind.to_owned()).map_err(sqlx::Error::Encode)?;
                    push(&mut sql, " AND actor_id = ?");
                    args.add(id.to_owned()).map_err(sqlx::Error::Encode)?;
                }
                None => {
                    push(&mut sql, " AND actor_type = ?");
                    args.add(actor.clone()).map_err(sqlx::Error::Encode)?;
                }
            }
        }
        if let Some(t) = &q.target_id {
            push(&mut sql, " AND target_id = ?");
            args.add(t.clone()).map_err(sqlx::Error::Encode)?;
        }
        if let Some(since) = q.since {
            push(&mut sql, " AND occurred_at >= ?");
            args.add(since.millis()).map_err(sqlx::Error::Encode)?;
        }
        if let Some(until) = q.until {
            push(&mut sql, " AND occurred_at < ?");
            args.add(until.millis()).map_err(sqlx::Error::Encode)?;
        }
        if let Some(before) = q.before {
            push(&mut sql, " AND id < ?");
            args.add(before.get()).map_err(sqlx::Error::Encode)?;
        }
        push(&mut sql, " ORDER BY id DESC LIMIT ?");
        args.add(i64::from(q.limit)).map_err(sqlx::Error::Encode)?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), args).fetch_all(self.pool()).await?;
        rows.iter().map(event_from_row).collect()
    }
}

impl Store {
    /// Appends aggregated gateway events (verification failures, permission denials).
    pub async fn record_gateway_events(&self, events: Vec<(Id, NewAuditEvent)>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_unscoped().await?;
        let actor = Actor {
            kind: ActorKind::System,
            id: "gateway".into(),
            name: None,
        };
        for (deployment, ev) in events {
            tx.record_for(deployment, &actor, ev).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
