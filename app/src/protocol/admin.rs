//! The administrators' namespace (`/admin`, the guide's): its events and their
//! acknowledgements. A connection needs `auth: {token}` equal to the server's admin token.
//! Every event must ask for an acknowledgement; a refusal is a [`Refused`](super::Refused)
//! (`{ok: false, reason, message}`).

use serde::{Deserialize, Serialize};

use super::PresenceStatus;

/// The namespace.
pub const NAMESPACE: &str = "/admin";

/// Names of the events an administrator sends.
pub mod event {
    pub const LIST_USERS: &str = "list_users";
    pub const KICK_USER: &str = "kick_user";
    pub const DELETE_MESSAGE: &str = "delete_message";
    pub const ANNOUNCE: &str = "announce";
}

/// The connect error of a connection without the admin token (or when the server has
/// none): nothing else is said.
pub const UNAUTHORIZED: &str = "unauthorized";

/// `kick_user`: a user by name, or the user of a socket (the guide's `socketId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KickUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "socketId", default, skip_serializing_if = "Option::is_none")]
    pub socket_id: Option<String>,
}

/// `delete_message`: message `id` of a room, or of the DM between the two users in
/// `with`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<[UserRef; 2]>,
    pub id: u64,
}

/// A user as an administrator names them: by user id (`list_users` gives it; it stays
/// theirs after they log out, and no one else ever has it), or by the name someone
/// holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    Id(u64),
    Name(String),
}

/// `announce`: a line to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announce {
    pub message: String,
}

/// The acknowledgement of `list_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub ok: bool,
    /// Every user online or away on any server, in order of user id.
    pub users: Vec<OnlineUser>,
    /// The servers that answered (this one first).
    pub nodes: Vec<String>,
    /// Every server this one knows of answered in time.
    pub complete: bool,
}

/// A user in `list_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineUser {
    pub username: String,
    #[serde(rename = "userId")]
    pub user_id: i64,
    pub status: PresenceStatus,
    /// Their open sockets on every server (none while their session's grace period runs).
    pub sockets: Vec<UserSocket>,
}

/// One socket of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSocket {
    /// The Socket.IO socket id (of the default namespace).
    pub id: String,
    /// `websocket` or `polling`.
    pub transport: String,
    /// The client's address (behind trusted proxies: as they forward it).
    pub address: Option<String>,
    /// The server it is connected to.
    pub node: String,
}

/// The acknowledgement of `kick_user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KickReply {
    pub ok: bool,
    /// The user kicked (absent when the socket named had not logged in: it is closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}
