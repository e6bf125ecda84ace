//! The address a request is judged by (registration and sign-in throttles, audit): the TCP
//! peer — or, only when the peer is one of the configured `--trusted-proxies`, the address
//! that proxy saw, read from `X-Forwarded-For` right to left past every trusted hop. A client
//! cannot change the address it is judged by unless it connects through a trusted proxy.
//!
//! Limits are keyed by [`ClientIp::key`]: IPv4 addresses as they are, IPv6 addresses by their
//! /64 (one subscriber or host usually holds a whole /64, so per-address keys would be free
//! to multiply).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

static FORWARDED_FOR: axum::http::HeaderName = axum::http::HeaderName::from_static("x-forwarded-for");

/// The client's address (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// What limits count against: the IPv4 address, or the IPv6 address's /64.
    pub fn key(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        }
    }

    /// The client's address given the TCP peer, the request headers and the trusted proxies.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientIp {
        let mut client = canonical(peer);
        if !is_trusted(client, trusted) {
            return ClientIp(client);
        }
        // Right to left: each entry was appended by the hop after it; stop at the first
        // address that is not one of ours (the client as our outermost proxy saw it).
        let hops = headers
            .get_all(&FORWARDED_FOR)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect::<Vec<_>>();
        for entry in hops.iter().rev().flat_map(|v| v.rsplit(',')) {
            let Some(addr) = parse_hop(entry) else {
                // Unreadable: nothing to its left can be attributed; keep the last known hop.
                break;
            };
            client = addr;
            if !is_trusted(addr, trusted) {
                break;
            }
        }
        ClientIp(client)
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Without connection info (a server not started by `latchkey serve` or the test kit)
        // every caller shares one key.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(ClientIp::resolve(peer, &parts.headers, &state.settings.trusted_proxies))
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports) is the
/// IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    e.parse::<IpAddr>()
        .ok()
        .or_else(|| e.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(&FORWARDED_FOR, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (peer, X-Forwarded-For values, trusted proxies, expected client)
        let cases: &[(&str, &[&str], &[IpNet], &str)] = &[
            ("203.0.113.9", &["198.51.100.1"], &trusted, "203.0.113.9"),
            ("10.0.0.2", &[], &trusted, "10.0.0.2"),
            ("10.0.0.2", &["198.51.100.1"], &[], "10.0.0.2"),
            ("10.0.0.2", &["198.51.100.1"], &trusted, "198.51.100.1"),
            ("10.0.0.2", &["6.6.6.6, 198.51.100.1"], &trusted, "198.51.100.1"),
            ("10.0.0.2", &["6.6.6.6, 198.51.100.1, 10.0.0.3"], &trusted, "198.51.100.1"),
            ("10.0.0.2", &["6.6.6.6", "198.51.100.1, 10.9.9.9"], &trusted, "198.51.100.1"),
            ("10.0.0.2", &["10.0.0.4, 10.0.0.3"], &trusted, "10.0.0.4"),
            ("10.0.0.2", &["6.6.6.6, garbage, 10.0.0.3"], &trusted, "10.0.0.3"),
            ("10.0.0.2", &["198.51.100.1:4711"], &trusted, "198.51.100.1"),
            ("10.0.0.2", &["[2001:db8::7]:443"], &trusted, "2001:db8::7"),
            ("::1", &["::ffff:198.51.100.1"], &trusted, "198.51.100.1"),
            ("::ffff:10.0.0.2", &["198.51.100.1"], &trusted, "198.51.100.1"),
        ];
        for (peer, values, trusted, want) in cases {
            assert_eq!(
                ClientIp::resolve(ip(peer), &xff(values), trusted).0,
                ip(want),
                "peer {peer}, X-Forwarded-For {values:?}"
            );
        }
    }

    #[test]
    fn ipv6_is_keyed_per_64() {
        let k = |s: &str| ClientIp(s.parse().unwrap()).key().to_string();
        assert_eq!(k("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(k("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::");
        assert_ne!(k("2001:db8:1:3::1"), k("2001:db8:1:2::1"));
        assert_eq!(k("198.51.100.7"), "198.51.100.7");
    }
}
