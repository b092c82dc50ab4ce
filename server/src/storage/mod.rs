//! Storage: users, sessions, conversations (rooms and direct ones), memberships with read
//! markers, and messages, in SQLite (sqlx), behind a small interface.
//!
//! The chat rules never see SQL: the hub asks this module to create a user, join a room,
//! append messages, read a page of history. Everything here speaks domain types
//! ([`UserId`], [`ConversationId`], [`StoredMessage`](crate::chat::StoredMessage),
//! [`SessionRecord`]); the queries are plain SQL that PostgreSQL also accepts.
//!
//! - [`users`]: users and their names (retired when they let go of them);
//! - [`sessions`]: log-in sessions (hashed tokens);
//! - [`conversations`]: rooms, direct conversations, memberships, read markers, listings;
//! - [`messages`]: appends (idempotent per client id) and keyset pages.

mod conversations;
mod messages;
mod sessions;
mod users;

pub use conversations::{DirectRow, ReadOutcome, RoomListRow, RoomRow};
pub use messages::{Appended, HistoryPage};
pub use sessions::{SessionLookup, SessionRecord, SessionToken, SESSION_LIFETIME};
pub use users::UserRecord;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::chat::ConversationId;

/// Why storage failed. Callers log it and answer `storageFailed`; nothing is half-done
/// (every write is one transaction).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database has no conversation named `{0}`")]
    MissingConversation(String),
}

/// The database: a pool of connections to one SQLite file.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    general: ConversationId,
}

impl Store {
    /// Opens (creating it if needed) the database file at `path` and brings its schema up
    /// to date.
    pub async fn open(path: &Path) -> Result<Self, StorageError> {
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
            // Durable at each checkpoint, not each commit: a power cut may lose the last
            // commits, an application crash loses nothing.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::connect(options).await
    }

    /// An empty database in memory, for tests and benchmarks.
    pub async fn in_memory() -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to `:memory:` is a database of its own.
        Self::connect_with(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self, StorageError> {
        Self::connect_with(options, 8).await
    }

    async fn connect_with(
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
        sqlx::migrate!("./migrations").run(&pool).await?;
        users::finish_user_keys(&pool).await?;
        let general = conversation_named(&pool, app::protocol::GENERAL).await?;
        Ok(Self { pool, general })
    }

    /// `general`, the lobby: every user is a member.
    pub fn general(&self) -> ConversationId {
        self.general
    }

    /// Runs `script`, a transaction of its own (`BEGIN IMMEDIATE; ...; COMMIT;`), in one
    /// request to a connection's thread, and returns the rows it gave. If it fails, the
    /// transaction is rolled back; a connection that cannot say it did is not given back
    /// to the pool.
    pub(crate) async fn run_script<'q>(
        &self,
        script: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, StorageError> {
        let mut conn = self.pool.acquire().await?;
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

    /// Whether the database answers a query now.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (after the last write).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn conversation_named(pool: &SqlitePool, name: &str) -> Result<ConversationId, StorageError> {
    sqlx::query_scalar::<_, i64>("SELECT id FROM conversations WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .map(ConversationId)
        .ok_or_else(|| StorageError::MissingConversation(name.to_owned()))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
