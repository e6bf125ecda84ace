//! The authorization endpoint's request checks (RFC 6749 §4.1.1, RFC 7636, RFC 8707, RFC 9207,
//! OpenID Connect Core §3.1.2.1), as a pipeline of small named steps.
//!
//! Order matters: until the client and its redirect URI are known to be good, errors are shown
//! to the user ([`PageError`]); after that they go back to the client's redirect URI
//! ([`OAuthError`]), as RFC 6749 §4.1.2.1 requires.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::client::{Client, GrantType};
use crate::oauth::{ErrorCode, OAuthError, Params};
use crate::resource_server::ResourceServer;
use crate::{pkce, redirect_uri, scope};

/// Scopes every app understands: OpenID Connect's.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub fn is_oidc_scope(s: &str) -> bool {
    OIDC_SCOPES.contains(&s)
}

/// An error shown on an error page instead of being sent to a redirect URI that could not
/// be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub title: &'static str,
    pub detail: String,
}

impl PageError {
    fn new(title: &'static str, detail: impl Into<String>) -> Self {
        PageError {
            title,
            detail: detail.into(),
        }
    }
}

/// `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// A checked authorization request, kept in the consent transaction until the user decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// The redirect URI to send the answer to (the requested one, which matched).
    pub redirect_uri: String,
    /// Whether `redirect_uri` was in the request; if so the token request must repeat it.
    pub redirect_uri_sent: bool,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    /// RFC 8707 resource indicators (canonical identifiers of the app's resource servers).
    pub resources: Vec<String>,
    pub login_hint: Option<String>,
}

/// Step 1: the client exists, belongs to this app and is active.
pub fn check_client<'a>(app: &App, client: Option<&'a Client>, client_id: Option<&str>) -> Result<&'a Client, PageError> {
    let Some(client_id) = client_id else {
        return Err(PageError::new("Missing client", "The request has no client_id."));
    };
    let client = client.filter(|c| c.app_id == app.id).ok_or_else(|| {
        PageError::new(
            "Unknown client",
            format!("No client {client_id:?} is registered with {}.", app.name),
        )
    })?;
    if !client.is_active {
        return Err(PageError::new(
            "Client disabled",
            "This application has been deactivated by the operator.",
        ));
    }
    Ok(client)
}

/// Step 2: the redirect URI is one the client registered (exact match, RFC 8252 loopback
/// ports); without one, the client must have registered exactly one.
pub fn check_redirect_uri(client: &Client, requested: Option<&str>) -> Result<(String, bool), PageError> {
    match requested {
        Some(r) => redirect_uri::find_match(&client.config.redirect_uris, r)
            .map(|_| (r.to_owned(), true))
            .ok_or_else(|| {
                PageError::new(
                    "Invalid redirect URI",
                    "The redirect_uri does not match any URI registered for this client.",
                )
            }),
        None => match client.config.redirect_uris.as_slice() {
            [only] => Ok((only.clone(), false)),
            _ => Err(PageError::new(
                "Missing redirect URI",
                "This client registered several redirect URIs: the request must name one.",
            )),
        },
    }
}

fn check_response_type(p: &Params) -> Result<(), OAuthError> {
    match p.single("response_type")? {
        Some("code") => Ok(()),
        None => Err(OAuthError::invalid_request("response_type is required and must be code")),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!("response_type {other:?} is not supported: only the authorization code flow (code) is"),
        )),
    }
}

fn check_unsupported(p: &Params) -> Result<(), OAuthError> {
    for name in ["request", "request_uri"] {
        if p.single(name)?.is_some() {
            return Err(OAuthError::invalid_request(format!("the {name} parameter is not supported")));
        }
    }
    match p.single("response_mode")? {
        None | Some("query") => Ok(()),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "response_mode {other:?} is not supported: use query"
        ))),
    }
}

fn check_prompt(p: &Params) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    if let Some(v) = p.single("prompt")? {
        for item in v.split(' ').filter(|s| !s.is_empty()) {
            match item {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                other => {
                    return Err(OAuthError::invalid_request(format!("prompt {other:?} is not supported")));
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other prompt values",
            ));
        }
    }
    Ok(prompt)
}

fn check_max_age(p: &Params) -> Result<Option<i64>, OAuthError> {
    match p.single("max_age")? {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| OAuthError::invalid_request("max_age must be a non-negative number of seconds")),
    }
}

/// RFC 8707: every `resource` is an absolute URI naming one of the app's resource servers.
pub fn check_resources(values: &[&str], servers: &[ResourceServer]) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let absolute = url::Url::parse(v).is_ok() && !v.contains('#');
        let server = servers.iter().find(|s| s.identifier == *v);
        match (absolute, server) {
            (true, Some(s)) => {
                if !out.contains(&s.identifier) {
                    out.push(s.identifier.clone());
                }
            }
            (false, _) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidTarget,
                    format!("resource {v:?} must be an absolute URI without a fragment"),
                ));
            }
            (true, None) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidTarget,
                    format!("resource {v:?} is not a resource server of this authorization server"),
                ));
            }
        }
    }
    Ok(out)
}

