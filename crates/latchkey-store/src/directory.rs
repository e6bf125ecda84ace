//! The built-in directory: users, organizations, workspaces and memberships.

use latchkey_core::Id;
use latchkey_core::audit::{Actor, AuditAction, NewAuditEvent};
use latchkey_core::consent::{Memberships, OrgMembership, WorkspaceMembership};
use latchkey_core::directory::{Membership, MembershipKind, Organization, User, UserChange, Workspace};
use latchkey_core::grant::GrantedResource;
use serde_json::json;
use sqlx::any::AnyRow;

use crate::apps::diff;
use crate::grants::{GrantFilter, revoke_grants_where};
use crate::row::{RowExt, flag, to_json};
use crate::{Result, Store, StoreError, Tx};

fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        email: row.text("email")?,
        email_verified: row.flag("email_verified")?,
        name: row.opt_text("name")?,
        given_name: row.opt_text("given_name")?,
        family_name: row.opt_text("family_name")?,
        is_active: row.flag("is_active")?,
        has_password: row.opt_text("password_hash")?.is_some(),
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn org_from_row(row: &AnyRow) -> Result<Organization> {
    Ok(Organization {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        name: row.text("name")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn workspace_from_row(row: &AnyRow) -> Result<Workspace> {
    Ok(Workspace {
        id: row.id("id")?,
        deployment_id: row.id("deployment_id")?,
        organization_id: row.id("organization_id")?,
        name: row.text("name")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn membership_from_row(kind: MembershipKind, row: &AnyRow) -> Result<Membership> {
    Ok(Membership {
        id: row.id("id")?,
        kind,
        group_id: row.id("group_id")?,
        user_id: row.id("user_id")?,
        permissions: row.json("permissions")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

fn membership_table(kind: MembershipKind) -> &'static str {
    match kind {
        MembershipKind::Organization => "organization_memberships",
        MembershipKind::Workspace => "workspace_memberships",
    }
}

fn group_table(kind: MembershipKind) -> &'static str {
    match kind {
        MembershipKind::Organization => "organizations",
        MembershipKind::Workspace => "workspaces",
    }
}

fn json_of<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// A page of a listing: newest first, ids below `before`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub before: Option<Id>,
    pub limit: u32,
}

impl Page {
    fn before(self) -> i64 {
        self.before.map(Id::get).unwrap_or(i64::MAX)
    }
}

async fn ensure_user(tx: &mut Tx, deployment_id: Id, user_id: Id) -> Result<()> {
    sqlx::query("SELECT id FROM users WHERE id = $1 AND deployment_id = $2")
        .bind(user_id.get())
        .bind(deployment_id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    Ok(())
}

impl Store {
    // ----- users -----

    pub async fn create_user(&self, deployment_id: Id, change: &UserChange, actor: &Actor) -> Result<User> {
        let id = Id::generate();
        let p = &change.profile;
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query(
            "INSERT INTO users (id, deployment_id, email, email_verified, name, given_name, family_name, password_hash, is_active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id.get())
        .bind(deployment_id.get())
        .bind(p.email.clone())
        .bind(flag(p.email_verified))
        .bind(p.name.clone())
        .bind(p.given_name.clone())
        .bind(p.family_name.clone())
        .bind(change.password_hash.clone())
        .bind(flag(p.is_active))
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(|| format!("a user with email {:?} already exists", p.email)))?;
        let user = load_user(&mut tx, id).await?;
        tx.record(NewAuditEvent::new(AuditAction::UserCreated, "user", id).details(json!({"after": user})))
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, deployment_id: Id, id: Id) -> Result<User> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1 AND deployment_id = $2")
            .bind(id.get())
            .bind(deployment_id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        user_from_row(&row)
    }

    /// A user and their password hash, by email (for sign-in).
    pub async fn user_credentials(&self, deployment_id: Id, email: &str) -> Result<Option<(User, Option<String>)>> {
        let row = sqlx::query("SELECT * FROM users WHERE deployment_id = $1 AND email = $2")
            .bind(deployment_id.get())
            .bind(email)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some((user_from_row(&r)?, r.opt_text("password_hash")?))),
            None => Ok(None),
        }
    }

    pub async fn list_users(&self, deployment_id: Id, email: Option<&str>, page: Page) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT * FROM users WHERE deployment_id = $1 AND ($2 = '' OR email = $2) AND id < $3 ORDER BY id DESC LIMIT $4")
                .bind(deployment_id.get())
                .bind(email.unwrap_or("").to_owned())
                .bind(page.before())
                .bind(i64::from(page.limit))
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn update_user(
        &self,
        deployment_id: Id,
        id: Id,
        actor: &Actor,
        change: impl FnOnce(&User) -> Result<UserChange, latchkey_core::ValidationErrors>,
    ) -> Result<User> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        ensure_user(&mut tx, deployment_id, id).await?;
        let before = load_user(&mut tx, id).await?;
        let ch = change(&before).map_err(StoreError::Invalid)?;
        let p = &ch.profile;
        sqlx::query(
            "UPDATE users SET email = $1, email_verified = $2, name = $3, given_name = $4, family_name = $5, is_active = $6,
             password_hash = COALESCE($7, password_hash), updated_at = $8 WHERE id = $9",
        )
        .bind(p.email.clone())
        .bind(flag(p.email_verified))
        .bind(p.name.clone())
        .bind(p.given_name.clone())
        .bind(p.family_name.clone())
        .bind(flag(p.is_active))
        .bind(ch.password_hash.clone())
        .bind(now.millis())
        .bind(id.get())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(|| format!("a user with email {:?} already exists", p.email)))?;
        let after = load_user(&mut tx, id).await?;
        let mut details = diff(&json_of(&before), &json_of(&after));
        if ch.password_hash.is_some()
            && let Some(o) = details.as_object_mut()
        {
            o.insert("password_changed".into(), true.into());
        }
        tx.record(NewAuditEvent::new(AuditAction::UserUpdated, "user", id).details(details))
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a user: their memberships go, their grants are revoked.
    pub async fn delete_user(&self, deployment_id: Id, id: Id, actor: &Actor) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        ensure_user(&mut tx, deployment_id, id).await?;
        let before = load_user(&mut tx, id).await?;
        let revoked = revoke_grants_where(&mut tx, deployment_id, GrantFilter::User(id), "user deleted").await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(NewAuditEvent::new(AuditAction::UserDeleted, "user", id).details(json!({"before": before, "grants_revoked": revoked})))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- organizations and workspaces -----

    pub async fn create_organization(&self, deployment_id: Id, name: &str, actor: &Actor) -> Result<Organization> {
        let id = Id::generate();
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        sqlx::query("INSERT INTO organizations (id, deployment_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id.get())
            .bind(deployment_id.get())
            .bind(name.to_owned())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        let org = load_org(&mut tx, deployment_id, id).await?;
        tx.record(NewAuditEvent::new(AuditAction::OrganizationCreated, "organization", id).details(json!({"after": org})))
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn organization(&self, deployment_id: Id, id: Id) -> Result<Organization> {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1 AND deployment_id = $2")
            .bind(id.get())
            .bind(deployment_id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("organization"))?;
        org_from_row(&row)
    }

    pub async fn list_organizations(&self, deployment_id: Id, page: Page) -> Result<Vec<Organization>> {
        let rows = sqlx::query("SELECT * FROM organizations WHERE deployment_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")
            .bind(deployment_id.get())
            .bind(page.before())
            .bind(i64::from(page.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    pub async fn rename_organization(&self, deployment_id: Id, id: Id, name: &str, actor: &Actor) -> Result<Organization> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let before = load_org(&mut tx, deployment_id, id).await?;
        sqlx::query("UPDATE organizations SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name.to_owned())
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        let after = load_org(&mut tx, deployment_id, id).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::OrganizationUpdated, "organization", id).details(diff(&json_of(&before), &json_of(&after))),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an organization with its workspaces and memberships; grants on the
    /// organization or any of its workspaces are revoked.
    pub async fn delete_organization(&self, deployment_id: Id, id: Id, actor: &Actor) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        let before = load_org(&mut tx, deployment_id, id).await?;
        let workspaces = sqlx::query("SELECT id FROM workspaces WHERE organization_id = $1")
            .bind(id.get())
            .fetch_all(&mut *tx)
            .await?;
        let mut revoked = 0;
        for w in &workspaces {
            let wid = w.id("id")?;
            revoked += revoke_resource_grants(&mut tx, deployment_id, GrantedResource::Workspace(wid), "workspace deleted").await?;
            sqlx::query("DELETE FROM workspace_memberships WHERE group_id = $1")
                .bind(wid.get())
                .execute(&mut *tx)
                .await?;
        }
        revoked += revoke_resource_grants(&mut tx, deployment_id, GrantedResource::Organization(id), "organization deleted").await?;
        sqlx::query("DELETE FROM workspaces WHERE organization_id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM organization_memberships WHERE group_id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::OrganizationDeleted, "organization", id)
                .details(json!({"before": before, "workspaces_deleted": workspaces.len(), "grants_revoked": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_workspace(&self, deployment_id: Id, organization_id: Id, name: &str, actor: &Actor) -> Result<Workspace> {
        let id = Id::generate();
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        load_org(&mut tx, deployment_id, organization_id).await?;
        sqlx::query(
            "INSERT INTO workspaces (id, deployment_id, organization_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id.get())
        .bind(deployment_id.get())
        .bind(organization_id.get())
        .bind(name.to_owned())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let ws = load_workspace(&mut tx, deployment_id, id).await?;
        tx.record(NewAuditEvent::new(AuditAction::WorkspaceCreated, "workspace", id).details(json!({"after": ws})))
            .await?;
        tx.commit().await?;
        Ok(ws)
    }

    pub async fn workspace(&self, deployment_id: Id, id: Id) -> Result<Workspace> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1 AND deployment_id = $2")
            .bind(id.get())
            .bind(deployment_id.get())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("workspace"))?;
        workspace_from_row(&row)
    }

    pub async fn list_workspaces(&self, deployment_id: Id, organization_id: Option<Id>, page: Page) -> Result<Vec<Workspace>> {
        let rows = sqlx::query(
            "SELECT * FROM workspaces WHERE deployment_id = $1 AND ($2 = 0 OR organization_id = $2) AND id < $3 ORDER BY id DESC LIMIT $4",
        )
        .bind(deployment_id.get())
        .bind(organization_id.map(Id::get).unwrap_or(0))
        .bind(page.before())
        .bind(i64::from(page.limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(workspace_from_row).collect()
    }

    pub async fn rename_workspace(&self, deployment_id: Id, id: Id, name: &str, actor: &Actor) -> Result<Workspace> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        let before = load_workspace(&mut tx, deployment_id, id).await?;
        sqlx::query("UPDATE workspaces SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name.to_owned())
            .bind(now.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        let after = load_workspace(&mut tx, deployment_id, id).await?;
        tx.record(NewAuditEvent::new(AuditAction::WorkspaceUpdated, "workspace", id).details(diff(&json_of(&before), &json_of(&after))))
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_workspace(&self, deployment_id: Id, id: Id, actor: &Actor) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        let before = load_workspace(&mut tx, deployment_id, id).await?;
        let revoked = revoke_resource_grants(&mut tx, deployment_id, GrantedResource::Workspace(id), "workspace deleted").await?;
        sqlx::query("DELETE FROM workspace_memberships WHERE group_id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM workspaces WHERE id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        tx.record(
            NewAuditEvent::new(AuditAction::WorkspaceDeleted, "workspace", id)
                .details(json!({"before": before, "grants_revoked": revoked})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- memberships -----

    /// Adds a user to an organization or workspace. A workspace member must already be a
    /// member of the workspace's organization.
    pub async fn add_membership(
        &self,
        deployment_id: Id,
        kind: MembershipKind,
        group_id: Id,
        user_id: Id,
        permissions: &[String],
        actor: &Actor,
    ) -> Result<Membership> {
        let id = Id::generate();
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        ensure_group(&mut tx, deployment_id, kind, group_id).await?;
        ensure_user(&mut tx, deployment_id, user_id).await?;
        if kind == MembershipKind::Workspace {
            let in_org = sqlx::query(
                "SELECT m.id FROM organization_memberships m JOIN workspaces w ON w.organization_id = m.group_id WHERE w.id = $1 AND m.user_id = $2",
            )
            .bind(group_id.get())
            .bind(user_id.get())
            .fetch_optional(&mut *tx)
            .await?;
            if in_org.is_none() {
                return Err(StoreError::Conflict(
                    "the user is not a member of the workspace's organization: add them to the organization first".into(),
                ));
            }
        }
        let sql = format!(
            "INSERT INTO {} (id, group_id, user_id, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            membership_table(kind)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.get())
            .bind(group_id.get())
            .bind(user_id.get())
            .bind(to_json(&permissions))
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::unique(|| {
                format!("the user is already a member of this {}", kind.as_str())
            }))?;
        let m = load_membership(&mut tx, kind, group_id, user_id).await?;
        tx.record(NewAuditEvent::new(AuditAction::MembershipCreated, "membership", id).details(json!({"after": m})))
            .await?;
        tx.commit().await?;
        Ok(m)
    }

    pub async fn list_memberships(&self, deployment_id: Id, kind: MembershipKind, group_id: Id) -> Result<Vec<Membership>> {
        let mut tx = self.pool().begin().await?;
        ensure_group(&mut tx, deployment_id, kind, group_id).await?;
        let sql = format!("SELECT * FROM {} WHERE group_id = $1 ORDER BY id", membership_table(kind));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(group_id.get())
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(|r| membership_from_row(kind, r)).collect()
    }

    /// A user's memberships of both kinds.
    pub async fn user_memberships(&self, deployment_id: Id, user_id: Id) -> Result<Vec<Membership>> {
        self.user(deployment_id, user_id).await?;
        let mut out = Vec::new();
        for kind in [MembershipKind::Organization, MembershipKind::Workspace] {
            let sql = format!("SELECT * FROM {} WHERE user_id = $1 ORDER BY id", membership_table(kind));
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user_id.get())
                .fetch_all(self.pool())
                .await?;
            for r in &rows {
                out.push(membership_from_row(kind, r)?);
            }
        }
        Ok(out)
    }

    pub async fn set_membership_permissions(
        &self,
        deployment_id: Id,
        kind: MembershipKind,
        group_id: Id,
        user_id: Id,
        permissions: &[String],
        actor: &Actor,
    ) -> Result<Membership> {
        let mut tx = self.write(deployment_id, actor).await?;
        let now = tx.now();
        ensure_group(&mut tx, deployment_id, kind, group_id).await?;
        let before = load_membership(&mut tx, kind, group_id, user_id).await?;
        let sql = format!(
            "UPDATE {} SET permissions = $1, updated_at = $2 WHERE id = $3",
            membership_table(kind)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to_json(&permissions))
            .bind(now.millis())
            .bind(before.id.get())
            .execute(&mut *tx)
            .await?;
        let after = load_membership(&mut tx, kind, group_id, user_id).await?;
        tx.record(
            NewAuditEvent::new(AuditAction::MembershipUpdated, "membership", before.id).details(diff(&json_of(&before), &json_of(&after))),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a membership. Leaving an organization also leaves its workspaces.
    pub async fn remove_membership(&self, deployment_id: Id, kind: MembershipKind, group_id: Id, user_id: Id, actor: &Actor) -> Result<()> {
        let mut tx = self.write(deployment_id, actor).await?;
        ensure_group(&mut tx, deployment_id, kind, group_id).await?;
        let before = load_membership(&mut tx, kind, group_id, user_id).await?;
        let sql = format!("DELETE FROM {} WHERE id = $1", membership_table(kind));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(before.id.get())
            .execute(&mut *tx)
            .await?;
        let mut cascaded = 0;
        if kind == MembershipKind::Organization {
            cascaded = sqlx::query("DELETE FROM workspace_memberships WHERE user_id = $1 AND group_id IN (SELECT id FROM workspaces WHERE organization_id = $2)")
                .bind(user_id.get())
                .bind(group_id.get())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.record(
            NewAuditEvent::new(AuditAction::MembershipDeleted, "membership", before.id)
                .details(json!({"before": before, "workspace_memberships_removed": cascaded})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn revoke_resource_grants(tx: &mut Tx, deployment_id: Id, resource: GrantedResource, reason: &str) -> Result<usize> {
    revoke_grants_where(tx, deployment_id, GrantFilter::Resource(resource), reason).await
}

async fn ensure_group(tx: &mut sqlx::AnyConnection, deployment_id: Id, kind: MembershipKind, group_id: Id) -> Result<()> {
    let sql = format!("SELECT id FROM {} WHERE id = $1 AND deployment_id = $2", group_table(kind));
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(group_id.get())
        .bind(deployment_id.get())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound(kind.as_str()))?;
    Ok(())
}

async fn load_user(tx: &mut Tx, id: Id) -> Result<User> {
    let row = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(id.get())
        .fetch_one(&mut **tx)
        .await?;
    user_from_row(&row)
}

async fn load_org(tx: &mut Tx, deployment_id: Id, id: Id) -> Result<Organization> {
    let row = sqlx::query("SELECT * FROM organizations WHERE id = $1 AND deployment_id = $2")
        .bind(id.get())
        .bind(deployment_id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("organization"))?;
    org_from_row(&row)
}

async fn load_workspace(tx: &mut Tx, deployment_id: Id, id: Id) -> Result<Workspace> {
    let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1 AND deployment_id = $2")
        .bind(id.get())
        .bind(deployment_id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("workspace"))?;
    workspace_from_row(&row)
}

async fn load_membership(tx: &mut Tx, kind: MembershipKind, group_id: Id, user_id: Id) -> Result<Membership> {
    let sql = format!("SELECT * FROM {} WHERE group_id = $1 AND user_id = $2", membership_table(kind));
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(group_id.get())
        .bind(user_id.get())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("membership"))?;
    membership_from_row(kind, &row)
}

impl Store {
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
}
