//! End-user sessions (`user_sessions`) and the sign-in audit. Ending a session ends every
//! token derived from it: token checks look at the session.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::{Id, Timestamp};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::row::RowExt;
use crate::{Result, Store, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Id,
    pub deployment_id: Id,
    pub user_id: Id,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

impl Session {
    pub fn alive(&self, now: Timestamp) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}

fn session_from_row(r: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: r.id("id")?,
        deployment_id: r.id("deployment_id")?,
        user_id: r.id("user_id")?,
        auth_time: r.ts("auth_time")?,
        created_at: r.ts("created_at")?,
        expires_at: r.ts("expires_at")?,
        ended_at: r.opt_ts("ended_at")?,
    })
}

impl Store {
    /// Starts an end-user session after a successful sign-in (audited as `user.signed_in`).
    pub async fn create_session(
        &self,
        deployment_id: Id,
        user_id: Id,
        session_hash: &str,
        expires_at: Timestamp,
        actor: &Actor,
        app_id: Option<Id>,
    ) -> Result<Session> {
        let mut tx = self.write(deployment_id, actor).await?;
        let session = insert_session(&mut tx, deployment_id, user_id, session_hash, expires_at, app_id).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Audits a failed sign-in (`user.sign_in_failed`); the password is never recorded.
    pub async fn record_sign_in_failure(&self, deployment_id: Id, app_id: Id, actor: &Actor, email: &str, reason: &str) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::UserSignInFailed, "user", &actor.id)
                .app(app_id)
                .details(json!({"email": email, "reason": reason})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_by_hash(&self, session_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM user_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub async fn session(&self, id: Id) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM user_sessions WHERE id = $1")
            .bind(id.get())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Ends a session, and with it every token derived from it. Ending an ended session
    /// changes nothing. Returns how many live tokens it ended.
    pub async fn end_session(&self, session_id: Id, reason: &str, actor: &Actor, app_id: Option<Id>) -> Result<u64> {
        let mut tx = self.write_unscoped().await?;
        let now = tx.now();
        let row = sqlx::query("SELECT * FROM user_sessions WHERE id = $1")
            .bind(session_id.get())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(0) };
        let session = session_from_row(&row)?;
        tx.act_for(session.deployment_id, actor);
        // Single use is a conditional update: of two concurrent logouts one ends the session.
        let ended = sqlx::query("UPDATE user_sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL")
            .bind(now.millis())
            .bind(reason.to_owned())
            .bind(session_id.get())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if ended != 1 {
            return Ok(0);
        }
        // Its tokens die with it: every check of a token looks at its session (reason
        // "session ended"), so they are not marked one by one.
        let affected: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_tokens WHERE session_id = $1 AND revoked_at IS NULL")
            .bind(session_id.get())
            .fetch_one(&mut *tx)
            .await?;
        let mut ev = NewAuditEvent::new(AuditAction::SessionEnded, "session", session_id)
            .details(json!({"user_id": session.user_id, "reason": reason, "tokens_ended": affected}));
        ev.app_id = app_id;
        tx.record(ev).await?;
        tx.commit().await?;
        Ok(affected.max(0) as u64)
    }
}

/// Inserts a session (and its `user.signed_in` event) in `tx`, which acts for the sign-in.
pub(crate) async fn insert_session(
    tx: &mut Tx,
    deployment_id: Id,
    user_id: Id,
    session_hash: &str,
    expires_at: Timestamp,
    app_id: Option<Id>,
) -> Result<Session> {
    let id = Id::generate();
    let now = tx.now();
    sqlx::query("INSERT INTO user_sessions (id, deployment_id, user_id, session_hash, auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)")
        .bind(id.get())
        .bind(deployment_id.get())
        .bind(user_id.get())
        .bind(session_hash.to_owned())
        .bind(now.millis())
        .bind(expires_at.millis())
        .execute(&mut **tx)
        .await?;
    let mut ev = NewAuditEvent::new(AuditAction::UserSignedIn, "session", id).details(json!({"user_id": user_id}));
    ev.app_id = app_id;
    tx.record(ev).await?;
    let row = sqlx::query("SELECT * FROM user_sessions WHERE id = $1")
        .bind(id.get())
        .fetch_one(&mut **tx)
        .await?;
    session_from_row(&row)
}
