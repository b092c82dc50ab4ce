//! Storage: users, sessions, conversations (rooms and direct ones), memberships with read
//! markers, and messages, behind a small interface, in SQLite (embedded, the default) or
//! PostgreSQL (shared by several server processes), chosen at run time by the URL.
//!
//! The chat rules never see SQL: the hub asks this module to create a user, join a room,
//! append messages, read a page of history. Everything here speaks domain types
//! ([`UserId`](crate::chat::UserId), [`ConversationId`], [`StoredMessage`](crate::chat::StoredMessage),
//! [`SessionRecord`]). Most queries are plain SQL both engines accept, written once and
//! compiled for each ([`on_pool!`]); where the engines differ (how a batch is one request,
//! how ids are numbered) each has its own code, and each has its own migrations.
//!
//! - [`backend`]: the two engines, how each is opened and migrated;
//! - [`users`]: users and their names (retired when they let go of them);
//! - [`sessions`]: log-in sessions (hashed tokens);
//! - [`conversations`]: rooms, direct conversations, memberships, read markers, listings;
//! - [`messages`]: appends (idempotent per client id) and keyset pages.

/// Runs `$body` with `$pool` bound to the connection pool of `$pools` (a `&Pool`), whichever
/// engine it is: the same SQL and code, type-checked and compiled once for each.
macro_rules! on_pool {
    ($pools:expr, |$pool:ident| $body:expr) => {
        match $pools {
            $crate::storage::backend::Pool::Sqlite($pool) => $body,
            $crate::storage::backend::Pool::Postgres($pool) => $body,
        }
    };
}

mod backend;
mod conversations;
mod messages;
mod sessions;
mod users;

pub use backend::DatabaseUrl;
pub use conversations::{DirectRow, ReadOutcome, RoomListRow, RoomRow};
pub use messages::{Appended, HistoryPage};
pub use sessions::{SessionLookup, SessionRecord, SessionToken, SESSION_LIFETIME};
pub use users::UserRecord;

use std::path::Path;

use backend::Pool;

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
    #[error("unsupported database URL `{0}`: expected `sqlite:PATH` or `postgres://...`")]
    UnsupportedUrl(String),
}

impl StorageError {
    /// A unique index refused the write: on a shared database, another server stored the
    /// same thing (a user under the same name) at the same moment.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Database(error) => error
                .as_database_error()
                .is_some_and(|error| error.is_unique_violation()),
            _ => false,
        }
    }
}

/// The database: a pool of connections to one SQLite file or one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    general: ConversationId,
    /// In a cluster: how long a server's hold on its users' names lasts unless renewed
    /// (see [`Store::holding_names`]). `None` on a server alone, whose hub knows who holds
    /// every name.
    name_lease: Option<std::time::Duration>,
}

impl Store {
    /// Opens (creating it if needed) the SQLite database file at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StorageError> {
        Self::connect(&DatabaseUrl::Sqlite(path.to_owned())).await
    }

    /// Connects to the database `url` names and brings its schema up to date (several
    /// servers starting at once against one PostgreSQL database migrate it once).
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StorageError> {
        Self::ready(Pool::connect(url).await?).await
    }

    /// An empty SQLite database in memory, for tests and benchmarks.
    pub async fn in_memory() -> Result<Self, StorageError> {
        Self::ready(Pool::in_memory().await?).await
    }

    async fn ready(pool: Pool) -> Result<Self, StorageError> {
        let general = conversation_named(&pool, app::protocol::GENERAL).await?;
        Ok(Self {
            pool,
            general,
            name_lease: None,
        })
    }

    /// This store as a server in a cluster uses it: each user it creates holds their name
    /// for `lease`, renewed with [`Store::hold_names`] while they are online here, and a
    /// log-in on any server cannot retire a user whose name is held (it fails as a unique
    /// violation instead). Servers learn who is online on the others a moment late; the
    /// database does not.
    pub fn holding_names(self, lease: std::time::Duration) -> Self {
        Self {
            name_lease: Some(lease),
            ..self
        }
    }

    /// `general`, the lobby: every user is a member.
    pub fn general(&self) -> ConversationId {
        self.general
    }

    /// Which engine this is, for logs: `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        self.pool.engine()
    }

    /// Whether the database answers a query now.
    pub async fn ping(&self) -> Result<(), StorageError> {
        on_pool!(&self.pool, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Closes every connection (after the last write).
    pub async fn close(&self) {
        on_pool!(&self.pool, |pool| pool.close().await);
    }
}

#[cfg(test)]
impl Store {
    /// A fresh, empty database for a test: in PostgreSQL when `CHAT_TEST_POSTGRES` names a
    /// server (a URL without a database, such as `postgres://` inside `pg_virtualenv`),
    /// else in SQLite, in memory.
    pub(crate) async fn for_test() -> Self {
        let Ok(base) = std::env::var("CHAT_TEST_POSTGRES") else {
            return Self::in_memory().await.expect("database");
        };
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "unit_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let admin = sqlx::PgPool::connect(&format!("{base}/postgres"))
            .await
            .expect("PostgreSQL for tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create a test database");
        admin.close().await;
        Self::connect(&DatabaseUrl::Postgres(format!("{base}/{name}")))
            .await
            .expect("database")
    }

    /// Runs `sqlite` or `postgres` (statements of the engine's own dialect), whichever
    /// engine this is: for tests that change the schema.
    pub(crate) async fn execute_for_test(&self, sqlite: &str, postgres: &str) {
        self.try_execute_for_test(sqlite, postgres)
            .await
            .expect("test statements");
    }

    /// [`Store::execute_for_test`], for statements that may fail.
    pub(crate) async fn try_execute_for_test(
        &self,
        sqlite: &str,
        postgres: &str,
    ) -> Result<(), StorageError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::raw_sql(sqlite).execute(pool).await.map(drop),
            Pool::Postgres(pool) => sqlx::raw_sql(postgres).execute(pool).await.map(drop),
        }
        .map_err(StorageError::from)
    }
}

async fn conversation_named(pool: &Pool, name: &str) -> Result<ConversationId, StorageError> {
    on_pool!(pool, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT id FROM conversations WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    })
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
