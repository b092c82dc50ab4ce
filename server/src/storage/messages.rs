//! Messages: append (idempotent per sender and client id), keyset-paginated reads, and
//! deletion by an administrator, in any conversation.
//!
//! A deleted message stays as a tombstone: its id (ids stay gap-free, so a client's
//! catch-up cursor can pass it), its text wiped. Pages leave tombstones out of their
//! messages and list their ids in [`HistoryPage::deleted`].

use std::collections::HashMap;

use sqlx::Row;

use super::backend::{run_sqlite_script, Pool};
use super::{now_ms, StorageError, Store};
use crate::chat::{ConversationId, NewMessage, StoredMessage, UserId};

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now, under a new id.
    Stored(StoredMessage),
    /// The same sender had already stored a message with this client id there: that one.
    Duplicate(StoredMessage),
}

/// A slice of a conversation, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryPage {
    pub messages: Vec<StoredMessage>,
    /// Older messages exist before the first one (pages going back).
    pub has_more: bool,
    /// Catch-up only: too many newer messages; the client should reload the newest page.
    pub resync: bool,
    /// The ids of deleted messages in the stretch the page covers, in order.
    pub deleted: Vec<u64>,
}

impl HistoryPage {
    /// The page of `rows` (oldest first): tombstones become [`HistoryPage::deleted`].
    fn of(rows: Vec<MessageRow>, has_more: bool) -> Self {
        let mut page = Self {
            has_more,
            ..Self::default()
        };
        for row in rows {
            match row.6 {
                Some(_) => page.deleted.push(to_wire_id(row.0)),
                None => page.messages.push(decode(row)),
            }
        }
        page
    }
}

const COLUMNS: &str = "id, sender, sender_id, body, client_id, sent_at, deleted_at";

impl Store {
    /// Stores `message` in `conversation` under the next id, unless its sender already
    /// stored one there with the same client id. One transaction: the id counter and the
    /// row move together.
    pub async fn append(
        &self,
        conversation: ConversationId,
        message: NewMessage,
    ) -> Result<Appended, StorageError> {
        let mut appended = self.append_all(vec![(conversation, message)]).await?;
        appended
            .pop()
            .ok_or(StorageError::Database(sqlx::Error::RowNotFound))
    }

