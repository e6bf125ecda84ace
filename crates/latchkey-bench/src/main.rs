//! `cargo run --release -p latchkey-bench`: how fast is the gateway check?
//!
//! Starts Latchkey in-process on a fresh SQLite store, issues a real access token, and a bare
//! axum handler that parses the same JSON request and answers a JSON body of similar size —
//! the floor any HTTP JSON service pays on this machine. Then the same load generator (N
//! concurrent keep-alive connections over loopback, for a fixed time) runs against each, and
//! the report gives checks/s, p50 and p99 for both and the ratio. Both servers and the load
//! share the machine, so the ratio is what to compare across runs and machines, not the
//! absolute numbers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use clap::Parser;
use latchkey_core::audit::Actor;
use latchkey_core::crypto::MasterKey;
use latchkey_core::grant::GrantedResource;
use latchkey_core::secret::SecretKind;
use latchkey_core::verify::TokenKind;
use latchkey_core::{Clock, Id, Secret, SystemClock};
use latchkey_server::config::Settings;
use latchkey_store::deployments::DEFAULT_DEPLOYMENT_ID;
use latchkey_store::grants::NewGrant;
use latchkey_store::tokens::{NewToken, TokenContext};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(about = "Gateway check throughput and latency vs a bare axum JSON handler")]
struct Args {
    /// Concurrent connections
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of load per target (after a 2-second warm-up)
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

struct Report {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Report {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

async fn load(url: &str, key: &str, body: &Value, connections: usize, duration: Duration) -> Report {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .http1_only()
        .build()
        .expect("http client");
    let body = Arc::new(serde_json::to_vec(body).expect("body"));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (client, url, key, body) = (client.clone(), url.to_owned(), key.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("load task");
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Report {
        requests: all.len(),
        errors,
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// The baseline: parse the check request, answer a JSON body shaped like a gateway answer.
async fn bare(Json(req): Json<Value>) -> Json<Value> {
    let token = req
        .get("principal")
        .and_then(|p| p.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .len();
    Json(json!({
        "request_id": "bench", "allowed": true, "reason": null, "blocked_rule": null,
        "identity": {"key_id": "1", "deployment_id": "1", "app_slug": "bench", "key_name": "lkc_bench", "owner_user_id": "1",
            "organization_id": null, "workspace_id": null, "organization_membership_id": null, "workspace_membership_id": null,
            "principal_type": "oauth_access_token"},
        "permissions": ["read", "write"],
        "metadata": {"principal_type": "oauth_access_token", "scopes": ["read", "write"], "oauth_resource": "https://api.bench.test/mcp",
            "granted_resource": "urn:latchkey:user:1", "expires_at": "2030-01-01T00:00:00Z", "grant_id": "1", "client_id": "lkc_bench",
            "issuer": "http://127.0.0.1/a/bench", "token_len": token},
        "rate_limits": [], "retry_after": null,
        "headers": {"x-wacht-oauth-client-id": "lkc_bench", "x-wacht-granted-resource": "urn:latchkey:user:1"}
    }))
}

async fn serve(router: axum::Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// Latchkey with an app, resource server, client, user, grant and one live access token.
async fn latchkey(dir: &std::path::Path) -> anyhow::Result<(SocketAddr, String, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let api_key = SecretKind::ApiKey.generate();
    let mut settings = Settings::new(
        addr,
        dir.to_path_buf(),
        format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        MasterKey::generate(),
    );
    settings.bootstrap_api_key = Some(Secret::new(api_key.expose()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let server = latchkey_server::build(settings, clock.clone()).await?;
    let router = server.router;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| http.post(format!("{base}{path}")).bearer_auth(api_key.expose()).json(&body).send();
    let app: Value = post(
        "/oauth/apps",
        json!({"slug": "bench", "name": "Bench", "supported_scopes": ["read", "write"]}),
    )
    .await?
    .json()
    .await?;
    post(
        "/oauth/apps/bench/resource-servers",
        json!({"identifier": "https://api.bench.test/mcp", "aliases": ["mcp"]}),
    )
    .await?;
    let client: Value = post(
        "/oauth/apps/bench/clients",
        json!({"client_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1/cb"]}),
    )
    .await?
    .json()
    .await?;
    let user: Value = post("/users", json!({"email": "bench@example.com"})).await?.json().await?;
    let id = |v: &Value| -> anyhow::Result<Id> { Ok(v["id"].as_str().ok_or_else(|| anyhow::anyhow!("no id in {v}"))?.parse()?) };
    let (app_id, client_id, user_id) = (id(&app)?, id(&client)?, id(&user)?);
    let store = &server.state.store;
    let grant = store
        .upsert_grant(
            DEFAULT_DEPLOYMENT_ID,
            &NewGrant {
                app_id,
                client_record_id: client_id,
                user_id,
                resource: GrantedResource::User(user_id),
                scopes: vec!["read".into(), "write".into()],
                expires_at: None,
            },
            &Actor::system(),
        )
        .await?;
    // A token as the token endpoint would store it.
    let token = SecretKind::AccessToken.generate();
    let ctx = TokenContext {
        deployment_id: DEFAULT_DEPLOYMENT_ID,
        app_id,
        client_record_id: client_id,
        grant_id: grant.id,
        user_id,
        session_id: None,
        family_id: Id::generate(),
        scopes: vec!["read".into(), "write".into()],
        resources: vec!["https://api.bench.test/mcp".into()],
        granted_resource: GrantedResource::User(user_id),
        auth_time: None,
    };
    let record = NewToken {
        id: Id::generate(),
        kind: TokenKind::Access,
        format: "opaque",
        token_hash: server.state.hasher.hash(token.expose()),
        expires_at: clock.now().plus_seconds(86_400),
    };
    store.add_token(&ctx, &record, record.id).await?;
    Ok((addr, api_key.expose().to_owned(), token.expose().to_owned()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let (lk, key, token) = latchkey(dir.path()).await?;
    let baseline = serve(axum::Router::new().route("/v1/authz/check", post(bare))).await?;
    let body = json!({
        "principal": {"type": "oauth_access_token", "value": token},
        "resource": "mcp", "method": "GET", "required_permissions": ["read"],
        "client_ip": "203.0.113.9", "user_agent": "bench/1.0"
    });
    // Make sure the check is a real, allowed one before measuring it.
    let probe: Value = reqwest::Client::new()
        .post(format!("http://{lk}/v1/authz/check"))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(probe["allowed"] == true, "the benchmark token is not allowed: {probe}");

    let run = |addr: SocketAddr, secs: u64| {
        let (key, body) = (key.clone(), body.clone());
        async move {
            load(
                &format!("http://{addr}/v1/authz/check"),
                &key,
                &body,
                args.connections,
                Duration::from_secs(secs),
            )
            .await
        }
    };
    println!("warming up…");
    run(baseline, 2).await;
    run(lk, 2).await;
    println!("measuring {} s each at {} connections…", args.seconds, args.connections);
    let base = run(baseline, args.seconds).await;
    let gate = run(lk, args.seconds).await;
    let show = |name: &str, r: &Report| {
        println!(
            "{name:<22} {:>10.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
            r.rate(),
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.requests,
            r.errors
        );
    };
    show("bare axum JSON handler", &base);
    show("latchkey gateway check", &gate);
    let ratio = gate.rate() / base.rate();
    println!("ratio (latchkey / bare): {ratio:.2}  (goal ≥ 0.60)");
    anyhow::ensure!(gate.errors == 0 && base.errors == 0, "requests failed during the run");
    Ok(())
}
