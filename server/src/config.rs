//! Typed, layered configuration: `Leptos.toml` (compiled in) < `--config FILE` <
//! environment variables < command-line flags.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

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
    #[serde(default)]
    pub cluster: ClusterSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ClusterSettings {
    pub redis_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServerSettings {
    pub address: IpAddr,
    pub port: u16,
    pub log: String,
    pub shutdown_timeout_secs: u64,
    pub drain_delay_ms: u64,
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
        set(&mut self.server.drain_delay_ms, &cli.drain_delay_ms);
        set(&mut self.socket.ping_interval_ms, &cli.ping_interval_ms);
        set(&mut self.socket.ping_timeout_ms, &cli.ping_timeout_ms);
        set(&mut self.chat.typing_lease_ms, &cli.typing_lease_ms);
        set(&mut self.chat.session_grace_ms, &cli.session_grace_ms);
        set(&mut self.chat.catch_up_max, &cli.catch_up_max);
        set(&mut self.storage.database, &cli.database);
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
    fn cli_parses_env_style_values() {
        let cli =
            Cli::try_parse_from(["server", "--port", "0", "--address", "::1"]).expect("valid");
        assert_eq!(cli.port, Some(0));
        assert_eq!(cli.address, Some("::1".parse().expect("ip")));
    }
}
