use app::protocol::ServerEvent;

use super::{ConversationId, UserId};

/// Who receives an event. `C` identifies a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience<C> {
    /// Only this socket (whatever its family).
    Socket(C),
    /// Every lobby-family socket, logged in or not.
    Lobby,
    /// Every lobby-family socket but this one.
    LobbyExcept(C),
    /// Every rooms-family socket of every member in the room.
    Room(ConversationId),
    /// The same but this socket.
    RoomExceptSocket(ConversationId, C),
    /// The same but the sockets of this user.
    RoomExceptUser(ConversationId, UserId),
    /// Every rooms-family socket of this user.
    User(UserId),
    /// The same but this socket.
    UserExcept(UserId, C),
    /// Every rooms-family socket of a logged-in user.
    Everyone,
}

/// An event to deliver, in the order the rules produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing<C> {
    pub to: Audience<C>,
    pub event: ServerEvent,
}

impl<C> Outgoing<C> {
    pub fn new(to: Audience<C>, event: ServerEvent) -> Self {
        Self { to, event }
    }

    pub fn only(conn: C, event: ServerEvent) -> Self {
        Self::new(Audience::Socket(conn), event)
    }
}
