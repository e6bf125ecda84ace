//! The two cookies of the hosted pages: the end-user session (per deployment) and a
//! browser-binding value that ties a consent transaction to the browser that started it.
//! `HttpOnly`, `SameSite=Lax`, `Path=/`; over https also `Secure` with the `__Host-` prefix.

use axum::http::{HeaderMap, HeaderValue, header};
use latchkey_core::Id;

pub fn session_name(secure: bool, deployment_id: Id) -> String {
    format!("{}lk_s{deployment_id}", if secure { "__Host-" } else { "" })
}

pub fn browser_name(secure: bool) -> &'static str {
    if secure { "__Host-lk_b" } else { "lk_b" }
}

/// The value of cookie `name`, if the request carries it.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value; `max_age` None makes a browser-session cookie.
pub fn set(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    // Names and values are our own ASCII tokens.
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("lk_invalid=1"))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", secure, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; lk_b=xyz; lk_s1=s"));
        assert_eq!(get(&h, "lk_b").as_deref(), Some("xyz"));
        assert_eq!(get(&h, "lk_s1").as_deref(), Some("s"));
        assert_eq!(get(&h, "lk"), None);
        assert_eq!(
            set("__Host-lk_b", "v", true, Some(10)),
            "__Host-lk_b=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=10"
        );
        assert_eq!(session_name(false, Id::from_i64(7)), "lk_s7");
        assert_eq!(session_name(true, Id::from_i64(7)), "__Host-lk_s7");
    }
}
