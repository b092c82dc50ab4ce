//! Log-in sessions: a random secret token for the browser, only its hash in the database.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{now_ms, StorageError, Store};
use crate::chat::SessionId;

/// A session unused (not present in the lobby) for this long is gone.
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

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub name: String,
}

impl Store {
    /// Creates a session for `name`, holding its name (`present`).
    pub async fn create_session(
        &self,
        name: &str,
    ) -> Result<(SessionRecord, SessionToken), StorageError> {
        let token = SessionToken::generate()
            .map_err(|e| StorageError::Database(sqlx::Error::Protocol(e.to_string())))?;
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sessions (token_hash, name, created_at, last_seen_at, present) \
             VALUES ($1, $2, $3, $3, 1) RETURNING id",
        )
        .bind(token.hash())
        .bind(name)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            SessionRecord {
                id: SessionId(id),
                name: name.to_owned(),
            },
            token,
        ))
    }

    /// The live session `token` belongs to. A session that expired is deleted.
    pub async fn find_session(
        &self,
        token: &SessionToken,
    ) -> Result<Option<SessionRecord>, StorageError> {
        let row: Option<(i64, String, i64, bool)> = sqlx::query_as(
            "SELECT id, name, last_seen_at, present FROM sessions WHERE token_hash = $1",
        )
        .bind(token.hash())
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, name, last_seen_at, present)) = row else {
            return Ok(None);
        };
        let lifetime = i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        if !present && now_ms().saturating_sub(last_seen_at) > lifetime {
            self.delete_session(SessionId(id)).await?;
            return Ok(None);
        }
        Ok(Some(SessionRecord {
            id: SessionId(id),
            name,
        }))
    }

    /// Records whether the session holds its name in the lobby now.
    pub async fn set_present(&self, id: SessionId, present: bool) -> Result<(), StorageError> {
        sqlx::query("UPDATE sessions SET present = $1, last_seen_at = $2 WHERE id = $3")
            .bind(present)
            .bind(now_ms())
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sessions that held their name when the server stopped.
    pub async fn present_sessions(&self) -> Result<Vec<SessionRecord>, StorageError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM sessions WHERE present = 1 ORDER BY last_seen_at")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| SessionRecord {
                id: SessionId(id),
                name,
            })
            .collect())
    }

    pub async fn delete_session(&self, id: SessionId) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_finds_its_session_and_nothing_else_does() {
        let store = Store::in_memory().await.expect("database");
        let (ann, token) = store.create_session("Ann").await.expect("create");
        assert_eq!(token.as_str().len(), 43, "32 bytes, base64url");
        assert_eq!(
            store.find_session(&token).await.expect("find"),
            Some(ann.clone())
        );
        let forged = SessionToken::from_client("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(store.find_session(&forged).await.expect("find"), None);
        assert_eq!(
            store.present_sessions().await.expect("list"),
            vec![ann.clone()]
        );
        store.set_present(ann.id, false).await.expect("update");
        assert!(store.present_sessions().await.expect("list").is_empty());
        store.delete_session(ann.id).await.expect("delete");
        assert_eq!(store.find_session(&token).await.expect("find"), None);
    }

    #[tokio::test]
    async fn tokens_are_random() {
        let store = Store::in_memory().await.expect("database");
        let (_, a) = store.create_session("Ann").await.expect("create");
        let (_, b) = store.create_session("Bob").await.expect("create");
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "SessionToken(..)", "never logged");
    }
}
