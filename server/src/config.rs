//! Typed, layered configuration: `Leptos.toml` (compiled in) < `--config FILE` <
//! environment variables < command-line flags.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::admin_token::{AdminAccess, AdminToken};
use crate::chat::Allowance;
use crate::http::{AllowedOrigins, BadOrigin, BadProxy, CookiePolicy, TrustedProxies};
use crate::hub::UserLimitSettings;
use crate::socket::admission::AdmissionSettings;
use crate::storage::{DatabaseUrl, StorageError};

/// The defaults, compiled into the binary.
const DEFAULTS: &str = include_str!("../../Leptos.toml");

/// Command line of the server. Every option also reads an environment variable; unset
/// options keep the value from `Leptos.toml`.
#[derive(Debug, Default, Parser)]
#[command(
    name = "server",
    version,
    about = "Real-time chat: serves the web app and its Socket.IO endpoint.",
    after_help = "Defaults come from Leptos.toml, compiled into this binary."
)]
pub struct Cli {
    /// Address to listen on [default: 127.0.0.1]
    #[arg(long, env = "CHAT_ADDRESS")]
    pub address: Option<IpAddr>,

    /// Port to listen on; 0 picks a free one [default: 3000]
    #[arg(short, long, env = "CHAT_PORT")]
    pub port: Option<u16>,

    /// Log filter, e.g. `info` or `server=debug,socketioxide=info` [default: info]
    #[arg(long, env = "CHAT_LOG")]
    pub log: Option<String>,

    /// Log lines as text for people, or as one JSON object per line for log shippers
    /// [default: text]
    #[arg(long, env = "CHAT_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Serve `GET /metrics` (Prometheus text format): put it behind your network's
    /// access rules, it tells who is online how much [default: off]
    #[arg(long, env = "CHAT_METRICS")]
    pub metrics: bool,

    /// Token that opens the `/admin` Socket.IO namespace and `GET /metrics`. Give it in
    /// the environment: a command line is visible to every user of the machine
    /// [default: none, both refuse everyone]
    #[arg(
        long,
        env = "CHAT_ADMIN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub admin_token: Option<AdminToken>,

    /// Settings file overriding Leptos.toml (same layout, any subset of keys)
    #[arg(long, env = "CHAT_CONFIG")]
    pub config: Option<PathBuf>,

    /// Engine.IO ping interval in milliseconds [default: 25000]
    #[arg(long, env = "CHAT_PING_INTERVAL_MS")]
    pub ping_interval_ms: Option<u64>,

    /// Engine.IO ping timeout in milliseconds [default: 20000]
    #[arg(long, env = "CHAT_PING_TIMEOUT_MS")]
    pub ping_timeout_ms: Option<u64>,

    /// How long a typing indicator lasts without renewal, in milliseconds [default: 3000]
    #[arg(long, env = "CHAT_TYPING_LEASE_MS")]
    pub typing_lease_ms: Option<u64>,

    /// How long a logged-in user keeps their name after their last connection closes, in
    /// milliseconds [default: 15000]
    #[arg(long, env = "CHAT_SESSION_GRACE_MS")]
    pub session_grace_ms: Option<u64>,

    /// Most missed messages sent to a reconnecting client before it must resync [default: 1000]
    #[arg(long, env = "CHAT_CATCH_UP_MAX")]
    pub catch_up_max: Option<u32>,

    /// On shutdown, how long /readyz fails before the server stops taking connections and
    /// closes its sockets, in milliseconds: time for a load balancer to route new clients
    /// elsewhere [default: 0]
    #[arg(long, env = "CHAT_DRAIN_DELAY_MS")]
    pub drain_delay_ms: Option<u64>,

    /// SQLite database file, created if missing [default: chat.db]
    #[arg(long, env = "CHAT_DATABASE")]
    pub database: Option<PathBuf>,

