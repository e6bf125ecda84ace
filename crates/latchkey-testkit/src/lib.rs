//! Test support for Latchkey's integration tests, shared by the server, the SDK
//! (`latchkey-client`) and the middleware (`latchkey-axum`) as a dev-dependency; not published.
//!
//! - [`TestServer`] starts the real server in-process on an ephemeral port with a fresh
//!   database — a temporary SQLite file, or, when `LATCHKEY_TEST_DATABASE_URL` is set, a new
//!   PostgreSQL database created for the test and dropped afterwards — and drives it over HTTP.
//! - [`browser`] is a scripted browser that keeps cookies and submits the hosted sign-in and
//!   consent forms.
//! - [`oauth`] sets up an app, a client and a user and runs the authorization-code flow.
//! - [`resource`] adds a registered resource server and real access tokens for it, for the
//!   SDK's and the middleware's tests.
//! - [`external`] runs the third-party clients under `compat/` ([`compat_dir`]), skipping a
//!   test whose prerequisites are missing unless `LATCHKEY_REQUIRE_COMPAT=1`.
//!
//! What needs the `latchkey` executable (`CARGO_BIN_EXE_latchkey`, which Cargo sets only for
//! the server's own integration tests) stays in the server's tests.

pub mod browser;
pub mod external;
pub mod oauth;
pub mod resource;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use latchkey_core::crypto::MasterKey;
use latchkey_core::{Clock, ManualClock, Secret};
use latchkey_server::AppState;
use latchkey_server::config::Settings;
use latchkey_server::services::dns::StaticResolver;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection;

/// Set to a PostgreSQL URL to run the servers on PostgreSQL (see [`fresh_database`]).
pub const TEST_DB_ENV: &str = "LATCHKEY_TEST_DATABASE_URL";

/// The workspace's root directory (where `Cargo.lock` and `compat/` are).
pub fn workspace_root() -> &'static Path {
    // This crate is `crates/latchkey-testkit` in the workspace.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("latchkey-testkit lives two levels below the workspace root")
}

/// `compat/{name}` in the workspace: the third-party clients the compatibility tests run.
pub fn compat_dir(name: &str) -> PathBuf {
    workspace_root().join("compat").join(name)
}

/// The real server, in-process on an ephemeral port with its own database; stops serving
/// when dropped.
pub struct TestServer {
    pub base: String,
    pub api_key: String,
    pub state: AppState,
    pub clock: ManualClock,
    /// The server's DNS: nothing resolves until the test says what (`dns.set_ips`, `set_txt`).
    pub dns: StaticResolver,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    /// Held only to be dropped with the server: dropping it drops the PostgreSQL database.
    _pg: Option<PgDatabase>,
    task: tokio::task::JoinHandle<()>,
}

/// A throwaway PostgreSQL database.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; use a separate thread and runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    sqlx::any::install_default_drivers();
                    if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                    }
                });
            }
        })
        .join();
    }
}

