//! The real `latchkey` binary: first start prints a backend API key exactly once, a restart
//! keeps every acknowledged write, SIGTERM shuts down gracefully, and no secret or key
//! appears in plaintext in the logs (even at debug level) or anywhere in the database.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

struct Running {
    child: Child,
    base: String,
    stdout: String,
    stderr_lines: std::sync::mpsc::Receiver<String>,
}

fn start(data_dir: &std::path::Path, database_url: &str) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("LATCHKEY_DATA_DIR", data_dir)
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("RUST_LOG", "debug")
        .env_remove("LATCHKEY_SECRET_KEY")
        .env_remove("LATCHKEY_BOOTSTRAP_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn latchkey");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Wait for the "listening" log line, which carries the bound address.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut addr = None;
    while addr.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["message"] == "latchkey is listening"
        {
            addr = v["listen"].as_str().map(str::to_owned);
        }
    }
    let addr = addr.expect("server reported its address");
    Running {
        child,
        base: format!("http://{addr}"),
        stdout: String::new(),
        stderr_lines: rx,
    }
}

/// Sends SIGTERM and waits for a clean exit; returns (stdout, all stderr).
fn stop(mut r: Running) -> (String, String) {
    let pid = r.child.id().to_string();
    let ok = Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success();
    assert!(ok);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = r.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "latchkey did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let mut out = r.stdout;
    if let Some(mut so) = r.child.stdout.take() {
        let _ = so.read_to_string(&mut out);
    }
    let mut err = String::new();
    while let Ok(l) = r.stderr_lines.recv_timeout(Duration::from_millis(500)) {
        err.push_str(&l);
        err.push('\n');
    }
    (out, err)
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http.request(method, format!("{base}{path}")).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_restart_shutdown_and_no_plaintext_secrets() {
    use reqwest::Method as M;
    let dir = tempfile::tempdir().unwrap();
    let (database_url, _pg) = latchkey_testkit::fresh_database(dir.path()).await;
    let http = reqwest::Client::new();

    let mut r = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        let u = database_url.clone();
        move || start(&d, &u)
    })
    .await
    .unwrap();
    // The generated key is printed on stdout; read until it appears.
    let mut stdout = r.child.stdout.take().unwrap();
    let api_key = tokio::task::spawn_blocking(move || {
        let mut buf = String::new();
        let mut chunk = [0u8; 256];
        while !buf.contains("Use it as") {
            let n = stdout.read(&mut chunk).unwrap();
            assert!(n > 0, "stdout closed before the key was printed");
            buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
        (buf, stdout)
    })
    .await
    .unwrap();
    let (printed, stdout) = api_key;
    r.child.stdout = Some(stdout);
    r.stdout = printed.clone();
    let key = printed
        .split_whitespace()
        .find(|w| w.starts_with("lk_api_"))
        .expect("key printed")
        .to_owned();

    let (st, _) = call(
        &http,
        &r.base,
        &key,
        M::POST,
        "/oauth/apps",
        Some(json!({"slug": "acme", "name": "Acme", "supported_scopes": ["read"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, client) = call(
        &http,
        &r.base,
        &key,
        M::POST,
        "/oauth/apps/acme/clients",
        Some(json!({"client_auth_method": "client_secret_jwt", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.example.com/cb"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let cid = client["id"].as_str().unwrap().to_owned();
    let secret1 = client["client_secret"].as_str().unwrap().to_owned();
    let (_, rotated) = call(
        &http,
        &r.base,
        &key,
        M::POST,
        &format!("/oauth/apps/acme/clients/{cid}/rotate-secret"),
        Some(json!({"overlap_seconds": 600})),
    )
    .await;
    let secret2 = rotated["client_secret"].as_str().unwrap().to_owned();
    let (_, made) = call(&http, &r.base, &key, M::POST, "/api-keys", Some(json!({"name": "ci"}))).await;
    let key2 = made["api_key"].as_str().unwrap().to_owned();
    let password = "correct horse battery staple";
    let (st, _) = call(
        &http,
        &r.base,
        &key,
        M::POST,
        "/users",
        Some(json!({"email": "ada@example.com", "password": password})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = call(&http, &r.base, &key, M::POST, "/oauth/apps/acme/signing-keys/rotate", None).await;
    assert_eq!(st, StatusCode::OK);

    let (out1, err1) = tokio::task::spawn_blocking(move || stop(r)).await.unwrap();
    assert_eq!(out1.matches("lk_api_").count(), 1, "the key is printed exactly once: {out1}");

    // Restart on the same store: nothing printed, everything acknowledged is there.
    let r2 = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        let u = database_url.clone();
        move || start(&d, &u)
    })
    .await
    .unwrap();
    let (st, apps) = call(&http, &r2.base, &key2, M::GET, "/oauth/apps", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(apps["apps"][0]["slug"], "acme");
    let (_, keys) = call(&http, &r2.base, &key, M::GET, "/oauth/apps/acme/signing-keys", None).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    let (out2, err2) = tokio::task::spawn_blocking(move || stop(r2)).await.unwrap();
    assert!(!out2.contains("lk_api_"), "a restart prints no key: {out2}");

    let secrets = [key.as_str(), key2.as_str(), secret1.as_str(), secret2.as_str(), password];
    let logs = format!("{err1}\n{err2}");
    assert!(logs.contains("\"level\":\"DEBUG\""), "debug logging was on");
    for s in secrets {
        assert!(!logs.contains(s), "a secret appeared in the logs");
    }

    // Every byte the database keeps (SQLite file, WAL and shared memory; or PostgreSQL rows).
    let mut stored = Vec::new();
    if database_url.starts_with("sqlite:") {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let p = entry.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with("latchkey.db") {
                stored.extend(std::fs::read(&p).unwrap());
            }
        }
        assert!(!stored.is_empty());
    } else {
        use sqlx::{Connection, Row};
        let mut c = sqlx::AnyConnection::connect(&database_url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query("SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        for t in tables {
            let sql = format!("SELECT CAST(t AS TEXT) FROM \"{t}\" t");
            for row in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut c).await.unwrap() {
                stored.extend(row.get::<String, _>(0).into_bytes());
            }
        }
    }
    let master = std::fs::read_to_string(dir.path().join("secret.key")).unwrap();
    let haystack = String::from_utf8_lossy(&stored);
    for s in secrets.iter().copied().chain([master.trim()]) {
        assert!(!haystack.contains(s), "a secret is stored in plaintext");
    }
    assert!(!haystack.contains("BEGIN PRIVATE KEY"));
}
