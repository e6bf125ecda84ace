//! Behaviour of the backend API beyond the SDK calls: secret rotation overlaps, auth method
//! changes, grant revocation records, scope removal safety, the directory's rules, resource
//! servers, signing key sealing, and audit queries.

use latchkey_core::Id;
use latchkey_core::audit::Actor;
use latchkey_core::grant::GrantedResource;
use latchkey_store::deployments::DEFAULT_DEPLOYMENT_ID;
use latchkey_store::grants::NewGrant;
use latchkey_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn id(v: &Value) -> Id {
    v["id"].as_str().expect("id").parse().expect("numeric id")
}

async fn user(s: &TestServer, email: &str) -> Id {
    let (st, u) = s.post("/users", json!({"email": email})).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    id(&u)
}

async fn grant(s: &TestServer, app: &Value, client: &Value, user_id: Id, resource: GrantedResource, scopes: &[&str]) -> Id {
    s.state
        .store
        .upsert_grant(
            DEFAULT_DEPLOYMENT_ID,
            &NewGrant {
                app_id: id(app),
                client_record_id: id(client),
                user_id,
                resource,
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                expires_at: None,
            },
            &Actor::system(),
        )
        .await
        .unwrap()
        .id
}

/// Whether `secret` currently authenticates the client (what the token endpoint will ask).
async fn secret_works(s: &TestServer, client: &Value, secret: &str) -> bool {
    let live = s.state.store.live_client_secrets(id(client)).await.unwrap();
    live.iter().any(|c| s.state.hasher.verify(secret, &c.hash))
}

