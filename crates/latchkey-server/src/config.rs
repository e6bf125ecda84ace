//! Server configuration: command-line flags, then environment variables, then an optional
//! TOML file, then defaults. Secrets (the master key, the bootstrap API key) are read from
//! the environment or a file only, never from flags, so they do not show up in `ps`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ipnet::IpNet;
use latchkey_core::Secret;
use latchkey_core::crypto::MasterKey;
use latchkey_core::secret::SecretKind;
use serde::Deserialize;
use url::Url;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `latchkey serve`. Every flag also reads the environment variable shown.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "LATCHKEY_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// The URL clients reach this server at; path issuers live under it [default: http://<listen>]
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<Url>,
    /// Directory for the SQLite database and the generated master key [default: ./data]
    #[arg(long, env = "LATCHKEY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: sqlite file latchkey.db in the data directory]
    #[arg(long, env = "LATCHKEY_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// File holding the 256-bit master key (base64url or hex) [default: <data-dir>/secret.key, created on first start]
    #[arg(long, env = "LATCHKEY_SECRET_KEY_FILE", value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// TOML file with any of the settings above (snake_case keys)
    #[arg(long, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log line format [default: text]
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Largest number of database connections [default: 8 on SQLite, 16 on PostgreSQL]
    #[arg(long, env = "LATCHKEY_DB_MAX_CONNECTIONS", value_name = "N")]
    pub db_max_connections: Option<u32>,
    /// Host that app domains must point at (CNAME) to pass verify-domain [default: host of the public URL]
    #[arg(long, env = "LATCHKEY_CNAME_TARGET", value_name = "HOST")]
    pub cname_target: Option<String>,
    /// Hours after which dynamically registered clients that never got a grant are deleted [default: 168]
    #[arg(long, env = "LATCHKEY_DCR_REAP_AFTER_HOURS", value_name = "HOURS")]
    pub dcr_reap_after_hours: Option<u64>,
    /// Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed [default: none: the TCP peer is the client]
    #[arg(long, env = "LATCHKEY_TRUSTED_PROXIES", value_name = "CIDRS", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Option<Vec<IpNet>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    public_url: Option<Url>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    secret_key_file: Option<PathBuf>,
    log_format: Option<LogFormat>,
    db_max_connections: Option<u32>,
    cname_target: Option<String>,
    dcr_reap_after_hours: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub master_key: MasterKey,
    pub bootstrap_api_key: Option<Secret>,
    pub log_format: LogFormat,
    pub db_max_connections: u32,
    pub cname_target: String,
    /// Age after which never-used dynamic registrations are reaped.
    pub dcr_reap_after: std::time::Duration,
    /// Peers whose `X-Forwarded-For` is believed (see `services::client_ip`); empty: none.
    pub trusted_proxies: Vec<IpNet>,
}

impl Settings {
    /// Settings for a server on `listen` with `database_url`, everything else at its default
    /// (the public URL is `http://{listen}`). [`ServeArgs::resolve`] starts from these; tests
    /// and the benchmark build them directly and change what they need.
    pub fn new(listen: SocketAddr, data_dir: PathBuf, database_url: String, master_key: MasterKey) -> Settings {
        Settings {
            listen,
            public_url: format!("http://{listen}"),
            data_dir,
            database_url,
            master_key,
            bootstrap_api_key: None,
            log_format: LogFormat::default(),
            db_max_connections: 8,
            cname_target: listen.ip().to_string(),
            dcr_reap_after: std::time::Duration::from_secs(168 * 3600),
            trusted_proxies: Vec::new(),
        }
    }
}

pub const ENV_SECRET_KEY: &str = "LATCHKEY_SECRET_KEY";
pub const ENV_BOOTSTRAP_API_KEY: &str = "LATCHKEY_BOOTSTRAP_API_KEY";

