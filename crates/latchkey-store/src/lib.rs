//! Latchkey's persistence: one schema on SQLite (the embedded default) and PostgreSQL,
//! reached through sqlx's `Any` driver so that every query is written once.
//!
//! Each module owns one concern (apps and scopes, clients and secrets, grants, signing keys,
//! resource servers, the directory, deployments and API keys, the audit trail) and the OAuth
//! runtime's tables have one module each (sessions, consent transactions, authorization
//! codes, tokens, client-assertion `jti`s). Every
//! method that changes state takes the [`Actor`](latchkey_core::audit::Actor) responsible
//! and appends its audit event in the same transaction as the change.
//!
//! Portability rules: ids and timestamps are `BIGINT`, flags `SMALLINT` 0/1, structured
//! values JSON in `TEXT`, placeholders `$1…` (both engines accept them), and no
//! engine-specific SQL outside [`Dialect`].
//!
//! Nothing here hashes or encrypts: callers hand in hashes and sealed values, so the store
//! never sees a plaintext secret.

pub mod apps;
pub mod assertions;
pub mod audit;
pub mod bus;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod deployments;
pub mod directory;
pub mod grants;
pub mod keys;
pub mod rate_limits;
pub mod registration;
pub mod resource_servers;
mod row;
pub mod sessions;
pub mod tokens;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use latchkey_core::audit::Actor;
use latchkey_core::{Clock, Timestamp, ValidationErrors};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, SqlStr, Transaction};

pub use apps::AppSummary;
pub use clients::{NewSecret, SecretCheck};
pub use keys::NewSigningKey;

/// A write transaction. Derefs to the connection, so queries run on it as on a sqlx
/// transaction; [`Tx::commit`] commits and then tells caches which deployments changed.
///
/// It carries what every audit event of the change shares: the time the transaction began
/// ([`Tx::now`], from the store's clock), and the deployment and actor it acts for, given
/// when it begins ([`Store::write`]) or, when the deployment is only known from a row read
/// inside it, right after that read ([`Tx::act_for`]). [`Tx::record`] appends an event with
/// that context, so an event and its change commit together.
pub struct Tx {
    inner: Transaction<'static, Any>,
    bus: Arc<bus::Bus>,
    dialect: Dialect,
    touched: Vec<latchkey_core::Id>,
    now: Timestamp,
    context: Option<(latchkey_core::Id, Actor)>,
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl Tx {
    /// When the transaction began: the time of every change and event in it.
    pub(crate) fn now(&self) -> Timestamp {
        self.now
    }

    /// Sets the deployment and actor of the events recorded from here on, for a transaction
    /// begun with [`Store::write_unscoped`] once it has read which deployment it changes.
    pub(crate) fn act_for(&mut self, deployment_id: latchkey_core::Id, actor: &Actor) {
        self.context = Some((deployment_id, actor.clone()));
    }

    /// The actor this transaction acts for (`created_by` / `revoked_by` columns).
    pub(crate) fn actor(&self) -> Result<&Actor> {
        self.context.as_ref().map(|(_, a)| a).ok_or(StoreError::NoContext)
    }

    /// Appends `event` for this transaction's deployment and actor, at [`Tx::now`].
    pub(crate) async fn record(&mut self, event: latchkey_core::audit::NewAuditEvent) -> Result<()> {
        let (deployment_id, actor) = self.context.clone().ok_or(StoreError::NoContext)?;
        audit::append(self, deployment_id, &actor, event).await
    }

    /// Appends `event` for another deployment or actor than the transaction's: only for the
    /// transactions that record events of several (the registration reaper, the gateway's
    /// batched denials).
    pub(crate) async fn record_for(
        &mut self,
        deployment_id: latchkey_core::Id,
        actor: &Actor,
        event: latchkey_core::audit::NewAuditEvent,
    ) -> Result<()> {
        audit::append(self, deployment_id, actor, event).await
    }

    /// Records that this transaction changes `deployment` (on PostgreSQL, also notifies the
    /// other replicas, on commit).
    pub(crate) async fn touch(&mut self, deployment: latchkey_core::Id) -> Result<()> {
        if self.touched.contains(&deployment) {
            return Ok(());
        }
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(bus::CHANNEL)
                .bind(deployment.to_string())
                .execute(&mut *self.inner)
                .await?;
        }
        self.touched.push(deployment);
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        for d in &self.touched {
            self.bus.changed(*d);
        }
        Ok(())
    }
}

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The statement that opens a write transaction. SQLite takes the write lock up front
    /// so that a read-then-write transaction cannot fail halfway on a lock upgrade.
    fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Row lock for read-modify-write on PostgreSQL; SQLite's write lock already covers it.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("unsupported database URL: use sqlite:… or postgres://…")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    /// A bug: an audit event recorded in a transaction that was not told whom it acts for.
    #[error("audit event recorded without a deployment and actor")]
    NoContext,
}