/// The scopes asked for: each one an active scope of the app or an OpenID Connect scope.
/// Without a `scope` parameter, the scopes the requested resource servers accept (or, with
/// none, all of the app's active scopes) are asked for.
pub fn check_scope(p: &Params, app: &App, resources: &[String], servers: &[ResourceServer]) -> Result<Vec<String>, OAuthError> {
    let requested = match p.single("scope")? {
        Some(s) => scope::split(s),
        None => {
            let from_servers: Vec<String> = servers
                .iter()
                .filter(|s| resources.contains(&s.identifier))
                .flat_map(|s| s.scopes.iter().cloned())
                .collect();
            let base: Vec<String> = if from_servers.is_empty() {
                app.scopes.iter().map(|d| d.scope.clone()).collect()
            } else {
                from_servers
            };
            base.into_iter().filter(|s| app.offers_scope(s)).collect()
        }
    };
    let mut out: Vec<String> = Vec::new();
    for s in requested {
        if !scope::is_scope_token(&s) {
            return Err(OAuthError::invalid_scope(format!("{s:?} is not a valid scope")));
        }
        let known = is_oidc_scope(&s) || app.offers_scope(&s);
        if !known {
            return Err(OAuthError::invalid_scope(format!("{s:?} is not a scope of this application")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Steps 3…: everything after the redirect URI is trusted. Errors go to the client.
pub fn check_request(
    p: &Params,
    app: &App,
    client: &Client,
    redirect_uri: String,
    redirect_uri_sent: bool,
    servers: &[ResourceServer],
) -> Result<AuthorizationRequest, OAuthError> {
    check_unsupported(p)?;
    check_response_type(p)?;
    if !client.config.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        ));
    }
    let code_challenge = pkce::check_challenge(p.single("code_challenge")?, p.single("code_challenge_method")?)?;
    let resources = check_resources(&p.all("resource"), servers)?;
    let mut scopes = check_scope(p, app, &resources, servers)?;
    // A client that registered its scopes (RFC 7591 `scope`) may ask only for those.
    if let Some(registered) = &client.config.scope {
        let allowed = scope::split(registered);
        if p.single("scope")?.is_none() {
            scopes.retain(|s| is_oidc_scope(s) || allowed.contains(s));
        } else if let Some(extra) = scopes.iter().find(|s| !is_oidc_scope(s) && !allowed.contains(s)) {
            return Err(OAuthError::invalid_scope(format!(
                "this client did not register the scope {extra:?}"
            )));
        }
    }
    let prompt = check_prompt(p)?;
    let max_age = check_max_age(p)?;
    let limit = |name: &str, v: Option<&str>, max: usize| -> Result<Option<String>, OAuthError> {
        match v {
            Some(v) if v.len() > max => Err(OAuthError::invalid_request(format!("{name} is longer than {max} characters"))),
            other => Ok(other.map(str::to_owned)),
        }
    };
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        redirect_uri_sent,
        scopes,
        state: limit("state", p.single("state")?, 2048)?,
        nonce: limit("nonce", p.single("nonce")?, 512)?,
        code_challenge,
        prompt,
        max_age,
        resources,
        login_hint: limit("login_hint", p.single("login_hint")?, 254)?,
    })
}

