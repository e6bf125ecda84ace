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

use std::path::PathBuf;
use std::time::Duration;

use latchkey_core::Id;
use latchkey_core::audit::Actor;
use latchkey_core::grant::GrantedResource;
use latchkey_store::deployments::DEFAULT_DEPLOYMENT_ID;
use latchkey_store::grants::NewGrant;
use latchkey_testkit::{TestServer, external};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `compat/wacht-backend` in the workspace.
fn compat() -> PathBuf {
    latchkey_testkit::compat_dir("wacht-backend")
}

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether the test can run: says why not (or panics when `LATCHKEY_REQUIRE_COMPAT=1`).
fn prerequisites() -> bool {
    let problem = if !external::on_path("node") {
        Some("node is not on PATH (install Node 20 or later)".to_owned())
    } else if !compat().join("node_modules/@wacht/backend/package.json").is_file() {
        Some("compat/wacht-backend/node_modules/@wacht/backend is missing".to_owned())
    } else {
        None
    };
    external::prerequisites(problem, "run npm ci in compat/wacht-backend")
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
    if !prerequisites() {
        return;
    }
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
    external::run("node", &["oauth.mjs"], &compat(), &envs, SCRIPT_TIMEOUT)
        .await
        .assert_success("oauth.mjs", &s.base);

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