/// The database URL a new test server should use, creating a PostgreSQL database if the
/// environment asks for PostgreSQL.
pub async fn fresh_database(dir: &std::path::Path) -> (String, Option<PgDatabase>) {
    match std::env::var(TEST_DB_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => {
            sqlx::any::install_default_drivers();
            let name = format!("latchkey_test_{}", latchkey_core::Id::generate());
            let mut c = sqlx::AnyConnection::connect(&admin_url)
                .await
                .expect("connect to LATCHKEY_TEST_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut c)
                .await
                .expect("create test database");
            let mut url = url::Url::parse(&admin_url).expect("LATCHKEY_TEST_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            (url.to_string(), Some(PgDatabase { admin_url, name }))
        }
        _ => (format!("sqlite://{}?mode=rwc", dir.join("latchkey.db").display()), None),
    }
}

/// The database backend the test servers run on: `"postgres"` or `"sqlite"`.
pub fn backend() -> &'static str {
    if std::env::var(TEST_DB_ENV).is_ok_and(|v| !v.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_configured(|_| {}).await
    }

    /// [`TestServer::start`] with settings changed by `configure` first (a trusted proxy, a
    /// short timeout…).
    pub async fn start_configured(configure: impl FnOnce(&mut Settings)) -> TestServer {
        // Server logs go to the test's captured output (shown when it fails).
        let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = fresh_database(dir.path()).await;
        Self::start_with(dir, database_url, pg, MasterKey::generate(), configure).await
    }

    /// A second replica on this server's database (same master key), as another process of
    /// the same deployment would be.
    pub async fn replica(&self) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = self.state.settings.clone();
        // The same configuration, on its own address.
        let mut t = Self::start_with(dir, self.database_url.clone(), None, settings.master_key.clone(), |s| {
            let own = (s.listen, s.public_url.clone(), s.data_dir.clone());
            *s = (*settings).clone();
            (s.listen, s.public_url, s.data_dir) = own;
        })
        .await;
        t.api_key = self.api_key.clone();
        t
    }

    async fn start_with(
        dir: tempfile::TempDir,
        database_url: String,
        pg: Option<PgDatabase>,
        master_key: MasterKey,
        configure: impl FnOnce(&mut Settings),
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let api_key = format!(
            "lk_api_{}",
            latchkey_core::crypto::b64url(&latchkey_core::crypto::random_bytes::<32>())
        );
        let mut settings = Settings::new(addr, dir.path().to_path_buf(), database_url.clone(), master_key);
        settings.bootstrap_api_key = Some(Secret::new(api_key.clone()));
        settings.cname_target = "localhost".into();
        configure(&mut settings);
        let clock = ManualClock::starting_now();
        let dns = StaticResolver::default();
        let server = latchkey_server::build_with_dns(settings, Arc::new(clock.clone()) as Arc<dyn Clock>, Arc::new(dns.clone()))
            .await
            .expect("server builds");
        let router = server.router;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        TestServer {
            base: format!("http://{addr}"),
            api_key,
            state: server.state,
            clock,
            dns,
            http: reqwest::Client::new(),
            dir,
            database_url,
            _pg: pg,
            task,
        }
    }

    /// Sends a request with the server's API key; returns the status and the JSON body
    /// (`Value::Null` when the body is empty or not JSON).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(&self.api_key, method, path, body).await
    }

    pub async fn call_as(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path)).bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::POST, path, None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an app with scopes `read`, `write` and `mcp:invoke`; returns its JSON.
    pub async fn create_app(&self, slug: &str) -> Value {
        let (status, app) = self
            .post(
                "/oauth/apps",
                serde_json::json!({"slug": slug, "name": format!("App {slug}"), "supported_scopes": ["read", "write", "mcp:invoke"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{app}");
        app
    }

    /// Creates a confidential client (client_secret_basic, code + refresh) and returns its JSON
    /// including the one-time `client_secret`.
    pub async fn create_client(&self, slug: &str) -> Value {
        let (status, client) = self
            .post(
                &format!("/oauth/apps/{slug}/clients"),
                serde_json::json!({
                    "client_auth_method": "client_secret_basic",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "redirect_uris": ["https://app.example.com/callback"],
                    "client_name": "Example"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        client
    }

    /// A `latchkey-client` SDK client for this server with its API key.
    pub fn sdk(&self) -> latchkey_client::LatchkeyClient {
        latchkey_client::LatchkeyClient::new(latchkey_client::LatchkeyConfig::new(self.api_key.clone(), self.base.clone()))
            .expect("the SDK client builds")
    }

    /// Stops serving (the store stays readable through `state`).
    pub fn stop(&self) {
        self.task.abort();
    }

    /// Injects a database fault: from now on every `op` (`INSERT` or `UPDATE`) on `table`
    /// fails, until [`TestServer::heal`] lifts it. For tests of what a failed write must not
    /// leave behind (a trigger that raises, on SQLite and PostgreSQL alike).
    pub async fn fail_writes(&self, table: &str, op: &str) {
        let name = format!("fail_{}_{}", table, op.to_ascii_lowercase());
        let statements = match backend() {
            "postgres" => vec![
                format!("CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql"),
                format!("CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"),
            ],
            _ => vec![format!(
                "CREATE TRIGGER {name} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            )],
        };
        self.execute_all(&statements).await;
    }

    /// Lifts a fault injected with [`TestServer::fail_writes`].
    pub async fn heal(&self, table: &str, op: &str) {
        let name = format!("fail_{}_{}", table, op.to_ascii_lowercase());
        let statements = match backend() {
            "postgres" => vec![format!("DROP TRIGGER {name} ON {table}"), format!("DROP FUNCTION {name}()")],
            _ => vec![format!("DROP TRIGGER {name}")],
        };
        self.execute_all(&statements).await;
    }

    async fn execute_all(&self, statements: &[String]) {
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .execute(self.state.store.pool())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// Every row of every table, as text, for "changes nothing" and "no plaintext" checks.
    pub async fn dump(&self) -> String {
        use sqlx::Row;
        let tables = [
            "deployments",
            "api_keys",
            "oauth_apps",
            "oauth_app_logos",
            "oauth_scopes",
            "oauth_clients",
            "oauth_client_secrets",
            "signing_keys",
            "resource_servers",
            "users",
            "organizations",
            "workspaces",
            "organization_memberships",
            "workspace_memberships",
            "oauth_grants",
            "audit_events",
        ];
        let mut out = String::new();
        for t in tables {
            let sql = format!("SELECT * FROM {t} ORDER BY 1");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(self.state.store.pool())
                .await
                .expect("dump");
            for r in rows {
                out.push_str(t);
                for i in 0..r.len() {
                    let v = r
                        .try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .or_else(|| r.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string()))
                        .unwrap_or_else(|| "NULL".into());
                    out.push('|');
                    out.push_str(&v);
                }
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
