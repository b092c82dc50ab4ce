//! Users: created when someone logs in under a free name, retired when they let go of it for
//! good. At most one active user holds a name (ignoring case).

use sqlx::Row;

use super::backend::{run_sqlite_script, Pool};
use super::{now_ms, StorageError, Store, SESSION_LIFETIME};
use crate::chat::{name_key, UserId};

/// An active user, found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    /// Has a session that has not expired (may come back under this name).
    pub has_live_session: bool,
    /// A server of the cluster holds their name now: they are online there (see
    /// `hold_names`), whether or not they have a session. Always false on a server alone.
    pub name_held: bool,
}

impl Store {
    /// Creates a user holding `name`, member of `general`. An earlier user still holding
    /// the name (offline, with a session that nobody uses) is retired first: the name is
    /// the new user's now. In a cluster, an earlier user whose name a server holds is not:
    /// the insert then fails as a unique violation (the name is taken).
    pub async fn create_user(&self, name: &str) -> Result<UserId, StorageError> {
        let created = self.create_users(&[name]).await?;
        created
            .first()
            .copied()
            .ok_or(StorageError::Database(sqlx::Error::RowNotFound))
    }

    /// Creates a user for each of `names` (distinct ignoring case: of two with one name,
    /// the second would retire the first), in order, as [`Store::create_user`] does, in
    /// one transaction: all of them, or none.
    pub async fn create_users(&self, names: &[&str]) -> Result<Vec<UserId>, StorageError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        debug_assert!(
            {
                let keys: std::collections::HashSet<_> =
                    names.iter().map(|n| name_key(n)).collect();
                keys.len() == names.len()
            },
            "names created together must be distinct"
        );
        match &self.pool {
            Pool::Sqlite(pool) => self.create_users_sqlite(pool, names).await,
            Pool::Postgres(pool) => self.create_users_postgres(pool, names).await,
        }
    }

    /// One request to the database (see `Store::append_all`): the hub waits for it before
    /// the log-ins are announced.
    async fn create_users_sqlite(
        &self,
        pool: &sqlx::SqlitePool,
        names: &[&str],
    ) -> Result<Vec<UserId>, StorageError> {
        let script = create_users_script(names.len());
        let mut query = sqlx::query(&script)
            .persistent(names.len() == 1)
            .bind(now_ms())
            .bind(self.general.0)
            .bind(self.lease_ms());
        for name in names {
            query = query.bind(name_key(name)).bind(*name);
        }
        let rows = run_sqlite_script(pool, query).await?;
        // Committed: each insert returned its row (a missing one cannot happen; it would
        // be reported, the users staying created).
        let mut created = vec![None; names.len()];
        for row in &rows {
            let index = usize::try_from(row.try_get::<i64, _>(0)?).ok();
            if let Some(slot) = index.and_then(|index| created.get_mut(index)) {
                *slot = Some(UserId(row.try_get(1)?));
            }
        }
        created
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(StorageError::Database(sqlx::Error::RowNotFound))
    }

    /// What `create_users_script` does, in one transaction. Two servers
    /// creating a user under one name at once: the unique index on active names makes the
    /// second wait for the first's commit, then fail.
    async fn create_users_postgres(
        &self,
        pool: &sqlx::PgPool,
        names: &[&str],
    ) -> Result<Vec<UserId>, StorageError> {
        let now = now_ms();
        let lease = self.lease_ms();
        let retirable = retirable(3, PG_NOW_MS);
        let mut tx = pool.begin().await?;
        let mut created = Vec::with_capacity(names.len());
        for name in names {
            let key = name_key(name);
            // One statement: the rooms left are exactly those of the user retired.
            sqlx::query(&format!(
                "WITH retired AS (UPDATE users SET retired_at = $2 \
                     WHERE name_key = $1 AND {retirable} RETURNING id) \
                 DELETE FROM memberships WHERE user_id IN (SELECT id FROM retired) \
                 AND conversation_id IN (SELECT id FROM conversations WHERE kind = 'room')"
            ))
            .bind(&key)
            .bind(now)
            .bind(lease)
            .execute(&mut *tx)
            .await?;
            let id: i64 = sqlx::query_scalar(&format!(
                "INSERT INTO users (name, name_key, created_at, held_until) \
                 VALUES ($1, $2, $3, {PG_NOW_MS} + $4) RETURNING id"
            ))
            .bind(*name)
            .bind(&key)
            .bind(now)
            .bind(lease)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO memberships (user_id, conversation_id, joined_at, read_up_to) \
                 SELECT $1, id, $2, last_message_id FROM conversations WHERE id = $3",
            )
            .bind(id)
            .bind(now)
            .bind(self.general.0)
            .execute(&mut *tx)
            .await?;
            created.push(UserId(id));
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Holds the names of `users`, coming online here, in a cluster (taking a hold, or
    /// renewing one). Returns those held: a user retired meanwhile (their name taken by a
    /// log-in elsewhere) is not among them. A server alone holds nothing in the database and
    /// gets every user back.
    pub async fn hold_names(&self, users: &[UserId]) -> Result<Vec<UserId>, StorageError> {
        if self.name_lease.is_none() {
            return Ok(users.to_vec());
        }
        self.set_holds(users, HoldChange::Take).await
    }

    /// Renews this server's holds on the names of `users` (online here), in a cluster; a
    /// hold released meanwhile (they went offline) stays released. Returns those of them
    /// who are retired: their name is someone else's now.
    pub async fn renew_holds(&self, users: &[UserId]) -> Result<Vec<UserId>, StorageError> {
        if self.name_lease.is_none() || users.is_empty() {
            return Ok(Vec::new());
        }
        self.set_holds(users, HoldChange::Renew).await?;
        let retired: Vec<i64> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT id FROM users WHERE retired_at IS NOT NULL \
                     AND id IN (SELECT value FROM json_each($1))",
                )
                .bind(json_ids(users))
                .fetch_all(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT id FROM users WHERE retired_at IS NOT NULL AND id = ANY($1)",
                )
                .bind(users.iter().map(|user| user.0).collect::<Vec<i64>>())
                .fetch_all(pool)
                .await?
            }
        };
        Ok(retired.into_iter().map(UserId).collect())
    }

    /// This server lets go of the names of `users` (offline here now, their session living
    /// on): another log-in may take them at once. A server alone holds nothing here.
    pub async fn release_names(&self, users: &[UserId]) -> Result<(), StorageError> {
        if self.name_lease.is_none() || users.is_empty() {
            return Ok(());
        }
        self.set_holds(users, HoldChange::Release).await?;
        Ok(())
    }

    /// Applies `change` to the holds of `users` (active ones); returns those changed.
    async fn set_holds(
        &self,
        users: &[UserId],
        change: HoldChange,
    ) -> Result<Vec<UserId>, StorageError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let lease = self.lease_ms();
        let (set, only_held) = match change {
            HoldChange::Take => ("{now} + $1", ""),
            HoldChange::Renew => ("{now} + $1", " AND held_until IS NOT NULL"),
            HoldChange::Release => ("NULL + $1", ""),
        };
        let changed: Vec<i64> = match &self.pool {
            Pool::Sqlite(pool) => {
                let set = set.replace("{now}", SQLITE_NOW_MS);
                sqlx::query_scalar(&format!(
                    "UPDATE users SET held_until = {set} WHERE retired_at IS NULL{only_held} \
                     AND id IN (SELECT value FROM json_each($2)) RETURNING id"
                ))
                .bind(lease)
                .bind(json_ids(users))
                .fetch_all(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                let set = set.replace("{now}", PG_NOW_MS);
                sqlx::query_scalar(&format!(
                    "UPDATE users SET held_until = {set} WHERE retired_at IS NULL{only_held} \
                     AND id = ANY($2) RETURNING id"
                ))
                .bind(lease)
                .bind(users.iter().map(|user| user.0).collect::<Vec<i64>>())
                .fetch_all(pool)
                .await?
            }
        };
        Ok(changed.into_iter().map(UserId).collect())
    }

    /// How long a hold lasts, in milliseconds: `None` on a server alone.
    fn lease_ms(&self) -> Option<i64> {
        let lease = self.name_lease?;
        Some(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
    }

    /// The user lets go of their name for good: their sessions end and they leave their
    /// rooms. Their direct conversations stay readable by the other party.
    pub async fn retire_user(&self, user: UserId) -> Result<(), StorageError> {
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            retire_in(&mut *tx, user, now_ms(), true).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The active user holding `name` (ignoring case), if any.
    pub async fn active_user(&self, name: &str) -> Result<Option<UserRecord>, StorageError> {
        let alive_since = now_ms().saturating_sub(lifetime_ms());
        // Holds are on the database's clock, as they are taken.
        let db_now = match &self.pool {
            Pool::Sqlite(_) => SQLITE_NOW_MS,
            Pool::Postgres(_) => PG_NOW_MS,
        };
        let sql = format!(
            "SELECT users.id, users.name, EXISTS (\
                 SELECT 1 FROM sessions WHERE sessions.user_id = users.id \
                 AND (sessions.present = TRUE OR sessions.last_seen_at > $2)), \
             COALESCE(users.held_until > {db_now}, FALSE) \
             FROM users WHERE users.name_key = $1 AND users.retired_at IS NULL"
        );
        let row: Option<(i64, String, bool, bool)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&sql)
                .bind(name_key(name))
                .bind(alive_since)
                .fetch_optional(pool)
                .await?
        });
        Ok(
            row.map(|(id, name, has_live_session, name_held)| UserRecord {
                id: UserId(id),
                name,
                has_live_session,
                name_held,
            }),
        )
    }

    /// A user's current name, and whether they are retired.
    pub async fn user_name(&self, user: UserId) -> Result<Option<(String, bool)>, StorageError> {
        let row: Option<(String, Option<i64>)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT name, retired_at FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(name, retired)| (name, retired.is_some())))
    }
}