/// Builds the redirect back to the client: `code` or `error` with `error_description`, plus
/// `state` and the RFC 9207 `iss`, appended to the redirect URI's own query.
pub fn redirect_url(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return redirect_uri.to_owned(),
    };
    if !params.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::CreateApp;
    use crate::client::{ClientInput, Registration};
    use crate::{Id, Timestamp};

    fn app() -> App {
        let n = CreateApp {
            slug: "acme".into(),
            name: "Acme".into(),
            supported_scopes: Some(vec!["read".into(), "write".into(), "old".into()]),
            ..Default::default()
        }
        .validate(None)
        .unwrap();
        let mut scopes = n.scopes;
        scopes[2].archived = true;
        App {
            id: Id::from_i64(1),
            deployment_id: Id::from_i64(1),
            slug: n.slug,
            name: n.name,
            description: None,
            logo_url: None,
            fqdn: None,
            scopes,
            allow_dynamic_client_registration: false,
            dcr_require_initial_access_token: false,
            is_active: true,
            domain_verified: false,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    fn client(uris: &[&str]) -> Client {
        let config = serde_json::from_value::<ClientInput>(serde_json::json!({
            "client_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": uris,
        }))
        .unwrap()
        .into_new_config()
        .unwrap();
        Client {
            id: Id::from_i64(2),
            app_id: Id::from_i64(1),
            deployment_id: Id::from_i64(1),
            client_id: "lkc_test".into(),
            config,
            registration: Registration::Manual,
            is_active: true,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    fn server(identifier: &str, scopes: &[&str]) -> ResourceServer {
        ResourceServer {
            id: Id::from_i64(9),
            app_id: Id::from_i64(1),
            identifier: identifier.into(),
            name: "api".into(),
            aliases: vec!["mcp".into()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            require_binding: false,
            credential_id: None,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn base() -> String {
        format!("response_type=code&client_id=lkc_test&code_challenge={CHALLENGE}&code_challenge_method=S256&scope=read")
    }

    #[test]
    fn client_and_redirect_uri_errors_are_shown_not_redirected() {
        let a = app();
        let c = client(&["https://app.example.com/cb", "http://127.0.0.1/cb"]);
        assert!(check_client(&a, None, Some("x")).is_err());
        assert!(check_client(&a, Some(&c), None).is_err());
        let mut other_app = c.clone();
        other_app.app_id = Id::from_i64(77);
        assert!(check_client(&a, Some(&other_app), Some("lkc_test")).is_err());
        let mut inactive = c.clone();
        inactive.is_active = false;
        assert!(check_client(&a, Some(&inactive), Some("lkc_test")).is_err());
        assert!(check_redirect_uri(&c, None).is_err(), "two registered: must name one");
        assert!(check_redirect_uri(&c, Some("https://evil.example/cb")).is_err());
        assert_eq!(
            check_redirect_uri(&c, Some("http://127.0.0.1:5555/cb")).unwrap(),
            ("http://127.0.0.1:5555/cb".into(), true)
        );
        let single = client(&["https://app.example.com/cb"]);
        assert_eq!(
            check_redirect_uri(&single, None).unwrap(),
            ("https://app.example.com/cb".into(), false)
        );
    }

    #[test]
    fn request_rules() {
        let a = app();
        let c = client(&["https://app.example.com/cb"]);
        let servers = vec![server("https://api.acme.test/mcp", &["write"])];
        let run = |q: &str| {
            check_request(
                &Params::parse(q.as_bytes()),
                &a,
                &c,
                "https://app.example.com/cb".into(),
                true,
                &servers,
            )
        };
        let ok = run(&base()).unwrap();
        assert_eq!(ok.scopes, ["read"]);
        assert_eq!(ok.code_challenge, CHALLENGE);

        let cases: Vec<(String, ErrorCode)> = vec![
            (
                base().replace("response_type=code", "response_type=token"),
                ErrorCode::UnsupportedResponseType,
            ),
            (base().replace("response_type=code&", ""), ErrorCode::InvalidRequest),
            (
                base().replace(&format!("code_challenge={CHALLENGE}&"), ""),
                ErrorCode::InvalidRequest,
            ),
            (base().replace("S256", "plain"), ErrorCode::InvalidRequest),
            (base().replace("&code_challenge_method=S256", ""), ErrorCode::InvalidRequest),
            (base().replace("scope=read", "scope=admin"), ErrorCode::InvalidScope),
            (base().replace("scope=read", "scope=old"), ErrorCode::InvalidScope),
            (format!("{}&resource=https://other.example/api", base()), ErrorCode::InvalidTarget),
            (format!("{}&resource=mcp", base()), ErrorCode::InvalidTarget),
            (format!("{}&prompt=none%20login", base()), ErrorCode::InvalidRequest),
            (format!("{}&prompt=dance", base()), ErrorCode::InvalidRequest),
            (format!("{}&max_age=-1", base()), ErrorCode::InvalidRequest),
            (format!("{}&response_mode=fragment", base()), ErrorCode::InvalidRequest),
            (format!("{}&request=eyJ", base()), ErrorCode::InvalidRequest),
            (format!("{}&state=a&state=b", base()), ErrorCode::InvalidRequest),
        ];
        for (q, code) in cases {
            assert_eq!(run(&q).unwrap_err().code, code, "{q}");
        }

        let r = run(&format!(
            "{}&resource=https://api.acme.test/mcp&scope=openid&prompt=login%20consent&max_age=0&nonce=n",
            base().replace("&scope=read", "")
        ))
        .unwrap();
        assert_eq!(r.resources, ["https://api.acme.test/mcp"]);
        assert_eq!(r.scopes, ["openid"]);
        assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
        assert_eq!(r.max_age, Some(0));
        // No scope parameter: what the named resource server accepts.
        let r = run(&format!("{}&resource=https://api.acme.test/mcp", base().replace("&scope=read", ""))).unwrap();
        assert_eq!(r.scopes, ["write"]);
        // No scope and no resource: every active scope of the app.
        let r = run(&base().replace("&scope=read", "")).unwrap();
        assert_eq!(r.scopes, ["read", "write"]);
    }

    #[test]
    fn redirect_urls_keep_their_query_and_encode_values() {
        assert_eq!(
            redirect_url(
                "https://a.example/cb?x=1",
                &[("code", "c"), ("state", "a b&c"), ("iss", "https://i.example")]
            ),
            "https://a.example/cb?x=1&code=c&state=a+b%26c&iss=https%3A%2F%2Fi.example"
        );
    }
}
