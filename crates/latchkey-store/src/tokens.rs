//! Access and refresh tokens (`oauth_tokens`) and their families (every token descending
//! from one authorization code). Refresh rotation is a conditional update on `rotated_at`;
//! reuse of a rotated token revokes the family.

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::grant::GrantedResource;
use latchkey_core::verify::{TokenKind, TokenState};
use latchkey_core::{Id, Timestamp, scope};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::row::{RowExt, opt_ts, to_json};
use crate::{Result, Store, StoreError, Tx};

/// What every token of one issuance shares.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenContext {
    pub deployment_id: Id,
    pub app_id: Id,
    pub client_record_id: Id,
    pub grant_id: Id,
    pub user_id: Id,
    pub session_id: Option<Id>,
    /// The authorization code's id: every token descending from it.
    pub family_id: Id,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
    pub granted_resource: GrantedResource,
    pub auth_time: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: Id,
    pub kind: TokenKind,
    /// `opaque` or `jwt`.
    pub format: &'static str,
    pub token_hash: String,
    pub expires_at: Timestamp,
}

/// A refresh token as the token endpoint needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRecord {
    pub id: Id,
    pub context: TokenContext,
    pub expires_at: Timestamp,
    pub revoked: bool,
    pub rotated_at: Option<Timestamp>,
    pub successor_id: Option<Id>,
    pub sealed_successor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// The code or refresh token was already used: a replay.
    Replayed,
    /// The grant, client or app behind it is no longer active.
    Inactive,
}

fn context_from_row(r: &AnyRow) -> Result<TokenContext> {
    let res = r.text("granted_resource")?;
    Ok(TokenContext {
        deployment_id: r.id("deployment_id")?,
        app_id: r.id("app_id")?,
        client_record_id: r.id("client_id")?,
        grant_id: r.id("grant_id")?,
        user_id: r.id("user_id")?,
        session_id: r.opt_id("session_id")?,
        family_id: r.id("family_id")?,
        scopes: scope::split(&r.text("scopes")?),
        resources: r.json("resources")?,
        granted_resource: res.parse().map_err(|_| StoreError::Corrupt(format!("granted resource {res:?}")))?,
        auth_time: r.opt_ts("auth_time")?,
    })
}