    /// Database URL, instead of --database: `sqlite:PATH`, or `postgres://USER:PASSWORD@HOST/DB`
    /// for a PostgreSQL database that several servers share (its schema is created on
    /// first start)
    #[arg(long, env = "CHAT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The site's public address, e.g. `https://chat.example.com`: over HTTPS, the session
    /// cookie is always `Secure`; its origin is allowed whatever `Host` a proxy sends
    /// [default: none]
    #[arg(long, env = "CHAT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Origins (`scheme://host[:port]`, comma-separated) whose pages may use this server:
    /// Socket.IO and every request that changes something. Behind a proxy or on another
    /// domain, name the public one [default: none: this server's own origin only]
    #[arg(
        long,
        env = "CHAT_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    pub allowed_origins: Option<Vec<String>>,

    /// Proxies (addresses or networks, comma-separated: `10.0.0.0/8,127.0.0.1`) whose
    /// `X-Forwarded-For` names the client, for the per-address limits [default: none]
    #[arg(
        long,
        env = "CHAT_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "NETWORKS"
    )]
    pub trusted_proxies: Option<Vec<String>>,

    /// Log-ins under a new name from one address per second (0: no limit) [default: 1]
    #[arg(long, env = "CHAT_LOGIN_RATE", value_name = "PER_SECOND")]
    pub login_rate: Option<f64>,

    /// Log-ins under a new name from one address at once [default: 30]
    #[arg(long, env = "CHAT_LOGIN_BURST", value_name = "COUNT")]
    pub login_burst: Option<u32>,

    /// New Socket.IO connections from one address per second (0: no limit) [default: 10]
    #[arg(long, env = "CHAT_CONNECTION_RATE", value_name = "PER_SECOND")]
    pub connection_rate: Option<f64>,

    /// New Socket.IO connections from one address at once [default: 100]
    #[arg(long, env = "CHAT_CONNECTION_BURST", value_name = "COUNT")]
    pub connection_burst: Option<u32>,

    /// Socket.IO connections open at once from one address (0: no limit) [default: 500]
    #[arg(long, env = "CHAT_CONNECTIONS_PER_ADDRESS", value_name = "COUNT")]
    pub connections_per_address: Option<usize>,

    /// Socket.IO connections open at once on this server (0: no limit) [default: 20000]
    #[arg(long, env = "CHAT_MAX_CONNECTIONS", value_name = "COUNT")]
    pub max_connections: Option<usize>,

    /// Messages each user may send per second, on average (0: no limit) [default: 5]
    #[arg(long, env = "CHAT_MESSAGE_RATE", value_name = "PER_SECOND")]
    pub message_rate: Option<f64>,

    /// Messages each user may send at once, above the rate [default: 10]
    #[arg(long, env = "CHAT_MESSAGE_BURST", value_name = "COUNT")]
    pub message_burst: Option<u32>,

    /// Typing events each user may send per second (0: no limit) [default: 10]
    #[arg(long, env = "CHAT_TYPING_RATE", value_name = "PER_SECOND")]
    pub typing_rate: Option<f64>,

    /// Typing events each user may send at once [default: 30]
    #[arg(long, env = "CHAT_TYPING_BURST", value_name = "COUNT")]
    pub typing_burst: Option<u32>,

    /// Reads (history, list_rooms, my_conversations) each user may ask for per second (0:
    /// no limit) [default: 10]
    #[arg(long, env = "CHAT_READ_RATE", value_name = "PER_SECOND")]
    pub read_rate: Option<f64>,

    /// Reads each user may ask for at once [default: 60]
    #[arg(long, env = "CHAT_READ_BURST", value_name = "COUNT")]
    pub read_burst: Option<u32>,

    /// Room joins (and creations) each user may ask for per second (0: no limit)
    /// [default: 2]
    #[arg(long, env = "CHAT_JOIN_RATE", value_name = "PER_SECOND")]
    pub join_rate: Option<f64>,

    /// Room joins each user may ask for at once [default: 20]
    #[arg(long, env = "CHAT_JOIN_BURST", value_name = "COUNT")]
    pub join_burst: Option<u32>,

    /// Redis that several servers share, e.g. `redis://127.0.0.1:6379`: events and who is
    /// online reach every server (give them one --database-url too); /readyz fails while
    /// Redis is unreachable [default: none, one server]
    #[arg(long, env = "CHAT_REDIS_URL")]
    pub redis_url: Option<String>,
}

