//! Conversations: rooms (created by joining them), direct conversations (created by their
//! first message), memberships with read markers, and the listings of `list_rooms` and
//! `my_conversations`.
//!
//! Unread counts cost an index probe, not a scan: ids are gap-free per conversation, so the
//! messages after a marker number `last_id - marker`, of which the reader's own are counted
//! on `messages_by_sender`, and the deleted ones (tombstones, rare) on `messages_deleted`.

use super::messages::to_wire_id;
use super::{now_ms, StorageError, Store};
use crate::chat::{ConversationId, DirectPair, RoomName, UserId};

/// A room as `list_rooms` shows it (online counts come from the hub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomListRow {
    pub id: ConversationId,
    pub name: String,
    pub members: u64,
    pub last_id: u64,
    /// `Some(unread)` when the reader is a member.
    pub unread: Option<u64>,
}

/// One of a user's rooms, with their read state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub id: ConversationId,
    pub name: String,
    pub last_id: u64,
    pub read_up_to: u64,
    pub unread: u64,
}

/// One of a user's direct conversations, with both read markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectRow {
    pub id: ConversationId,
    pub other: UserId,
    pub other_name: String,
    /// The other user has let go of their name.
    pub other_retired: bool,
    pub last_id: u64,
    pub read_up_to: u64,
    pub their_read_up_to: u64,
    pub unread: u64,
    /// When its newest message was stored (ms since the epoch; 0 when it has none).
    pub last_at: i64,
}

/// What `mark_read` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOutcome {
    pub read_up_to: u64,
    /// The marker moved forward.
    pub moved: bool,
    pub unread: u64,
}

/// The stored name of a direct conversation.
fn direct_name(pair: DirectPair) -> String {
    let [low, high] = pair.users();
    format!("dm:{}:{}", low.0, high.0)
}