pub(crate) async fn insert_token(tx: &mut Tx, ctx: &TokenContext, t: &NewToken, parent: Option<Id>, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_tokens (id, kind, format, token_hash, deployment_id, app_id, client_id, grant_id, user_id, session_id, family_id, parent_id, scopes, resources, granted_resource, auth_time, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(t.id.get())
    .bind(t.kind.as_str())
    .bind(t.format)
    .bind(t.token_hash.clone())
    .bind(ctx.deployment_id.get())
    .bind(ctx.app_id.get())
    .bind(ctx.client_record_id.get())
    .bind(ctx.grant_id.get())
    .bind(ctx.user_id.get())
    .bind(ctx.session_id.map(Id::get))
    .bind(ctx.family_id.get())
    .bind(parent.map(Id::get))
    .bind(scope::join(&ctx.scopes))
    .bind(to_json(&ctx.resources))
    .bind(ctx.granted_resource.to_string())
    .bind(opt_ts(ctx.auth_time))
    .bind(now.millis())
    .bind(t.expires_at.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the grant, its client and its app are all still active.
pub(crate) async fn chain_active(tx: &mut Tx, grant_id: Id) -> Result<bool> {
    let row = sqlx::query(
        "SELECT g.status, c.is_active AS client_active, a.is_active AS app_active
         FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id JOIN oauth_apps a ON a.id = g.app_id WHERE g.id = $1",
    )
    .bind(grant_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => r.text("status")? == "active" && r.flag("client_active")? && r.flag("app_active")?,
        None => false,
    })
}

pub(crate) async fn revoke_tokens(tx: &mut Tx, column: &'static str, value: Id, reason: &str, now: Timestamp) -> Result<u64> {
    let sql = format!("UPDATE oauth_tokens SET revoked_at = $1, revoke_reason = $2 WHERE {column} = $3 AND revoked_at IS NULL");
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.millis())
        .bind(reason.to_owned())
        .bind(value.get())
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

const TOKEN_STATE: &str = "SELECT t.*, a.slug AS app_slug, a.is_active AS app_active, c.client_id AS public_client_id, c.is_active AS client_active,
        g.status AS grant_status, s.ended_at AS session_ended_at, s.expires_at AS session_expires_at, u.is_active AS user_active, u.id AS user_exists
    FROM oauth_tokens t
    JOIN oauth_apps a ON a.id = t.app_id
    JOIN oauth_clients c ON c.id = t.client_id
    JOIN oauth_grants g ON g.id = t.grant_id
    LEFT JOIN user_sessions s ON s.id = t.session_id
    LEFT JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = $1";

fn token_state_from_row(r: &AnyRow, now: Timestamp) -> Result<TokenState> {
    let ctx = context_from_row(r)?;
    let kind = r.text("kind")?;
    let session_ended = match r.opt_id("session_id")? {
        None => false,
        Some(_) => r.opt_ts("session_ended_at")?.is_some() || r.opt_ts("session_expires_at")?.is_none_or(|e| now >= e),
    };
    let user_disabled = r.opt_id("user_exists")?.is_none() || r.try_get_flag_opt("user_active")? == Some(false);
    Ok(TokenState {
        id: r.id("id")?,
        kind: TokenKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("token kind {kind:?}")))?,
        deployment_id: ctx.deployment_id,
        app_id: ctx.app_id,
        app_slug: r.text("app_slug")?,
        client_record_id: ctx.client_record_id,
        client_id: r.text("public_client_id")?,
        user_id: ctx.user_id,
        grant_id: ctx.grant_id,
        session_id: ctx.session_id,
        scopes: ctx.scopes,
        resources: ctx.resources,
        granted_resource: ctx.granted_resource,
        auth_time: ctx.auth_time,
        issued_at: r.ts("created_at")?,
        expires_at: r.ts("expires_at")?,
        revoked: r.opt_ts("revoked_at")?.is_some(),
        grant_active: r.text("grant_status")? == "active",
        client_active: r.flag("client_active")?,
        app_active: r.flag("app_active")?,
        session_ended,
        user_disabled,
    })
}

trait OptFlag {
    fn try_get_flag_opt(&self, col: &str) -> Result<Option<bool>>;
}

impl OptFlag for AnyRow {
    fn try_get_flag_opt(&self, col: &str) -> Result<Option<bool>> {
        use sqlx::Row;
        Ok(self.try_get::<Option<i64>, _>(col)?.map(|v| v != 0))
    }
}

