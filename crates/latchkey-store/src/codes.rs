//! Authorization codes (`authorization_codes`): issued after consent, redeemed once (a
//! conditional update on `redeemed_at`); a replay revokes every token issued from the code.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::{Id, Timestamp, scope};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::row::{RowExt, flag, to_json};
use crate::tokens::{ExchangeError, NewToken, TokenContext, chain_active, insert_token, revoke_tokens};
use crate::{Result, Store, Tx};

#[derive(Debug, Clone, PartialEq)]
pub struct CodeRecord {
    pub id: Id,
    pub deployment_id: Id,
    pub app_id: Id,
    pub client_record_id: Id,
    pub grant_id: Id,
    pub user_id: Id,
    pub session_id: Option<Id>,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub code_challenge: String,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
    pub nonce: Option<String>,
    pub auth_time: Timestamp,
    pub expires_at: Timestamp,
    pub redeemed_at: Option<Timestamp>,
}

fn code_from_row(r: &AnyRow) -> Result<CodeRecord> {
    Ok(CodeRecord {
        id: r.id("id")?,
        deployment_id: r.id("deployment_id")?,
        app_id: r.id("app_id")?,
        client_record_id: r.id("client_id")?,
        grant_id: r.id("grant_id")?,
        user_id: r.id("user_id")?,
        session_id: r.opt_id("session_id")?,
        redirect_uri: r.text("redirect_uri")?,
        redirect_uri_sent: r.flag("redirect_uri_sent")?,
        code_challenge: r.text("code_challenge")?,
        scopes: scope::split(&r.text("scopes")?),
        resources: r.json("resources")?,
        nonce: r.opt_text("nonce")?,
        auth_time: r.ts("auth_time")?,
        expires_at: r.ts("expires_at")?,
        redeemed_at: r.opt_ts("redeemed_at")?,
    })
}

impl Store {
    pub async fn code_by_hash(&self, code_hash: &str) -> Result<Option<CodeRecord>> {
        let row = sqlx::query("SELECT * FROM authorization_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(code_from_row).transpose()
    }

    /// Redeems a code: marks it used and stores the tokens, in one transaction. A code that
    /// was used meanwhile is a replay; an inactive grant, client or app issues nothing.
    pub async fn redeem_code(
        &self,
        code: &CodeRecord,
        tokens: &[(&TokenContext, &NewToken)],
        actor: &Actor,
        client_id: &str,
    ) -> Result<Result<(), ExchangeError>> {
        let mut tx = self.write(code.deployment_id, actor).await?;
        let now = tx.now();
        let won = sqlx::query("UPDATE authorization_codes SET redeemed_at = $1 WHERE id = $2 AND redeemed_at IS NULL")
            .bind(now.millis())
            .bind(code.id.get())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !won {
            return Ok(Err(ExchangeError::Replayed));
        }
        if !chain_active(&mut tx, code.grant_id).await? {
            tx.commit().await?;
            return Ok(Err(ExchangeError::Inactive));
        }
        for (ctx, t) in tokens {
            insert_token(&mut tx, ctx, t, None, now).await?;
        }
        tx.record(NewAuditEvent::new(AuditAction::CodeRedeemed, "authorization_code", code.id)
                .app(code.app_id)
                .client(client_id)
                .details(json!({"grant_id": code.grant_id, "user_id": code.user_id, "tokens": tokens.iter().map(|(_, t)| json!({"id": t.id, "kind": t.kind})).collect::<Vec<_>>()})),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A redeemed code came back: every token issued from it is revoked.
    pub async fn code_replayed(&self, code: &CodeRecord, actor: &Actor, client_id: &str) -> Result<u64> {
        let mut tx = self.write(code.deployment_id, actor).await?;
        let now = tx.now();
        let revoked = revoke_tokens(&mut tx, "family_id", code.id, "authorization code replayed", now).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::CodeReplayed, "authorization_code", code.id)
                .app(code.app_id)
                .client(client_id)
                .details(json!({"grant_id": code.grant_id, "user_id": code.user_id, "tokens_revoked": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }
}

/// Stores an authorization code (and its `code.issued` event) in `tx`.
pub(crate) async fn insert_code(tx: &mut Tx, code_hash: &str, c: &CodeRecord, client_id: &str) -> Result<()> {
    let now = tx.now();
    sqlx::query(
        "INSERT INTO authorization_codes (id, code_hash, deployment_id, app_id, client_id, grant_id, user_id, session_id, redirect_uri, redirect_uri_sent, code_challenge, scopes, resources, nonce, auth_time, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(c.id.get())
    .bind(code_hash.to_owned())
    .bind(c.deployment_id.get())
    .bind(c.app_id.get())
    .bind(c.client_record_id.get())
    .bind(c.grant_id.get())
    .bind(c.user_id.get())
    .bind(c.session_id.map(Id::get))
    .bind(c.redirect_uri.clone())
    .bind(flag(c.redirect_uri_sent))
    .bind(c.code_challenge.clone())
    .bind(scope::join(&c.scopes))
    .bind(to_json(&c.resources))
    .bind(c.nonce.clone())
    .bind(c.auth_time.millis())
    .bind(now.millis())
    .bind(c.expires_at.millis())
    .execute(&mut **tx)
    .await?;
    tx.record(
        NewAuditEvent::new(AuditAction::CodeIssued, "authorization_code", c.id)
            .app(c.app_id)
            .client(client_id)
            .details(json!({"grant_id": c.grant_id, "user_id": c.user_id, "scopes": c.scopes, "resources": c.resources})),
    )
    .await?;
    Ok(())
}
