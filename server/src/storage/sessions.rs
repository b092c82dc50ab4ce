//! Log-in sessions: a random secret token for the browser, only its hash in the database.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::users::lifetime_ms;
use super::{now_ms, StorageError, Store};
use crate::chat::{SessionId, UserId};

/// A session unused (not holding its name) for this long is gone.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The secret a client holds (in an `HttpOnly` cookie): 32 random bytes, base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token as a client presented it. Anything is accepted here; an unknown token
    /// simply finds no session.
    pub fn from_client(token: &str) -> Self {
        Self(token.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never in logs.
        f.write_str("SessionToken(..)")
    }
}

/// What a token leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionLookup {
    Live(SessionRecord),
    /// No such session, or it expired.
    Unknown,
    /// Someone else took the session's name after it let go of it: the session is over.
    Replaced,
}

/// A stored session: whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user: UserId,
    pub name: String,
}

impl Store {
    /// Creates a session for `user`, holding their name (`present`).
    pub async fn create_session(
        &self,
        user: UserId,
    ) -> Result<(SessionRecord, SessionToken), StorageError> {
        let token = SessionToken::generate()
            .map_err(|e| StorageError::Database(sqlx::Error::Protocol(e.to_string())))?;
        let now = now_ms();
        let (id, name): (i64, String) = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "INSERT INTO sessions (token_hash, name, created_at, last_seen_at, present, user_id) \
             SELECT $1, name, $2, $2, TRUE, id FROM users WHERE id = $3 \
             RETURNING id, name",
        )
        .bind(token.hash())
        .bind(now)
        .bind(user.0)
        .fetch_one(pool)
        .await?
        });
        Ok((
            SessionRecord {
                id: SessionId(id),
                user,
                name,
            },
            token,
        ))
    }

    /// The session `token` belongs to. A session that expired is deleted (its user
    /// retired), and so is one whose name was taken by a new user.
    pub async fn find_session(&self, token: &SessionToken) -> Result<SessionLookup, StorageError> {
        let row: Option<(i64, i64, String, i64, bool, Option<i64>)> =
            on_pool!(&self.pool, |pool| {
                sqlx::query_as(
            "SELECT sessions.id, users.id, users.name, sessions.last_seen_at, sessions.present, \
                 users.retired_at \
             FROM sessions JOIN users ON users.id = sessions.user_id \
             WHERE sessions.token_hash = $1",
        )
        .bind(token.hash())
        .fetch_optional(pool)
        .await?
            });
        let Some((id, user, name, last_seen_at, present, retired_at)) = row else {
            return Ok(SessionLookup::Unknown);
        };
        if retired_at.is_some() {
            self.delete_session(SessionId(id)).await?;
            return Ok(SessionLookup::Replaced);
        }
        if !present && now_ms().saturating_sub(last_seen_at) > lifetime_ms() {
            self.retire_user(UserId(user)).await?;
            return Ok(SessionLookup::Unknown);
        }
        Ok(SessionLookup::Live(SessionRecord {
            id: SessionId(id),
            user: UserId(user),
            name,
        }))
    }

    /// The live session of `token`, if it is one.
    pub async fn live_session(
        &self,
        token: &SessionToken,
    ) -> Result<Option<SessionRecord>, StorageError> {
        Ok(match self.find_session(token).await? {
            SessionLookup::Live(session) => Some(session),
            SessionLookup::Unknown | SessionLookup::Replaced => None,
        })
    }

    /// Records whether the session holds its name now.
    pub async fn set_present(&self, id: SessionId, present: bool) -> Result<(), StorageError> {
        on_pool!(&self.pool, |pool| sqlx::query(
            "UPDATE sessions SET present = $1, last_seen_at = $2 WHERE id = $3"
        )
        .bind(present)
        .bind(now_ms())
        .bind(id.0)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Sessions that held their name when the server stopped.
    pub async fn present_sessions(&self) -> Result<Vec<SessionRecord>, StorageError> {
        let rows: Vec<(i64, i64, String)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT sessions.id, users.id, users.name \
             FROM sessions JOIN users ON users.id = sessions.user_id \
             WHERE sessions.present = TRUE AND users.retired_at IS NULL \
             ORDER BY sessions.last_seen_at",
        )
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(id, user, name)| SessionRecord {
                id: SessionId(id),
                user: UserId(user),
                name,
            })
            .collect())
    }

    /// Deletes the sessions not holding their name and unused since `cutoff_ms`: with
    /// `now - SESSION_LIFETIME`, those that have expired. Returns how many.
    pub async fn delete_sessions_unused_since(&self, cutoff_ms: i64) -> Result<u64, StorageError> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query(
            "DELETE FROM sessions WHERE present = FALSE AND last_seen_at < $1"
        )
        .bind(cutoff_ms)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Deletes the sessions that have expired; how many.
    pub async fn delete_expired_sessions(&self) -> Result<u64, StorageError> {
        self.delete_sessions_unused_since(now_ms().saturating_sub(lifetime_ms()))
            .await
    }

    pub async fn delete_session(&self, id: SessionId) -> Result<(), StorageError> {
        on_pool!(&self.pool, |pool| sqlx::query(
            "DELETE FROM sessions WHERE id = $1"
        )
        .bind(id.0)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_finds_its_session_and_nothing_else_does() {
        let store = Store::for_test().await;
        let user = store.create_user("Ann").await.expect("user");
        let (ann, token) = store.create_session(user).await.expect("create");
        assert_eq!(ann.user, user);
        assert_eq!(ann.name, "Ann");
        assert_eq!(token.as_str().len(), 43, "32 bytes, base64url");
        assert_eq!(
            store.live_session(&token).await.expect("find"),
            Some(ann.clone())
        );
        let forged = SessionToken::from_client("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            store.find_session(&forged).await.expect("find"),
            SessionLookup::Unknown
        );
        assert_eq!(
            store.present_sessions().await.expect("list"),
            vec![ann.clone()]
        );
        store.set_present(ann.id, false).await.expect("update");
        assert!(store.present_sessions().await.expect("list").is_empty());
        store.delete_session(ann.id).await.expect("delete");
        assert_eq!(store.live_session(&token).await.expect("find"), None);
    }

    #[tokio::test]
    async fn sessions_unused_for_their_lifetime_are_deleted_not_only_ignored() {
        let store = Store::for_test().await;
        let ann = store.create_user("Ann").await.expect("user");
        let bob = store.create_user("Bob").await.expect("user");
        let (gone, gone_token) = store.create_session(ann).await.expect("create");
        let (online, online_token) = store.create_session(bob).await.expect("create");
        store.set_present(gone.id, false).await.expect("update");
        assert_eq!(
            store.delete_expired_sessions().await.expect("sweep"),
            0,
            "used just now"
        );
        // As if a lifetime had passed: the one not holding its name goes.
        let later = now_ms() + 1;
        assert_eq!(
            store
                .delete_sessions_unused_since(later)
                .await
                .expect("sweep"),
            1
        );
        assert_eq!(store.live_session(&gone_token).await.expect("find"), None);
        assert_eq!(
            store.live_session(&online_token).await.expect("find"),
            Some(online),
            "a session holding its name is in use"
        );
    }

    #[tokio::test]
    async fn tokens_are_random() {
        let store = Store::for_test().await;
        let user = store.create_user("Ann").await.expect("user");
        let (_, a) = store.create_session(user).await.expect("create");
        let (_, b) = store.create_session(user).await.expect("create");
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "SessionToken(..)", "never logged");
    }
}