impl ServeArgs {
    /// Merges flags/environment with the optional file and defaults, and loads (or creates)
    /// the master key.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text).with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let listen = self
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_url = match self.public_url.or(file.public_url) {
            Some(u) => u,
            None => Url::parse(&format!("http://{listen}")).context("building the default public URL")?,
        };
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            bail!("the public URL must be an absolute http(s) URL, got {public_url}");
        }
        if public_url.query().is_some() || public_url.fragment().is_some() {
            bail!("the public URL must not have a query or fragment");
        }
        let data_dir = self.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = match self.database_url.or(file.database_url) {
            Some(u) => u,
            None => {
                std::fs::create_dir_all(&data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
                format!("sqlite://{}?mode=rwc", data_dir.join("latchkey.db").display())
            }
        };
        let is_sqlite = database_url.starts_with("sqlite:");
        let master_key = match std::env::var(ENV_SECRET_KEY) {
            Ok(v) if !v.trim().is_empty() => MasterKey::parse(&v).with_context(|| format!("{ENV_SECRET_KEY} is invalid"))?,
            _ => {
                let path = self
                    .secret_key_file
                    .or(file.secret_key_file)
                    .unwrap_or_else(|| data_dir.join("secret.key"));
                load_or_create_key(&path)?
            }
        };
        let bootstrap_api_key = match std::env::var(ENV_BOOTSTRAP_API_KEY) {
            Ok(v) if !v.is_empty() => {
                if !SecretKind::ApiKey.looks_valid(&v) {
                    bail!(
                        "{ENV_BOOTSTRAP_API_KEY} must be lk_api_ followed by 32-128 characters of A-Z a-z 0-9 - _ (e.g. lk_api_$(openssl rand -hex 32))"
                    );
                }
                Some(Secret::new(v))
            }
            _ => None,
        };
        let cname_target = match self.cname_target.or(file.cname_target) {
            Some(t) => t,
            None => public_url.host_str().unwrap_or("localhost").to_owned(),
        };
        let mut s = Settings::new(listen, data_dir, database_url, master_key);
        s.public_url = public_url.as_str().trim_end_matches('/').to_owned();
        s.bootstrap_api_key = bootstrap_api_key;
        s.log_format = self.log_format.or(file.log_format).unwrap_or_default();
        s.db_max_connections = self
            .db_max_connections
            .or(file.db_max_connections)
            .unwrap_or(if is_sqlite { 8 } else { 16 });
        s.cname_target = cname_target;
        if let Some(hours) = self.dcr_reap_after_hours.or(file.dcr_reap_after_hours) {
            s.dcr_reap_after = std::time::Duration::from_secs(3600 * hours.max(1));
        }
        s.trusted_proxies = match (self.trusted_proxies, file.trusted_proxies) {
            (Some(flag), _) => flag,
            (None, Some(listed)) => listed
                .iter()
                .map(|p| parse_proxy(p).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<_>>()
                .context("trusted_proxies in the config file")?,
            (None, None) => Vec::new(),
        };
        Ok(s)
    }
}

/// A trusted proxy: an address (`10.0.0.7`, `::1`) or a CIDR range (`10.0.0.0/8`).
fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8)"))
}

/// Reads the master key file, or creates it (mode 0600) with a fresh key.
fn load_or_create_key(path: &Path) -> anyhow::Result<MasterKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => MasterKey::parse(&text).with_context(|| format!("the master key file {} is invalid", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let key = MasterKey::generate();
            write_private_file(path, key.encode().expose()).with_context(|| format!("writing the master key to {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new master key; back it up: without it, signing keys cannot be decrypted and secrets cannot be verified");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading the master key file {}", path.display())),
    }
}

fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> ServeArgs {
        ServeArgs {
            data_dir: Some(dir.to_path_buf()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_file_values_and_flag_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let s = args(dir.path()).resolve().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(s.database_url.starts_with("sqlite://") && s.database_url.ends_with("latchkey.db?mode=rwc"));
        assert_eq!(s.cname_target, "127.0.0.1");
        assert_eq!(s.db_max_connections, 8);

        let file = dir.path().join("latchkey.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://auth.example.com/\"\nlog_format = \"json\"\ndatabase_url = \"postgres://db/latchkey\"\n",
        )
        .unwrap();
        let mut a = args(dir.path());
        a.config = Some(file.clone());
        let s = a.resolve().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(s.public_url, "https://auth.example.com", "no trailing slash");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.db_max_connections, 16, "PostgreSQL default");
        assert_eq!(s.cname_target, "auth.example.com");

        let mut a = args(dir.path());
        a.config = Some(file);
        a.listen = Some("127.0.0.1:7000".parse().unwrap());
        a.log_format = Some(LogFormat::Text);
        let s = a.resolve().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7000", "flags win over the file");
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn bad_files_and_urls_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let mut a = args(dir.path());
        a.config = Some(file);
        let e = format!("{:#}", a.resolve().unwrap_err());
        assert!(e.contains("parsing config file") && e.contains("lisen"), "{e}");

        let mut a = args(dir.path());
        a.public_url = Some(Url::parse("ftp://x.example").unwrap());
        assert!(a.resolve().is_err());
    }

    #[test]
    fn trusted_proxies_from_flags_and_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(args(dir.path()).resolve().unwrap().trusted_proxies.is_empty(), "none by default");
        let file = dir.path().join("p.toml");
        std::fs::write(&file, "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        let mut a = args(dir.path());
        a.config = Some(file.clone());
        let got: Vec<String> = a.resolve().unwrap().trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(got, ["10.0.0.0/8", "::1/128"]);
        std::fs::write(&file, "trusted_proxies = [\"10.0.0.0/33\"]\n").unwrap();
        let mut a = args(dir.path());
        a.config = Some(file);
        assert!(format!("{:#}", a.resolve().unwrap_err()).contains("not an IP address or CIDR"));
        assert_eq!(parse_proxy("192.168.1.77/24").unwrap().to_string(), "192.168.1.0/24");
        assert!(parse_proxy("proxy.example").is_err());
    }

    #[test]
    fn the_master_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = args(dir.path()).resolve().unwrap();
        let path = dir.path().join("secret.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let b = args(dir.path()).resolve().unwrap();
        assert_eq!(a.master_key.encode(), b.master_key.encode());
        std::fs::write(&path, "garbage").unwrap();
        assert!(args(dir.path()).resolve().is_err());
    }
}