impl Store {
    pub async fn refresh_by_hash(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        let row = sqlx::query("SELECT * FROM oauth_tokens WHERE token_hash = $1 AND kind = 'refresh'")
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(RefreshRecord {
                id: r.id("id")?,
                context: context_from_row(&r)?,
                expires_at: r.ts("expires_at")?,
                revoked: r.opt_ts("revoked_at")?.is_some(),
                rotated_at: r.opt_ts("rotated_at")?,
                successor_id: r.opt_id("successor_id")?,
                sealed_successor: r.opt_text("sealed_successor")?,
            })),
        }
    }

    /// Whether a refresh token is unused, unexpired and not revoked.
    pub async fn refresh_is_current(&self, id: Id) -> Result<bool> {
        let now = self.now();
        let row =
            sqlx::query("SELECT id FROM oauth_tokens WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2")
                .bind(id.get())
                .bind(now.millis())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.is_some())
    }

    /// Rotates `old` into `tokens` (a new refresh token first, then access tokens). The old
    /// token keeps a sealed copy of its successor when a grace period applies.
    pub async fn rotate_refresh(
        &self,
        old: &RefreshRecord,
        tokens: &[(&TokenContext, &NewToken)],
        sealed_successor: Option<String>,
        actor: &Actor,
        client_id: &str,
    ) -> Result<Result<(), ExchangeError>> {
        let successor = tokens.iter().find(|(_, t)| t.kind == TokenKind::Refresh).map(|(_, t)| t.id);
        let ctx = &old.context;
        let mut tx = self.write(ctx.deployment_id, actor).await?;
        let now = tx.now();
        let won = sqlx::query(
            "UPDATE oauth_tokens SET rotated_at = $1, successor_id = $2, sealed_successor = $3 WHERE id = $4 AND rotated_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now.millis())
        .bind(successor.map(Id::get))
        .bind(sealed_successor)
        .bind(old.id.get())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            return Ok(Err(ExchangeError::Replayed));
        }
        if !chain_active(&mut tx, ctx.grant_id).await? {
            tx.commit().await?;
            return Ok(Err(ExchangeError::Inactive));
        }
        for (c, t) in tokens {
            insert_token(&mut tx, c, t, Some(old.id), now).await?;
        }
        tx.record(
            NewAuditEvent::new(AuditAction::TokenRefreshed, "token", old.id)
                .app(ctx.app_id)
                .client(client_id)
                .details(json!({"grant_id": ctx.grant_id, "user_id": ctx.user_id, "successor": successor, "scopes": ctx.scopes})),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Issues a fresh access token beside an existing refresh token (the grace-period replay).
    pub async fn add_token(&self, ctx: &TokenContext, token: &NewToken, parent: Id) -> Result<()> {
        let mut tx = self.write_unscoped().await?;
        let now = tx.now();
        insert_token(&mut tx, ctx, token, Some(parent), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refresh token reuse: the whole family (every refresh and access token descending from
    /// the same code) is revoked and the detection audited.
    pub async fn refresh_reused(&self, old: &RefreshRecord, actor: &Actor, client_id: &str) -> Result<u64> {
        let mut tx = self.write(old.context.deployment_id, actor).await?;
        let now = tx.now();
        let revoked = revoke_tokens(&mut tx, "family_id", old.context.family_id, "refresh token reuse detected", now).await?;
        tx.record(NewAuditEvent::new(AuditAction::TokenReuseDetected, "token", old.id)
                .app(old.context.app_id)
                .client(client_id)
                .details(json!({"grant_id": old.context.grant_id, "user_id": old.context.user_id, "family_id": old.context.family_id, "tokens_revoked": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    // ----- verification and revocation -----

    /// A token with everything its validity depends on, for the verification decision.
    pub async fn token_state(&self, token_hash: &str) -> Result<Option<TokenState>> {
        let now = self.now();
        let row = sqlx::query(TOKEN_STATE).bind(token_hash).fetch_optional(self.pool()).await?;
        row.as_ref().map(|r| token_state_from_row(r, now)).transpose()
    }

    /// RFC 7009 revocation by the client that owns the token: an access token alone, or a
    /// refresh token with its family. Unknown tokens and tokens of other clients change
    /// nothing (the endpoint answers 200 either way).
    pub async fn revoke_token(&self, token_hash: &str, client_record_id: Id, actor: &Actor, client_id: &str) -> Result<bool> {
        let mut tx = self.write_unscoped().await?;
        let now = tx.now();
        let row =
            sqlx::query("SELECT id, kind, family_id, deployment_id, app_id, client_id, revoked_at FROM oauth_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(r) = row else { return Ok(false) };
        if r.id("client_id")? != client_record_id {
            return Ok(false);
        }
        tx.act_for(r.id("deployment_id")?, actor);
        let id = r.id("id")?;
        let kind = r.text("kind")?;
        let revoked = if kind == "refresh" {
            revoke_tokens(&mut tx, "family_id", r.id("family_id")?, "revoked by client", now).await?
        } else {
            revoke_tokens(&mut tx, "id", id, "revoked by client", now).await?
        };
        if revoked > 0 {
            tx.record(
                NewAuditEvent::new(AuditAction::TokenRevoked, "token", id)
                    .app(r.id("app_id")?)
                    .client(client_id)
                    .details(json!({"kind": kind, "tokens_revoked": revoked})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(revoked > 0)
    }
}
