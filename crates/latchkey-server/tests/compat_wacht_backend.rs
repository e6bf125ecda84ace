//! Wire compatibility with the published `@wacht/backend` 1.0.0-beta.20: runs
//! `compat/wacht-backend/oauth.mjs`, which makes every `oauth` management call of that
//! package, unchanged, against a test server and reads back what it wrote.
//!
//! Grants come from end-user consent, not from the management API, so this test seeds one
//! through the store for the script to list and revoke.
//!
//! Needs Node 20+ and `npm ci` in `compat/wacht-backend`. Without them the test is skipped,
//! unless `LATCHKEY_REQUIRE_COMPAT=1` (as in CI), which turns a missing prerequisite into a
//! failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;
use latchkey_core::Id;
use latchkey_core::audit::Actor;
use latchkey_core::grant::GrantedResource;
use latchkey_store::deployments::DEFAULT_DEPLOYMENT_ID;
use latchkey_store::grants::NewGrant;
use reqwest::StatusCode;
use serde_json::{Value, json};

const COMPAT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/wacht-backend");
const REQUIRE_ENV: &str = "LATCHKEY_REQUIRE_COMPAT";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

fn node_on_path() -> bool {
    Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The compat directory, or `None` (after saying why) when the test must be skipped.
/// Panics instead when `LATCHKEY_REQUIRE_COMPAT=1`.
fn prerequisites() -> Option<PathBuf> {
    let dir = PathBuf::from(COMPAT_DIR);
    let problem = if !node_on_path() {
        Some("node is not on PATH (install Node 20 or later)")
    } else if !dir.join("node_modules/@wacht/backend/package.json").is_file() {
        Some("compat/wacht-backend/node_modules/@wacht/backend is missing")
    } else {
        None
    };
    match problem {
        None => Some(dir),
        Some(p) if required() => {
            panic!("{p}; {REQUIRE_ENV}=1 requires this test to run: run npm ci in compat/wacht-backend")
        }
        Some(p) => {
            eprintln!("skipped: run npm ci in compat/wacht-backend ({p}; set {REQUIRE_ENV}=1 to make this a failure)");
            None
        }
    }
}

struct ScriptRun {
    /// `None` when the script was killed for taking too long.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

/// Runs `node oauth.mjs` in `dir` with `envs`, killing it after `timeout`. Blocking: call it
/// on a blocking thread so the in-process server keeps answering.
fn run_script(dir: &Path, envs: &[(&str, String)], out_dir: &Path, timeout: Duration) -> ScriptRun {
    let stdout_path = out_dir.join("oauth.mjs.stdout");
    let stderr_path = out_dir.join("oauth.mjs.stderr");
    let stdout = std::fs::File::create(&stdout_path).expect("create stdout file");
    let stderr = std::fs::File::create(&stderr_path).expect("create stderr file");
    let mut cmd = Command::new("node");
    cmd.arg("oauth.mjs")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start node oauth.mjs");
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for node") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    ScriptRun {
        status,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

fn id_of(v: &Value, what: &str) -> Id {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}.id is not a string: {v}"))
        .parse::<Id>()
        .unwrap_or_else(|_| panic!("{what}.id is not an id: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wacht_backend_oauth_calls_work_unchanged() {
    let Some(dir) = prerequisites() else {
        return;
    };
    let s = TestServer::start().await;

    // An app with a confidential client and a user who granted it `read`.
    let slug = "grants-app";
    let app = s.create_app(slug).await;
    let client = s.create_client(slug).await;
    let (status, user) = s
        .post("/users", json!({"email": "grant-user@example.com", "name": "Grant User"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let user_id = id_of(&user, "user");
    let client_record_id = id_of(&client, "client");
    let grant = s
        .state
        .store
        .upsert_grant(
            DEFAULT_DEPLOYMENT_ID,
            &NewGrant {
                app_id: id_of(&app, "app"),
                client_record_id,
                user_id,
                resource: GrantedResource::User(user_id),
                scopes: vec!["read".into()],
                expires_at: None,
            },
            &Actor::system(),
        )
        .await
        .expect("seed a grant");
    let grant_id = grant.id.to_string();
    let client_key = client_record_id.to_string();

    let envs = vec![
        ("LATCHKEY_URL", s.base.clone()),
        ("LATCHKEY_API_KEY", s.api_key.clone()),
        ("LATCHKEY_GRANT_APP", slug.to_owned()),
        ("LATCHKEY_GRANT_CLIENT_ID", client_key.clone()),
        ("LATCHKEY_GRANT_ID", grant_id.clone()),
    ];
    let out_dir = s.dir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || run_script(&dir, &envs, &out_dir, SCRIPT_TIMEOUT))
        .await
        .expect("script runner thread");
    match run.status {
        Some(status) if status.success() => println!("{}", run.stdout),
        status => panic!(
            "oauth.mjs {} against {} ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            match status {
                Some(st) => format!("failed with {st}"),
                None => format!("timed out after {SCRIPT_TIMEOUT:?}"),
            },
            s.base,
            common::backend(),
            run.stdout,
            run.stderr,
        ),
    }

    // The script revoked the seeded grant.
    let (status, body) = s.get(&format!("/oauth/apps/{slug}/clients/{client_key}/grants")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grants = body["grants"].as_array().expect("grants array");
    let g = grants
        .iter()
        .find(|g| g["id"] == grant_id.as_str())
        .unwrap_or_else(|| panic!("grant {grant_id} is listed: {body}"));
    assert_eq!(g["status"], "revoked", "{g}");
    assert!(g["revoked_at"].is_string(), "{g}");

    // And both the rotation and the revocation are on the audit trail, by the API key.
    for (action, target_type) in [("client.secret_rotated", "client"), ("grant.revoked", "grant")] {
        let (status, body) = s.get(&format!("/audit-events?action={action}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let events = body["events"].as_array().expect("events array");
        assert!(!events.is_empty(), "no {action} event: {body}");
        for e in events {
            assert_eq!(e["action"], action, "{e}");
            assert_eq!(e["target_type"], target_type, "{e}");
            assert_eq!(e["actor"]["type"], "api_key", "{e}");
        }
        if action == "grant.revoked" {
            assert!(
                events.iter().any(|e| e["target_id"] == grant_id.as_str()),
                "no grant.revoked event for {grant_id}: {body}"
            );
        }
    }
}