    /// Stores `messages` in order, in one transaction (one commit for a burst), each as
    /// [`Store::append`] would.
    ///
    /// The whole transaction is one request to the database: every request is a hand-off
    /// to the connection's thread and back, which on a busy machine waits for a core each
    /// way, and the hub delivers nothing until the commit.
    pub async fn append_all(
        &self,
        messages: Vec<(ConversationId, NewMessage)>,
    ) -> Result<Vec<Appended>, StorageError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let sent_at = now_ms();
        // Message index -> its new id, for those stored now.
        let ids = match &self.pool {
            Pool::Sqlite(pool) => append_sqlite(pool, &messages, sent_at).await?,
            Pool::Postgres(pool) => append_postgres(pool, &messages, sent_at).await?,
        };
        let mut appended = Vec::with_capacity(messages.len());
        for (index, (conversation, message)) in messages.into_iter().enumerate() {
            appended.push(match ids.get(&index) {
                Some(&id) => Appended::Stored(StoredMessage {
                    id: to_wire_id(id),
                    sender: message.sender,
                    sender_name: message.sender_name,
                    text: message.text,
                    sent_at,
                    client_id: message.client_id,
                }),
                // Not inserted: its sender stored this client id there before (or earlier
                // in this batch).
                None => Appended::Duplicate(self.stored_before(conversation, &message).await?),
            });
        }
        Ok(appended)
    }

    /// The message `message`'s sender stored before with its client id.
    async fn stored_before(
        &self,
        conversation: ConversationId,
        message: &NewMessage,
    ) -> Result<StoredMessage, StorageError> {
        let row: MessageRow = on_pool!(&self.pool, |pool| sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM messages \
             WHERE conversation_id = $1 AND sender_id = $2 AND client_id = $3"
        ))
        .bind(conversation.0)
        .bind(message.sender.0)
        .bind(&message.client_id)
        .fetch_one(pool)
        .await?);
        Ok(decode(row))
    }

    /// Up to `limit` messages older than `before` (the newest ones when `None`), oldest
    /// first.
    pub async fn page_before(
        &self,
        conversation: ConversationId,
        before: Option<u64>,
        limit: u32,
    ) -> Result<HistoryPage, StorageError> {
        let before = before.map_or(i64::MAX, from_wire_id);
        let rows: Vec<MessageRow> = on_pool!(&self.pool, |pool| sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(conversation.0)
        .bind(before)
        // One more than asked: tells whether older ones exist.
        .bind(i64::from(limit) + 1)
        .fetch_all(pool)
        .await?);
        let has_more = rows.len() > limit as usize;
        let mut rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
        rows.reverse();
        Ok(HistoryPage::of(rows, has_more))
    }

    /// Every message newer than `after`, oldest first; or `resync` when there are more
    /// than `max`.
    pub async fn page_after(
        &self,
        conversation: ConversationId,
        after: u64,
        max: u32,
    ) -> Result<HistoryPage, StorageError> {
        let rows: Vec<MessageRow> = on_pool!(&self.pool, |pool| sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND id > $2 \
             ORDER BY id ASC LIMIT $3"
        ))
        .bind(conversation.0)
        .bind(from_wire_id(after))
        .bind(i64::from(max) + 1)
        .fetch_all(pool)
        .await?);
        if rows.len() > max as usize {
            return Ok(HistoryPage {
                resync: true,
                ..HistoryPage::default()
            });
        }
        // Ids count up from 1: older messages exist unless the catch-up starts at the
        // first one.
        if let Some(first) = rows.first() {
            let has_more = first.0 > 1;
            return Ok(HistoryPage::of(rows, has_more));
        }
        // Nothing newer. A cursor beyond the newest id comes from another history (the
        // database was replaced or restored): the client must start over, or the ids it
        // holds would hide new messages that reuse them.
        let last = self.last_message_id(conversation).await?;
        Ok(HistoryPage {
            has_more: after.min(last) > 0,
            resync: after > last,
            ..HistoryPage::default()
        })
    }

    /// Deletes message `id` of `conversation` (an administrator's decision): its text is
    /// wiped, its id stays as a tombstone. False if there is no such message, or it was
    /// deleted already.
    pub async fn delete_message(
        &self,
        conversation: ConversationId,
        id: u64,
    ) -> Result<bool, StorageError> {
        let deleted = on_pool!(&self.pool, |pool| sqlx::query(
            "UPDATE messages SET body = $3, deleted_at = $4 \
             WHERE conversation_id = $1 AND id = $2 AND deleted_at IS NULL"
        )
        .bind(conversation.0)
        .bind(from_wire_id(id))
        .bind(Vec::<u8>::new())
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected());
        Ok(deleted == 1)
    }

    /// The id of the newest message in `conversation` (0 when it has none).
    pub async fn last_message_id(&self, conversation: ConversationId) -> Result<u64, StorageError> {
        let last: i64 = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT last_message_id FROM conversations WHERE id = $1"
        )
        .bind(conversation.0)
        .fetch_one(pool)
        .await?);
        Ok(to_wire_id(last))
    }
}

/// Stores `messages` with one script (see `append_script`): one request to the database.
async fn append_sqlite(
    pool: &sqlx::SqlitePool,
    messages: &[(ConversationId, NewMessage)],
    sent_at: i64,
) -> Result<HashMap<usize, i64>, StorageError> {
    let script = append_script(messages.len());
    // A script per batch size: only the single message (the usual case) is worth keeping
    // prepared.
    let mut query = sqlx::query(&script).persistent(messages.len() == 1);
    for (conversation, message) in messages {
        query = query
            .bind(conversation.0)
            .bind(&message.sender_name)
            .bind(crate::chat::name_key(&message.sender_name))
            .bind(message.sender.0)
            .bind(&message.text)
            .bind(&message.client_id)
            .bind(sent_at);
    }
    let mut ids = HashMap::new();
    for row in run_sqlite_script(pool, query).await? {
        let index = usize::try_from(row.try_get::<i64, _>(0)?).unwrap_or(usize::MAX);
        ids.insert(index, row.try_get::<i64, _>(1)?);
    }
    Ok(ids)
}

