//! A table of malformed or forbidden backend API requests: each gets a clear 4xx in the one
//! error shape and leaves the store exactly as it was.

use latchkey_core::secret::SecretKind;
use latchkey_server::services::secrets;
use latchkey_testkit::TestServer;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
    Form(Vec<(&'static str, &'static str)>, Option<Vec<u8>>),
}

enum Auth {
    Key,
    None,
    Raw(String),
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    auth: Auth,
    body: Body,
    status: StatusCode,
}

fn case(name: &'static str, method: Method, path: &str, body: Body, status: u16) -> Case {
    Case {
        name,
        method,
        path: path.to_owned(),
        auth: Auth::Key,
        body,
        status: StatusCode::from_u16(status).unwrap(),
    }
}

fn client_body(patch: Value) -> Body {
    let mut b = json!({
        "client_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code"],
        "redirect_uris": ["https://app.example.com/cb"]
    });
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v.clone();
        }
    }
    Body::Json(b)
}

#[tokio::test]
async fn malformed_and_forbidden_requests_are_refused_without_side_effects() {
    let s = TestServer::start().await;
    s.create_app("acme").await;
    let client = s.create_client("acme").await;
    let cid = client["id"].as_str().unwrap().to_owned();
    let (_, public) = s
        .post(
            "/oauth/apps/acme/clients",
            json!({"client_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1/cb"]}),
        )
        .await;
    let public_id = public["client_id"].as_str().unwrap().to_owned();

    // A second tenant with its own key.
    let (other_key, record) = secrets::api_key(&s.state.hasher, "other", None);
    let other = s.state.store.create_deployment("other", &record).await.unwrap();
    assert!(SecretKind::ApiKey.looks_valid(other_key.expose()));

    use Method as M;
    let mut cases = vec![
        case(
            "slug with space",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "bad slug", "name": "x"})),
            422,
        ),
        case(
            "slug too short",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "ab", "name": "x"})),
            422,
        ),
        case(
            "slug upper case",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "Acme2", "name": "x"})),
            422,
        ),
        case(
            "duplicate slug",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "acme", "name": "x"})),
            409,
        ),
        case(
            "fqdn with scheme",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "beta", "name": "x", "fqdn": "https://auth.example.com"})),
            422,
        ),
        case("missing name", M::POST, "/oauth/apps", Body::Json(json!({"slug": "beta"})), 422),
        case(
            "unknown field",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "beta", "name": "x", "slugg": 1})),
            422,
        ),
        case(
            "bad scope token",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "beta", "name": "x", "supported_scopes": ["two words"]})),
            422,
        ),
        case(
            "bad scope category",
            M::POST,
            "/oauth/apps",
            Body::Json(json!({"slug": "beta", "name": "x", "scope_definitions": [{"scope": "a", "category": "galaxy"}]})),
            422,
        ),
        case(
            "broken json",
            M::POST,
            "/oauth/apps",
            Body::Raw("application/json", b"{\"slug\": ".to_vec()),
            400,
        ),
        case(
            "wrong content type",
            M::POST,
            "/oauth/apps",
            Body::Raw("text/plain", b"slug=beta".to_vec()),
            415,
        ),
        case(
            "svg logo",
            M::POST,
            "/oauth/apps",
            Body::Form(vec![("slug", "beta"), ("name", "Beta")], Some(b"<svg onload=alert(1)/>".to_vec())),
            422,
        ),
        case(
            "form boolean",
            M::POST,
            "/oauth/apps",
            Body::Form(
                vec![("slug", "beta"), ("name", "Beta"), ("allow_dynamic_client_registration", "maybe")],
                None,
            ),
            422,
        ),
        case(
            "form unknown field",
            M::POST,
            "/oauth/apps",
            Body::Form(vec![("slug", "beta"), ("name", "Beta"), ("colour", "red")], None),
            422,
        ),
        case(
            "oversized body",
            M::POST,
            "/oauth/apps",
            Body::Raw("application/json", vec![b' '; 2 * 1024 * 1024]),
            413,
        ),
        case(
            "patch unknown app",
            M::PATCH,
            "/oauth/apps/nope",
            Body::Json(json!({"name": "x"})),
            404,
        ),
        case(
            "patch duplicate scopes",
            M::PATCH,
            "/oauth/apps/acme",
            Body::Json(json!({"supported_scopes": ["a", "a"]})),
            422,
        ),
        case(
            "patch empty name",
            M::PATCH,
            "/oauth/apps/acme",
            Body::Json(json!({"name": "  "})),
            422,
        ),
        case("method not allowed", M::DELETE, "/oauth/apps", Body::None, 405),
        case(
            "client on unknown app",
            M::POST,
            "/oauth/apps/nope/clients",
            client_body(json!({})),
            404,
        ),
        case(
            "http redirect on public host",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"redirect_uris": ["http://app.example.com/cb"]})),
            422,
        ),
        case(
            "redirect with fragment",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"redirect_uris": ["https://app.example.com/cb#x"]})),
            422,
        ),
        case(
            "relative redirect",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"redirect_uris": ["/cb"]})),
            422,
        ),
        case(
            "no redirect uris",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"redirect_uris": null})),
            422,
        ),
        case(
            "client credentials",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"grant_types": ["authorization_code", "client_credentials"]})),
            422,
        ),
        case(
            "no authorization_code",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"grant_types": ["refresh_token"]})),
            422,
        ),
        case(
            "pkjwt without keys",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"client_auth_method": "private_key_jwt"})),
            422,
        ),
        case(
            "pkjwt with http jwks_uri",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"client_auth_method": "private_key_jwt", "jwks_uri": "http://keys.example.com/jwks"})),
            422,
        ),
        case(
            "secret method with jwks_uri",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"jwks_uri": "https://keys.example.com/jwks"})),
            422,
        ),
        case(
            "ttl too short",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"access_token_ttl_seconds": 10})),
            422,
        ),
        case(
            "ttl too long",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"access_token_ttl_seconds": 86401})),
            422,
        ),
        case(
            "unknown token format",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"access_token_format": "paseto"})),
            422,
        ),
        case(
            "ttl of wrong type",
            M::POST,
            "/oauth/apps/acme/clients",
            client_body(json!({"access_token_ttl_seconds": "long"})),
            422,
        ),
        case(
            "patch unknown client",
            M::PATCH,
            "/oauth/apps/acme/clients/lkc_nope",
            Body::Json(json!({"client_name": "x"})),
            404,
        ),
        case(
            "client of another app path",
            M::GET,
            &format!("/oauth/apps/nope/clients/{cid}"),
            Body::None,
            404,
        ),
        case(
            "rotate public client",
            M::POST,
            &format!("/oauth/apps/acme/clients/{public_id}/rotate-secret"),
            Body::None,
            409,
        ),
        case(
            "negative overlap",
            M::POST,
            &format!("/oauth/apps/acme/clients/{cid}/rotate-secret"),
            Body::Json(json!({"overlap_seconds": -5})),
            422,
        ),
        case(
            "revoke unknown grant",
            M::POST,
            &format!("/oauth/apps/acme/clients/{cid}/grants/12345/revoke"),
            Body::None,
            404,
        ),
        case(
            "revoke malformed grant id",
            M::POST,
            &format!("/oauth/apps/acme/clients/{cid}/grants/abc/revoke"),
            Body::None,
            404,
        ),
        case(
            "compromise unknown key",
            M::POST,
            "/oauth/apps/acme/signing-keys/nokid/compromise",
            Body::None,
            404,
        ),
        case(
            "archive unknown scope",
            M::POST,
            "/oauth/apps/acme/scopes/admin/archive",
            Body::None,
            404,
        ),
        case(
            "personal scope with org permission",
            M::POST,
            "/oauth/apps/acme/scopes/read/mapping",
            Body::Json(json!({"category": "personal", "organization_permission": "org:read"})),
            422,
        ),
        case(
            "mapping without category",
            M::POST,
            "/oauth/apps/acme/scopes/read/mapping",
            Body::Json(json!({"category": ""})),
            422,
        ),
        case("user id not a number", M::GET, "/users/abc", Body::None, 404),
        case("bad email", M::POST, "/users", Body::Json(json!({"email": "not-an-email"})), 422),
        case(
            "weak password",
            M::POST,
            "/users",
            Body::Json(json!({"email": "a@example.com", "password": "short"})),
            422,
        ),
        case(
            "workspace without organization",
            M::POST,
            "/workspaces",
            Body::Json(json!({"name": "W"})),
            422,
        ),
        case(
            "membership of unknown org",
            M::POST,
            "/organizations/999/memberships",
            Body::Json(json!({"user_id": "1"})),
            404,
        ),
        case(
            "resource server over http",
            M::POST,
            "/oauth/apps/acme/resource-servers",
            Body::Json(json!({"identifier": "http://api.example.com/mcp"})),
            422,
        ),
        case(
            "resource server with unknown scope",
            M::POST,
            "/oauth/apps/acme/resource-servers",
            Body::Json(json!({"identifier": "https://api.example.com/mcp", "scopes": ["admin"]})),
            422,
        ),
        case("audit bad since", M::GET, "/audit-events?since=yesterday", Body::None, 400),
        case("audit limit too large", M::GET, "/audit-events?limit=100000", Body::None, 400),
        case("api key without name", M::POST, "/api-keys", Body::Json(json!({"name": ""})), 422),
        case("unknown route", M::GET, "/oauth/nothing-here", Body::None, 404),
    ];
    let mut with_auth = |name, auth: Auth, path: &str, status| {
        cases.push(Case {
            name,
            method: M::GET,
            path: path.to_owned(),
            auth,
            body: Body::None,
            status: StatusCode::from_u16(status).unwrap(),
        })
    };
    with_auth("no api key", Auth::None, "/oauth/apps", 401);
    with_auth(
        "unknown api key",
        Auth::Raw(format!("Bearer {}", SecretKind::ApiKey.generate().expose())),
        "/oauth/apps",
        401,
    );
    with_auth(
        "client secret as api key",
        Auth::Raw(format!("Bearer {}", client["client_secret"].as_str().unwrap())),
        "/oauth/apps",
        401,
    );
    with_auth("basic scheme", Auth::Raw("Basic dXNlcjpwYXNz".into()), "/oauth/apps", 401);
    with_auth(
        "another deployment in the path",
        Auth::Key,
        &format!("/deployments/{}/oauth/apps", other.id),
        403,
    );
    with_auth(
        "other tenant's key on our deployment",
        Auth::Raw(format!("Bearer {}", other_key.expose())),
        "/deployments/1/oauth/apps",
        403,
    );
    with_auth(
        "other tenant cannot see our app",
        Auth::Raw(format!("Bearer {}", other_key.expose())),
        "/oauth/apps/acme",
        404,
    );
    with_auth(
        "other tenant cannot see our client",
        Auth::Raw(format!("Bearer {}", other_key.expose())),
        &format!("/oauth/apps/acme/clients/{cid}"),
        404,
    );
    assert!(cases.len() >= 30);

    // Let the API keys' last-used stamps settle so they do not count as a change.
    s.get("/oauth/apps").await;
    s.call_as(other_key.expose(), M::GET, "/oauth/apps", None).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let before = s.dump().await;

    for c in cases {
        let mut req = s.http.request(c.method.clone(), format!("{}{}", s.base, c.path));
        req = match &c.auth {
            Auth::Key => req.bearer_auth(&s.api_key),
            Auth::None => req,
            Auth::Raw(v) => req.header(AUTHORIZATION, v),
        };
        req = match c.body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, bytes) => req.header(CONTENT_TYPE, ct).body(bytes),
            Body::Form(fields, logo) => {
                let mut boundary_body = Vec::new();
                let boundary = "latchkeyboundary";
                for (k, v) in fields {
                    boundary_body.extend_from_slice(
                        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
                    );
                }
                if let Some(bytes) = logo {
                    boundary_body.extend_from_slice(
                        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n").as_bytes(),
                    );
                    boundary_body.extend_from_slice(&bytes);
                    boundary_body.extend_from_slice(b"\r\n");
                }
                boundary_body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
                req.header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                    .body(boundary_body)
            }
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, c.status, "{}: {body}", c.name);
        let code = body["error"].as_str().unwrap_or_default();
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!code.is_empty() && !message.is_empty(), "{}: error shape {body}", c.name);
    }

    let after = s.dump().await;
    let changed: Vec<_> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).collect();
    assert!(changed.is_empty(), "a refused request changed the store: {changed:#?}");
    assert_eq!(after, before);
}