impl Store {
    /// The room called `name`, if it exists.
    pub async fn room(&self, name: &RoomName) -> Result<Option<ConversationId>, StorageError> {
        let id: Option<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT id FROM conversations WHERE name = $1 AND kind = 'room'"
        )
        .bind(name.as_str())
        .fetch_optional(pool)
        .await?);
        Ok(id.map(ConversationId))
    }

    /// A conversation by its stored name (a room's name, or `dm:<id>:<id>`), with its
    /// pair of users when it is a direct one.
    pub async fn conversation_named(
        &self,
        name: &str,
    ) -> Result<Option<(ConversationId, Option<DirectPair>)>, StorageError> {
        let row: Option<(i64, String)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT id, kind FROM conversations WHERE name = $1"
        )
        .bind(name)
        .fetch_optional(pool)
        .await?);
        let Some((id, kind)) = row else {
            return Ok(None);
        };
        if kind != "dm" {
            return Ok(Some((ConversationId(id), None)));
        }
        let members: Vec<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT user_id FROM memberships WHERE conversation_id = $1"
        )
        .bind(id)
        .fetch_all(pool)
        .await?);
        let pair = match members.as_slice() {
            [a, b] => DirectPair::new(UserId(*a), UserId(*b)),
            _ => None,
        };
        Ok(Some((ConversationId(id), pair)))
    }

    /// Makes `user` a member of the room `name`, creating the room if it is new. Returns
    /// the room and whether they are newly a member. A new member has read what came
    /// before.
    pub async fn join_room(
        &self,
        user: UserId,
        name: &RoomName,
    ) -> Result<(ConversationId, bool), StorageError> {
        let now = now_ms();
        let (id, added) = on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO conversations (name, kind) VALUES ($1, 'room') \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
            let (id, kind): (i64, String) =
                sqlx::query_as("SELECT id, kind FROM conversations WHERE name = $1")
                    .bind(name.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
            if kind != "room" {
                return Err(StorageError::MissingConversation(name.to_string()));
            }
            let added = sqlx::query(
                "INSERT INTO memberships (user_id, conversation_id, joined_at, read_up_to) \
                 SELECT $1, id, $3, last_message_id FROM conversations WHERE id = $2 \
                 ON CONFLICT (user_id, conversation_id) DO NOTHING",
            )
            .bind(user.0)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            (id, added)
        });
        Ok((ConversationId(id), added == 1))
    }

    /// Ends `user`'s membership of `room`. False if they were not a member.
    pub async fn leave_room(
        &self,
        user: UserId,
        room: ConversationId,
    ) -> Result<bool, StorageError> {
        let removed = on_pool!(&self.pool, |pool| sqlx::query(
            "DELETE FROM memberships WHERE user_id = $1 AND conversation_id = $2"
        )
        .bind(user.0)
        .bind(room.0)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(removed == 1)
    }

    /// Whether `user` is a member of `conversation`.
    pub async fn is_member(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<bool, StorageError> {
        let found: Option<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT user_id FROM memberships WHERE user_id = $1 AND conversation_id = $2",
        )
        .bind(user.0)
        .bind(conversation.0)
        .fetch_optional(pool)
        .await?);
        Ok(found.is_some())
    }

    /// The rooms `user` is a member of, but `general`, by name.
    pub async fn rooms_of(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConversationId, RoomName)>, StorageError> {
        let rows: Vec<(i64, String)> = on_pool!(&self.pool, |pool| sqlx::query_as(
            "SELECT conversations.id, conversations.name FROM memberships \
             JOIN conversations ON conversations.id = memberships.conversation_id \
             WHERE memberships.user_id = $1 AND conversations.kind = 'room' \
             AND conversations.id <> $2 ORDER BY conversations.name",
        )
        .bind(user.0)
        .bind(self.general.0)
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| RoomName::parse(&name).map(|name| (ConversationId(id), name)))
            .collect())
    }

    /// The direct conversation of `pair`, if it has begun.
    pub async fn direct(&self, pair: DirectPair) -> Result<Option<ConversationId>, StorageError> {
        let id: Option<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT id FROM conversations WHERE name = $1 AND kind = 'dm'"
        )
        .bind(direct_name(pair))
        .fetch_optional(pool)
        .await?);
        Ok(id.map(ConversationId))
    }

    /// The direct conversation of `pair`, created (with both as members) if it is new.
    pub async fn open_direct(&self, pair: DirectPair) -> Result<ConversationId, StorageError> {
        let now = now_ms();
        let id = on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO conversations (name, kind) VALUES ($1, 'dm') ON CONFLICT (name) DO NOTHING",
            )
            .bind(direct_name(pair))
            .execute(&mut *tx)
            .await?;
            let id: i64 = sqlx::query_scalar("SELECT id FROM conversations WHERE name = $1")
                .bind(direct_name(pair))
                .fetch_one(&mut *tx)
                .await?;
            for user in pair.users() {
                sqlx::query(
                    "INSERT INTO memberships (user_id, conversation_id, joined_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, conversation_id) DO NOTHING",
                )
                .bind(user.0)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            id
        });
        Ok(ConversationId(id))
    }

    /// Moves `user`'s read marker of `conversation` to `id` (never back, never past the
    /// newest message). `None` when they are not a member.
    pub async fn mark_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        id: u64,
    ) -> Result<Option<ReadOutcome>, StorageError> {
        let (marker, moved, unread) = on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let row: Option<(i64, i64)> = sqlx::query_as(
                "SELECT memberships.read_up_to, conversations.last_message_id FROM memberships \
                 JOIN conversations ON conversations.id = memberships.conversation_id \
                 WHERE memberships.user_id = $1 AND memberships.conversation_id = $2",
            )
            .bind(user.0)
            .bind(conversation.0)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((marker, last)) = row else {
                return Ok(None);
            };
            let wanted = i64::try_from(id).unwrap_or(i64::MAX).min(last);
            // Only forward, even against another server moving it meanwhile.
            let moved = wanted > marker
                && sqlx::query(
                    "UPDATE memberships SET read_up_to = $3 \
                     WHERE user_id = $1 AND conversation_id = $2 AND read_up_to < $3",
                )
                .bind(user.0)
                .bind(conversation.0)
                .bind(wanted)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
            let marker = marker.max(wanted);
            let unread = unread_in(&mut *tx, user, conversation, marker, last).await?;
            tx.commit().await?;
            (marker, moved, unread)
        });
        Ok(Some(ReadOutcome {
            read_up_to: to_wire_id(marker),
            moved,
            unread,
        }))
    }

    /// Every room, `general` first then by name, with its member count and, for the rooms
    /// `user` is in, their unread count. One query.
    pub async fn list_rooms(&self, user: UserId) -> Result<Vec<RoomListRow>, StorageError> {
        let rows: Vec<(i64, String, i64, i64, Option<i64>, i64)> =
            on_pool!(&self.pool, |pool| sqlx::query_as(&format!(
                "SELECT conversations.id, conversations.name, \
                 (SELECT COUNT(*) FROM memberships WHERE conversation_id = conversations.id), \
                 conversations.last_message_id, mine.read_up_to, {NOT_UNREAD_AFTER_MARKER} \
             FROM conversations \
             LEFT JOIN memberships AS mine \
                 ON mine.conversation_id = conversations.id AND mine.user_id = $1 \
             WHERE conversations.kind = 'room' \
             ORDER BY conversations.id <> $2, conversations.name"
            ))
            .bind(user.0)
            .bind(self.general.0)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(
                |(id, name, members, last, marker, not_unread)| RoomListRow {
                    id: ConversationId(id),
                    name,
                    members: to_wire_id(members),
                    last_id: to_wire_id(last),
                    unread: marker.map(|marker| unread(marker, last, not_unread)),
                },
            )
            .collect())
    }

    /// `user`'s rooms (`general` first, then by name) and direct conversations (newest
    /// activity first), with read state. One query: a few milliseconds for a user in 50
    /// rooms over hundreds of thousands of messages (index probes, no scans).
    pub async fn my_conversations(
        &self,
        user: UserId,
    ) -> Result<(Vec<RoomRow>, Vec<DirectRow>), StorageError> {
        type Row = (
            i64,
            String,
            String,
            i64,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = on_pool!(&self.pool, |pool| sqlx::query_as(&format!(
            "SELECT conversations.id, conversations.kind, conversations.name, \
                 conversations.last_message_id, mine.read_up_to, {NOT_UNREAD_AFTER_MARKER}, \
                 (SELECT sent_at FROM messages WHERE messages.conversation_id = conversations.id \
                  AND messages.id = conversations.last_message_id), \
                 other.user_id, users.name, users.retired_at, other.read_up_to \
             FROM memberships AS mine \
             JOIN conversations ON conversations.id = mine.conversation_id \
             LEFT JOIN memberships AS other ON conversations.kind = 'dm' \
                 AND other.conversation_id = conversations.id AND other.user_id <> $1 \
             LEFT JOIN users ON users.id = other.user_id \
             WHERE mine.user_id = $1 \
             ORDER BY conversations.kind = 'dm', conversations.id <> $2, conversations.name"
        ))
        .bind(user.0)
        .bind(self.general.0)
        .fetch_all(pool)
        .await?);
        let mut rooms = Vec::new();
        let mut directs = Vec::new();
        for (
            id,
            kind,
            name,
            last,
            marker,
            not_unread,
            last_at,
            other,
            other_name,
            retired,
            theirs,
        ) in rows
        {
            let conversation = ConversationId(id);
            let unread = unread(marker, last, not_unread);
            if kind != "dm" {
                rooms.push(RoomRow {
                    id: conversation,
                    name,
                    last_id: to_wire_id(last),
                    read_up_to: to_wire_id(marker),
                    unread,
                });
            } else if let (Some(other), Some(other_name)) = (other, other_name) {
                directs.push(DirectRow {
                    id: conversation,
                    other: UserId(other),
                    other_name,
                    other_retired: retired.is_some(),
                    last_id: to_wire_id(last),
                    read_up_to: to_wire_id(marker),
                    their_read_up_to: to_wire_id(theirs.unwrap_or(0)),
                    unread,
                    last_at: last_at.unwrap_or(0),
                });
            }
        }
        // Newest activity first (ties: the newer conversation).
        directs.sort_by_key(|d| std::cmp::Reverse((d.last_at, d.id)));
        Ok((rooms, directs))
    }

    /// `user`'s read marker of `conversation` (0 when not a member).
    pub async fn read_marker(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<u64, StorageError> {
        let marker: Option<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT read_up_to FROM memberships WHERE user_id = $1 AND conversation_id = $2",
        )
        .bind(user.0)
        .bind(conversation.0)
        .fetch_optional(pool)
        .await?);
        Ok(to_wire_id(marker.unwrap_or(0)))
    }
}

