//! Redirect URIs: what may be registered (RFC 6749 §3.1.2, RFC 9700 §4.1, RFC 8252 §7.3) and
//! how a requested URI is matched against the registered ones (exact string comparison, with
//! the RFC 8252 exception that the port of a loopback IP literal may differ).

use std::net::IpAddr;

use url::{Host, Url};

use crate::validate::ValidationError;

pub const MAX_LEN: usize = 2048;

/// Whether a parsed URL's host is a loopback address or the name `localhost`.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn is_loopback_ip_literal(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// Checks a redirect URI an operator registers: absolute `https`, or `http` only on a
/// loopback host; no fragment; no user-info; no wildcard; at most 2048 characters. The
/// string is kept exactly as given, because matching is by exact comparison.
pub fn validate_registration(field: &str, raw: &str) -> Result<String, ValidationError> {
    let err = |msg: &str| Err(ValidationError::new(field, format!("{raw:?}: {msg}")));
    if raw.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if raw.len() > MAX_LEN {
        return Err(ValidationError::new(field, format!("must be at most {MAX_LEN} characters")));
    }
    if raw.trim() != raw || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err("must not contain whitespace");
    }
    if raw.contains('#') {
        return err("must not contain a fragment (RFC 6749 §3.1.2)");
    }
    if raw.contains('*') {
        return err("wildcards are not allowed: register each redirect URI exactly");
    }
    let url = match Url::parse(raw) {
        Ok(u) => u,
        Err(_) => return err("must be an absolute URI"),
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return err("plain http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https");
        }
        _ => return err("must use the http or https scheme"),
    }
    // WHATWG parsing forgives "https:host" and "https:///host"; a registration must not.
    let after_scheme = &raw[url.scheme().len()..];
    if url.host().is_none() || !after_scheme.starts_with("://") || after_scheme[3..].starts_with('/') {
        return err("must name a host: scheme://host/path");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return err("must not contain user information");
    }
    Ok(raw.to_owned())
}

/// Schemes a native app may never claim.
const FORBIDDEN_SCHEMES: [&str; 6] = ["javascript", "data", "file", "vbscript", "about", "blob"];

/// Checks a redirect URI of a native app (RFC 8252): what a web app may register (https, or
/// http on a loopback host), or a private-use URI scheme in reverse domain name form such as
/// `com.example.app:/oauth2redirect` (§7.1). No fragment, no wildcard.
pub fn validate_native(field: &str, raw: &str) -> Result<String, ValidationError> {
    let err = |msg: &str| Err(ValidationError::new(field, format!("{raw:?}: {msg}")));
    let Some((scheme, _)) = raw.split_once(':') else {
        return err("must be an absolute URI");
    };
    if scheme == "http" || scheme == "https" {
        return validate_registration(field, raw);
    }
    if raw.len() > MAX_LEN || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err("must be at most 2048 characters without whitespace");
    }
    if raw.contains('#') || raw.contains('*') {
        return err("must not contain a fragment or a wildcard");
    }
    let scheme_ok = scheme.contains('.')
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'))
        && scheme.as_bytes()[0].is_ascii_lowercase()
        && !FORBIDDEN_SCHEMES.contains(&scheme);
    if !scheme_ok {
        return err("a native app's private-use scheme must be a lowercase reverse domain name such as com.example.app (RFC 8252 §7.1)");
    }
    if Url::parse(raw).is_err() {
        return err("must be an absolute URI");
    }
    Ok(raw.to_owned())
}

/// Finds the registered redirect URI that `requested` matches: byte-for-byte equality, or,
/// when the registered URI's host is a loopback IP literal (`127.0.0.1`, `[::1]`), equality
/// of everything but the port (RFC 8252 §7.3). Returns the requested URI to redirect to.
pub fn find_match<'a>(registered: &'a [String], requested: &str) -> Option<&'a str> {
    if let Some(r) = registered.iter().find(|r| r.as_str() == requested) {
        return Some(r.as_str());
    }
    let req = Url::parse(requested).ok()?;
    if req.scheme() != "http" || !is_loopback_ip_literal(&req) || requested.contains('#') {
        return None;
    }
    registered.iter().map(String::as_str).find(|r| {
        let Ok(reg) = Url::parse(r) else { return false };
        reg.scheme() == "http" && is_loopback_ip_literal(&reg) && without_port(r, &reg) == without_port(requested, &req)
    })
}

