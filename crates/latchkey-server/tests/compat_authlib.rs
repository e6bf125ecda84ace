//! Compatibility with the Python library Authlib (pinned in `compat/authlib/requirements.txt`):
//! runs `compat/authlib/flow.py`, which does the whole OAuth 2.1 / OpenID Connect flow with
//! an unmodified Authlib `OAuth2Session` against a test server — discovery, authorization with
//! PKCE through the hosted sign-in and consent pages, code exchange, ID token validation,
//! userinfo, refresh rotation, introspection, revocation, RP-initiated logout and refused
//! replays — then checks the server recorded each of those steps.
//!
//! Needs the venv: `python3 -m venv compat/authlib/.venv &&
//! compat/authlib/.venv/bin/pip install -r compat/authlib/requirements.txt`. Without it the
//! test is skipped, unless `LATCHKEY_REQUIRE_COMPAT=1` (as in CI), which turns a missing
//! prerequisite into a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;
use common::oauth::{self, PASSWORD, REDIRECT};
use reqwest::StatusCode;

const COMPAT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/authlib");
const REQUIRE_ENV: &str = "LATCHKEY_REQUIRE_COMPAT";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
const POST_LOGOUT_REDIRECT: &str = "https://app.example.com/logged-out";
const VENV_HELP: &str = "python3 -m venv compat/authlib/.venv && compat/authlib/.venv/bin/pip install -r compat/authlib/requirements.txt";

fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// The venv's python, or `None` (after saying why) when the test must be skipped. Panics
/// instead when `LATCHKEY_REQUIRE_COMPAT=1`.
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let dir = PathBuf::from(COMPAT_DIR);
    let python = dir.join(".venv/bin/python");
    let problem = if !python.is_file() {
        Some("compat/authlib/.venv/bin/python is missing")
    } else if !Command::new(&python)
        .args(["-c", "import authlib, requests"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        Some("authlib or requests is not installed in compat/authlib/.venv")
    } else {
        None
    };
    match problem {
        None => Some((dir, python)),
        Some(p) if required() => {
            panic!("{p}; {REQUIRE_ENV}=1 requires this test to run: {VENV_HELP}")
        }
        Some(p) => {
            eprintln!("skipped: {p} (run from the workspace root: {VENV_HELP}; set {REQUIRE_ENV}=1 to make this a failure)");
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

/// Runs `python flow.py` in `dir` with `envs`, killing it after `timeout`. Blocking: call it on
/// a blocking thread so the in-process server keeps answering.
fn run_script(dir: &Path, python: &Path, envs: &[(&str, String)], out_dir: &Path, timeout: Duration) -> ScriptRun {
    let stdout_path = out_dir.join("flow.py.stdout");
    let stderr_path = out_dir.join("flow.py.stderr");
    let stdout = std::fs::File::create(&stdout_path).expect("create stdout file");
    let stderr = std::fs::File::create(&stderr_path).expect("create stderr file");
    let mut cmd = Command::new(python);
    cmd.arg("flow.py")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        // The server is on loopback: never through a proxy from the environment.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start python flow.py");
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for python") {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_completes_the_whole_flow_unchanged() {
    let Some((dir, python)) = prerequisites() else {
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
        ("AUTHLIB_INSECURE_TRANSPORT", "1".to_owned()),
    ];
    let out_dir = s.dir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || run_script(&dir, &python, &envs, &out_dir, SCRIPT_TIMEOUT))
        .await
        .expect("script runner thread");
    match run.status {
        Some(status) if status.success() => {
            println!("{}", run.stdout);
            if !run.stderr.trim().is_empty() {
                eprintln!("flow.py stderr:\n{}", run.stderr);
            }
        }
        status => panic!(
            "flow.py {} against {} ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
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

    // The server saw each step the script reports.
    for action in [
        "consent.approved",
        "code.issued",
        "code.redeemed",
        "token.refreshed",
        "token.revoked",
        "session.ended",
        "code.replayed",
    ] {
        let (status, body) = s.get(&format!("/audit-events?action={action}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let events = body["events"].as_array().expect("events array");
        assert!(
            events.iter().any(|e| e["action"] == action),
            "no {action} event after the Authlib flow: {body}"
        );
    }
}
