//! Consent transactions (`consent_requests`): the checked authorization request waiting for
//! sign-in and the user's decision. Deciding and completing are conditional updates on
//! `status` whose row count says whether this caller won (single use).

use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::authorize::AuthorizationRequest;
use latchkey_core::grant::{Grant, GrantedResource};
use latchkey_core::{Id, Timestamp, scope};
use serde_json::{Value, json};
use sqlx::any::AnyRow;

use crate::codes::{CodeRecord, insert_code};
use crate::grants::{NewGrant, upsert_grant};
use crate::row::{RowExt, to_json};
use crate::sessions::{Session, insert_session};
use crate::{Result, Store, StoreError, Tx};

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

impl Store {
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

    /// Marks a decided request as completed (its answer was sent to the client). Returns
    /// false if it was already completed: single use.
    pub async fn complete_consent(&self, id: Id) -> Result<bool> {
        let mut tx = self.write_unscoped().await?;
        let done = complete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Approves a consent transaction in one transaction: claims it (see [`Approval`]),
    /// widens or creates the grant (`grant.created` / `grant.updated`), records
    /// `consent.approved`, and stores the authorization code that `code` builds for the grant
    /// (`code.issued`). `Err(AlreadyAnswered)` if the transaction was no longer pending (or
    /// approved, for [`Approval::Complete`]) or has expired; then nothing is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn approve_consent(
        &self,
        c: &ConsentRequest,
        how: Approval,
        grant: &NewGrant,
        code_hash: &str,
        code: impl FnOnce(&Grant) -> CodeRecord + Send,
        actor: &Actor,
        client_id: &str,
    ) -> Result<Result<Grant, AlreadyAnswered>> {
        let mut tx = self.write(c.deployment_id, actor).await?;
        if let Approval::Decide { session_id } = how {
            let decision = Some((grant.resource, grant.scopes.as_slice()));
            if !decide(&mut tx, c.id, Some(grant.user_id), session_id, decision).await? {
                return Ok(Err(AlreadyAnswered));
            }
        }
        if !complete(&mut tx, c.id).await? {
            return Ok(Err(AlreadyAnswered));
        }
        let g = upsert_grant(&mut tx, c.deployment_id, grant).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::ConsentApproved, "consent_request", c.id)
                .app(c.app_id)
                .client(client_id)
                .details(json!({"grant_id": g.id, "resource": grant.resource, "scopes": grant.scopes})),
        )
        .await?;
        insert_code(&mut tx, code_hash, &code(&g), client_id).await?;
        tx.commit().await?;
        Ok(Ok(g))
    }

    /// Denies a pending, unexpired consent transaction in one transaction: the decision, its
    /// completion when the answer goes to the client now, and the `consent.denied` event when
    /// the denial carries one. Returns false if it was already answered or has expired.
    pub async fn deny_consent(&self, c: &ConsentRequest, d: &Denial, actor: &Actor, client_id: &str) -> Result<bool> {
        let mut tx = self.write(c.deployment_id, actor).await?;
        if !decide(&mut tx, c.id, d.user_id, d.session_id, None).await? {
            return Ok(false);
        }
        if d.answered && !complete(&mut tx, c.id).await? {
            return Ok(false);
        }
        if let Some(details) = &d.event {
            tx.record(
                NewAuditEvent::new(AuditAction::ConsentDenied, "consent_request", c.id)
                    .app(c.app_id)
                    .client(client_id)
                    .details(details.clone()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The external consent page's acceptance, in one transaction: a session standing for the
    /// product's sign-in (`user.signed_in`, by `actor`) and the approval of `resource` and
    /// `scopes`, which `/oauth/consent/complete` turns into a grant and a code
    /// ([`Approval::Complete`]). None if the transaction was already answered or has expired;
    /// then no session is created either.
    #[allow(clippy::too_many_arguments)]
    pub async fn accept_consent(
        &self,
        c: &ConsentRequest,
        user_id: Id,
        session_hash: &str,
        session_expires_at: Timestamp,
        resource: GrantedResource,
        scopes: &[String],
        actor: &Actor,
    ) -> Result<Option<Session>> {
        let mut tx = self.write(c.deployment_id, actor).await?;
        let session = insert_session(&mut tx, c.deployment_id, user_id, session_hash, session_expires_at, Some(c.app_id)).await?;
        if !decide(&mut tx, c.id, Some(user_id), Some(session.id), Some((resource, scopes))).await? {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(session))
    }
}

/// How [`Store::approve_consent`] claims its consent transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// The hosted consent page (or remembered consent): the pending transaction is decided
    /// by the grant's user, in `session_id`, and completed at once.
    Decide { session_id: Option<Id> },
    /// `/oauth/consent/complete`: the approval recorded by [`Store::accept_consent`] is
    /// completed.
    Complete,
}

/// A denial for [`Store::deny_consent`].
#[derive(Debug, Clone, PartialEq)]
pub struct Denial {
    pub user_id: Option<Id>,
    pub session_id: Option<Id>,
    /// The answer goes to the client now (hosted page), so the transaction is completed too;
    /// false for the external reject, which `/oauth/consent/complete` completes.
    pub answered: bool,
    /// The `consent.denied` event's details; None records no event.
    pub event: Option<Value>,
}

/// The consent transaction was no longer open for this answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyAnswered;

/// Decides a pending, unexpired request: approved (with the resource and scopes) or denied.
/// False if someone else decided first or it expired: single use.
async fn decide(
    tx: &mut Tx,
    id: Id,
    user_id: Option<Id>,
    session_id: Option<Id>,
    approved: Option<(GrantedResource, &[String])>,
) -> Result<bool> {
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
    .bind(tx.now().millis())
    .bind(id.get())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a decided request as completed (its answer goes to the client). False if it was
/// already completed or has expired: single use.
async fn complete(tx: &mut Tx, id: Id) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE consent_requests SET status = 'completed', completed_at = $1 WHERE id = $2 AND status IN ('approved', 'denied') AND expires_at > $1",
    )
    .bind(tx.now().millis())
    .bind(id.get())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
