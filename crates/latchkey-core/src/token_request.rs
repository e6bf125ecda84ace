//! The token endpoint's narrowing rules: what a token request may ask for out of what was
//! granted.
//!
//! - RFC 6749 §6: a `scope` parameter on a refresh request may only narrow the granted
//!   scopes; a scope that was not granted is `invalid_scope`.
//! - RFC 8707 §2.2: `resource` parameters at the token endpoint must each be among the
//!   granted resources (else `invalid_target`); the token is then audience-restricted to
//!   them, each once.
//!
//! Both leave the grant as it is when the parameter is absent.

use crate::oauth::{ErrorCode, OAuthError, Params};
use crate::scope;

/// RFC 8707 §2.2: the requested resources, which must be among those granted (deduplicated,
/// in request order); all granted resources when none is requested.
pub fn narrow_resources(p: &Params, granted: &[String]) -> Result<Vec<String>, OAuthError> {
    let asked = p.all("resource");
    if asked.is_empty() {
        return Ok(granted.to_vec());
    }
    let mut out: Vec<String> = Vec::new();
    for r in asked {
        if !granted.iter().any(|g| g == r) {
            return Err(OAuthError::new(ErrorCode::InvalidTarget, format!("resource {r:?} was not granted")));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_owned());
        }
    }
    Ok(out)
}

/// RFC 6749 §6: the requested scopes, which must be among those granted; all granted scopes
/// when `scope` is absent. A repeated `scope` parameter is an `invalid_request`.
pub fn narrow_scopes(p: &Params, granted: &[String]) -> Result<Vec<String>, OAuthError> {
    match p.single("scope")? {
        None => Ok(granted.to_vec()),
        Some(s) => {
            let asked = scope::split(s);
            if let Some(extra) = asked.iter().find(|a| !granted.contains(a)) {
                return Err(OAuthError::invalid_scope(format!("scope {extra:?} was not granted")));
            }
            Ok(asked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rule = fn(&Params, &[String]) -> Result<Vec<String>, OAuthError>;
    /// A row: name, the request's form body, the granted list, and the expected narrowed list
    /// or error code.
    type Row<'a> = (&'a str, &'a str, &'a [&'a str], Result<&'a [&'a str], ErrorCode>);

    fn run(rule: Rule, rows: &[Row]) {
        for (name, body, granted, want) in rows {
            let granted: Vec<String> = granted.iter().map(|s| s.to_string()).collect();
            let got = rule(&Params::parse(body.as_bytes()), &granted);
            match (want, got) {
                (Ok(want), Ok(got)) => assert_eq!(got, *want, "{name}"),
                (Err(code), Err(e)) => assert_eq!(e.code, *code, "{name}: {e}"),
                (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
            }
        }
    }

    const A: &str = "https://a.example/api";
    const B: &str = "https://b.example/mcp";

    #[test]
    fn resources_may_only_narrow_what_was_granted() {
        run(
            narrow_resources,
            &[
                ("absent: everything granted", "grant_type=refresh_token", &[A, B], Ok(&[A, B])),
                ("absent, nothing granted", "", &[], Ok(&[])),
                ("empty value counts as absent", "resource=", &[A], Ok(&[A])),
                ("one of two", "resource=https%3A%2F%2Fb.example%2Fmcp", &[A, B], Ok(&[B])),
                (
                    "both, in request order",
                    "resource=https%3A%2F%2Fb.example%2Fmcp&resource=https%3A%2F%2Fa.example%2Fapi",
                    &[A, B],
                    Ok(&[B, A]),
                ),
                (
                    "repeats are deduplicated",
                    "resource=https%3A%2F%2Fa.example%2Fapi&resource=https%3A%2F%2Fa.example%2Fapi",
                    &[A, B],
                    Ok(&[A]),
                ),
                (
                    "not granted",
                    "resource=https%3A%2F%2Fevil.example%2F",
                    &[A, B],
                    Err(ErrorCode::InvalidTarget),
                ),
                (
                    "one good, one not granted",
                    "resource=https%3A%2F%2Fa.example%2Fapi&resource=https%3A%2F%2Fc.example%2F",
                    &[A, B],
                    Err(ErrorCode::InvalidTarget),
                ),
                (
                    "nothing granted",
                    "resource=https%3A%2F%2Fa.example%2Fapi",
                    &[],
                    Err(ErrorCode::InvalidTarget),
                ),
                (
                    "exact match only (no prefix)",
                    "resource=https%3A%2F%2Fa.example%2Fapi%2Fv2",
                    &[A],
                    Err(ErrorCode::InvalidTarget),
                ),
            ],
        );
    }

    #[test]
    fn scopes_may_only_narrow_what_was_granted() {
        run(
            narrow_scopes,
            &[
                (
                    "absent: everything granted",
                    "grant_type=refresh_token",
                    &["openid", "read"],
                    Ok(&["openid", "read"]),
                ),
                ("empty counts as absent", "scope=", &["read"], Ok(&["read"])),
                ("same set", "scope=read+openid", &["openid", "read"], Ok(&["read", "openid"])),
                ("a subset", "scope=read", &["openid", "read", "write"], Ok(&["read"])),
                (
                    "extra spaces ignored",
                    "scope=%20read%20%20write%20",
                    &["read", "write"],
                    Ok(&["read", "write"]),
                ),
                ("only spaces: nothing", "scope=%20%20", &["read"], Ok(&[])),
                ("wider", "scope=read+write", &["read"], Err(ErrorCode::InvalidScope)),
                ("case matters", "scope=READ", &["read"], Err(ErrorCode::InvalidScope)),
                ("nothing granted", "scope=read", &[], Err(ErrorCode::InvalidScope)),
                (
                    "repeated parameter",
                    "scope=read&scope=write",
                    &["read", "write"],
                    Err(ErrorCode::InvalidRequest),
                ),
            ],
        );
    }

    #[test]
    fn descriptions_name_the_offending_value() {
        let granted = vec!["read".to_string()];
        let e = narrow_scopes(&Params::parse(b"scope=read+write"), &granted).unwrap_err();
        assert_eq!(e.description, "scope \"write\" was not granted");
        let e = narrow_resources(&Params::parse(b"resource=https%3A%2F%2Fx.example%2F"), &granted).unwrap_err();
        assert_eq!(e.description, "resource \"https://x.example/\" was not granted");
    }
}
