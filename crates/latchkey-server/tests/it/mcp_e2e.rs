//! The official MCP clients, unmodified, against an MCP server protected by Latchkey: the
//! example server (`examples/mcp-server`: rmcp behind `latchkey-axum`) and a test server, both
//! in this process, with the TypeScript SDK (`compat/mcp-ts/client.mjs`) and the Python SDK
//! (`compat/mcp-python/client.py`) as separate processes.
//!
//! Each SDK goes, by itself: 401 → protected resource metadata → authorization server
//! metadata → dynamic registration → authorization URL with PKCE S256 and `resource`. The test
//! plays the user's browser on the hosted sign-in and consent pages and hands the redirect back;
//! the SDK exchanges the code and calls tools, which see the user and the scopes. Then the
//! access token expires (the server's clock moves) and the SDK refreshes by itself; then the
//! operator revokes the grant, and the next call is refused: the SDK cannot refresh and falls
//! back to asking for a new authorization, which the test declines.
//!
//! Needs Node 20+ with `npm ci` in `compat/mcp-ts`, and Python 3.10+ with a virtualenv in
//! `compat/mcp-python/.venv` (`python3 -m venv compat/mcp-python/.venv &&
//! compat/mcp-python/.venv/bin/pip install -r compat/mcp-python/requirements.txt`). Without
//! them the tests are skipped, unless `LATCHKEY_REQUIRE_COMPAT=1` (as in CI).

use std::path::PathBuf;
use std::time::Duration;

use latchkey_axum::{LatchkeyAuth, ResourceConfig};
use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::external::{self, Interactive};
use latchkey_testkit::oauth::{self, Setup};
use reqwest::StatusCode;
use serde_json::{Value, json};

const STEP: Duration = Duration::from_secs(60);
/// The loopback redirect URI the clients register; nothing listens there, the test's browser
/// stops at the redirect.
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

/// An official MCP client SDK and how to run its driver script.
struct Sdk {
    name: &'static str,
    program: PathBuf,
    script: &'static str,
    dir: PathBuf,
    problem: Option<String>,
    fix: &'static str,
}

fn typescript() -> Sdk {
    let dir = latchkey_testkit::compat_dir("mcp-ts");
    let problem = if !external::on_path("node") {
        Some("node is not on PATH (install Node 20 or later)".to_owned())
    } else if !dir.join("node_modules/@modelcontextprotocol/sdk/package.json").is_file() {
        Some("compat/mcp-ts/node_modules/@modelcontextprotocol/sdk is missing".to_owned())
    } else {
        None
    };
    Sdk {
        name: "MCP TypeScript SDK",
        program: "node".into(),
        script: "client.mjs",
        dir,
        problem,
        fix: "run npm ci in compat/mcp-ts",
    }
}

fn python() -> Sdk {
    let dir = latchkey_testkit::compat_dir("mcp-python");
    let program = dir.join(".venv/bin/python");
    let problem = if !program.is_file() {
        Some("compat/mcp-python/.venv is missing".to_owned())
    } else if !external::succeeds(&program, &["-c", "import mcp.client.auth"]) {
        Some("the mcp package is not installed in compat/mcp-python/.venv".to_owned())
    } else {
        None
    };
    Sdk {
        name: "MCP Python SDK",
        program,
        script: "client.py",
        dir,
        problem,
        fix: "python3 -m venv compat/mcp-python/.venv && compat/mcp-python/.venv/bin/pip install -r compat/mcp-python/requirements.txt",
    }
}

/// Latchkey with app `acme` (scopes read and write, dynamic registration allowed) and user
/// Ada; the example MCP server registered as its resource server and listening.
struct Stack {
    s: TestServer,
    st: Setup,
    mcp_url: String,
}

