use crate::protocol::{HistoryRequest, PresenceStatus};
use crate::route::ConvKey;

/// Something the client sends to the server (the rooms protocol).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `send_message` (a room) or `private_message` (a DM), acknowledged with a
    /// [`SendReceipt`](crate::protocol::SendReceipt).
    Send {
        to: ConvKey,
        /// The room's name, or the other party's name as they spell it.
        name: String,
        client_id: String,
        text: String,
    },
    /// `typing {room | to, isTyping}`.
    Typing {
        to: ConvKey,
        name: String,
        is_typing: bool,
    },
    /// `mark_read {room | with, id}`.
    MarkRead { to: ConvKey, name: String, id: u64 },
    /// `history`, acknowledged with a [`HistoryReply`](crate::protocol::HistoryReply).
    History {
        of: ConvKey,
        query: HistoryRequest,
        purpose: HistoryPurpose,
    },
    /// `join_room {room}`: joins (or creates) it, or refreshes its `room_users`.
    Join(String),
    /// `leave_room {room}`.
    Leave(String),
    /// `list_rooms`.
    ListRooms,
    /// `my_conversations`.
    MyConversations,
    /// `set_presence`.
    SetPresence(PresenceStatus),
}

/// Why the client asked for history: decides what it does with the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryPurpose {
    /// The page before the oldest message shown (scrolling up).
    Older,
    /// What was missed (after a reconnection, or a gap in the ids).
    CatchUp,
    /// The newest page, replacing everything (opening a conversation, or a resync).
    Latest,
}

/// Something the client must do after a change of state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Request),
    /// Messages were refused for coming too fast: ask [`ChatStore::resend_waiting`] for
    /// them once this many milliseconds have passed.
    ///
    /// [`ChatStore::resend_waiting`]: super::ChatStore::resend_waiting
    ResendAfter(u64),
    /// Close the connection and wait for the next log-in.
    Stop,
}

impl Request {
    /// A read the server answers from storage, a bounded number at a time per socket.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Request::History { .. } | Request::ListRooms | Request::MyConversations
        )
    }
}
