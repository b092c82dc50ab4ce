use serde_json::Value;

use super::client;

/// An event sent by a client, as received: payloads the rules must validate stay raw JSON,
/// because a bad payload has to be answered (and `loginNameBad` echoes it back as sent).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// `login`: the payload should be a name (string).
    Login(Value),
    /// `onlineUsers`: no payload.
    OnlineUsers,
    /// `chat`: the payload should be the message text (string).
    Chat(Value),
    /// `typing`: without a payload (or with one that is not an object, ignored), the user
    /// is typing in the lobby (starts or renews the lease); with an object,
    /// `{room | to, isTyping}` (the rooms protocol).
    Typing(Value),
    /// `stopTyping`: the user stopped typing.
    StopTyping,
    /// `history`: the payload should be a [`HistoryRequest`](super::HistoryRequest) object
    /// (or nothing).
    History(Value),
    /// `register`: like `login`.
    Register(Value),
    /// `join_room`: `{username?, room}`.
    JoinRoom(Value),
    /// `leave_room`: `{room}`.
    LeaveRoom(Value),
    /// `send_message`: `{message, room, clientId?}`.
    SendMessage(Value),
    /// `private_message`: `{toUsername | toSocketId, message, clientId?}`.
    PrivateMessage(Value),
    /// `mark_read`: `{room | with, id}`.
    MarkRead(Value),
    /// `set_presence`: `{status}`.
    SetPresence(Value),
    /// `list_rooms`: no payload.
    ListRooms,
    /// `my_conversations`: no payload.
    MyConversations,
    /// Any other event name.
    Unknown(String),
}

impl ClientEvent {
    /// Builds an event from its name and first argument (`None` when it had none).
    pub fn from_wire(name: &str, payload: Option<Value>) -> Self {
        let payload = payload.unwrap_or(Value::Null);
        match name {
            client::LOGIN => Self::Login(payload),
            client::ONLINE_USERS => Self::OnlineUsers,
            client::CHAT => Self::Chat(payload),
            client::TYPING => Self::Typing(payload),
            client::STOP_TYPING => Self::StopTyping,
            client::HISTORY => Self::History(payload),
            client::REGISTER => Self::Register(payload),
            client::JOIN_ROOM => Self::JoinRoom(payload),
            client::LEAVE_ROOM => Self::LeaveRoom(payload),
            client::SEND_MESSAGE => Self::SendMessage(payload),
            client::PRIVATE_MESSAGE => Self::PrivateMessage(payload),
            client::MARK_READ => Self::MarkRead(payload),
            client::SET_PRESENCE => Self::SetPresence(payload),
            client::LIST_ROOMS => Self::ListRooms,
            client::MY_CONVERSATIONS => Self::MyConversations,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn login(name: &str) -> Self {
        Self::Login(Value::String(name.to_owned()))
    }

    pub fn chat(text: &str) -> Self {
        Self::Chat(Value::String(text.to_owned()))
    }

    /// The event name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Self::Login(_) => client::LOGIN,
            Self::OnlineUsers => client::ONLINE_USERS,
            Self::Chat(_) => client::CHAT,
            Self::Typing(_) => client::TYPING,
            Self::StopTyping => client::STOP_TYPING,
            Self::History(_) => client::HISTORY,
            Self::Register(_) => client::REGISTER,
            Self::JoinRoom(_) => client::JOIN_ROOM,
            Self::LeaveRoom(_) => client::LEAVE_ROOM,
            Self::SendMessage(_) => client::SEND_MESSAGE,
            Self::PrivateMessage(_) => client::PRIVATE_MESSAGE,
            Self::MarkRead(_) => client::MARK_READ,
            Self::SetPresence(_) => client::SET_PRESENCE,
            Self::ListRooms => client::LIST_ROOMS,
            Self::MyConversations => client::MY_CONVERSATIONS,
            Self::Unknown(name) => name,
        }
    }

    /// Whether the event belongs to the rooms protocol: a socket that sends one receives
    /// the rooms protocol's events from then on (`docs/protocol.md`, "Two families").
    pub fn is_rooms_protocol(&self) -> bool {
        match self {
            Self::Register(_)
            | Self::JoinRoom(_)
            | Self::LeaveRoom(_)
            | Self::SendMessage(_)
            | Self::PrivateMessage(_)
            | Self::MarkRead(_)
            | Self::SetPresence(_)
            | Self::ListRooms
            | Self::MyConversations => true,
            // The lobby's `typing` has no payload; one that is not an object is ignored.
            Self::Typing(payload) => payload.is_object(),
            Self::History(Value::Object(fields)) => {
                fields.contains_key("room") || fields.contains_key("with")
            }
            _ => false,
        }
    }

    /// The single argument sent with the event, if any.
    pub fn payload(&self) -> Option<&Value> {
        match self {
            Self::Login(value)
            | Self::Chat(value)
            | Self::History(value)
            | Self::Register(value)
            | Self::JoinRoom(value)
            | Self::LeaveRoom(value)
            | Self::SendMessage(value)
            | Self::PrivateMessage(value)
            | Self::MarkRead(value)
            | Self::SetPresence(value) => Some(value),
            Self::Typing(value) if !value.is_null() => Some(value),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip() {
        for event in [
            ClientEvent::login("Ann"),
            ClientEvent::OnlineUsers,
            ClientEvent::chat("hi"),
            ClientEvent::Typing(Value::Null),
            ClientEvent::Typing(json!({"room": "rust", "isTyping": true})),
            ClientEvent::StopTyping,
            ClientEvent::History(serde_json::json!({"before": 9})),
            ClientEvent::JoinRoom(json!({"room": "rust"})),
            ClientEvent::SendMessage(json!({"room": "rust", "message": "hi"})),
            ClientEvent::PrivateMessage(json!({"toUsername": "Bob", "message": "hi"})),
            ClientEvent::MarkRead(json!({"with": "Bob", "id": 3})),
            ClientEvent::ListRooms,
            ClientEvent::MyConversations,
            ClientEvent::Unknown("dance".into()),
        ] {
            let back = ClientEvent::from_wire(event.name(), event.payload().cloned());
            assert_eq!(back, event);
        }
    }

    #[test]
    fn rooms_protocol_events_are_recognized() {
        assert!(!ClientEvent::Typing(Value::Null).is_rooms_protocol());
        assert!(ClientEvent::Typing(json!({"room": "a", "isTyping": true})).is_rooms_protocol());
        assert!(!ClientEvent::History(json!({"before": 3})).is_rooms_protocol());
        assert!(ClientEvent::History(json!({"with": "Bob"})).is_rooms_protocol());
        assert!(ClientEvent::ListRooms.is_rooms_protocol());
        assert!(!ClientEvent::chat("hi").is_rooms_protocol());
    }

    #[test]
    fn missing_payload_is_null() {
        assert_eq!(
            ClientEvent::from_wire("login", None),
            ClientEvent::Login(Value::Null)
        );
        assert_eq!(
            ClientEvent::from_wire("chat", Some(json!(3))),
            ClientEvent::Chat(json!(3))
        );
    }
}
