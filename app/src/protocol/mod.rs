//! The wire protocol, shared by the server, the browser client and the tests.
//!
//! Event names and payloads are those of the original Backbone.js + Socket.IO chat, plus the
//! typing indicator and `requestRejected`; `docs/protocol.md` is the reference.

mod ack;
mod client_event;
mod server_event;

pub use ack::{ChatPost, ChatReceipt, HistoryReply, HistoryRequest};
pub use client_event::ClientEvent;
pub use server_event::{
    ChatMessage, DecodeError, PayloadSource, Rejection, RejectionReason, ServerEvent, SessionEnd,
    SessionEndReason,
};

/// Names of the events the client sends.
pub mod client {
    pub const LOGIN: &str = "login";
    pub const ONLINE_USERS: &str = "onlineUsers";
    pub const CHAT: &str = "chat";
    pub const TYPING: &str = "typing";
    pub const STOP_TYPING: &str = "stopTyping";
    pub const HISTORY: &str = "history";
}

/// Names of the events the server sends.
pub mod server {
    pub const WELCOME: &str = "welcome";
    pub const LOGIN_NAME_BAD: &str = "loginNameBad";
    pub const LOGIN_NAME_EXISTS: &str = "loginNameExists";
    pub const USER_JOINED: &str = "userJoined";
    pub const USER_LEFT: &str = "userLeft";
    pub const ONLINE_USERS: &str = "onlineUsers";
    pub const CHAT: &str = "chat";
    pub const USER_TYPING: &str = "userTyping";
    pub const USER_STOPPED_TYPING: &str = "userStoppedTyping";
    pub const REQUEST_REJECTED: &str = "requestRejected";
    pub const SESSION_ENDED: &str = "sessionEnded";
}

/// The conversation everyone online shares.
pub const LOBBY: &str = "lobby";

/// The rules on names and messages that both sides need to know.
pub mod limits {
    /// Shortest valid name, in characters (after trimming).
    pub const NAME_MIN_CHARS: usize = 3;
    /// Longest valid name, in characters (after trimming).
    pub const NAME_MAX_CHARS: usize = 10;
    /// Longest chat message, in characters.
    pub const MESSAGE_MAX_CHARS: usize = 2000;
    /// Longest `clientId` of a chat message.
    pub const CLIENT_ID_MAX_CHARS: usize = 64;
    /// Messages in a history page, unless the request says otherwise...
    pub const HISTORY_PAGE: u32 = 50;
    /// ...and at most.
    pub const HISTORY_PAGE_MAX: u32 = 100;
}
