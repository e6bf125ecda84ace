//! DNS, behind one small interface so that the outbound fetcher (addresses) and custom-domain
//! verification (TXT records) can be tested with answers the test controls
//! ([`StaticResolver`]) while the server asks the system's resolvers ([`SystemResolver`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

/// Why a lookup gave no answer. Callers turn it into a generic error: the detail is for logs.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The name exists with no record of the type asked, or does not exist.
    #[error("no such record")]
    NotFound,
    #[error("DNS lookup timed out")]
    Timeout,
    #[error("DNS lookup failed: {0}")]
    Failed(String),
}

pub type Lookup<'a, T> = Pin<Box<dyn Future<Output = Result<T, DnsError>> + Send + 'a>>;

/// The lookups Latchkey makes.
pub trait Resolver: Send + Sync {
    /// The A and AAAA addresses of `host`.
    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>>;
    /// The TXT records of `name`, each record's strings joined (RFC 7208 §3.3 style).
    fn txt<'a>(&'a self, name: &'a str) -> Lookup<'a, Vec<String>>;
}

/// How long one lookup may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The system's resolvers (`/etc/resolv.conf`), through hickory. Built on first use, so a
/// machine without a resolver configuration still starts (and fails lookups clearly).
#[derive(Default)]
pub struct SystemResolver {
    inner: tokio::sync::OnceCell<Result<TokioResolver, String>>,
}

impl SystemResolver {
    async fn resolver(&self) -> Result<&TokioResolver, DnsError> {
        self.inner
            .get_or_init(|| async {
                TokioResolver::builder_tokio()
                    .map(|b| b.build())
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            })
            .await
            .as_ref()
            .map_err(|e| DnsError::Failed(format!("reading the system resolver configuration: {e}")))
    }
}

fn classify(e: hickory_resolver::net::NetError) -> DnsError {
    if e.is_no_records_found() || e.is_nx_domain() {
        DnsError::NotFound
    } else {
        DnsError::Failed(e.to_string())
    }
}

async fn timed<T>(f: impl Future<Output = Result<T, DnsError>>) -> Result<T, DnsError> {
    tokio::time::timeout(LOOKUP_TIMEOUT, f).await.unwrap_or(Err(DnsError::Timeout))
}

impl Resolver for SystemResolver {
    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>> {
        Box::pin(timed(async move {
            let r = self.resolver().await?;
            let found = r.lookup_ip(host).await.map_err(classify)?;
            Ok(found.iter().collect())
        }))
    }

    fn txt<'a>(&'a self, name: &'a str) -> Lookup<'a, Vec<String>> {
        Box::pin(timed(async move {
            let r = self.resolver().await?;
            let found = r.txt_lookup(name).await.map_err(classify)?;
            Ok(found
                .answers()
                .iter()
                .filter_map(|rec| match &rec.data {
                    RData::TXT(txt) => Some(txt.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect::<String>()),
                    _ => None,
                })
                .collect())
        }))
    }
}

/// Answers set by a test: names without an entry are [`DnsError::NotFound`].
#[derive(Default, Clone)]
pub struct StaticResolver {
    ips: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>,
    txt: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl StaticResolver {
    pub fn set_ips(&self, host: &str, ips: &[IpAddr]) {
        self.ips.lock().unwrap_or_else(|p| p.into_inner()).insert(norm(host), ips.to_vec());
    }

    pub fn set_txt(&self, name: &str, records: &[&str]) {
        let records = records.iter().map(|r| r.to_string()).collect();
        self.txt.lock().unwrap_or_else(|p| p.into_inner()).insert(norm(name), records);
    }
}

impl Resolver for StaticResolver {
    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>> {
        let found = self.ips.lock().unwrap_or_else(|p| p.into_inner()).get(&norm(host)).cloned();
        Box::pin(async move { found.ok_or(DnsError::NotFound) })
    }

    fn txt<'a>(&'a self, name: &'a str) -> Lookup<'a, Vec<String>> {
        let found = self.txt.lock().unwrap_or_else(|p| p.into_inner()).get(&norm(name)).cloned();
        Box::pin(async move { found.ok_or(DnsError::NotFound) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_answers_are_case_and_dot_insensitive() {
        let r = StaticResolver::default();
        r.set_ips("Auth.Example.COM.", &["203.0.113.5".parse().unwrap()]);
        r.set_txt("_latchkey.auth.example.com", &["v=1"]);
        assert_eq!(
            r.ips("auth.example.com").await.unwrap(),
            vec!["203.0.113.5".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(r.txt("_LATCHKEY.auth.example.com.").await.unwrap(), vec!["v=1".to_owned()]);
        assert!(matches!(r.ips("other.example").await, Err(DnsError::NotFound)));
    }
}
