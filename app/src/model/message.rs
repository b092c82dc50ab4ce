use serde::{Deserialize, Serialize};

use crate::protocol::time::ms_from_iso;
use crate::protocol::{ChatMessage, DirectMessage, RoomMessage};

/// A stored message of any conversation, as the client keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: u64,
    pub sender: String,
    /// The sender's user id (0 when unknown): whether it is yours.
    #[serde(rename = "userId")]
    pub user_id: u64,
    pub text: String,
    /// When the server stored it, ms since the epoch.
    #[serde(rename = "sentAt")]
    pub sent_at: i64,
    #[serde(rename = "clientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl From<RoomMessage> for Message {
    fn from(m: RoomMessage) -> Self {
        Self {
            id: m.id,
            sent_at: ms_from_iso(&m.time).unwrap_or_default(),
            sender: m.username,
            user_id: m.user_id,
            text: m.message,
            client_id: m.client_id,
        }
    }
}

impl From<DirectMessage> for Message {
    fn from(m: DirectMessage) -> Self {
        Self {
            id: m.id,
            sent_at: ms_from_iso(&m.time).unwrap_or_default(),
            sender: m.from,
            user_id: m.user_id,
            text: m.message,
            client_id: m.client_id,
        }
    }
}

impl From<ChatMessage> for Message {
    fn from(m: ChatMessage) -> Self {
        Self {
            id: m.id,
            sent_at: m.sent_at,
            sender: m.sender,
            user_id: 0,
            text: m.message,
            client_id: m.client_id,
        }
    }
}
