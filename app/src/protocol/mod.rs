//! The wire protocol, shared by the server, the browser client and the tests.
//!
//! Two protocols share one connection: the lobby's (the original Backbone.js + Socket.IO
//! chat, plus the typing indicator and `requestRejected`) and the rooms protocol of the
//! "full-featured chat" guide (rooms, direct messages, presence, read state; [`rooms`]).
//! `docs/protocol.md` is the reference.

mod ack;
pub mod admin;
mod client_event;
pub mod rooms;
mod server_event;
pub mod time;

pub use ack::{
    ChatPost, ChatReceipt, Conversations, DmSummary, Done, HistoryReply, HistoryRequest, JoinReply,
    LeftReply, LoggedIn, PresenceReply, ReadReply, Refused, RoomInfo, RoomList, RoomSummary,
    SendReceipt,
};
pub use client_event::ClientEvent;
pub use rooms::{
    Announcement, DirectMessage, ErrorEvent, MemberChange, MemberEvent, MessageAt, MessageDeleted,
    MessagesRead, Presence, PresenceStatus, ReadMarker, RoomJoined, RoomMessage, RoomRef,
    UserTyping,
};
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
    // The rooms protocol.
    pub const REGISTER: &str = "register";
    pub const JOIN_ROOM: &str = "join_room";
    pub const LEAVE_ROOM: &str = "leave_room";
    pub const SEND_MESSAGE: &str = "send_message";
    pub const PRIVATE_MESSAGE: &str = "private_message";
    pub const MARK_READ: &str = "mark_read";
    pub const SET_PRESENCE: &str = "set_presence";
    pub const LIST_ROOMS: &str = "list_rooms";
    pub const MY_CONVERSATIONS: &str = "my_conversations";
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
    // The rooms protocol.
    pub const ROOM_JOINED: &str = "room_joined";
    pub const USER_JOINED_ROOM: &str = "user_joined";
    pub const USER_LEFT_ROOM: &str = "user_left";
    pub const ROOM_USERS: &str = "room_users";
    pub const RECEIVE_MESSAGE: &str = "receive_message";
    pub const PRIVATE_MESSAGE: &str = "private_message";
    pub const USER_TYPING_IN: &str = "user_typing";
    pub const READ_MARKER: &str = "read_marker";
    pub const MESSAGES_READ: &str = "messages_read";
    pub const PRESENCE_UPDATE: &str = "presence_update";
    pub const PRESENCE_CHANGED: &str = "presence_changed";
    pub const ERROR: &str = "error";
    // Sent on behalf of the administrators (see [`admin`](super::admin)).
    pub const MESSAGE_DELETED: &str = "message_deleted";
    pub const ANNOUNCEMENT: &str = "announcement";
}

/// The lobby's name in the lobby protocol's `history {conversation}`...
pub const LOBBY: &str = "lobby";
/// ...which is this room, the one every user is a member of.
pub const GENERAL: &str = "general";

/// The Socket.IO connect payload (`auth`) of a socket that speaks the rooms protocol
/// from the start: `{"protocol": "rooms"}`.
pub const ROOMS_PROTOCOL: &str = "rooms";

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
    /// Longest room name, in characters (after trimming).
    pub const ROOM_NAME_MAX_CHARS: usize = 30;
}

/// The key a user's name is unique by, and compared by: names that differ only in case
/// (any script's, `Élodie` and `élodie`) are the same name.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}