/// Finishes migration 0002 (once): gives the users it made from sessions their keys as
/// the server computes them (Unicode lower case, where SQLite's `lower()` folds ASCII
/// only), retires the older of any two active users that then share a key, and creates
/// the unique index that keeps one active user per name.
pub(super) async fn finish_user_keys(pool: &sqlx::SqlitePool) -> Result<(), StorageError> {
    let done: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'users_active_by_name'",
    )
    .fetch_optional(pool)
    .await?;
    if done.is_some() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let users: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, name, name_key FROM users WHERE retired_at IS NULL ORDER BY id DESC",
    )
    .fetch_all(&mut *tx)
    .await?;
    let now = now_ms();
    let mut taken = std::collections::HashSet::new();
    for (id, name, stored_key) in users {
        let key = name_key(&name);
        if !taken.insert(key.clone()) {
            // A newer user has this name (ignoring case): the older one lets go of it.
            retire_in(&mut *tx, UserId(id), now, false).await?;
        } else if key != stored_key {
            sqlx::query("UPDATE users SET name_key = $2 WHERE id = $1")
                .bind(id)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query(
        "CREATE UNIQUE INDEX users_active_by_name ON users (name_key) WHERE retired_at IS NULL",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The database's clock, in milliseconds since the Unix epoch, as SQL for each engine:
/// holds are taken and compared on one clock, however far the servers' own drift.
const PG_NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";
const SQLITE_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// How a server changes the holds on its users' names.
#[derive(Debug, Clone, Copy)]
enum HoldChange {
    Take,
    Renew,
    Release,
}

/// The ids of `users` as a JSON array, for SQLite's `json_each`.
fn json_ids(users: &[UserId]) -> String {
    let ids: Vec<String> = users.iter().map(|user| user.0.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// Which active user of a name a log-in may retire: on a server alone (`$lease_param`, the
/// hold's lease, is NULL), any; in a cluster, one whose name no server holds (`db_now`:
/// the database's clock).
fn retirable(lease_param: usize, db_now: &str) -> String {
    format!(
        "retired_at IS NULL AND (${lease_param} IS NULL OR held_until IS NULL \
         OR held_until <= {db_now})"
    )
}

/// The script that creates `count` users: `$1` is the time, `$2` the lobby, `$3` how long
/// their names are held (NULL on a server alone), then each user's name key and name. An
/// earlier user holding the name is retired as `retire_in` does, keeping their sessions.
/// Each insert returns its index and the new user's id.
fn create_users_script(count: usize) -> String {
    let retirable = retirable(3, SQLITE_NOW_MS);
    let mut script = String::from("BEGIN IMMEDIATE;\n");
    for index in 0..count {
        let key = 4 + 2 * index;
        let name = key + 1;
        script.push_str(&format!(
            "DELETE FROM memberships WHERE user_id IN \
             (SELECT id FROM users WHERE name_key = ${key} AND {retirable}) \
             AND conversation_id IN (SELECT id FROM conversations WHERE kind = 'room');\n\
             UPDATE users SET retired_at = $1 WHERE name_key = ${key} AND {retirable};\n\
             INSERT INTO users (name, name_key, created_at, held_until) \
             VALUES (${name}, ${key}, $1, {SQLITE_NOW_MS} + $3) RETURNING {index}, id;\n\
             INSERT INTO memberships (user_id, conversation_id, joined_at, read_up_to) \
             SELECT last_insert_rowid(), id, $1, last_message_id FROM conversations \
             WHERE id = $2;\n"
        ));
    }
    script.push_str("COMMIT;");
    script
}

/// How long an unused session lives, in milliseconds.
pub(super) fn lifetime_ms() -> i64 {
    i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX)
}

/// Retires `user` (on either engine, inside the caller's transaction): they let go of
/// their name and leave their rooms; `end_sessions` also ends their sessions.
async fn retire_in<C>(
    conn: &mut C,
    user: UserId,
    now: i64,
    end_sessions: bool,
) -> Result<(), StorageError>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
{
    sqlx::query("UPDATE users SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL")
        .bind(user.0)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if end_sessions {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "DELETE FROM memberships WHERE user_id = $1 AND conversation_id IN \
         (SELECT id FROM conversations WHERE kind = 'room')",
    )
    .bind(user.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A database as the previous version left it (migration 0001 only), with sessions
    /// that share names ignoring case (ASCII and not), opened by this version.
    #[tokio::test]
    async fn a_database_of_the_previous_version_is_migrated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = dir.path().join("migrations");
        std::fs::create_dir(&first).expect("dir");
        let name = "0001_conversations_messages_sessions.sql";
        let sql = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite/0001_conversations_messages_sessions.sql"
        );
        std::fs::copy(sql, first.join(name)).expect("copy");
        let path = dir.path().join("old.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.expect("open");
        sqlx::migrate::Migrator::new(first.as_path())
            .await
            .expect("migrator")
            .run(&pool)
            .await
            .expect("0001");
        for (id, name) in [
            (1, "Ann"),
            (2, "ann"),
            (3, "Émile"),
            (4, "émile"),
            (5, "Bob"),
        ] {
            sqlx::query(
                "INSERT INTO sessions (id, token_hash, name, created_at, last_seen_at, present) \
                 VALUES ($1, $2, $3, 0, 0, 0)",
            )
            .bind(id)
            .bind(vec![id as u8])
            .bind(name)
            .execute(&pool)
            .await
            .expect("session");
        }
        sqlx::query(
            "INSERT INTO messages (conversation_id, id, sender, sender_key, body, sent_at) \
             VALUES (1, 1, 'Ann', 'ann', 'from before', 0)",
        )
        .execute(&pool)
        .await
        .expect("message");
        sqlx::query("UPDATE conversations SET last_message_id = 1")
            .execute(&pool)
            .await
            .expect("counter");
        pool.close().await;

        let store = Store::open(&path).await.expect("migrated");
        let active = |name: &'static str| {
            let store = store.clone();
            async move { store.active_user(name).await.expect("find").map(|u| u.id) }
        };
        assert_eq!(
            active("ANN").await,
            Some(UserId(2)),
            "the newest session keeps it"
        );
        assert_eq!(active("émile").await, Some(UserId(4)));
        assert_eq!(active("Bob").await, Some(UserId(5)));
        let page = store
            .page_before(store.general(), None, 10)
            .await
            .expect("history");
        assert_eq!(page.messages[0].text, "from before");
        assert_eq!(
            page.messages[0].sender,
            UserId(0),
            "nobody's: a name was not a person"
        );
        // The unique index holds from now on, and opening again changes nothing.
        assert!(store.create_user("émile").await.is_ok());
        store.close().await;
        assert!(Store::open(&path).await.is_ok());
    }

    #[tokio::test]
    async fn users_created_together_are_all_stored_or_none_is() {
        let store = Store::for_test().await;
        let ann = store.create_user("Ann").await.expect("create");
        let created = store
            .create_users(&["Bob", "ANN", "Émile"])
            .await
            .expect("create");
        assert_eq!(created.len(), 3);
        assert!(created.iter().all(|id| *id != ann));
        for (name, id) in ["bob", "ann", "émile"].into_iter().zip(&created) {
            let found = store.active_user(name).await.expect("find");
            assert_eq!(found.map(|u| u.id), Some(*id), "{name}");
            let member = store.is_member(*id, store.general()).await.expect("member");
            assert!(member, "{name} is in the lobby");
        }
        assert_eq!(
            store.user_name(ann).await.expect("name"),
            Some(("Ann".into(), true)),
            "the earlier Ann let go of the name"
        );

        // One user the database refuses: nobody of the batch is created, and the users
        // before are untouched.
        store
            .execute_for_test(
                "CREATE TRIGGER no_dans BEFORE INSERT ON users WHEN NEW.name = 'Dan' \
                 BEGIN SELECT RAISE(ABORT, 'no Dans'); END",
                "CREATE FUNCTION no_dans() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.name = 'Dan' THEN RAISE EXCEPTION 'no Dans'; END IF; RETURN NEW; \
                 END $$; CREATE TRIGGER no_dans BEFORE INSERT ON users \
                 FOR EACH ROW EXECUTE FUNCTION no_dans();",
            )
            .await;
        let failed = store.create_users(&["Cat", "Dan", "Eve"]).await;
        assert!(failed.is_err());
        assert_eq!(store.active_user("Eve").await.expect("find"), None);
        assert_eq!(store.active_user("Cat").await.expect("find"), None);
        assert_eq!(store.active_user("Dan").await.expect("find"), None);
        let bob = store.active_user("Bob").await.expect("find");
        assert_eq!(bob.map(|u| u.id), Some(created[0]));
        assert!(store.create_users(&[]).await.expect("nothing").is_empty());
    }

    #[tokio::test]
    async fn a_second_active_user_of_a_name_is_a_unique_violation() {
        let store = Store::for_test().await;
        store.create_user("Ann").await.expect("create");
        let insert = "INSERT INTO users (name, name_key, created_at) VALUES ('ANN', 'ann', 0)";
        let error = store
            .try_execute_for_test(insert, insert)
            .await
            .expect_err("one active Ann");
        assert!(error.is_unique_violation(), "{error}");
        let other = StorageError::MissingConversation("x".into());
        assert!(!other.is_unique_violation());
    }

    #[tokio::test]
    async fn a_name_taken_again_is_a_new_user() {
        let store = Store::for_test().await;
        let first = store.create_user("Ann").await.expect("create");
        let (_, token) = store.create_session(first).await.expect("session");
        assert_eq!(
            store.active_user("ANN").await.expect("find"),
            Some(UserRecord {
                id: first,
                name: "Ann".into(),
                has_live_session: true,
                name_held: false,
            })
        );
        let second = store.create_user("ann").await.expect("create");
        assert_ne!(first, second);
        assert_eq!(
            store.find_session(&token).await.expect("find"),
            super::super::SessionLookup::Replaced,
            "the first Ann's session ended"
        );
        let found = store.active_user("Ann").await.expect("find");
        assert_eq!(
            found.map(|u| (u.id, u.has_live_session)),
            Some((second, false))
        );
        assert_eq!(
            store.user_name(first).await.expect("name"),
            Some(("Ann".into(), true))
        );
        store.retire_user(second).await.expect("retire");
        assert_eq!(store.active_user("Ann").await.expect("find"), None);
    }

    /// Two servers on one database: a name one of them holds cannot be taken by a log-in
    /// on the other (even one that has not heard it is online) until it is released or its
    /// hold lapses; and a user retired meanwhile cannot be held again.
    #[tokio::test]
    async fn a_name_a_server_holds_is_not_taken_until_released_or_lapsed() {
        let database = Store::for_test().await;
        let a = database.clone().holding_names(Duration::from_secs(15));
        let b = database.clone().holding_names(Duration::from_secs(15));
        let ann = a.create_user("Ann").await.expect("create");
        let held = |store: Store, name: &'static str| async move {
            store
                .active_user(name)
                .await
                .expect("find")
                .map(|user| user.name_held)
        };
        assert_eq!(held(b.clone(), "ann").await, Some(true), "b sees a's hold");
        let refused = b.create_user("ANN").await.expect_err("held on a");
        assert!(refused.is_unique_violation(), "{refused}");
        let refused = b
            .create_users(&["Bob", "ann"])
            .await
            .expect_err("held on a");
        assert!(refused.is_unique_violation(), "{refused}");
        assert_eq!(
            b.active_user("Bob").await.expect("find"),
            None,
            "none of them"
        );
        assert_eq!(a.hold_names(&[ann]).await.expect("renew"), vec![ann]);

        a.release_names(&[ann]).await.expect("release");
        assert_eq!(held(b.clone(), "ann").await, Some(false), "released");
        assert_eq!(a.renew_holds(&[ann]).await.expect("renew"), vec![]);
        let ann_again = b.create_user("ann").await.expect("released: not renewed");
        assert_eq!(a.hold_names(&[ann]).await.expect("hold"), vec![], "retired");
        assert_eq!(
            a.renew_holds(&[ann]).await.expect("renew"),
            vec![ann],
            "retired"
        );
        assert_eq!(
            b.hold_names(&[ann_again]).await.expect("hold"),
            vec![ann_again]
        );
        assert_eq!(b.renew_holds(&[ann_again]).await.expect("renew"), vec![]);

        // A hold that lapses (its server died) no longer keeps the name.
        let lapsing = database.clone().holding_names(Duration::ZERO);
        let cat = lapsing.create_user("Cat").await.expect("create");
        assert_eq!(held(b.clone(), "cat").await, Some(false), "lapsed");
        let cat_again = b.create_user("cat").await.expect("lapsed");
        assert_ne!(cat, cat_again);

        // A server alone holds nothing, and a hold left by a cluster does not bind it: its
        // hub knows who holds every name.
        let alone = database.clone();
        assert_eq!(alone.hold_names(&[cat]).await.expect("no-op"), vec![cat]);
        let dan = alone.create_user("Dan").await.expect("create");
        assert_ne!(alone.create_user("dan").await.expect("retires"), dan);
        let held = b.create_user("Eve").await.expect("create");
        assert_ne!(alone.create_user("eve").await.expect("not bound"), held);
    }
}