/// The settings file layout (`Leptos.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub socket: SocketSettings,
    pub chat: ChatSettings,
    pub storage: StorageSettings,
    pub limits: LimitSettings,
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// Who may administer: flag or environment only, never a settings file.
    #[serde(skip)]
    pub admin: AdminAccess,
}

/// `[limits]`: per-user token buckets (a rate of 0: no limit).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LimitSettings {
    pub messages_per_second: f64,
    pub messages_burst: u32,
    pub typing_per_second: f64,
    pub typing_burst: u32,
    pub reads_per_second: f64,
    pub reads_burst: u32,
    pub joins_per_second: f64,
    pub joins_burst: u32,
    pub logins_per_second_per_address: f64,
    pub logins_burst_per_address: u32,
    pub connections_per_second_per_address: f64,
    pub connections_burst_per_address: u32,
    pub connections_per_address: usize,
    pub max_connections: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClusterSettings {
    pub redis_url: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text for people.
    #[default]
    Text,
    /// One JSON object per line, with the spans it happened in.
    Json,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServerSettings {
    pub address: IpAddr,
    pub port: u16,
    pub log: String,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default)]
    pub metrics: bool,
    pub shutdown_timeout_secs: u64,
    pub drain_delay_ms: u64,
    /// Empty: this server's own origin only.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    #[serde(default)]
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SocketSettings {
    pub ping_interval_ms: u64,
    pub ping_timeout_ms: u64,
    pub max_payload_bytes: u64,
    pub max_buffered_packets: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ChatSettings {
    pub typing_lease_ms: u64,
    pub session_grace_ms: u64,
    pub catch_up_max: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StorageSettings {
    pub database: PathBuf,
    /// Wins over `database` when set.
    #[serde(default)]
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid settings in {origin}: {source}")]
    Parse {
        origin: String,
        source: toml::de::Error,
    },
}

impl Settings {
    /// Reads the settings: defaults, then `file` if given, then `cli` (flags and env).
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => Some((
                path.display().to_string(),
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?,
            )),
            None => None,
        };
        let mut settings = Self::layered(file)?;
        settings.apply(cli);
        Ok(settings)
    }

    fn layered(file: Option<(String, String)>) -> Result<Self, ConfigError> {
        let parse = |origin: &str, text: &str| {
            text.parse::<toml::Table>()
                .map_err(|source| ConfigError::Parse {
                    origin: origin.to_owned(),
                    source,
                })
        };
        let mut table = parse("built-in Leptos.toml", DEFAULTS)?;
        let mut origin = "built-in Leptos.toml".to_owned();
        if let Some((file_origin, text)) = file {
            merge(&mut table, parse(&file_origin, &text)?);
            origin = file_origin;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|source| ConfigError::Parse { origin, source })
    }

    fn apply(&mut self, cli: &Cli) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *target = value.clone();
            }
        }
        set(&mut self.server.address, &cli.address);
        set(&mut self.server.port, &cli.port);
        set(&mut self.server.log, &cli.log);
        set(&mut self.server.log_format, &cli.log_format);
        self.server.metrics |= cli.metrics;
        if let Some(token) = &cli.admin_token {
            self.admin = AdminAccess::new(Some(token.clone()));
        }
        set(&mut self.server.drain_delay_ms, &cli.drain_delay_ms);
        set(&mut self.server.allowed_origins, &cli.allowed_origins);
        set(&mut self.socket.ping_interval_ms, &cli.ping_interval_ms);
        set(&mut self.socket.ping_timeout_ms, &cli.ping_timeout_ms);
        set(&mut self.chat.typing_lease_ms, &cli.typing_lease_ms);
        set(&mut self.chat.session_grace_ms, &cli.session_grace_ms);
        set(&mut self.chat.catch_up_max, &cli.catch_up_max);
        set(&mut self.storage.database, &cli.database);
        set(&mut self.limits.messages_per_second, &cli.message_rate);
        set(&mut self.limits.messages_burst, &cli.message_burst);
        set(&mut self.limits.typing_per_second, &cli.typing_rate);
        set(&mut self.limits.typing_burst, &cli.typing_burst);
        set(&mut self.limits.reads_per_second, &cli.read_rate);
        set(&mut self.limits.reads_burst, &cli.read_burst);
        set(&mut self.limits.joins_per_second, &cli.join_rate);
        set(&mut self.limits.joins_burst, &cli.join_burst);
        set(
            &mut self.limits.logins_per_second_per_address,
            &cli.login_rate,
        );
        set(&mut self.limits.logins_burst_per_address, &cli.login_burst);
        set(
            &mut self.limits.connections_per_second_per_address,
            &cli.connection_rate,
        );
        set(
            &mut self.limits.connections_burst_per_address,
            &cli.connection_burst,
        );
        set(
            &mut self.limits.connections_per_address,
            &cli.connections_per_address,
        );
        set(&mut self.limits.max_connections, &cli.max_connections);
        set(&mut self.server.trusted_proxies, &cli.trusted_proxies);
        if cli.public_url.is_some() {
            self.server.public_url.clone_from(&cli.public_url);
        }
        if cli.redis_url.is_some() {
            self.cluster.redis_url.clone_from(&cli.redis_url);
        }
        if cli.database_url.is_some() {
            self.storage.database_url.clone_from(&cli.database_url);
        } else if cli.database.is_some() {
            // A path given now wins over a URL from a file.
            self.storage.database_url = None;
        }
    }

    /// The database to use: `database-url` if set, else the SQLite file `database`.
    pub fn database_url(&self) -> Result<DatabaseUrl, StorageError> {
        match &self.storage.database_url {
            Some(url) => DatabaseUrl::parse(url),
            None => Ok(DatabaseUrl::Sqlite(self.storage.database.clone())),
        }
    }

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.server.address, self.server.port)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.server.shutdown_timeout_secs)
    }

    pub fn drain_delay(&self) -> Duration {
        Duration::from_millis(self.server.drain_delay_ms)
    }

    pub fn typing_lease(&self) -> Duration {
        Duration::from_millis(self.chat.typing_lease_ms)
    }

    pub fn session_grace(&self) -> Duration {
        Duration::from_millis(self.chat.session_grace_ms)
    }

    /// The origins allowed to use this server.
    pub fn allowed_origins(&self) -> Result<AllowedOrigins, BadOrigin> {
        AllowedOrigins::new(&self.server.allowed_origins)?
            .with_public_url(self.server.public_url.as_deref())
    }

    /// How the session cookie is set: `Secure` always when the public URL is HTTPS.
    pub fn cookie_policy(&self) -> CookiePolicy {
        CookiePolicy {
            https: self
                .server
                .public_url
                .as_deref()
                .is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://")),
        }
    }

    /// The proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, BadProxy> {
        TrustedProxies::new(&self.server.trusted_proxies)
    }

    /// How often one address may log in under a new name.
    pub fn logins_per_address(&self) -> Option<Allowance> {
        let l = &self.limits;
        Allowance::new(l.logins_per_second_per_address, l.logins_burst_per_address)
    }

    /// How many Socket.IO connections are let in (0: no limit).
    pub fn admission(&self) -> AdmissionSettings {
        let l = &self.limits;
        let limit = |count: usize| (count > 0).then_some(count);
        AdmissionSettings {
            per_address_rate: Allowance::new(
                l.connections_per_second_per_address,
                l.connections_burst_per_address,
            ),
            per_address_open: limit(l.connections_per_address),
            max_open: limit(l.max_connections),
        }
    }

    /// The per-user limits; an unusable one (a rate of 0, a burst of 0) is off.
    pub fn user_limits(&self) -> UserLimitSettings {
        let l = &self.limits;
        UserLimitSettings {
            messages: Allowance::new(l.messages_per_second, l.messages_burst),
            typing: Allowance::new(l.typing_per_second, l.typing_burst),
            reads: Allowance::new(l.reads_per_second, l.reads_burst),
            joins: Allowance::new(l.joins_per_second, l.joins_burst),
        }
    }
}