/// Stores `messages` in one transaction. It first locks the counter rows of every
/// conversation it writes to, in id order (two servers' batches over the same
/// conversations then wait for each other instead of deadlocking), and holds them to the
/// commit: writers to one conversation, on any server, take turns, so ids are gap-free and
/// in commit order. `FOR NO KEY UPDATE` leaves the rows' keys free, so inserts elsewhere
/// that only reference a conversation (memberships) do not wait. Then one statement per
/// message inserts under the next id, unless the sender stored the client id there
/// before, and moves the counter only when it inserted. A missing conversation gives a
/// null id: an error, and nothing is stored.
async fn append_postgres(
    pool: &sqlx::PgPool,
    messages: &[(ConversationId, NewMessage)],
    sent_at: i64,
) -> Result<HashMap<usize, i64>, StorageError> {
    let mut tx = pool.begin().await?;
    let mut conversations: Vec<i64> = messages.iter().map(|(c, _)| c.0).collect();
    conversations.sort_unstable();
    conversations.dedup();
    sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(&conversations)
        .fetch_all(&mut *tx)
        .await?;
    let mut ids = HashMap::new();
    for (index, (conversation, message)) in messages.iter().enumerate() {
        let id: Option<i64> = sqlx::query_scalar(
            "WITH counter AS (\
                 SELECT last_message_id FROM conversations WHERE id = $1 FOR NO KEY UPDATE), \
             inserted AS (\
                 INSERT INTO messages \
                 (conversation_id, id, sender, sender_key, sender_id, body, client_id, sent_at) \
                 VALUES ($1, (SELECT last_message_id + 1 FROM counter), $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (conversation_id, sender_id, client_id) WHERE client_id IS NOT NULL \
                 DO NOTHING RETURNING id), \
             moved AS (\
                 UPDATE conversations SET last_message_id = inserted.id FROM inserted \
                 WHERE conversations.id = $1) \
             SELECT id FROM inserted",
        )
        .bind(conversation.0)
        .bind(&message.sender_name)
        .bind(crate::chat::name_key(&message.sender_name))
        .bind(message.sender.0)
        .bind(message.text.as_bytes())
        .bind(&message.client_id)
        .bind(sent_at)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            ids.insert(index, id);
        }
    }
    tx.commit().await?;
    Ok(ids)
}

/// A message's columns, in the order of [`COLUMNS`]. The body is read as bytes: text in
/// SQLite, UTF-8 bytes in PostgreSQL (whose text cannot hold NUL).
/// The last column is when the message was deleted (a tombstone), if it was.
type MessageRow = (
    i64,
    String,
    Option<i64>,
    Vec<u8>,
    Option<String>,
    i64,
    Option<i64>,
);

/// One transaction storing `count` messages, each under the next id of its conversation
/// (the insert trigger moves the counter on), unless its sender stored its client id there
/// before. Message `i` takes the arguments `7 i + 1` to `7 i + 7` (conversation, sender's
/// name, its key, sender, text, client id, time) and returns `(i, id)` when it is stored.
/// A missing conversation gives a null id: an error, and nothing is stored.
fn append_script(count: usize) -> String {
    let mut script = String::from("BEGIN IMMEDIATE;\n");
    for index in 0..count {
        let p = 7 * index;
        script.push_str(&format!(
            "INSERT INTO messages \
             (conversation_id, id, sender, sender_key, sender_id, body, client_id, sent_at) \
             VALUES (${c}, (SELECT last_message_id + 1 FROM conversations WHERE id = ${c}), \
             ${}, ${}, ${}, ${}, ${}, ${}) \
             ON CONFLICT (conversation_id, sender_id, client_id) WHERE client_id IS NOT NULL \
             DO NOTHING RETURNING {index}, id;\n",
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            c = p + 1,
        ));
    }
    script.push_str("COMMIT;");
    script
}