/// The URI string with the port removed, for the loopback comparison. Works on the raw
/// string so that nothing else is normalised.
fn without_port(raw: &str, parsed: &Url) -> Option<String> {
    let host = match parsed.host()? {
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => format!("[{ip}]"),
        Host::Domain(_) => return None,
    };
    let rest = raw.strip_prefix("http://")?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority_host = match authority.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']') => h,
        _ => authority,
    };
    if authority_host != host {
        return None;
    }
    Some(format!("http://{authority_host}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        for (uri, ok) in [
            ("https://app.example.com/callback", true),
            ("https://app.example.com/cb?x=1", true),
            ("http://127.0.0.1:8000/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]:9000/cb", true),
            ("http://localhost:3000/cb", true),
            ("http://app.example.com/cb", false),
            ("https://app.example.com/cb#frag", false),
            ("https://app.example.com/cb#", false),
            ("https://*.example.com/cb", false),
            ("https://user:pw@app.example.com/cb", false),
            ("https://user@app.example.com/cb", false),
            ("/relative/cb", false),
            ("ftp://app.example.com/cb", false),
            ("javascript:alert(1)", false),
            ("com.example.app:/cb", false),
            ("https:///cb", false),
            ("https:app.example.com/cb", false),
            (" https://app.example.com/cb", false),
            ("https://app.example.com/c b", false),
            ("", false),
        ] {
            assert_eq!(validate_registration("redirect_uris[0]", uri).is_ok(), ok, "{uri}");
        }
        assert!(validate_registration("r", &format!("https://a.example/{}", "x".repeat(2048))).is_err());
    }

    #[test]
    fn native_registration_rules() {
        for (uri, ok) in [
            ("com.example.app:/oauth2redirect", true),
            ("com.example.app:/cb?x=1", true),
            ("http://127.0.0.1/cb", true),
            ("https://app.example.com/cb", true),
            ("http://app.example.com/cb", false),
            ("myapp:/cb", false),
            ("Com.Example.app:/cb", false),
            ("javascript:alert(1)", false),
            ("com.example.app:/cb#x", false),
            ("com.example.app:/*", false),
            ("no-colon", false),
        ] {
            assert_eq!(validate_native("r", uri).is_ok(), ok, "{uri}");
        }
        assert_eq!(
            find_match(&["com.example.app:/cb".to_owned()], "com.example.app:/cb"),
            Some("com.example.app:/cb")
        );
        assert_eq!(find_match(&["com.example.app:/cb".to_owned()], "com.example.app:/cb2"), None);
    }

    #[test]
    fn matching_is_exact_except_loopback_ports() {
        let reg = vec![
            "https://app.example.com/callback".to_owned(),
            "http://127.0.0.1/cb".to_owned(),
            "http://[::1]:1234/cb?x=1".to_owned(),
            "http://localhost:3000/cb".to_owned(),
        ];
        for (req, expect) in [
            ("https://app.example.com/callback", true),
            ("https://app.example.com/callback/", false),
            ("https://app.example.com/Callback", false),
            ("https://APP.example.com/callback", false),
            ("https://app.example.com/callback?x=1", false),
            ("https://app.example.com/callback#f", false),
            ("https://app.example.com:443/callback", false),
            ("https://app.example.com/callback/../callback", false),
            ("https://app.example.com%2Fcallback", false),
            ("https://app.example.com@evil.example/callback", false),
            ("http://app.example.com/callback", false),
            ("http://127.0.0.1/cb", true),
            ("http://127.0.0.1:51234/cb", true),
            ("http://127.0.0.1:51234/cb/", false),
            ("http://127.0.0.1:51234/cb?y=2", false),
            ("https://127.0.0.1:51234/cb", false),
            ("http://[::1]:9/cb?x=1", true),
            ("http://[::1]/cb?x=1", true),
            ("http://localhost:3000/cb", true),
            ("http://localhost:3001/cb", false),
            ("http://127.0.0.1:3000/cb?x=1", false),
            ("http://127.0.0.2/cb", false),
        ] {
            assert_eq!(find_match(&reg, req).is_some(), expect, "{req}");
        }
    }
}
