use super::UnsentMessage;
use crate::protocol::{ClientEvent, HistoryRequest};

/// Something the client sends to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// An event without an answer (`typing`, `stopTyping`, `onlineUsers`).
    Event(ClientEvent),
    /// `chat` `{text, clientId}`, acknowledged with a [`ChatReceipt`](crate::protocol::ChatReceipt).
    Chat { client_id: String, text: String },
    /// `history`, acknowledged with a [`HistoryReply`](crate::protocol::HistoryReply).
    History {
        query: HistoryRequest,
        purpose: HistoryPurpose,
    },
}

impl From<UnsentMessage> for Request {
    fn from(message: UnsentMessage) -> Self {
        Self::Chat {
            client_id: message.client_id,
            text: message.text,
        }
    }
}

/// Why the client asked for history: decides what it does with the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryPurpose {
    /// The page before the oldest message shown (scrolling up).
    Older,
    /// What was missed while disconnected.
    CatchUp,
    /// The newest page, replacing everything (after a resync).
    Latest,
}

/// Something the client must do after a change of state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(Request),
    /// Close the connection and wait for the next log-in.
    Stop,
}
