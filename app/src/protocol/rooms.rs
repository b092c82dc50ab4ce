//! Payloads of the rooms protocol (the "full-featured chat" guide's events): rooms, direct
//! messages, typing per conversation, presence and read state. Keys are the guide's
//! (`username`, `isTyping`, `time`, ...); ours are extra keys in the same style.

use serde::{Deserialize, Serialize};

use super::RejectionReason;

/// `room_joined`: this socket's user is a member of `room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomJoined {
    pub room: String,
    pub username: String,
    #[serde(rename = "userId")]
    pub user_id: u64,
}

/// Why someone appears in or disappears from a room (`user_joined` / `user_left`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberChange {
    /// Left the room (`leave_room`).
    Left,
    /// A member came online.
    Online,
    /// A member went offline.
    Offline,
}

/// `user_joined` / `user_left`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEvent {
    pub username: String,
    pub room: String,
    /// ISO-8601.
    pub time: String,
    /// Absent when the user just joined the room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<MemberChange>,
}

/// `receive_message`: a message in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomMessage {
    pub id: u64,
    pub username: String,
    pub message: String,
    /// ISO-8601, when the server stored it.
    pub time: String,
    pub room: String,
    /// The sender's user id (0 for messages stored before users had ids).
    #[serde(rename = "userId")]
    pub user_id: u64,
    #[serde(rename = "clientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// `private_message`: a message in a direct conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectMessage {
    pub id: u64,
    pub from: String,
    pub to: String,
    pub message: String,
    /// ISO-8601, when the server stored it.
    pub time: String,
    /// The sender's user id.
    #[serde(rename = "userId")]
    pub user_id: u64,
    #[serde(rename = "clientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Set (true) on the copies that go to the sender's own sockets.
    #[serde(rename = "isSelf", default, skip_serializing_if = "is_false")]
    pub is_self: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `user_typing`: in a room (`room`) or a direct conversation (`with`: the typer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTyping {
    pub username: String,
    #[serde(rename = "isTyping")]
    pub is_typing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
}

/// Message `id` of a room (`room`), or of a direct conversation `with` someone (named
/// from the receiver's side: the other party).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    pub id: u64,
}

/// `read_marker`: your read marker moved (on another socket of yours) to this message.
pub type ReadMarker = MessageAt;

/// `message_deleted`: an administrator deleted this message.
pub type MessageDeleted = MessageAt;

/// `announcement`: a line from the administrators to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub message: String,
    /// When it was sent (ISO-8601, UTC).
    pub time: String,
}

/// `messages_read`: the other party of a DM has read up to `id` (the "seen" receipt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesRead {
    /// Who read.
    pub by: String,
    /// The DM, named from the receiver's side: the reader.
    pub with: String,
    pub id: u64,
}

/// A user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresenceStatus {
    Online,
    Away,
    Offline,
}

impl PresenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

/// One user in `presence_update`, and the payload of `presence_changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub username: String,
    pub status: PresenceStatus,
}

/// `error`: a refused request that had no acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// Human-readable.
    pub msg: String,
    pub reason: RejectionReason,
    /// The refused event.
    pub event: String,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl ErrorEvent {
    pub fn new(event: impl Into<String>, reason: RejectionReason) -> Self {
        Self {
            msg: reason.describe().to_owned(),
            reason,
            event: event.into(),
            retry_after_ms: None,
        }
    }

    /// A `rateLimited` refusal says when to ask again.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}

/// The second argument of `room_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRef {
    pub room: String,
}

// --- What the web client sends (the server validates any JSON) -----------------------

/// `send_message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SendMessage<'a> {
    pub room: &'a str,
    pub message: &'a str,
    #[serde(rename = "clientId")]
    pub client_id: &'a str,
}

/// `private_message` by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrivateMessagePost<'a> {
    #[serde(rename = "toUsername")]
    pub to_username: &'a str,
    pub message: &'a str,
    #[serde(rename = "clientId")]
    pub client_id: &'a str,
}

/// `join_room` / `leave_room` of a logged-in socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoomRequest<'a> {
    pub room: &'a str,
}

/// `typing` in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TypingPost<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<&'a str>,
    #[serde(rename = "isTyping")]
    pub is_typing: bool,
}

/// `mark_read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MarkRead<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<&'a str>,
    pub id: u64,
}

/// `set_presence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SetPresence {
    pub status: PresenceStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_have_the_guides_keys() {
        let message = RoomMessage {
            id: 1,
            username: "Ann".into(),
            message: "hi".into(),
            time: "2026-12-01T11:43:35.123Z".into(),
            room: "rust".into(),
            user_id: 3,
            client_id: None,
        };
        assert_eq!(
            serde_json::to_value(&message).expect("json"),
            json!({"id": 1, "username": "Ann", "message": "hi",
                   "time": "2026-12-01T11:43:35.123Z", "room": "rust", "userId": 3})
        );
        let typing = UserTyping {
            username: "Ann".into(),
            is_typing: true,
            room: None,
            with: Some("Ann".into()),
        };
        assert_eq!(
            serde_json::to_value(&typing).expect("json"),
            json!({"username": "Ann", "isTyping": true, "with": "Ann"})
        );
        let left = MemberEvent {
            username: "Ann".into(),
            room: "rust".into(),
            time: "t".into(),
            reason: Some(MemberChange::Offline),
        };
        assert_eq!(
            serde_json::to_value(&left).expect("json")["reason"],
            json!("offline")
        );
    }

    #[test]
    fn only_the_senders_copy_says_is_self() {
        let mut dm = DirectMessage {
            id: 2,
            from: "Ann".into(),
            to: "Bob".into(),
            message: "psst".into(),
            time: "t".into(),
            user_id: 3,
            client_id: Some("c".into()),
            is_self: false,
        };
        let wire = serde_json::to_value(&dm).expect("json");
        assert!(wire.get("isSelf").is_none());
        dm.is_self = true;
        let wire = serde_json::to_value(&dm).expect("json");
        assert_eq!(wire["isSelf"], json!(true));
        assert_eq!(serde_json::from_value::<DirectMessage>(wire).ok(), Some(dm));
    }
}