async fn stack() -> Stack {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (status, app) = s
        .patch("/oauth/apps/acme", json!({"allow_dynamic_client_registration": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{app}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mcp_url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (status, rs) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": mcp_url, "name": "Notes (MCP)", "require_binding": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rs}");

    let auth = LatchkeyAuth::new(
        s.sdk(),
        ResourceConfig {
            scopes_supported: vec!["read".into(), "write".into()],
            ..ResourceConfig::new(&mcp_url, &st.issuer)
        },
    )
    .unwrap()
    .require(["read"]);
    let app = latchkey_mcp_example::app(&auth, latchkey_mcp_example::Notes::default(), vec!["127.0.0.1".into()]);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    Stack { s, st, mcp_url }
}

fn parse(payload: &str, p: &mut Interactive) -> Value {
    serde_json::from_str(payload).unwrap_or_else(|_| panic!("not JSON: {payload}\n{}", p.transcript()))
}

/// Plays the user: signs Ada in on the hosted pages and approves; returns the redirect URL.
async fn approve(stack: &Stack, url: &str) -> String {
    let mut browser = Browser::new();
    let page = oauth::authorize(&mut browser, &stack.s, url, &stack.st.email).await;
    let location = page
        .location()
        .unwrap_or_else(|| panic!("expected a redirect to the client, got {} {}", page.status, page.body));
    assert!(location.starts_with(REDIRECT), "{location}");
    location
}

async fn call(p: &mut Interactive, line: &str) -> Value {
    p.send(line).await;
    let result = p.expect("RESULT", STEP).await;
    parse(&result, p)
}

async fn full_flow(sdk: Sdk) {
    if !external::prerequisites(sdk.problem.clone(), sdk.fix) {
        return;
    }
    let stack = stack().await;
    let envs = [("MCP_REDIRECT_URI", REDIRECT.to_owned())];
    let mut p = Interactive::start(&sdk.program, &[sdk.script, &stack.mcp_url], &sdk.dir, &envs);

    // Discovery and registration happened inside the SDK; the authorization URL tells how.
    let url = p.expect("AUTHORIZE", STEP).await;
    let q = oauth::query(&url);
    assert!(url.starts_with(&format!("{}/oauth/authorize?", stack.st.issuer)), "{url}");
    assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"), "{url}");
    assert!(q.get("code_challenge").is_some_and(|c| c.len() >= 43), "{url}");
    assert_eq!(q.get("resource"), Some(&stack.mcp_url), "{url}");
    assert_eq!(q.get("redirect_uri").map(String::as_str), Some(REDIRECT), "{url}");
    let client_id = q.get("client_id").cloned().expect("client_id");
    let (status, client) = stack.s.get(&format!("/oauth/apps/acme/clients/{client_id}")).await;
    assert_eq!(status, StatusCode::OK, "the SDK registered {client_id} dynamically: {client}");
    assert_eq!(client["client_auth_method"], "none", "{client}");

    let redirect = approve(&stack, &url).await;
    p.send(&redirect).await;
    let ready = p.expect("READY", STEP).await;
    let ready = parse(&ready, &mut p);
    assert_eq!(ready["tools"], json!(["add_note", "list_notes", "whoami"]), "{ready}");
    assert_eq!(ready["client_id"], client_id.as_str(), "{ready}");
    assert_eq!(ready["has_refresh_token"], true, "{ready}");

    // The tool sees who calls, through which client, with what.
    let me = call(&mut p, "CALL whoami").await;
    let who = &me["structured"];
    assert_eq!(me["is_error"], false, "{me}");
    assert_eq!(who["user_id"], stack.st.user_id.as_str(), "{me}");
    assert_eq!(who["client_id"], client_id.as_str(), "{me}");
    assert_eq!(who["resource"], stack.mcp_url.as_str(), "{me}");
    // The SDKs ask for the scope the challenge named; the Python SDK adds `offline_access`,
    // which the metadata lists (SEP-2207).
    let scopes: Vec<&str> = who["scopes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(scopes.contains(&"read") && !scopes.contains(&"write"), "{me}");
    assert!(scopes.iter().all(|s| ["read", "offline_access"].contains(s)), "{me}");
    let notes = call(&mut p, "CALL list_notes").await;
    assert_eq!(notes["structured"], json!({"notes": []}), "{notes}");
    let write = call(&mut p, r#"CALL add_note {"text": "hello"}"#).await;
    assert_eq!(write["is_error"], true, "read-only token must not write: {write}");
    assert!(write["text"].as_str().unwrap_or_default().contains("`write`"), "{write}");

    // The access token expires; the SDK refreshes by itself and the call goes through.
    let saves = me["token_saves"].as_i64().unwrap_or_default();
    stack.s.clock.advance_seconds(2 * 3600);
    call(&mut p, "EXPIRE").await;
    let again = call(&mut p, "CALL whoami").await;
    assert_eq!(again["is_error"], false, "{again}");
    assert_eq!(again["structured"]["user_id"], stack.st.user_id.as_str(), "{again}");
    assert!(
        again["token_saves"].as_i64().unwrap_or_default() > saves,
        "the SDK refreshed its token: {again}"
    );
    assert_eq!(again["authorizations"], 1, "a refresh, not a new authorization: {again}");

    // The operator revokes the grant: the next call is refused, the refresh token is dead,
    // and the SDK can only ask the user again.
    let (status, grants) = stack.s.get(&format!("/oauth/apps/acme/clients/{client_id}/grants")).await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    let grant_id = grants["grants"][0]["id"].as_str().expect("one grant").to_owned();
    let (status, revoked) = stack
        .s
        .post(
            &format!("/oauth/apps/acme/clients/{client_id}/grants/{grant_id}/revoke"),
            json!({"reason": "e2e"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    p.send("CALL whoami").await;
    let url = p.expect("AUTHORIZE", STEP).await;
    assert!(url.starts_with(&format!("{}/oauth/authorize?", stack.st.issuer)), "{url}");
    p.send("ABORT").await;
    let refused = p.expect("ERROR", STEP).await;
    assert!(refused.starts_with("unauthorized"), "{refused}\n{}", p.transcript());

    p.send("QUIT").await;
    p.expect("BYE", STEP).await;
    let transcript = p.finish(STEP).await;
    println!("{} against {}:\n{transcript}", sdk.name, latchkey_testkit::backend());
}

#[tokio::test(flavor = "multi_thread")]
async fn typescript_sdk_full_flow() {
    full_flow(typescript()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_full_flow() {
    full_flow(python()).await;
}