/// The messages after the reader's marker (`mine.read_up_to`) that are not unread, as a
/// column: their own (an index range count on `messages_by_sender`) and others' deleted
/// ones (on `messages_deleted`).
const NOT_UNREAD_AFTER_MARKER: &str = "((SELECT COUNT(*) FROM messages \
     WHERE messages.conversation_id = conversations.id AND messages.sender_id = $1 \
     AND messages.id > mine.read_up_to) + (SELECT COUNT(*) FROM messages \
     WHERE messages.conversation_id = conversations.id AND messages.deleted_at IS NOT NULL \
     AND messages.id > mine.read_up_to \
     AND (messages.sender_id IS NULL OR messages.sender_id <> $1)))";

/// Messages from others after `marker`: ids are gap-free, so all of them after it, but the
/// `not_unread` ones (the reader's own, others' deleted).
fn unread(marker: i64, last: i64, not_unread: i64) -> u64 {
    to_wire_id((last - marker - not_unread).max(0))
}

/// Unread messages of `user` in `conversation` whose marker is `marker`.
async fn unread_in<C>(
    conn: &mut C,
    user: UserId,
    conversation: ConversationId,
    marker: i64,
    last: i64,
) -> Result<u64, StorageError>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
    (i64,): for<'r> sqlx::FromRow<'r, <C::Database as sqlx::Database>::Row>,
{
    if last <= marker {
        return Ok(0);
    }
    let not_unread: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM messages \
             WHERE conversation_id = $1 AND sender_id = $2 AND id > $3) \
         + (SELECT COUNT(*) FROM messages \
             WHERE conversation_id = $1 AND deleted_at IS NOT NULL AND id > $3 \
             AND (sender_id IS NULL OR sender_id <> $2))",
    )
    .bind(conversation.0)
    .bind(user.0)
    .bind(marker)
    .fetch_one(&mut *conn)
    .await?;
    Ok(unread(marker, last, not_unread))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::NewMessage;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("valid")
    }

    fn post(sender: UserId, name: &str) -> NewMessage {
        NewMessage {
            sender,
            sender_name: name.into(),
            text: "hi".into(),
            client_id: None,
        }
    }

    #[tokio::test]
    async fn rooms_are_created_by_joining_and_counted() {
        let store = Store::for_test().await;
        let ann = store.create_user("Ann").await.expect("user");
        let bob = store.create_user("Bob").await.expect("user");
        let (rust, newly) = store.join_room(ann, &room("rust")).await.expect("join");
        assert!(newly);
        assert_eq!(
            store.join_room(ann, &room("rust")).await.expect("join"),
            (rust, false)
        );
        store.append(rust, post(ann, "Ann")).await.expect("append");
        store.append(rust, post(ann, "Ann")).await.expect("append");
        let (_, newly) = store.join_room(bob, &room("rust")).await.expect("join");
        assert!(newly);
        store.append(rust, post(ann, "Ann")).await.expect("append");
        let rooms = store.list_rooms(bob).await.expect("list");
        assert_eq!(
            rooms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            vec!["general", "rust"]
        );
        assert_eq!(rooms[1].members, 2);
        assert_eq!(rooms[1].unread, Some(1), "what came before joining is read");
        assert_eq!(rooms[0].members, 2);
        assert_eq!(
            store.rooms_of(bob).await.expect("rooms"),
            vec![(rust, room("rust"))]
        );
        assert!(store.leave_room(bob, rust).await.expect("leave"));
        assert!(!store.leave_room(bob, rust).await.expect("leave"));
        assert_eq!(store.list_rooms(bob).await.expect("list")[1].unread, None);
    }

    #[tokio::test]
    async fn read_markers_only_move_forward_and_count_others_messages() {
        let store = Store::for_test().await;
        let ann = store.create_user("Ann").await.expect("user");
        let bob = store.create_user("Bob").await.expect("user");
        let pair = DirectPair::new(ann, bob).expect("two users");
        assert_eq!(store.direct(pair).await.expect("find"), None);
        let dm = store.open_direct(pair).await.expect("open");
        assert_eq!(store.open_direct(pair).await.expect("open"), dm);
        for _ in 0..3 {
            store.append(dm, post(bob, "Bob")).await.expect("append");
        }
        store.append(dm, post(ann, "Ann")).await.expect("append");
        let (_, directs) = store.my_conversations(ann).await.expect("list");
        assert_eq!(directs.len(), 1);
        assert_eq!(
            (directs[0].other_name.as_str(), directs[0].unread),
            ("Bob", 3)
        );
        // Forward, never back, and never past the newest message.
        for (up_to, read_up_to, moved, unread) in
            [(2, 2, true, 1), (1, 2, false, 1), (99, 4, true, 0)]
        {
            let outcome = store
                .mark_read(ann, dm, up_to)
                .await
                .expect("mark")
                .expect("member");
            assert_eq!(
                outcome,
                ReadOutcome {
                    read_up_to,
                    moved,
                    unread
                },
                "mark_read up to {up_to}"
            );
        }
        let (_, bobs) = store.my_conversations(bob).await.expect("list");
        assert_eq!((bobs[0].unread, bobs[0].their_read_up_to), (1, 4));
        let cat = store.create_user("Cat").await.expect("user");
        assert_eq!(
            store.mark_read(cat, dm, 1).await.expect("mark"),
            None,
            "not hers"
        );
        assert_eq!(
            store
                .conversation_named(&format!("dm:{}:{}", ann.0, bob.0))
                .await
                .expect("find"),
            Some((dm, Some(pair)))
        );
    }
}
