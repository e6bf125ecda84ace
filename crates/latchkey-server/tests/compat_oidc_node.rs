//! Interoperability with panva's Node libraries, unmodified: runs
//! `compat/oidc-node/openid-client.mjs` (openid-client 6) and `compat/oidc-node/oauth4webapi.mjs`
//! (oauth4webapi 3) against a test server. Each completes the whole flow with the library's own
//! APIs — discovery, authorization with PKCE S256 + state + nonce, the hosted sign-in and
//! consent pages (through `compat/oidc-node/agent.mjs`, a headless agent that only follows
//! redirects and submits forms), callback validation (state, RFC 9207 `iss`), code exchange with
//! client_secret_basic, ID token validation (JWKS signature, nonce), userinfo, refresh rotation,
//! introspection, revocation, RP-initiated logout — and checks the library's errors on a
//! replayed code and forged callbacks. The scripts print one line per step.
//!
//! Needs Node 20+ and `npm ci` in `compat/oidc-node`. Without them the tests are skipped,
//! unless `LATCHKEY_REQUIRE_COMPAT=1` (as in CI), which turns a missing prerequisite into a
//! failure. `LATCHKEY_COMPAT_DEBUG=1` makes the scripts print every request the library made.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;
use common::oauth::{self, PASSWORD, REDIRECT};

const COMPAT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/oidc-node");
const REQUIRE_ENV: &str = "LATCHKEY_REQUIRE_COMPAT";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// Registered for the client by `common::oauth::setup`.
const POST_LOGOUT_REDIRECT: &str = "https://app.example.com/logged-out";
const PACKAGES: [&str; 2] = ["openid-client", "oauth4webapi"];

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
    let missing = PACKAGES
        .iter()
        .find(|p| !dir.join(format!("node_modules/{p}/package.json")).is_file());
    let problem = if !node_on_path() {
        Some("node is not on PATH (install Node 20 or later)".to_owned())
    } else {
        missing.map(|p| format!("compat/oidc-node/node_modules/{p} is missing"))
    };
    match problem {
        None => Some(dir),
        Some(p) if required() => {
            panic!("{p}; {REQUIRE_ENV}=1 requires this test to run: run npm ci in compat/oidc-node")
        }
        Some(p) => {
            eprintln!("skipped: run npm ci in compat/oidc-node ({p}; set {REQUIRE_ENV}=1 to make this a failure)");
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

/// Runs `node <script>` in `dir` with `envs`, killing it after `timeout`. Blocking: call it
/// on a blocking thread so the in-process server keeps answering.
fn run_script(dir: &Path, script: &str, envs: &[(&str, String)], out_dir: &Path, timeout: Duration) -> ScriptRun {
    let stdout_path = out_dir.join(format!("{script}.stdout"));
    let stderr_path = out_dir.join(format!("{script}.stderr"));
    let stdout = std::fs::File::create(&stdout_path).expect("create stdout file");
    let stderr = std::fs::File::create(&stderr_path).expect("create stderr file");
    let mut cmd = Command::new("node");
    cmd.arg(script).current_dir(dir).stdin(Stdio::null()).stdout(stdout).stderr(stderr);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start node {script}: {e}"));
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

/// Starts a server with app `acme`, its confidential client and user `ada@example.com`, and
/// runs `script` against it; panics with the script's output unless it exits 0.
async fn run_against_latchkey(script: &'static str) {
    let Some(dir) = prerequisites() else {
        return;
    };
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let envs = vec![
        ("LATCHKEY_ISSUER", st.issuer.clone()),
        ("LATCHKEY_CLIENT_ID", st.client_id.clone()),
        ("LATCHKEY_CLIENT_SECRET", st.client_secret.clone()),
        ("LATCHKEY_EMAIL", st.email.clone()),
        ("LATCHKEY_PASSWORD", PASSWORD.to_owned()),
        ("LATCHKEY_REDIRECT_URI", REDIRECT.to_owned()),
        ("LATCHKEY_POST_LOGOUT_REDIRECT_URI", POST_LOGOUT_REDIRECT.to_owned()),
    ];
    let out_dir = s.dir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || run_script(&dir, script, &envs, &out_dir, SCRIPT_TIMEOUT))
        .await
        .expect("script runner thread");
    match run.status {
        Some(status) if status.success() => {
            print!("{}", run.stdout);
            eprint!("{}", run.stderr);
        }
        status => panic!(
            "{script} {} against {} ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
            match status {
                Some(st) => format!("failed with {st}"),
                None => format!("timed out after {SCRIPT_TIMEOUT:?}"),
            },
            st.issuer,
            common::backend(),
            run.stdout,
            run.stderr,
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_completes_the_whole_flow() {
    run_against_latchkey("openid-client.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth4webapi_completes_the_whole_flow() {
    run_against_latchkey("oauth4webapi.mjs").await;
}
