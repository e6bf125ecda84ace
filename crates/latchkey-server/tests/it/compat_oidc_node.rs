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

use std::path::PathBuf;
use std::time::Duration;

use latchkey_testkit::oauth::{self, PASSWORD, REDIRECT};
use latchkey_testkit::{TestServer, external};

/// `compat/oidc-node` in the workspace.
fn compat() -> PathBuf {
    latchkey_testkit::compat_dir("oidc-node")
}

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// Registered for the client by `latchkey_testkit::oauth::setup`.
const POST_LOGOUT_REDIRECT: &str = "https://app.example.com/logged-out";
const PACKAGES: [&str; 2] = ["openid-client", "oauth4webapi"];

/// Whether the tests can run: says why not (or panics when `LATCHKEY_REQUIRE_COMPAT=1`).
fn prerequisites() -> bool {
    let missing = PACKAGES
        .iter()
        .find(|p| !compat().join(format!("node_modules/{p}/package.json")).is_file());
    let problem = if !external::on_path("node") {
        Some("node is not on PATH (install Node 20 or later)".to_owned())
    } else {
        missing.map(|p| format!("compat/oidc-node/node_modules/{p} is missing"))
    };
    external::prerequisites(problem, "run npm ci in compat/oidc-node")
}

/// Starts a server with app `acme`, its confidential client and user `ada@example.com`, and
/// runs `script` against it; panics with the script's output unless it exits 0.
async fn run_against_latchkey(script: &str) {
    if !prerequisites() {
        return;
    }
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
    external::run("node", &[script], &compat(), &envs, SCRIPT_TIMEOUT)
        .await
        .assert_success(script, &st.issuer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_completes_the_whole_flow() {
    run_against_latchkey("openid-client.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth4webapi_completes_the_whole_flow() {
    run_against_latchkey("oauth4webapi.mjs").await;
}