/// Deep-merges `overlay` into `base`: tables merge key by key, other values replace.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base)), toml::Value::Table(overlay)) => merge(base, overlay),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_parse() {
        // A broken Leptos.toml never ships: every start would fail with this error.
        let settings = Settings::load(&Cli::default()).expect("built-in Leptos.toml is valid");
        assert_eq!(settings.server.port, 3000);
        assert_eq!(settings.server.address, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(settings.typing_lease(), Duration::from_secs(3));
        assert_eq!(settings.session_grace(), Duration::from_secs(15));
        assert_eq!(settings.storage.database, PathBuf::from("chat.db"));
    }

    #[test]
    fn flags_override_file_overrides_defaults() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(file, "[server]\nport = 4000\nlog = \"debug\"").expect("write");
        let cli = Cli {
            config: Some(file.path().to_owned()),
            port: Some(5000),
            ..Cli::default()
        };
        let settings = Settings::load(&cli).expect("valid");
        assert_eq!(settings.server.port, 5000, "flag wins");
        assert_eq!(settings.server.log, "debug", "file wins over default");
        assert_eq!(settings.socket.ping_interval_ms, 25000, "default kept");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(file, "[server]\nprot = 4000").expect("write");
        let cli = Cli {
            config: Some(file.path().to_owned()),
            ..Cli::default()
        };
        let error = Settings::load(&cli).expect_err("typo must be reported");
        assert!(error.to_string().contains("prot"), "{error}");
    }

    #[test]
    fn missing_file_is_an_error() {
        let cli = Cli {
            config: Some("/nonexistent/chat.toml".into()),
            ..Cli::default()
        };
        assert!(matches!(
            Settings::load(&cli),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn a_database_url_chooses_the_engine() {
        let settings = Settings::load(&Cli::default()).expect("defaults");
        assert_eq!(
            settings.database_url().expect("default"),
            DatabaseUrl::Sqlite("chat.db".into())
        );
        let cli =
            Cli::try_parse_from(["server", "--database-url", "postgres://db/chat"]).expect("valid");
        let settings = Settings::load(&cli).expect("valid");
        assert_eq!(
            settings.database_url().expect("postgres"),
            DatabaseUrl::Postgres("postgres://db/chat".into())
        );
        let cli =
            Cli::try_parse_from(["server", "--database-url", "mysql://db/chat"]).expect("parsed");
        let error = Settings::load(&cli)
            .expect("loaded")
            .database_url()
            .expect_err("refused");
        assert!(error.to_string().contains("mysql://db/chat"), "{error}");
    }

    #[test]
    fn limits_default_to_a_real_chat_and_zero_turns_one_off() {
        let settings = Settings::load(&Cli::default()).expect("defaults");
        let limits = settings.user_limits();
        assert_eq!(limits.messages, Allowance::new(5.0, 10));
        assert!(limits.typing.is_some() && limits.reads.is_some() && limits.joins.is_some());
        let cli = Cli::try_parse_from(["server", "--message-rate", "0", "--join-burst", "3"])
            .expect("valid");
        let limits = Settings::load(&cli).expect("valid").user_limits();
        assert_eq!(limits.messages, None, "off");
        assert_eq!(limits.joins, Allowance::new(2.0, 3));
    }

    #[test]
    fn cli_parses_env_style_values() {
        let cli =
            Cli::try_parse_from(["server", "--port", "0", "--address", "::1"]).expect("valid");
        assert_eq!(cli.port, Some(0));
        assert_eq!(cli.address, Some("::1".parse().expect("ip")));
    }
}
