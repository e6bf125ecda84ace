//! The operator CLI end to end: the real `latchkey` binary against a real server.

use std::io::Write;
use std::process::{Command, Stdio};

use latchkey_testkit::TestServer;
use serde_json::{Value, json};

/// What a run of the binary produced.
struct Out {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Out {
    /// The stdout of a run that must have succeeded.
    fn ok(self) -> String {
        assert!(self.success, "command failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self.stdout
    }

    /// The parsed stdout of a successful `--json` run.
    fn json(self) -> Value {
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
    }

    /// The stderr of a run that must have failed.
    fn err(self) -> String {
        assert!(!self.success, "command should have failed\nstdout:\n{}", self.stdout);
        self.stderr
    }
}

/// Runs `latchkey ARGS` with the given URL, API key (from the environment) and stdin.
async fn latchkey_with(url: &str, api_key: Option<&str>, args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.args(args)
        .env_remove("LATCHKEY_API_KEY")
        .env("LATCHKEY_URL", url)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(k) = api_key {
        cmd.env("LATCHKEY_API_KEY", k);
    }
    let stdin = stdin.map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("spawn latchkey");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("latchkey runs")
    })
    .await
    .expect("join");
    Out {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn latchkey(s: &TestServer, args: &[&str]) -> Out {
    latchkey_with(&s.base, Some(&s.api_key), args, None).await
}

/// The secret printed under the "will not be shown again" line.
fn one_time_secret(out: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.contains("will not be shown again"));
    lines.next().expect("a one-time secret is announced");
    lines.map(str::trim).find(|l| !l.is_empty()).expect("the secret follows").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_flow() {
    let s = TestServer::start().await;

    // --- apps: create (JSON), create with a logo (multipart), list, get ---
    let out = latchkey(
        &s,
        &[
            "apps",
            "create",
            "--slug",
            "demo",
            "--name",
            "Demo",
            "--scopes",
            "read,write,mcp:invoke",
        ],
    )
    .await
    .ok();
    assert!(out.contains("slug: demo"), "{out}");
    assert!(out.contains("name: Demo"), "{out}");

    let logo = s.dir.path().join("logo.png");
    std::fs::write(&logo, b"\x89PNG\r\n\x1a\n0000IHDR-not-really-a-png").unwrap();
    let logo_path = logo.to_str().unwrap();
    let other = latchkey(
        &s,
        &[
            "apps", "create", "--slug", "other", "--name", "Other", "--logo", logo_path, "--json",
        ],
    )
    .await
    .json();
    assert_eq!(other["slug"], "other");
    assert!(other["logo_url"].as_str().is_some(), "{other}");

    let out = latchkey(&s, &["apps", "list"]).await.ok();
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("SLUG"), "{out}");
    assert!(header.contains("SCOPES"), "{out}");
    assert!(
        lines.any(|l| l.starts_with("demo ") && l.contains("Demo") && l.contains(" 3 ")),
        "{out}"
    );

    let app = latchkey(&s, &["apps", "get", "demo", "--json"]).await.json();
    assert_eq!(app["slug"], "demo");
    assert_eq!(app["supported_scopes"].as_array().unwrap().len(), 3);
    // Global options also work before the subcommand.
    let apps = latchkey(&s, &["apps", "--json", "list"]).await.json();
    assert_eq!(apps["apps"].as_array().unwrap().len(), 2);

    // --- scopes: a name with ':' travels percent-encoded ---
    let out = latchkey(&s, &["scopes", "archive", "demo", "mcp:invoke"]).await.ok();
    assert!(out.starts_with("SCOPE"), "{out}");
    let (_, app) = s.get("/oauth/apps/demo").await;
    let archived = app["scope_definitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["scope"] == "mcp:invoke")
        .unwrap();
    assert_eq!(archived["archived"], true);

    // --- clients: the secret is shown once, rotated with an overlap, then deactivated ---
    let out = latchkey(
        &s,
        &[
            "clients",
            "create",
            "demo",
            "--auth-method",
            "client_secret_basic",
            "--redirect-uri",
            "https://app.example.com/callback",
            "--name",
            "Web",
        ],
    )
    .await
    .ok();
    let secret = one_time_secret(&out);
    assert!(secret.len() >= 20, "{out}");
    assert_eq!(out.matches(&secret).count(), 1, "{out}");
    assert!(out.contains("client_name: Web"), "{out}");
    let (_, list) = s.get("/oauth/apps/demo/clients").await;
    let client = &list["clients"][0];
    let id = client["id"].as_str().unwrap().to_owned();
    let client_id = client["client_id"].as_str().unwrap().to_owned();

    let out = latchkey(&s, &["clients", "get", "demo", &client_id]).await.ok();
    assert!(out.contains(&format!("client_id: {client_id}")), "{out}");
    assert!(!out.contains(&secret), "a secret is never shown twice");
    assert!(!out.contains("will not be shown again"), "{out}");

    let out = latchkey(&s, &["clients", "list", "demo"]).await.ok();
    assert!(out.contains(&client_id) && out.contains("client_secret_basic"), "{out}");

    let out = latchkey(&s, &["clients", "rotate-secret", "demo", &id, "--overlap", "60"])
        .await
        .ok();
    let rotated = one_time_secret(&out);
    assert_ne!(rotated, secret);
    assert!(out.contains("previous_secret_valid_until: 20"), "{out}");

    let out = latchkey(&s, &["clients", "secrets", "demo", &id]).await.ok();
    assert_eq!(out.lines().count(), 3, "header and two secrets:\n{out}");
    assert!(!out.contains(&secret) && !out.contains(&rotated), "{out}");

    let out = latchkey(&s, &["clients", "deactivate", "demo", &id]).await.ok();
    assert!(out.contains("is_active: false"), "{out}");

    // --- signing keys: rotate, then two are listed ---
    let out = latchkey(&s, &["keys", "rotate", "demo"]).await.ok();
    assert!(out.contains("status: active"), "{out}");
    let out = latchkey(&s, &["keys", "list", "demo"]).await.ok();
    assert!(out.starts_with("KID"), "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.contains("retired"), "{out}");

    // --- users: the password comes from stdin and is never echoed ---
    let password = "correct horse battery staple";
    let user = latchkey_with(
        &s.base,
        Some(&s.api_key),
        &[
            "users",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{password}\n")),
    )
    .await;
    assert!(!user.stdout.contains(password) && !user.stderr.contains(password));
    let user = user.json();
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["has_password"], true);
    let user_id = user["id"].as_str().unwrap().to_owned();
    let out = latchkey(&s, &["users", "list", "--email", "ada@example.com"]).await.ok();
    assert!(out.contains(&user_id) && out.contains("Ada"), "{out}");

    // --- organizations: create and add a member ---
    let org = latchkey(&s, &["orgs", "create", "--name", "Acme", "--json"]).await.json();
    let org_id = org["id"].as_str().unwrap().to_owned();
    let out = latchkey(&s, &["orgs", "add-member", &org_id, &user_id, "--permission", "admin"])
        .await
        .ok();
    assert!(out.contains(&format!("user_id: {user_id}")), "{out}");
    let out = latchkey(&s, &["orgs", "members", &org_id]).await.ok();
    assert!(out.contains(&user_id) && out.contains("admin"), "{out}");
    let out = latchkey(&s, &["orgs", "remove-member", &org_id, &user_id]).await.ok();
    assert_eq!(out, "removed\n");

    // --- audit: the rotation was recorded ---
    let out = latchkey(&s, &["audit", "--action", "client.secret_rotated"]).await.ok();
    assert!(out.starts_with("TIME"), "{out}");
    assert!(out.contains("client.secret_rotated"), "{out}");
    assert!(out.contains(&client_id), "{out}");
    assert!(!out.contains("client.created"), "{out}");
    let events = latchkey(&s, &["audit", "--json"]).await.json();
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "client.secret_rotated")
    );

    // --- API keys: a new key is shown once ---
    let out = latchkey(&s, &["api-keys", "create", "--name", "ci"]).await.ok();
    let key = one_time_secret(&out);
    assert!(key.starts_with("lk_api_"), "{out}");
    let out = latchkey(&s, &["api-keys", "list"]).await.ok();
    assert!(out.contains("ci"), "{out}");
    assert!(!out.contains(&key) && !out.contains(&s.api_key), "{out}");

    // --- deletes answer 204 ---
    let out = latchkey(&s, &["users", "delete", &user_id]).await.ok();
    assert_eq!(out, "deleted\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_clear() {
    let s = TestServer::start().await;

    // The server's message, status and code; a non-zero exit.
    let err = latchkey(&s, &["apps", "get", "nope"]).await.err();
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains("404 not_found"), "{err}");

    // Validation failures carry the server's message.
    let err = latchkey(&s, &["apps", "create", "--slug", "X", "--name", "x"]).await.err();
    assert!(err.contains("422 validation_failed"), "{err}");

    // No API key: say how to get one, without calling the server.
    let err = latchkey_with(&s.base, None, &["apps", "list"], None).await.err();
    assert!(err.contains("LATCHKEY_API_KEY"), "{err}");
    assert!(err.contains("api-keys create"), "{err}");

    // A wrong key: the server's 401, and the key is not echoed.
    let bad = "lk_api_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let err = latchkey_with(&s.base, Some(bad), &["apps", "list"], None).await.err();
    assert!(err.contains("401 unauthorized"), "{err}");
    assert!(!err.contains(bad), "{err}");

    // No server there: name the URL and suggest the fix.
    let err = latchkey_with("http://127.0.0.1:9", Some(&s.api_key), &["apps", "list"], None)
        .await
        .err();
    assert!(err.contains("http://127.0.0.1:9"), "{err}");
    assert!(err.contains("latchkey serve"), "{err}");
    assert!(!err.contains(&s.api_key), "{err}");

    // --password-stdin with nothing on stdin.
    let err = latchkey_with(
        &s.base,
        Some(&s.api_key),
        &["users", "create", "--email", "a@example.com", "--password-stdin"],
        Some(""),
    )
    .await
    .err();
    assert!(err.contains("no password on stdin"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_settings_and_resource_server_secrets() {
    let s = TestServer::start().await;
    latchkey(&s, &["deployment", "set-consent-url", "https://accounts.example.com/consent"])
        .await
        .ok();
    let d = latchkey(&s, &["deployment", "get", "--json"]).await.json();
    assert_eq!(d["settings"]["consent_url"], "https://accounts.example.com/consent");
    let err = latchkey(&s, &["deployment", "set-consent-url", "http://accounts.example.com/consent"])
        .await
        .err();
    assert!(err.contains("consent_url"), "{err}");
    latchkey(&s, &["deployment", "clear-consent-url"]).await.ok();
    let d = latchkey(&s, &["deployment", "get", "--json"]).await.json();
    assert!(d["settings"].get("consent_url").is_none());

    latchkey(&s, &["apps", "create", "--slug", "acme", "--name", "Acme", "--scopes", "read"])
        .await
        .ok();
    let rs = latchkey(
        &s,
        &[
            "resource-servers",
            "create",
            "acme",
            "--identifier",
            "https://api.acme.test/mcp",
            "--json",
        ],
    )
    .await
    .json();
    let out = latchkey(&s, &["resource-servers", "rotate-secret", "acme", rs["id"].as_str().unwrap()])
        .await
        .ok();
    assert!(out.contains("lkrs_") && out.contains("lk_cs_"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_rules_and_anonymous_gateway() {
    let s = TestServer::start().await;
    latchkey(&s, &["apps", "create", "--slug", "acme", "--name", "Acme", "--scopes", "read"])
        .await
        .ok();
    let rule = latchkey(
        &s,
        &[
            "rate-limits",
            "create",
            "acme",
            "--name",
            "burst",
            "--window",
            "60",
            "--max",
            "100",
            "--json",
        ],
    )
    .await
    .json();
    assert_eq!((rule["scope"].as_str(), rule["max_requests"].as_i64()), (Some("client"), Some(100)));
    let id = rule["id"].as_str().unwrap();
    let upd = latchkey(&s, &["rate-limits", "update", "acme", id, "--max", "5", "--json"])
        .await
        .json();
    assert_eq!(upd["max_requests"], 5);
    let list = latchkey(&s, &["rate-limits", "list", "acme"]).await.ok();
    assert!(list.contains("burst"), "{list}");
    assert!(
        latchkey(&s, &["rate-limits", "create", "acme", "--name", "x", "--window", "0", "--max", "1"])
            .await
            .err()
            .contains("window_seconds")
    );
    latchkey(&s, &["rate-limits", "delete", "acme", id]).await.ok();
    latchkey(&s, &["deployment", "allow-anonymous-gateway", "true"]).await.ok();
    let d = latchkey(&s, &["deployment", "get", "--json"]).await.json();
    assert_eq!(d["settings"]["allow_anonymous_gateway"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamic_registration_policy_and_initial_access_tokens() {
    let s = TestServer::start().await;
    latchkey(&s, &["apps", "create", "--slug", "acme", "--name", "Acme", "--scopes", "read"])
        .await
        .ok();
    latchkey(&s, &["apps", "update", "acme", "--allow-dcr", "true", "--dcr-require-iat", "true"])
        .await
        .ok();
    let app = latchkey(&s, &["apps", "get", "acme", "--json"]).await.json();
    assert_eq!(app["dcr_require_initial_access_token"], true, "{app}");

    let created = latchkey(&s, &["initial-access-tokens", "create", "acme", "--name", "partner", "--json"])
        .await
        .json();
    let token = created["initial_access_token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let register = |bearer: Option<String>| {
        let mut req = s
            .http
            .post(format!("{}/a/acme/oauth/register", s.base))
            .json(&json!({"redirect_uris": ["https://partner.example/cb"], "client_name": "Partner"}));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        req.send()
    };
    assert_eq!(register(None).await.unwrap().status(), 401);
    assert_eq!(register(Some(token.clone())).await.unwrap().status(), 201);

    // Without --json the token is shown once, set apart, and lists render as tables.
    let out = latchkey(&s, &["initial-access-tokens", "create", "acme", "--name", "other"])
        .await
        .ok();
    assert!(one_time_secret(&out).starts_with("lk_rat_"), "{out}");
    let table = latchkey(&s, &["initial-access-tokens", "list", "acme"]).await.ok();
    assert!(
        table.contains("USES") && table.contains("partner") && !table.contains("lk_rat_"),
        "{table}"
    );

    let listed = latchkey(&s, &["initial-access-tokens", "list", "acme", "--json"]).await.json();
    let partner = listed["initial_access_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "partner")
        .unwrap();
    assert_eq!(partner["uses"], 1, "{listed}");
    assert!(!listed.to_string().contains(&token), "the list must not reveal the token");
    latchkey(&s, &["initial-access-tokens", "revoke", "acme", &id]).await.ok();
    assert_eq!(register(Some(token)).await.unwrap().status(), 401);
}
