//! Acknowledgement payloads (`chat` receipts, `history` answers) and the `history` request.

use serde::{Deserialize, Serialize};

use super::{ChatMessage, RejectionReason};

/// A `chat` payload with a client id (the web client's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChatPost<'a> {
    pub text: &'a str,
    #[serde(rename = "clientId")]
    pub client_id: &'a str,
}

/// The acknowledgement of a `chat`: stored (with its id) or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReceipt {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(rename = "sentAt", default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// Stored before, under the same client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl ChatReceipt {
    pub fn stored(message: &ChatMessage, duplicate: bool) -> Self {
        Self {
            ok: true,
            id: Some(message.id),
            sent_at: Some(message.sent_at),
            duplicate: Some(duplicate),
            reason: None,
            message: None,
            retry_after_ms: None,
        }
    }

    pub fn refused(reason: RejectionReason) -> Self {
        Self {
            ok: false,
            id: None,
            sent_at: None,
            duplicate: None,
            reason: Some(reason),
            message: Some(reason.describe().to_owned()),
            retry_after_ms: None,
        }
    }

    /// A `rateLimited` refusal says when to ask again.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}

/// The acknowledgement of a `history` request. `M` is the shape of its messages: the
/// lobby's [`ChatMessage`], a room's [`RoomMessage`](super::RoomMessage) or a direct
/// conversation's [`DirectMessage`](super::DirectMessage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryReply<M = ChatMessage> {
    pub ok: bool,
    /// Oldest first.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<M>>,
    /// Older messages exist before the first one.
    #[serde(rename = "hasMore", default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// Too many messages to catch up with: reload the newest page instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync: Option<bool>,
    /// The ids in the stretch answered whose messages an administrator deleted: not gaps
    /// to fill (absent when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl<M> HistoryReply<M> {
    pub fn page(messages: Vec<M>, has_more: bool, resync: bool) -> Self {
        Self {
            ok: true,
            messages: Some(messages),
            has_more: Some(has_more),
            resync: Some(resync),
            deleted: Vec::new(),
            reason: None,
            message: None,
            retry_after_ms: None,
        }
    }

    pub fn refused(reason: RejectionReason) -> Self {
        Self {
            ok: false,
            messages: None,
            has_more: None,
            resync: None,
            deleted: Vec::new(),
            reason: Some(reason),
            message: Some(reason.describe().to_owned()),
            retry_after_ms: None,
        }
    }

    /// A `rateLimited` refusal says when to ask again.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// The ids of deleted messages in the stretch the page covers.
    pub fn with_deleted(mut self, deleted: Vec<u64>) -> Self {
        self.deleted = deleted;
        self
    }
}

/// A `history` request, as the web client sends it (the server validates any JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// A room's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// The history of your direct conversation with this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A refusal, the acknowledgement of any request of the rooms protocol that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub ok: bool,
    pub reason: RejectionReason,
    pub message: String,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl Refused {
    pub fn new(reason: RejectionReason) -> Self {
        Self {
            ok: false,
            reason,
            message: reason.describe().to_owned(),
            retry_after_ms: None,
        }
    }

    /// A `rateLimited` refusal says when to ask again.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}

/// An acknowledgement that says only that it was done (`logout`, `typing`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Done {
    pub ok: bool,
}

/// The acknowledgement of a log-in (`register`, `login` of the rooms protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoggedIn<'a> {
    pub ok: bool,
    pub username: &'a str,
    #[serde(rename = "userId")]
    pub user_id: u64,
}

/// The acknowledgement of `leave_room`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LeftReply<'a> {
    pub ok: bool,
    pub room: &'a str,
}

/// The acknowledgement of `set_presence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PresenceReply {
    pub ok: bool,
    pub status: super::PresenceStatus,
}

/// The acknowledgement of `send_message` and `private_message`, as the client reads it:
/// stored (with its id) or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    pub ok: bool,
    /// `"delivered"` when stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The guide's name for `id`.
    #[serde(rename = "messageId", default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// ISO-8601, when it was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl SendReceipt {
    pub fn stored(id: u64, time: String, duplicate: bool) -> Self {
        Self {
            ok: true,
            status: Some("delivered".to_owned()),
            message_id: Some(id),
            id: Some(id),
            time: Some(time),
            duplicate: Some(duplicate),
            reason: None,
            message: None,
            retry_after_ms: None,
        }
    }

    pub fn refused(reason: RejectionReason) -> Self {
        Self {
            ok: false,
            status: None,
            message_id: None,
            id: None,
            time: None,
            duplicate: None,
            reason: Some(reason),
            message: Some(reason.describe().to_owned()),
            retry_after_ms: None,
        }
    }

    /// A `rateLimited` refusal says when to ask again.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}

/// One room in the answer to `list_rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub room: String,
    /// Members of the room.
    pub members: u64,
    /// Members online or away.
    pub online: u64,
    /// Whether you are a member.
    pub member: bool,
    /// Your unread messages (0 when not a member).
    pub unread: u64,
    #[serde(rename = "lastId")]
    pub last_id: u64,
}

/// The acknowledgement of `list_rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomList {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<Vec<RoomInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

/// One of your rooms in the answer to `my_conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub room: String,
    pub unread: u64,
    #[serde(rename = "lastId")]
    pub last_id: u64,
    #[serde(rename = "readUpTo")]
    pub read_up_to: u64,
}

/// One of your direct conversations in the answer to `my_conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmSummary {
    /// The other party's name.
    pub with: String,
    /// The other party's user id.
    #[serde(rename = "userId")]
    pub user_id: u64,
    pub status: super::PresenceStatus,
    pub unread: u64,
    #[serde(rename = "lastId")]
    pub last_id: u64,
    #[serde(rename = "readUpTo")]
    pub read_up_to: u64,
    /// How far the other party has read.
    #[serde(rename = "theirReadUpTo")]
    pub their_read_up_to: u64,
}

/// The acknowledgement of `my_conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversations {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<Vec<RoomSummary>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dms: Option<Vec<DmSummary>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

/// The acknowledgement of `join_room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinReply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    /// Newly a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

/// The acknowledgement of `mark_read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReply {
    pub ok: bool,
    #[serde(rename = "readUpTo", default, skip_serializing_if = "Option::is_none")]
    pub read_up_to: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn receipts_have_the_documented_shape() {
        let message = ChatMessage {
            sender: "Ann".into(),
            message: "hi".into(),
            id: 3,
            sent_at: 5,
            client_id: None,
        };
        assert_eq!(
            serde_json::to_value(ChatReceipt::stored(&message, false)).expect("json"),
            json!({"ok": true, "id": 3, "sentAt": 5, "duplicate": false})
        );
        let refused = serde_json::to_value(ChatReceipt::refused(RejectionReason::StorageFailed))
            .expect("json");
        assert_eq!(refused["ok"], json!(false));
        assert_eq!(refused["reason"], json!("storageFailed"));
    }

    #[test]
    fn history_replies_round_trip() {
        let reply = HistoryReply::page(Vec::new(), true, false);
        let wire = serde_json::to_value(&reply).expect("json");
        assert_eq!(
            wire,
            json!({"ok": true, "messages": [], "hasMore": true, "resync": false})
        );
        assert_eq!(
            serde_json::from_value::<HistoryReply>(wire).expect("back"),
            reply
        );
    }
}