#[tokio::test]
async fn secret_rotation_with_and_without_overlap() {
    let s = TestServer::start().await;
    s.create_app("acme").await;
    let client = s.create_client("acme").await;
    let cid = client["id"].as_str().unwrap();
    let first = client["client_secret"].as_str().unwrap().to_owned();
    assert!(secret_works(&s, &client, &first).await);

    let (st, r) = s
        .post(
            &format!("/oauth/apps/acme/clients/{cid}/rotate-secret"),
            json!({"overlap_seconds": 600}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let second = r["client_secret"].as_str().unwrap().to_owned();
    assert!(r["previous_secret_valid_until"].is_string());
    assert!(
        secret_works(&s, &client, &first).await,
        "inside the overlap the old secret still works"
    );
    assert!(secret_works(&s, &client, &second).await);

    s.clock.advance_seconds(601);
    assert!(!secret_works(&s, &client, &first).await, "after the overlap it does not");
    assert!(secret_works(&s, &client, &second).await);

    // Without overlap (the SDKs' call sends no body) the previous secret stops at once.
    let (st, r) = s
        .post_empty(&format!(
            "/oauth/apps/acme/clients/{}/rotate-secret",
            client["client_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, StatusCode::OK);
    let third = r["client_secret"].as_str().unwrap();
    assert!(!secret_works(&s, &client, &second).await);
    assert!(secret_works(&s, &client, third).await);

    // The listing shows hints and times, never the secrets.
    let (_, list) = s.get(&format!("/oauth/apps/acme/clients/{cid}/secrets")).await;
    let text = list.to_string();
    assert_eq!(list["secrets"].as_array().unwrap().len(), 3);
    for secret in [&first, &second, &third.to_owned()] {
        assert!(!text.contains(secret.as_str()));
    }
    assert!(list["secrets"][0]["created_by"].as_str().unwrap().starts_with("api_key:"));

    // Each rotation is audited with actor and time.
    let (_, ev) = s.get("/audit-events?action=client.secret_rotated").await;
    let events = ev["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["details"]["overlap_seconds"], 600);
    assert_eq!(events[1]["actor"]["type"], "api_key");
    assert!(events[1]["details"]["rotated_at"].is_string());
    assert_eq!(events[0]["client_id"], client["client_id"]);
}

#[tokio::test]
async fn auth_method_changes_issue_or_drop_secrets() {
    let s = TestServer::start().await;
    s.create_app("acme").await;
    let (st, public) = s
        .post(
            "/oauth/apps/acme/clients",
            json!({"client_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1/cb"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(public.get("client_secret").is_none(), "public clients get no secret");
    let path = format!("/oauth/apps/acme/clients/{}", public["id"].as_str().unwrap());

    // none -> client_secret_basic: a secret is issued, once.
    let (st, c) = s.patch(&path, json!({"client_auth_method": "client_secret_basic"})).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let basic = c["client_secret"].as_str().expect("secret issued").to_owned();
    assert!(secret_works(&s, &public, &basic).await);
    let (_, again) = s.get(&path).await;
    assert!(again.get("client_secret").is_none());

    // basic -> client_secret_jwt: a new secret that the server can recover (sealed).
    let (_, c) = s.patch(&path, json!({"client_auth_method": "client_secret_jwt"})).await;
    let jwt_secret = c["client_secret"].as_str().expect("new secret").to_owned();
    assert!(!secret_works(&s, &public, &basic).await);
    let live = s.state.store.live_client_secrets(id(&public)).await.unwrap();
    let sealed = live[0].sealed.as_deref().expect("sealed copy");
    let opened = s.state.sealer.open(sealed, &format!("client_secret:{}", live[0].id)).unwrap();
    assert_eq!(opened, jwt_secret.as_bytes());
    assert!(!sealed.contains(&jwt_secret));

    // -> none: every secret stops working.
    let (_, c) = s.patch(&path, json!({"client_auth_method": "none"})).await;
    assert!(c.get("client_secret").is_none());
    assert!(s.state.store.live_client_secrets(id(&public)).await.unwrap().is_empty());

    // Deactivate (DELETE) and reactivate, each audited.
    let (st, c) = s.delete(&path).await;
    assert_eq!((st, c["is_active"].as_bool()), (StatusCode::OK, Some(false)));
    let (_, c) = s.post_empty(&format!("{path}/reactivate")).await;
    assert_eq!(c["is_active"], true);
    let (_, ev) = s
        .get(&format!(
            "/audit-events?client_id={}&action=client.",
            public["client_id"].as_str().unwrap()
        ))
        .await;
    let actions: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "client.reactivated",
            "client.deactivated",
            "client.updated",
            "client.updated",
            "client.updated",
            "client.created"
        ]
    );
}

#[tokio::test]
async fn grants_are_listed_per_client_and_user_and_revoked_with_actor_and_reason() {
    let s = TestServer::start().await;
    let app = s.create_app("acme").await;
    let client = s.create_client("acme").await;
    let cid = client["id"].as_str().unwrap();
    let ada = user(&s, "ada@example.com").await;
    let bob = user(&s, "bob@example.com").await;
    let g1 = grant(&s, &app, &client, ada, GrantedResource::User(ada), &["read"]).await;
    let g2 = grant(&s, &app, &client, bob, GrantedResource::User(bob), &["read", "write"]).await;
    // Approving again widens the existing grant instead of adding one.
    let g1b = grant(&s, &app, &client, ada, GrantedResource::User(ada), &["write"]).await;
    assert_eq!(g1, g1b);

    let (_, list) = s.get(&format!("/oauth/apps/acme/clients/{cid}/grants")).await;
    assert_eq!(list["grants"].as_array().unwrap().len(), 2);
    let (_, mine) = s.get(&format!("/users/{ada}/grants")).await;
    assert_eq!(mine["grants"].as_array().unwrap().len(), 1);
    assert_eq!(mine["grants"][0]["scopes"], json!(["read", "write"]));

    let (st, revoked) = s
        .post(
            &format!("/oauth/apps/acme/clients/{cid}/grants/{g1}/revoke"),
            json!({"reason": "user asked"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoke_reason"], "user asked");
    assert!(revoked["revoked_by"].as_str().unwrap().starts_with("api_key:"));
    let when = revoked["revoked_at"].clone();

    // Twice: same answer, nothing new recorded.
    s.clock.advance_seconds(5);
    let (st, again) = s.post_empty(&format!("/oauth/apps/acme/clients/{cid}/grants/{g1}/revoke")).await;
    assert_eq!((st, &again["revoked_at"]), (StatusCode::OK, &when));
    let (_, ev) = s.get("/audit-events?action=grant.revoked").await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 1);
    assert_eq!(ev["events"][0]["details"]["reason"], "user asked");
    assert_eq!(ev["events"][0]["target_id"], g1.to_string());

    // A grant of another client is not reachable through this one's path.
    let other = s.create_client("acme").await;
    let (st, _) = s
        .post_empty(&format!(
            "/oauth/apps/acme/clients/{}/grants/{g2}/revoke",
            other["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (_, active) = s.get(&format!("/oauth/apps/acme/clients/{cid}/grants?status=active")).await;
    assert_eq!(active["grants"].as_array().unwrap().len(), 1);

    // Deleting a user revokes their grants.
    let (st, _) = s.delete(&format!("/users/{bob}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, g) = s.get(&format!("/grants/{g2}")).await;
    assert_eq!(g["status"], "revoked");
    assert_eq!(g["revoke_reason"], "user deleted");
}

#[tokio::test]
async fn scopes_held_by_live_grants_cannot_be_removed() {
    let s = TestServer::start().await;
    let app = s.create_app("acme").await;
    let client = s.create_client("acme").await;
    let ada = user(&s, "ada@example.com").await;
    let g = grant(&s, &app, &client, ada, GrantedResource::User(ada), &["read", "mcp:invoke"]).await;

    let (st, e) = s.patch("/oauth/apps/acme", json!({"supported_scopes": ["read", "write"]})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().unwrap().contains("archive"));
    // A scope whose name is a LIKE pattern prefix of a held one is not mistaken for it.
    let (st, _) = s
        .patch("/oauth/apps/acme", json!({"supported_scopes": ["read", "mcp:invoke"]}))
        .await;
    assert_eq!(st, StatusCode::OK, "write is held by nobody");

    s.post_empty(&format!(
        "/oauth/apps/acme/clients/{}/grants/{g}/revoke",
        client["id"].as_str().unwrap()
    ))
    .await;
    let (st, a) = s.patch("/oauth/apps/acme", json!({"supported_scopes": ["read"]})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(a["supported_scopes"], json!(["read"]));

    // Disabling is its own audited action; the deployment-scoped path serves the same app.
    let (_, a) = s.patch("/deployments/1/oauth/apps/acme", json!({"is_active": false})).await;
    assert_eq!(a["is_active"], false);
    let (_, ev) = s.get("/audit-events?action=app.disabled").await;
    assert_eq!(ev["events"][0]["details"]["before"]["is_active"], true);
    assert_eq!(ev["events"][0]["details"]["after"]["is_active"], false);

    // Domains are unique across apps.
    let (st, _) = s
        .post("/oauth/apps", json!({"slug": "one", "name": "One", "fqdn": "auth.one.test"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .post("/oauth/apps", json!({"slug": "two", "name": "Two", "fqdn": "AUTH.ONE.TEST"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = s.patch("/oauth/apps/acme", json!({"fqdn": "auth.one.test"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
}

#[tokio::test]
async fn directory_rules() {
    let s = TestServer::start().await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "Ada@Example.com", "name": "Ada", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(u["email"], "ada@example.com");
    assert_eq!(u["has_password"], true);
    assert!(!u.to_string().contains("correct horse"));
    let ada = id(&u);
    let (st, _) = s.post("/users", json!({"email": "ada@example.com"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (creds, hash) = s
        .state
        .store
        .user_credentials(DEFAULT_DEPLOYMENT_ID, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.id, ada);
    assert!(latchkey_core::password::verify_password("correct horse battery", &hash.unwrap()));

    let (_, org) = s.post("/organizations", json!({"name": "Acme Inc"})).await;
    let org_id = id(&org);
    let (_, ws) = s
        .post("/workspaces", json!({"name": "Research", "organization_id": org_id.to_string()}))
        .await;
    let ws_id = id(&ws);

    // Workspace membership needs organization membership first.
    let (st, _) = s
        .post(&format!("/workspaces/{ws_id}/memberships"), json!({"user_id": ada.to_string()}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, m) = s
        .post(
            &format!("/organizations/{org_id}/memberships"),
            json!({"user_id": ada.to_string(), "permissions": ["org:read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let (st, _) = s
        .post(
            &format!("/workspaces/{ws_id}/memberships"),
            json!({"user_id": ada.to_string(), "permissions": ["ws:write"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, m) = s
        .patch(
            &format!("/organizations/{org_id}/memberships/{ada}"),
            json!({"permissions": ["org:read", "org:admin"]}),
        )
        .await;
    assert_eq!((st, m["permissions"].clone()), (StatusCode::OK, json!(["org:read", "org:admin"])));
    let (_, mine) = s.get(&format!("/users/{ada}/memberships")).await;
    assert_eq!(mine["memberships"].as_array().unwrap().len(), 2);

    // Leaving the organization leaves its workspaces too.
    let (st, _) = s.delete(&format!("/organizations/{org_id}/memberships/{ada}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, wm) = s.get(&format!("/workspaces/{ws_id}/memberships")).await;
    assert_eq!(wm["memberships"], json!([]));

    // Deleting an organization revokes grants on it and its workspaces.
    let app = s.create_app("acme").await;
    let client = s.create_client("acme").await;
    let g_org = grant(&s, &app, &client, ada, GrantedResource::Organization(org_id), &["read"]).await;
    let g_ws = grant(&s, &app, &client, ada, GrantedResource::Workspace(ws_id), &["read"]).await;
    let g_me = grant(&s, &app, &client, ada, GrantedResource::User(ada), &["read"]).await;
    let (st, _) = s.delete(&format!("/organizations/{org_id}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for (g, status) in [(g_org, "revoked"), (g_ws, "revoked"), (g_me, "active")] {
        let (_, got) = s.get(&format!("/grants/{g}")).await;
        assert_eq!(got["status"], status, "grant {g}");
    }
    let (st, _) = s.get(&format!("/workspaces/{ws_id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Listing pages with a cursor.
    for i in 0..5 {
        user(&s, &format!("u{i}@example.com")).await;
    }
    let (_, p1) = s.get("/users?limit=4").await;
    assert_eq!(p1["users"].as_array().unwrap().len(), 4);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = s.get(&format!("/users?limit=4&before={cursor}")).await;
    assert_eq!(p2["users"].as_array().unwrap().len(), 2);
    assert!(p2["next_cursor"].is_null());
    let (_, found) = s.get("/users?email=U3@example.com").await;
    assert_eq!(found["users"][0]["email"], "u3@example.com");

    // Updating keeps unsent fields; a new password is hashed, never echoed.
    let (_, upd) = s
        .patch(
            &format!("/users/{ada}"),
            json!({"given_name": "Ada", "password": "another long password"}),
        )
        .await;
    assert_eq!((upd["name"].as_str(), upd["given_name"].as_str()), (Some("Ada"), Some("Ada")));
    let (_, ev) = s.get(&format!("/audit-events?action=user.updated&target_id={ada}")).await;
    assert_eq!(ev["events"][0]["details"]["password_changed"], true);
    assert!(!ev.to_string().contains("another long password"));
}

#[tokio::test]
async fn resource_servers_crud_and_alias_uniqueness() {
    let s = TestServer::start().await;
    s.create_app("acme").await;
    let (st, rs) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/mcp", "name": "MCP", "aliases": ["mcp"], "scopes": ["mcp:invoke"], "require_binding": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{rs}");
    let rid = rs["id"].as_str().unwrap();
    let (st, _) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/mcp"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "same identifier");
    let (st, _) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/rest", "aliases": ["mcp"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "alias taken");
    let (st, rest) = s
        .post(
            "/oauth/apps/acme/resource-servers",
            json!({"identifier": "https://api.acme.test/rest", "aliases": ["rest"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .patch(
            &format!("/oauth/apps/acme/resource-servers/{}", rest["id"].as_str().unwrap()),
            json!({"aliases": ["mcp"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "update cannot take another's alias");

    let (st, upd) = s
        .patch(
            &format!("/oauth/apps/acme/resource-servers/{rid}"),
            json!({"require_binding": false, "scopes": ["read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (upd["require_binding"].as_bool(), upd["aliases"].clone()),
        (Some(false), json!(["mcp"]))
    );
    let (_, list) = s.get("/oauth/apps/acme/resource-servers").await;
    assert_eq!(list["resource_servers"].as_array().unwrap().len(), 2);
    let (st, _) = s.delete(&format!("/oauth/apps/acme/resource-servers/{rid}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&format!("/oauth/apps/acme/resource-servers/{rid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, ev) = s.get("/audit-events?action=resource_server.").await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn signing_keys_are_sealed_and_compromise_rules() {
    let s = TestServer::start().await;
    let app = s.create_app("acme").await;
    let (active, sealed) = s.state.store.active_signing_key(id(&app)).await.unwrap();
    let der = s
        .state
        .sealer
        .open(&sealed, &format!("signing_key:{}", active.id))
        .expect("opens with the master key");
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).expect("a PKCS#8 RSA key");
    use aws_lc_rs::signature::KeyPair as _;
    assert_eq!(pair.public_key().modulus_len(), 256, "RSA-2048");
    assert!(!sealed.contains("MII"), "not PEM/DER in the clear");
    let other = latchkey_core::crypto::MasterKey::generate().sealer();
    assert!(other.open(&sealed, &format!("signing_key:{}", active.id)).is_err());

    let (_, r) = s.post_empty("/oauth/apps/acme/signing-keys/rotate").await;
    let new_kid = r["new"]["kid"].as_str().unwrap().to_owned();
    // Compromising the retired key needs no replacement; twice is harmless.
    let (st, k) = s
        .post_empty(&format!("/oauth/apps/acme/signing-keys/{}/compromise", active.kid))
        .await;
    assert_eq!((st, k["status"].as_str()), (StatusCode::OK, Some("compromised")));
    let (st, _) = s
        .post_empty(&format!("/oauth/apps/acme/signing-keys/{}/compromise", active.kid))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, keys) = s.get("/oauth/apps/acme/signing-keys").await;
    let statuses: Vec<(&str, &str)> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [(new_kid.as_str(), "active"), (active.kid.as_str(), "compromised")]);
    assert!(!keys.to_string().contains("PRIVATE"));
    let (_, ev) = s.get("/audit-events?action=signing_key.").await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 2, "rotate + one compromise");
}

#[tokio::test]
async fn audit_filters_and_cursor() {
    let s = TestServer::start().await;
    s.create_app("acme").await;
    let c = s.create_client("acme").await;
    let cid = c["client_id"].as_str().unwrap();
    for _ in 0..3 {
        s.post_empty(&format!("/oauth/apps/acme/clients/{cid}/rotate-secret")).await;
    }
    let t = latchkey_core::Clock::now(&s.clock).rfc3339();
    s.clock.advance_seconds(10);
    s.patch("/oauth/apps/acme", json!({"name": "Later"})).await;

    let (_, all) = s.get("/audit-events").await;
    let n = all["events"].as_array().unwrap().len();
    assert!(n >= 7, "{all}");
    let (_, by_client) = s.get(&format!("/audit-events?client_id={cid}")).await;
    assert_eq!(by_client["events"].as_array().unwrap().len(), 4);
    let (_, by_actor) = s.get("/audit-events?actor=system").await;
    assert!(
        by_actor["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"]["type"] == "system")
    );
    let key_id = all["events"][0]["actor"]["id"].as_str().unwrap();
    let (_, by_key) = s.get(&format!("/audit-events?actor=api_key:{key_id}")).await;
    assert_eq!(by_key["events"].as_array().unwrap().len(), n - 2, "all but the bootstrap events");
    let (_, later) = s.get(&format!("/audit-events?since={}", urlencode(&t))).await;
    assert!(later["events"].as_array().unwrap().iter().any(|e| e["action"] == "app.updated"));
    let (_, before) = s.get(&format!("/audit-events?until={}", urlencode(&t))).await;
    assert!(!before["events"].as_array().unwrap().iter().any(|e| e["action"] == "app.updated"));

    // Walk the whole trail two at a time: every event once, newest first.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/audit-events?limit=2&cursor={c}"),
            None => "/audit-events?limit=2".into(),
        };
        let (_, page) = s.get(&path).await;
        for e in page["events"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(seen.len() <= n);
    }
    let expected: Vec<String> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, expected);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
