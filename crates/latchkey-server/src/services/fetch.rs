//! Fetching clients' `jwks_uri` key sets for `private_key_jwt`: https only, never to private,
//! loopback or link-local addresses (checked after DNS resolution, and the connection pinned
//! to the checked address so a second lookup cannot change it), no redirects, a 5-second
//! timeout, a 64 KiB cap, and a 5-minute cache refreshed early when an unknown `kid` shows up
//! (at most once a minute per URL).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use serde_json::Value;

const MAX_BYTES: usize = 64 * 1024;
const TTL: Duration = Duration::from_secs(300);
const MIN_REFRESH: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct JwksFetcher {
    cache: Cache<String, Arc<(Value, Instant)>>,
}

impl Default for JwksFetcher {
    fn default() -> Self {
        JwksFetcher {
            cache: Cache::builder().max_capacity(10_000).time_to_live(TTL).build(),
        }
    }
}

/// Whether an address is one a server must not be made to fetch from.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xC0) == 64) // 100.64.0.0/10 shared address space
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24
                || (o[0] == 198 && (o[1] & 0xFE) == 18) // 198.18.0.0/15 benchmarking
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xFE00) == 0xFC00 // unique local
                || (s[0] & 0xFFC0) == 0xFE80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6.to_ipv4_mapped().is_some_and(|v4| is_forbidden(IpAddr::V4(v4)))
        }
    }
}

impl JwksFetcher {
    /// The key set at `uri`, from the cache unless it lacks `kid`.
    pub async fn get(&self, uri: &str, kid: Option<&str>) -> Result<Value, String> {
        if let Some(hit) = self.cache.get(uri).await {
            let has_kid = kid.is_none_or(|k| has_kid(&hit.0, k));
            if has_kid || hit.1.elapsed() < MIN_REFRESH {
                return Ok(hit.0.clone());
            }
        }
        let set = fetch(uri).await?;
        self.cache.insert(uri.to_owned(), Arc::new((set.clone(), Instant::now()))).await;
        Ok(set)
    }
}

fn has_kid(set: &Value, kid: &str) -> bool {
    set.get("keys")
        .and_then(Value::as_array)
        .is_some_and(|ks| ks.iter().any(|k| k.get("kid").and_then(Value::as_str) == Some(kid)))
}

async fn fetch(uri: &str) -> Result<Value, String> {
    let url = url::Url::parse(uri).map_err(|_| "jwks_uri is not a URL".to_owned())?;
    if url.scheme() != "https" {
        return Err("jwks_uri must use https".into());
    }
    let host = url.host_str().ok_or("jwks_uri has no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host.as_str(), port)))
        .await
        .map_err(|_| "resolving jwks_uri timed out".to_owned())?
        .map_err(|_| "jwks_uri does not resolve".to_owned())?
        .collect();
    let addr = match addrs.first() {
        None => return Err("jwks_uri does not resolve".into()),
        Some(_) if addrs.iter().any(|a| is_forbidden(a.ip())) => {
            return Err("jwks_uri resolves to a private address".into());
        }
        Some(a) => *a,
    };
    let client = reqwest::Client::builder()
        .resolve(&host, addr)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let mut resp = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("fetching jwks_uri: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("jwks_uri answered {}", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading jwks_uri: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err("jwks_uri document is larger than 64 KiB".into());
        }
    }
    let v: Value = serde_json::from_slice(&body).map_err(|_| "jwks_uri did not return JSON".to_owned())?;
    if !v.get("keys").is_some_and(Value::is_array) {
        return Err("jwks_uri did not return a JWK Set".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_targets_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "198.18.0.1",
            "255.255.255.255",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn loopback_and_http_uris_are_never_fetched() {
        let f = JwksFetcher::default();
        assert_eq!(
            f.get("http://keys.example.com/jwks", None).await.unwrap_err(),
            "jwks_uri must use https"
        );
        assert!(f.get("https://127.0.0.1:9/jwks", None).await.unwrap_err().contains("private"));
        assert!(f.get("https://localhost:9/jwks", None).await.unwrap_err().contains("private"));
    }
}