impl StoreError {
    /// Maps a unique-constraint violation to a conflict with `message`, anything else to a
    /// database error.
    pub(crate) fn unique(message: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    clock: Arc<dyn Clock>,
    bus: Arc<bus::Bus>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dialect", &self.dialect).finish()
    }
}

static MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "runtime", include_str!("../migrations/0002_runtime.sql")),
    (
        3,
        "resource_server_credentials",
        include_str!("../migrations/0003_resource_server_credentials.sql"),
    ),
    (4, "rate_limits", include_str!("../migrations/0004_rate_limits.sql")),
    (
        5,
        "dynamic_registration",
        include_str!("../migrations/0005_dynamic_registration.sql"),
    ),
];

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url).ok_or(StoreError::UnsupportedUrl)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        if dialect == Dialect::Sqlite {
            // WAL lets readers proceed while one connection writes; the setting is stored in
            // the database file. FULL sync (the default) keeps every acknowledged commit.
            sqlx::query("PRAGMA journal_mode=WAL").execute(&pool).await?;
        }
        let bus = bus::Bus::new();
        if dialect == Dialect::Postgres {
            listen(url, &bus).await?;
        }
        Ok(Store { pool, dialect, clock, bus })
    }

    /// Applies pending migrations. Safe to run from several replicas at once on PostgreSQL
    /// (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> Result<()> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, name, sql)| Migration::new(*version, (*name).into(), MigrationType::Simple, SqlStr::from_static(sql), false))
            .collect::<Vec<_>>();
        let migrator = Migrator {
            migrations: migrations.into(),
            ..Migrator::DEFAULT
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction for `actor` acting in `deployment_id`: the events it
    /// records carry both (see [`Tx`]).
    pub(crate) async fn write(&self, deployment_id: latchkey_core::Id, actor: &Actor) -> Result<Tx> {
        let mut tx = self.write_unscoped().await?;
        tx.act_for(deployment_id, actor);
        Ok(tx)
    }

    /// Begins a write transaction that records no event yet: either none at all, or its
    /// deployment is read inside it and set with [`Tx::act_for`].
    pub(crate) async fn write_unscoped(&self) -> Result<Tx> {
        let inner = self.pool.begin_with(self.dialect.begin_write()).await?;
        Ok(Tx {
            inner,
            bus: self.bus.clone(),
            dialect: self.dialect,
            touched: Vec::new(),
            now: self.now(),
            context: None,
        })
    }

    /// Change generations, for caches of anything a token's validity depends on.
    pub fn bus(&self) -> &Arc<bus::Bus> {
        &self.bus
    }
}

/// Listens for other replicas' changes on PostgreSQL. The listener reconnects by itself; any
/// gap (a reconnect) may have lost notifications, so everything is considered changed.
async fn listen(url: &str, bus: &Arc<bus::Bus>) -> Result<()> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(bus::CHANNEL).await?;
    // The task ends with the store: it holds the bus only weakly.
    let bus = Arc::downgrade(bus);
    tokio::spawn(async move {
        loop {
            let received = listener.try_recv().await;
            let Some(bus) = bus.upgrade() else { break };
            match received {
                Ok(Some(n)) => match n.payload().parse::<latchkey_core::Id>() {
                    Ok(d) => bus.changed(d),
                    Err(_) => bus.changed_all(),
                },
                // The connection dropped and will be re-established on the next call.
                Ok(None) => bus.changed_all(),
                Err(e) => {
                    tracing::warn!(error = %e, "change listener failed; retrying");
                    bus.changed_all();
                    drop(bus);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    /// Every file in migrations/ is applied, in order, exactly once.
    #[test]
    fn every_migration_file_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files.len(), super::MIGRATIONS.len(), "{files:?}");
        for (i, (version, name, _)) in super::MIGRATIONS.iter().enumerate() {
            assert_eq!(*version, i as i64 + 1);
            assert_eq!(files[i], format!("{version:04}_{name}.sql"));
        }
    }
}
