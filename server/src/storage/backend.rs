//! The two engines: SQLite (one file, embedded; the default) and PostgreSQL (a server that
//! several chat processes share). Each has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`); which one is used is chosen by the database URL.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use super::StorageError;

/// Where the database is: `sqlite:PATH` (or a bare path) or `postgres://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads a URL: `sqlite:PATH` or `sqlite://PATH`, `postgres://...` or
    /// `postgresql://...`. Anything else is refused.
    pub fn parse(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .filter(|path| !path.is_empty())
            .ok_or_else(|| StorageError::UnsupportedUrl(url.to_owned()))?;
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

impl std::fmt::Display for DatabaseUrl {
    /// The URL without its password, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres(url) => match PgConnectOptions::from_str(url) {
                Ok(options) => write!(
                    f,
                    "postgres://{}@{}:{}/{}",
                    options.get_username(),
                    options.get_host(),
                    options.get_port(),
                    options.get_database().unwrap_or_default()
                ),
                Err(_) => f.write_str("postgres://(unreadable URL)"),
            },
        }
    }
}

/// A pool of connections to one of the engines.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    /// Connects and brings the schema up to date.
    pub(super) async fn connect(url: &DatabaseUrl) -> Result<Self, StorageError> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if let Err(error) = std::fs::create_dir_all(dir) {
                        tracing::warn!(dir = %dir.display(), %error, "cannot create the database folder");
                    }
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    // WAL: readers (history pages, the page render) never wait for the writer.
                    .journal_mode(SqliteJournalMode::Wal)
                    // Durable at each checkpoint, not each commit: a power cut may lose the
                    // last commits, an application crash loses nothing.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                Self::sqlite(options, 8).await
            }
            DatabaseUrl::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    // A server that restarted or a connection cut by the network: checked
                    // out connections are tested (the hub's writes must not fail on a
                    // stale one), and a pool that cannot connect says so within seconds.
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await?;
                // Takes an advisory lock: servers starting together migrate once.
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// An empty SQLite database in memory.
    pub(super) async fn in_memory() -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to `:memory:` is a database of its own.
        Self::sqlite(options, 1).await
    }

    async fn sqlite(
        options: SqliteConnectOptions,
        max_connections: u32,
    ) -> Result<Self, StorageError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            // A connection to a local file does not go stale; testing it would cost a
            // round trip to its thread on every checkout (on the hub's path, every batch).
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        super::users::finish_user_keys(&pool).await?;
        Ok(Self::Sqlite(pool))
    }

    pub(super) fn engine(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Runs `script`, a transaction of its own (`BEGIN IMMEDIATE; ...; COMMIT;`), in one
/// request to a SQLite connection's thread, and returns the rows it gave. If it fails,
/// the transaction is rolled back; a connection that cannot say it did is not given back
/// to the pool.
pub(super) async fn run_sqlite_script<'q>(
    pool: &SqlitePool,
    script: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
) -> Result<Vec<sqlx::sqlite::SqliteRow>, StorageError> {
    let mut conn = pool.acquire().await?;
    match script.fetch_all(&mut *conn).await {
        Ok(rows) => Ok(rows),
        Err(error) => {
            if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                tracing::warn!(error = %rollback, "closing a connection after a failed script");
                drop(conn.detach());
            }
            Err(error.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_engine() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:chat.db").expect("sqlite"),
            DatabaseUrl::Sqlite("chat.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/chat/chat.db").expect("sqlite"),
            DatabaseUrl::Sqlite("/var/lib/chat/chat.db".into())
        );
        let pg = DatabaseUrl::parse("postgres://chat:secret@db:5433/chat").expect("postgres");
        assert!(matches!(pg, DatabaseUrl::Postgres(_)));
        assert_eq!(
            pg.to_string(),
            "postgres://chat@db:5433/chat",
            "no password"
        );
        assert!(DatabaseUrl::parse("postgresql:///chat").is_ok());
        for bad in ["mysql://db/chat", "sqlite:", "chat.db", ""] {
            assert!(
                matches!(
                    DatabaseUrl::parse(bad),
                    Err(StorageError::UnsupportedUrl(_))
                ),
                "{bad}"
            );
        }
    }
}
