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

use std::path::PathBuf;
use std::time::Duration;

use latchkey_testkit::oauth::{self, PASSWORD, REDIRECT};
use latchkey_testkit::{TestServer, external};
use reqwest::StatusCode;

/// `compat/authlib` in the workspace.
fn compat() -> PathBuf {
    latchkey_testkit::compat_dir("authlib")
}

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
const POST_LOGOUT_REDIRECT: &str = "https://app.example.com/logged-out";
const VENV_HELP: &str = "from the workspace root, run python3 -m venv compat/authlib/.venv && compat/authlib/.venv/bin/pip install -r compat/authlib/requirements.txt";

/// The venv's python, or `None` (after saying why) when the test must be skipped. Panics
/// instead when `LATCHKEY_REQUIRE_COMPAT=1`.
fn prerequisites() -> Option<PathBuf> {
    let python = compat().join(".venv/bin/python");
    let problem = if !python.is_file() {
        Some("compat/authlib/.venv/bin/python is missing".to_owned())
    } else if !external::succeeds(&python, &["-c", "import authlib, requests"]) {
        Some("authlib or requests is not installed in compat/authlib/.venv".to_owned())
    } else {
        None
    };
    external::prerequisites(problem, VENV_HELP).then_some(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_completes_the_whole_flow_unchanged() {
    let Some(python) = prerequisites() else {
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
        // The server is on loopback: never through a proxy from the environment.
        ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
        ("no_proxy", "127.0.0.1,localhost".to_owned()),
        ("PYTHONDONTWRITEBYTECODE", "1".to_owned()),
        ("PYTHONUNBUFFERED", "1".to_owned()),
    ];
    external::run(python, &["flow.py"], &compat(), &envs, SCRIPT_TIMEOUT)
        .await
        .assert_success("flow.py", &st.issuer);

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
