//! The OAuth runtime's records: end-user sessions, consent transactions, authorization
//! codes, access and refresh tokens, client-assertion ids. State changes that must not race
//! (single-use codes, refresh rotation, consent decisions) are conditional updates whose row
//! count says whether this caller won.

use latchkey_core::audit::{Actor, NewAuditEvent};
use latchkey_core::authorize::AuthorizationRequest;
use latchkey_core::consent::{Memberships, OrgMembership, WorkspaceMembership};
use latchkey_core::grant::GrantedResource;
use latchkey_core::verify::{TokenKind, TokenState};
use latchkey_core::{Id, Timestamp, scope};
use serde_json::json;
use sqlx::any::AnyRow;

use crate::audit::record;
use crate::row::{RowExt, flag, opt_ts, to_json};
use crate::{Result, Store, StoreError, Tx};

// ----- sessions -----

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

// ----- consent requests -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStatus {
    Pending,
    Approved,
    Denied,
    Completed,
}

impl ConsentStatus {
    fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Pending => "pending",
            ConsentStatus::Approved => "approved",
            ConsentStatus::Denied => "denied",
            ConsentStatus::Completed => "completed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ConsentStatus::Pending),
            "approved" => Some(ConsentStatus::Approved),
            "denied" => Some(ConsentStatus::Denied),
            "completed" => Some(ConsentStatus::Completed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRequest {
    pub id: Id,
    pub deployment_id: Id,
    pub app_id: Id,
    pub client_record_id: Id,
    pub request: AuthorizationRequest,
    pub browser_hash: String,
    pub status: ConsentStatus,
    pub user_id: Option<Id>,
    pub session_id: Option<Id>,
    pub granted_resource: Option<GrantedResource>,
    pub granted_scopes: Option<Vec<String>>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

fn consent_from_row(r: &AnyRow) -> Result<ConsentRequest> {
    let status = r.text("status")?;
    Ok(ConsentRequest {
        id: r.id("id")?,
        deployment_id: r.id("deployment_id")?,
        app_id: r.id("app_id")?,
        client_record_id: r.id("client_id")?,
        request: r.json("request")?,
        browser_hash: r.text("browser_hash")?,
        status: ConsentStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("consent status {status:?}")))?,
        user_id: r.opt_id("user_id")?,
        session_id: r.opt_id("session_id")?,
        granted_resource: r
            .opt_text("granted_resource")?
            .map(|s| s.parse().map_err(|_| StoreError::Corrupt(format!("granted resource {s:?}"))))
            .transpose()?,
        granted_scopes: r.opt_text("granted_scopes")?.map(|s| scope::split(&s)),
        created_at: r.ts("created_at")?,
        expires_at: r.ts("expires_at")?,
    })
}

#[derive(Debug, Clone)]
pub struct NewConsentRequest {
    pub id: Id,
    pub handoff_hash: String,
    pub deployment_id: Id,
    pub app_id: Id,
    pub client_record_id: Id,
    pub request: AuthorizationRequest,
    pub browser_hash: String,
    pub expires_at: Timestamp,
}

// ----- codes -----

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

// ----- tokens -----

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

async fn insert_token(tx: &mut Tx, ctx: &TokenContext, t: &NewToken, parent: Option<Id>, now: Timestamp) -> Result<()> {
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
async fn chain_active(tx: &mut Tx, grant_id: Id) -> Result<bool> {
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

async fn revoke_tokens(tx: &mut Tx, column: &'static str, value: Id, reason: &str, now: Timestamp) -> Result<u64> {
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
    // ----- sessions -----

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
        let now = self.now();
        let id = Id::generate();
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO user_sessions (id, deployment_id, user_id, session_hash, auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)")
            .bind(id.get())
            .bind(deployment_id.get())
            .bind(user_id.get())
            .bind(session_hash.to_owned())
            .bind(now.millis())
            .bind(expires_at.millis())
            .execute(&mut *tx)
            .await?;
        let mut ev = NewAuditEvent::new("user.signed_in", "session", id).details(json!({"user_id": user_id}));
        ev.app_id = app_id;
        record(&mut tx, deployment_id, actor, now, ev).await?;
        let row = sqlx::query("SELECT * FROM user_sessions WHERE id = $1")
            .bind(id.get())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        session_from_row(&row)
    }

    /// Audits a failed sign-in (`user.sign_in_failed`); the password is never recorded.
    pub async fn record_sign_in_failure(&self, deployment_id: Id, app_id: Id, actor: &Actor, email: &str, reason: &str) -> Result<()> {
        let now = self.now();
        let mut tx = self.write().await?;
        record(
            &mut tx,
            deployment_id,
            actor,
            now,
            NewAuditEvent::new("user.sign_in_failed", "user", &actor.id)
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
        let now = self.now();
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT * FROM user_sessions WHERE id = $1")
            .bind(session_id.get())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(0) };
        let session = session_from_row(&row)?;
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
        let mut ev = NewAuditEvent::new("session.ended", "session", session_id)
            .details(json!({"user_id": session.user_id, "reason": reason, "tokens_ended": affected}));
        ev.app_id = app_id;
        record(&mut tx, session.deployment_id, actor, now, ev).await?;
        tx.commit().await?;
        Ok(affected.max(0) as u64)
    }

    // ----- consent requests -----

    pub async fn create_consent_request(&self, new: &NewConsentRequest) -> Result<()> {
        let now = self.now();
        sqlx::query(
            "INSERT INTO consent_requests (id, handoff_hash, deployment_id, app_id, client_id, request, browser_hash, status, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)",
        )
        .bind(new.id.get())
        .bind(new.handoff_hash.clone())
        .bind(new.deployment_id.get())
        .bind(new.app_id.get())
        .bind(new.client_record_id.get())
        .bind(to_json(&new.request))
        .bind(new.browser_hash.clone())
        .bind(now.millis())
        .bind(new.expires_at.millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn consent_request_by_hash(&self, handoff_hash: &str) -> Result<Option<ConsentRequest>> {
        let row = sqlx::query("SELECT * FROM consent_requests WHERE handoff_hash = $1")
            .bind(handoff_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(consent_from_row).transpose()
    }

    /// Records who is signed in for a pending consent request.
    pub async fn attach_consent_session(&self, id: Id, user_id: Id, session_id: Id) -> Result<bool> {
        let r = sqlx::query("UPDATE consent_requests SET user_id = $1, session_id = $2 WHERE id = $3 AND status = 'pending'")
            .bind(user_id.get())
            .bind(session_id.get())
            .bind(id.get())
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Decides a pending, unexpired request: approved (with the resource and scopes) or
    /// denied. Returns false if someone else decided first or it expired: single use.
    pub async fn decide_consent(
        &self,
        id: Id,
        user_id: Option<Id>,
        session_id: Option<Id>,
        approved: Option<(GrantedResource, &[String])>,
    ) -> Result<bool> {
        let now = self.now();
        let (status, resource, scopes) = match approved {
            Some((r, s)) => (ConsentStatus::Approved, Some(r.to_string()), Some(scope::join(s))),
            None => (ConsentStatus::Denied, None, None),
        };
        let r = sqlx::query(
            "UPDATE consent_requests SET status = $1, granted_resource = $2, granted_scopes = $3, user_id = $4, session_id = $5, decided_at = $6
             WHERE id = $7 AND status = 'pending' AND expires_at > $6",
        )
        .bind(status.as_str())
        .bind(resource)
        .bind(scopes)
        .bind(user_id.map(Id::get))
        .bind(session_id.map(Id::get))
        .bind(now.millis())
        .bind(id.get())
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Marks a decided request as completed (its answer was sent to the client). Returns
    /// false if it was already completed: single use.
    pub async fn complete_consent(&self, id: Id) -> Result<bool> {
        let now = self.now();
        let r = sqlx::query("UPDATE consent_requests SET status = 'completed', completed_at = $1 WHERE id = $2 AND status IN ('approved', 'denied') AND expires_at > $1")
            .bind(now.millis())
            .bind(id.get())
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Audits a consent decision.
    pub async fn record_consent_decision(
        &self,
        c: &ConsentRequest,
        client_id: &str,
        approved: bool,
        actor: &Actor,
        details: serde_json::Value,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.write().await?;
        let action = if approved { "consent.approved" } else { "consent.denied" };
        record(
            &mut tx,
            c.deployment_id,
            actor,
            now,
            NewAuditEvent::new(action, "consent_request", c.id)
                .app(c.app_id)
                .client(client_id)
                .details(details),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- grants and memberships for consent -----

    /// The user's organizations and workspaces with names and permissions.
    pub async fn memberships_of(&self, user_id: Id) -> Result<Memberships> {
        let orgs = sqlx::query("SELECT m.id, m.group_id, m.permissions, o.name FROM organization_memberships m JOIN organizations o ON o.id = m.group_id WHERE m.user_id = $1 ORDER BY o.name, o.id")
            .bind(user_id.get())
            .fetch_all(self.pool())
            .await?;
        let wss = sqlx::query(
            "SELECT m.id, m.group_id, m.permissions, w.name, w.organization_id FROM workspace_memberships m JOIN workspaces w ON w.id = m.group_id WHERE m.user_id = $1 ORDER BY w.name, w.id",
        )
        .bind(user_id.get())
        .fetch_all(self.pool())
        .await?;
        Ok(Memberships {
            organizations: orgs
                .iter()
                .map(|r| {
                    Ok(OrgMembership {
                        membership_id: r.id("id")?,
                        organization_id: r.id("group_id")?,
                        name: r.text("name")?,
                        permissions: r.json("permissions")?,
                    })
                })
                .collect::<Result<_>>()?,
            workspaces: wss
                .iter()
                .map(|r| {
                    Ok(WorkspaceMembership {
                        membership_id: r.id("id")?,
                        workspace_id: r.id("group_id")?,
                        organization_id: r.id("organization_id")?,
                        name: r.text("name")?,
                        permissions: r.json("permissions")?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    // ----- codes -----

    pub async fn issue_code(&self, code_hash: &str, c: &CodeRecord, actor: &Actor, client_id: &str) -> Result<()> {
        let now = self.now();
        let mut tx = self.write().await?;
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
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            c.deployment_id,
            actor,
            now,
            NewAuditEvent::new("code.issued", "authorization_code", c.id)
                .app(c.app_id)
                .client(client_id)
                .details(json!({"grant_id": c.grant_id, "user_id": c.user_id, "scopes": c.scopes, "resources": c.resources})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

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
        let now = self.now();
        let mut tx = self.write().await?;
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
        record(
            &mut tx,
            code.deployment_id,
            actor,
            now,
            NewAuditEvent::new("code.redeemed", "authorization_code", code.id)
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
        let now = self.now();
        let mut tx = self.write().await?;
        let revoked = revoke_tokens(&mut tx, "family_id", code.id, "authorization code replayed", now).await?;
        record(
            &mut tx,
            code.deployment_id,
            actor,
            now,
            NewAuditEvent::new("code.replayed", "authorization_code", code.id)
                .app(code.app_id)
                .client(client_id)
                .details(json!({"grant_id": code.grant_id, "user_id": code.user_id, "tokens_revoked": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    // ----- refresh -----

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
        let now = self.now();
        let successor = tokens.iter().find(|(_, t)| t.kind == TokenKind::Refresh).map(|(_, t)| t.id);
        let ctx = &old.context;
        let mut tx = self.write().await?;
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
        record(
            &mut tx,
            ctx.deployment_id,
            actor,
            now,
            NewAuditEvent::new("token.refreshed", "token", old.id)
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
        let now = self.now();
        let mut tx = self.write().await?;
        insert_token(&mut tx, ctx, token, Some(parent), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refresh token reuse: the whole family (every refresh and access token descending from
    /// the same code) is revoked and the detection audited.
    pub async fn refresh_reused(&self, old: &RefreshRecord, actor: &Actor, client_id: &str) -> Result<u64> {
        let now = self.now();
        let mut tx = self.write().await?;
        let revoked = revoke_tokens(&mut tx, "family_id", old.context.family_id, "refresh token reuse detected", now).await?;
        record(
            &mut tx,
            old.context.deployment_id,
            actor,
            now,
            NewAuditEvent::new("token.reuse_detected", "token", old.id)
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
        let now = self.now();
        let mut tx = self.write().await?;
        let row =
            sqlx::query("SELECT id, kind, family_id, deployment_id, app_id, client_id, revoked_at FROM oauth_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(r) = row else { return Ok(false) };
        if r.id("client_id")? != client_record_id {
            return Ok(false);
        }
        let id = r.id("id")?;
        let kind = r.text("kind")?;
        let revoked = if kind == "refresh" {
            revoke_tokens(&mut tx, "family_id", r.id("family_id")?, "revoked by client", now).await?
        } else {
            revoke_tokens(&mut tx, "id", id, "revoked by client", now).await?
        };
        if revoked > 0 {
            record(
                &mut tx,
                r.id("deployment_id")?,
                actor,
                now,
                NewAuditEvent::new("token.revoked", "token", id)
                    .app(r.id("app_id")?)
                    .client(client_id)
                    .details(json!({"kind": kind, "tokens_revoked": revoked})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(revoked > 0)
    }

    /// Forgets client assertion `jti`s that have expired (their assertions are refused for
    /// their `exp` anyway); run periodically, not on the token endpoint.
    pub async fn reap_expired_assertion_jtis(&self, now: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM client_assertion_jtis WHERE expires_at < $1")
            .bind(now.millis())
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Records a client assertion's `jti`; false if it was seen before (a replay).
    pub async fn use_assertion_jti(&self, client_record_id: Id, jti: &str, expires_at: Timestamp) -> Result<bool> {
        let r = sqlx::query("INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)")
            .bind(client_record_id.get())
            .bind(jti.to_owned())
            .bind(expires_at.millis())
            .execute(self.pool())
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Records a use of a superseded client secret (inside a rotation overlap).
    pub async fn record_secret_use(&self, deployment_id: Id, app_id: Id, client_id: &str, secret_id: Id, superseded: bool) -> Result<()> {
        let now = self.now();
        let mut tx = self.write().await?;
        sqlx::query("UPDATE oauth_client_secrets SET last_used_at = $1 WHERE id = $2")
            .bind(now.millis())
            .bind(secret_id.get())
            .execute(&mut *tx)
            .await?;
        if superseded {
            record(
                &mut tx,
                deployment_id,
                &Actor::client(client_id),
                now,
                NewAuditEvent::new("client.superseded_secret_used", "client_secret", secret_id)
                    .app(app_id)
                    .client(client_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Records when grants were last used (batched by the gateway; not audited).
    pub async fn touch_grants(&self, uses: &[(Id, Timestamp)]) -> Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for (id, at) in uses {
            sqlx::query("UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(at.millis())
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Appends aggregated gateway events (verification failures, permission denials).
    pub async fn record_gateway_events(&self, events: Vec<(Id, NewAuditEvent)>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let mut tx = self.write().await?;
        let actor = Actor {
            kind: latchkey_core::audit::ActorKind::System,
            id: "gateway".into(),
            name: None,
        };
        for (deployment, ev) in events {
            record(&mut tx, deployment, &actor, now, ev).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