fn decode((id, sender_name, sender, text, client_id, sent_at, _): MessageRow) -> StoredMessage {
    StoredMessage {
        id: to_wire_id(id),
        // Messages from before users had ids belong to nobody.
        sender: UserId(sender.unwrap_or(0)),
        sender_name,
        // Only the server writes this column, always from a `String`.
        text: String::from_utf8(text)
            .unwrap_or_else(|bad| String::from_utf8_lossy(bad.as_bytes()).into_owned()),
        client_id,
        sent_at,
    }
}

/// Ids are positive in the database; the wire uses unsigned numbers.
pub(super) fn to_wire_id(id: i64) -> u64 {
    u64::try_from(id).unwrap_or(0)
}

pub(super) fn from_wire_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::RoomName;

    const ANN: UserId = UserId(1);
    const BOB: UserId = UserId(2);

    fn new(sender: UserId, text: &str, client_id: Option<&str>) -> NewMessage {
        NewMessage {
            sender,
            sender_name: if sender == ANN { "Ann" } else { "Bob" }.into(),
            text: text.into(),
            client_id: client_id.map(Into::into),
        }
    }

    async fn store_with(count: usize) -> Store {
        let store = Store::for_test().await;
        assert_eq!(store.create_user("Ann").await.expect("user"), ANN);
        assert_eq!(store.create_user("Bob").await.expect("user"), BOB);
        for i in 1..=count {
            store
                .append(store.general(), new(ANN, &format!("m{i}"), None))
                .await
                .expect("append");
        }
        store
    }

    fn ids(page: &HistoryPage) -> Vec<u64> {
        page.messages.iter().map(|m| m.id).collect()
    }

    /// A deleted message is gone from every page (its text from the database too) and
    /// named in their `deleted`; its id stays taken; it is not unread.
    #[tokio::test]
    async fn a_deleted_message_leaves_a_tombstone_that_pages_name_and_nobody_counts() {
        let store = store_with(0).await;
        let general = store.general();
        for (sender, text) in [(ANN, "one"), (BOB, "two, rude"), (ANN, "three")] {
            store
                .append(general, new(sender, text, None))
                .await
                .expect("append");
        }
        let (rooms, _) = store.my_conversations(ANN).await.expect("list");
        assert_eq!(rooms[0].unread, 1, "Bob's message is unread before");
        assert!(store.delete_message(general, 2).await.expect("delete"));
        assert!(
            !store.delete_message(general, 2).await.expect("again"),
            "once"
        );
        assert!(!store.delete_message(general, 9).await.expect("unknown"));

        let newest = store.page_before(general, None, 50).await.expect("page");
        assert_eq!(
            (ids(&newest), newest.deleted.clone()),
            (vec![1, 3], vec![2])
        );
        let after = store.page_after(general, 1, 100).await.expect("catch-up");
        assert_eq!((ids(&after), after.deleted.clone()), (vec![3], vec![2]));
        let older = store.page_before(general, Some(3), 1).await.expect("page");
        assert_eq!(
            (ids(&older), older.deleted, older.has_more),
            (vec![], vec![2], true)
        );
        let texts = store
            .page_before(general, None, 50)
            .await
            .expect("page")
            .messages;
        assert!(texts.iter().all(|m| !m.text.contains("rude")));

        let (rooms, _) = store.my_conversations(ANN).await.expect("list");
        assert_eq!(rooms[0].unread, 0, "a deleted message is not unread");
        let next = store
            .append(general, new(BOB, "four", None))
            .await
            .expect("append");
        let Appended::Stored(next) = next else {
            panic!("stored");
        };
        assert_eq!(next.id, 4, "the deleted id is not reused");
        let (rooms, _) = store.my_conversations(ANN).await.expect("list");
        assert_eq!(rooms[0].unread, 1);
    }

    /// Two servers appending batches at once to the same two conversations, in opposite
    /// orders: on PostgreSQL each batch locks its conversations in id order, so neither
    /// deadlocks, and each conversation's ids are gap-free.
    #[tokio::test]
    async fn batches_appended_at_once_in_opposite_orders_all_commit_without_gaps() {
        let store = store_with(0).await;
        let rust = RoomName::parse("rust").expect("valid");
        let (rust, _) = store.join_room(ANN, &rust).await.expect("join");
        let lobby = store.general();
        const ROUNDS: usize = 40;
        let writer = |first: ConversationId, second: ConversationId, sender: UserId| {
            let store = store.clone();
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    let text = format!("{round}");
                    store
                        .append_all(vec![
                            (first, new(sender, &text, None)),
                            (second, new(sender, &text, None)),
                        ])
                        .await
                        .expect("a batch commits");
                }
            })
        };
        let a = writer(lobby, rust, ANN);
        let b = writer(rust, lobby, BOB);
        a.await.expect("a");
        b.await.expect("b");
        for conversation in [lobby, rust] {
            let page = store
                .page_before(conversation, None, 500)
                .await
                .expect("page");
            let expected: Vec<u64> = (1..=2 * ROUNDS as u64).collect();
            assert_eq!(ids(&page), expected);
        }
    }

    #[tokio::test]
    async fn ids_increase_from_one() {
        let store = store_with(3).await;
        let page = store
            .page_before(store.general(), None, 50)
            .await
            .expect("page");
        assert_eq!(ids(&page), vec![1, 2, 3]);
        assert_eq!(page.messages[2].text, "m3");
        assert!(!page.has_more);
    }

    #[tokio::test]
    async fn any_text_is_stored_exactly() {
        let store = store_with(0).await;
        let text = "nul \0 here, \u{1F600}, <b>tags</b>, 'quotes' and \\ backslash";
        store
            .append(store.general(), new(ANN, text, None))
            .await
            .expect("append");
        let page = store
            .page_before(store.general(), None, 1)
            .await
            .expect("page");
        assert_eq!(page.messages[0].text, text);
    }

    #[tokio::test]
    async fn a_client_id_is_stored_once_per_sender() {
        let store = store_with(0).await;
        let lobby = store.general();
        let first = store
            .append(lobby, new(ANN, "hi", Some("c1")))
            .await
            .expect("append");
        let again = store
            .append(lobby, new(ANN, "hi again", Some("c1")))
            .await
            .expect("append");
        let Appended::Stored(stored) = first else {
            panic!("first append must store: {first:?}");
        };
        assert_eq!(again, Appended::Duplicate(stored.clone()));
        // Another sender may use the same client id.
        let other = store
            .append(lobby, new(BOB, "yo", Some("c1")))
            .await
            .expect("append");
        assert!(
            matches!(other, Appended::Stored(ref m) if m.id == 2),
            "{other:?}"
        );
    }

    #[tokio::test]
    async fn a_batch_is_stored_in_order_and_sees_its_own_client_ids() {
        let store = store_with(1).await;
        let appended = store
            .append_all(vec![
                (store.general(), new(ANN, "a", Some("x"))),
                (store.general(), new(BOB, "b", None)),
                (store.general(), new(ANN, "a again", Some("x"))),
            ])
            .await
            .expect("append");
        let ids: Vec<(u64, bool)> = appended
            .iter()
            .map(|a| match a {
                Appended::Stored(m) => (m.id, false),
                Appended::Duplicate(m) => (m.id, true),
            })
            .collect();
        assert_eq!(ids, vec![(2, false), (3, false), (2, true)]);
    }

    #[tokio::test]
    async fn a_batch_that_fails_stores_none_of_it_and_the_numbering_goes_on() {
        let store = store_with(1).await;
        let failed = store
            .append_all(vec![
                (store.general(), new(ANN, "kept out", None)),
                (ConversationId(9999), new(BOB, "nowhere", None)),
            ])
            .await;
        assert!(failed.is_err(), "a missing conversation fails the batch");
        let page = store
            .page_before(store.general(), None, 10)
            .await
            .expect("page");
        assert_eq!(
            ids(&page),
            vec![1],
            "nothing of the failed batch was stored"
        );

        let appended = store
            .append(store.general(), new(BOB, "after", None))
            .await
            .expect("the store still works");
        assert!(
            matches!(appended, Appended::Stored(m) if m.id == 2),
            "no gap"
        );
    }

    #[tokio::test]
    async fn pages_go_back_without_gaps_or_repeats() {
        let store = store_with(25).await;
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .page_before(store.general(), before, 10)
                .await
                .expect("page");
            seen.splice(0..0, ids(&page));
            before = page.messages.first().map(|m| m.id);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(seen, (1..=25).collect::<Vec<u64>>());
    }

    #[tokio::test]
    async fn catch_up_or_resync() {
        let store = store_with(10).await;
        let page = store.page_after(store.general(), 7, 5).await.expect("page");
        assert_eq!(ids(&page), vec![8, 9, 10]);
        assert!(!page.resync);
        assert!(page.has_more);
        let too_far = store.page_after(store.general(), 2, 5).await.expect("page");
        assert!(too_far.resync);
        assert!(too_far.messages.is_empty());
        let up_to_date = store
            .page_after(store.general(), 10, 5)
            .await
            .expect("page");
        assert!(up_to_date.messages.is_empty() && !up_to_date.resync);
        assert!(up_to_date.has_more, "the ten messages are older");
        let from_elsewhere = store
            .page_after(store.general(), 11, 5)
            .await
            .expect("page");
        assert!(
            from_elsewhere.resync,
            "a cursor past the newest id starts over"
        );

        let empty = store_with(0).await;
        let nothing = empty.page_after(empty.general(), 0, 5).await.expect("page");
        assert_eq!(nothing, HistoryPage::default());
        let stale = empty.page_after(empty.general(), 3, 5).await.expect("page");
        assert!(stale.resync && !stale.has_more);
    }

    /// Any batches, to any of three conversations, from two senders, some resent under a
    /// client id used before: every new message gets the next id of its conversation (gap-
    /// free, increasing, in batch order), and a resend is the message stored first.
    mod properties {
        use std::collections::HashMap;

        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: 16,
                failure_persistence: None,
                ..ProptestConfig::default()
            })]

            #[test]
            fn ids_are_gap_free_per_conversation_and_resends_are_stored_once(
                batches in prop::collection::vec(
                    prop::collection::vec((0..3usize, any::<bool>(), prop::option::of(0..4u8)), 1..12),
                    1..6,
                )
            ) {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                runtime.block_on(async {
                    let store = store_with(0).await;
                    let mut conversations = vec![store.general()];
                    for room in ["rust", "go"] {
                        let room = RoomName::parse(room).expect("valid");
                        conversations.push(store.join_room(ANN, &room).await.expect("join").0);
                    }
                    let mut last: HashMap<ConversationId, u64> = HashMap::new();
                    let mut first_stored: HashMap<(ConversationId, UserId, u8), u64> = HashMap::new();
                    for batch in batches {
                        let rows: Vec<(ConversationId, NewMessage)> = batch
                            .iter()
                            .map(|(to, ann, client)| {
                                let sender = if *ann { ANN } else { BOB };
                                let client = client.map(|c| format!("c{c}"));
                                (conversations[*to], new(sender, "m", client.as_deref()))
                            })
                            .collect();
                        let appended = store.append_all(rows).await.expect("a batch commits");
                        prop_assert_eq!(appended.len(), batch.len());
                        for ((to, ann, client), appended) in batch.iter().zip(appended) {
                            let conversation = conversations[*to];
                            let sender = if *ann { ANN } else { BOB };
                            let earlier = client.and_then(|c| first_stored.get(&(conversation, sender, c)).copied());
                            match (appended, earlier) {
                                (Appended::Duplicate(message), Some(id)) => prop_assert_eq!(message.id, id),
                                (Appended::Stored(message), None) => {
                                    let next = last.get(&conversation).copied().unwrap_or(0) + 1;
                                    prop_assert_eq!(message.id, next, "the next id, no gap");
                                    last.insert(conversation, next);
                                    if let Some(c) = client {
                                        first_stored.insert((conversation, sender, *c), next);
                                    }
                                }
                                (other, earlier) => {
                                    return Err(TestCaseError::fail(format!(
                                        "{other:?} for a message stored before as {earlier:?}"
                                    )));
                                }
                            }
                        }
                    }
                    Ok(())
                })?;
            }
        }
    }
}
