use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rooms::{
    Announcement, DirectMessage, ErrorEvent, MemberEvent, MessageDeleted, MessagesRead, Presence,
    ReadMarker, RoomJoined, RoomMessage, RoomRef, UserTyping,
};
use super::server;

/// A stored chat message, as broadcast by the server and returned by `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub sender: String,
    pub message: String,
    /// Assigned by the server, strictly increasing within the conversation.
    pub id: u64,
    /// When the server stored it, in milliseconds since the Unix epoch.
    #[serde(rename = "sentAt")]
    pub sent_at: i64,
    /// The sending client's id for the message, when it gave one.
    #[serde(rename = "clientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Why a request was refused (`requestRejected.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RejectionReason {
    NotLoggedIn,
    AlreadyLoggedIn,
    NotAString,
    EmptyMessage,
    MessageTooLong,
    BadClientId,
    StorageFailed,
    AckRequired,
    BadRequest,
    UnknownConversation,
    UnknownEvent,
    InvalidName,
    NameTaken,
    NameMismatch,
    BadRoomName,
    NotMember,
    CannotLeave,
    UnknownUser,
    SelfMessage,
    NotAllowed,
    RateLimited,
    /// `delete_message` (admin): no such message, or already deleted.
    UnknownMessage,
    /// `kick_user {socketId}` (admin): no such socket on any server.
    UnknownSocket,
}

impl RejectionReason {
    /// The reason as it is on the wire (`"rateLimited"`).
    pub fn code(self) -> &'static str {
        match self {
            Self::NotLoggedIn => "notLoggedIn",
            Self::AlreadyLoggedIn => "alreadyLoggedIn",
            Self::NotAString => "notAString",
            Self::EmptyMessage => "emptyMessage",
            Self::MessageTooLong => "messageTooLong",
            Self::BadClientId => "badClientId",
            Self::StorageFailed => "storageFailed",
            Self::AckRequired => "ackRequired",
            Self::BadRequest => "badRequest",
            Self::UnknownConversation => "unknownConversation",
            Self::UnknownEvent => "unknownEvent",
            Self::InvalidName => "invalidName",
            Self::NameTaken => "nameTaken",
            Self::NameMismatch => "nameMismatch",
            Self::BadRoomName => "badRoomName",
            Self::NotMember => "notMember",
            Self::CannotLeave => "cannotLeave",
            Self::UnknownUser => "unknownUser",
            Self::SelfMessage => "selfMessage",
            Self::NotAllowed => "notAllowed",
            Self::RateLimited => "rateLimited",
            Self::UnknownMessage => "unknownMessage",
            Self::UnknownSocket => "unknownSocket",
        }
    }

    /// A sentence for people (logs, UIs); clients should match on the reason, not this.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NotLoggedIn => "Log in first.",
            Self::AlreadyLoggedIn => "This connection is already logged in.",
            Self::NotAString => "The payload must be a string.",
            Self::EmptyMessage => "A message cannot be empty.",
            Self::MessageTooLong => "A message can have at most 2000 characters.",
            Self::BadClientId => {
                "clientId must be 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'."
            }
            Self::StorageFailed => "The message could not be stored; try again.",
            Self::AckRequired => "This event must ask for an acknowledgement.",
            Self::BadRequest => "The request is malformed.",
            Self::UnknownConversation => "There is no such conversation.",
            Self::UnknownEvent => "There is no such event.",
            Self::InvalidName => "A name has 3 to 10 characters, without control characters.",
            Self::NameTaken => "Someone online has this name.",
            Self::NameMismatch => "This connection is logged in under another name.",
            Self::BadRoomName => "A room name has 1 to 30 characters from a-z, 0-9, '-' and '_'.",
            Self::NotMember => "Join the room first.",
            Self::CannotLeave => "Nobody can leave general.",
            Self::UnknownUser => "There is nobody of that name.",
            Self::SelfMessage => "A direct message goes to someone else.",
            Self::NotAllowed => "This conversation is not yours to read.",
            Self::RateLimited => "Too many requests; wait a moment and try again.",
            Self::UnknownMessage => "There is no such message.",
            Self::UnknownSocket => "There is no such connection.",
        }
    }
}

#[cfg(test)]
mod reason_tests {
    use super::RejectionReason;

    #[test]
    fn the_code_is_the_wire_name() {
        for reason in [
            RejectionReason::RateLimited,
            RejectionReason::NotAString,
            RejectionReason::BadClientId,
        ] {
            assert_eq!(
                serde_json::to_value(reason).ok(),
                Some(serde_json::Value::from(reason.code()))
            );
        }
    }
}

/// Payload of `requestRejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The event that was refused.
    pub event: String,
    pub reason: RejectionReason,
    /// Human-readable explanation.
    pub message: String,
    /// With `rateLimited`: how long to wait before asking again, in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl Rejection {
    pub fn new(event: impl Into<String>, reason: RejectionReason) -> Self {
        Self {
            event: event.into(),
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

/// Why a socket's session cookie was refused or ended (`sessionEnded.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionEndReason {
    /// The token is unknown or expired.
    UnknownSession,
    /// Someone else took the name after the session's grace period.
    NameTaken,
    /// The session logged out.
    LoggedOut,
    /// An administrator removed the user (`kick_user`); the connection is closed next.
    Kicked,
}

impl SessionEndReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::UnknownSession => "Your session has expired. Pick a name to join again.",
            Self::NameTaken => "Someone else has taken your name. Pick a name to join again.",
            Self::LoggedOut => "You have logged out.",
            Self::Kicked => "A moderator removed you from the chat.",
        }
    }
}

/// Payload of `sessionEnded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnd {
    pub reason: SessionEndReason,
    pub message: String,
}

impl SessionEnd {
    pub fn new(reason: SessionEndReason) -> Self {
        Self {
            reason,
            message: reason.describe().to_owned(),
        }
    }
}

/// An event sent by the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    Welcome(String),
    /// Echoes the name exactly as it was sent (any JSON value; `null` when missing).
    LoginNameBad(Value),
    LoginNameExists(String),
    UserJoined(String),
    UserLeft(String),
    OnlineUsers(Vec<String>),
    Chat(ChatMessage),
    UserTyping(String),
    UserStoppedTyping(String),
    RequestRejected(Rejection),
    SessionEnded(SessionEnd),
    // The rooms protocol.
    RoomJoined(RoomJoined),
    MemberJoined(MemberEvent),
    MemberLeft(MemberEvent),
    /// The names of the room's members who are in it, and the room.
    RoomUsers(Vec<String>, RoomRef),
    ReceiveMessage(RoomMessage),
    PrivateMessage(DirectMessage),
    /// `user_typing` (the lobby's `userTyping` is [`ServerEvent::UserTyping`]).
    TypingIn(UserTyping),
    ReadMarker(ReadMarker),
    MessagesRead(MessagesRead),
    PresenceUpdate(Vec<Presence>),
    PresenceChanged(Presence),
    Error(ErrorEvent),
    /// An administrator deleted a message (`message_deleted`).
    MessageDeleted(MessageDeleted),
    /// A line from the administrators to everyone (`announcement`).
    Announcement(Announcement),
}

/// The argument(s) of a server event, borrowed for serialization: one value, or a tuple
/// (serialized as an array) for the events that have several arguments.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Payload<'a> {
    Name(&'a str),
    Raw(&'a Value),
    Names(&'a [String]),
    Chat(&'a ChatMessage),
    Rejection(&'a Rejection),
    SessionEnd(&'a SessionEnd),
    RoomJoined(&'a RoomJoined),
    Member(&'a MemberEvent),
    /// Two arguments.
    RoomUsers(&'a [String], &'a RoomRef),
    RoomMessage(&'a RoomMessage),
    DirectMessage(&'a DirectMessage),
    Typing(&'a UserTyping),
    ReadMarker(&'a ReadMarker),
    MessagesRead(&'a MessagesRead),
    Presences(&'a [Presence]),
    Presence(&'a Presence),
    Error(&'a ErrorEvent),
    MessageDeleted(&'a MessageDeleted),
    Announcement(&'a Announcement),
}

/// A server event that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    UnknownEvent(String),
    BadPayload { event: String, error: String },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownEvent(name) => write!(f, "unknown server event `{name}`"),
            Self::BadPayload { event, error } => write!(f, "bad payload for `{event}`: {error}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl ServerEvent {
    /// The event name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Welcome(_) => server::WELCOME,
            Self::LoginNameBad(_) => server::LOGIN_NAME_BAD,
            Self::LoginNameExists(_) => server::LOGIN_NAME_EXISTS,
            Self::UserJoined(_) => server::USER_JOINED,
            Self::UserLeft(_) => server::USER_LEFT,
            Self::OnlineUsers(_) => server::ONLINE_USERS,
            Self::Chat(_) => server::CHAT,
            Self::UserTyping(_) => server::USER_TYPING,
            Self::UserStoppedTyping(_) => server::USER_STOPPED_TYPING,
            Self::RequestRejected(_) => server::REQUEST_REJECTED,
            Self::SessionEnded(_) => server::SESSION_ENDED,
            Self::RoomJoined(_) => server::ROOM_JOINED,
            Self::MemberJoined(_) => server::USER_JOINED_ROOM,
            Self::MemberLeft(_) => server::USER_LEFT_ROOM,
            Self::RoomUsers(..) => server::ROOM_USERS,
            Self::ReceiveMessage(_) => server::RECEIVE_MESSAGE,
            Self::PrivateMessage(_) => server::PRIVATE_MESSAGE,
            Self::TypingIn(_) => server::USER_TYPING_IN,
            Self::ReadMarker(_) => server::READ_MARKER,
            Self::MessagesRead(_) => server::MESSAGES_READ,
            Self::PresenceUpdate(_) => server::PRESENCE_UPDATE,
            Self::PresenceChanged(_) => server::PRESENCE_CHANGED,
            Self::Error(_) => server::ERROR,
            Self::MessageDeleted(_) => server::MESSAGE_DELETED,
            Self::Announcement(_) => server::ANNOUNCEMENT,
        }
    }

    /// The event's single argument.
    pub fn payload(&self) -> Payload<'_> {
        match self {
            Self::Welcome(name)
            | Self::LoginNameExists(name)
            | Self::UserJoined(name)
            | Self::UserLeft(name)
            | Self::UserTyping(name)
            | Self::UserStoppedTyping(name) => Payload::Name(name),
            Self::LoginNameBad(raw) => Payload::Raw(raw),
            Self::OnlineUsers(names) => Payload::Names(names),
            Self::Chat(message) => Payload::Chat(message),
            Self::RequestRejected(rejection) => Payload::Rejection(rejection),
            Self::SessionEnded(end) => Payload::SessionEnd(end),
            Self::RoomJoined(joined) => Payload::RoomJoined(joined),
            Self::MemberJoined(change) | Self::MemberLeft(change) => Payload::Member(change),
            Self::RoomUsers(names, room) => Payload::RoomUsers(names, room),
            Self::ReceiveMessage(message) => Payload::RoomMessage(message),
            Self::PrivateMessage(message) => Payload::DirectMessage(message),
            Self::TypingIn(typing) => Payload::Typing(typing),
            Self::ReadMarker(marker) => Payload::ReadMarker(marker),
            Self::MessagesRead(read) => Payload::MessagesRead(read),
            Self::PresenceUpdate(list) => Payload::Presences(list),
            Self::PresenceChanged(presence) => Payload::Presence(presence),
            Self::Error(error) => Payload::Error(error),
            Self::MessageDeleted(deleted) => Payload::MessageDeleted(deleted),
            Self::Announcement(line) => Payload::Announcement(line),
        }
    }

    /// Builds an event from its name and first argument, as a client receives it.
    pub fn decode(name: &str, payload: Value) -> Result<Self, DecodeError> {
        Self::decode_from(name, payload)
    }

    /// Builds an event from its name and a source that deserializes its first argument
    /// into whatever type the event carries.
    pub fn decode_from(name: &str, payload: impl PayloadSource) -> Result<Self, DecodeError> {
        let bad = |error: &'static str| DecodeError::BadPayload {
            event: name.to_owned(),
            error: error.into(),
        };
        Ok(match name {
            server::LOGIN_NAME_BAD => Self::LoginNameBad(payload.echoed().map_err(bad)?),
            server::LOGIN_NAME_EXISTS => Self::LoginNameExists(payload.typed().map_err(bad)?),
            server::USER_JOINED => Self::UserJoined(payload.typed().map_err(bad)?),
            server::USER_LEFT => Self::UserLeft(payload.typed().map_err(bad)?),
            server::ONLINE_USERS => Self::OnlineUsers(payload.typed().map_err(bad)?),
            server::CHAT => Self::Chat(payload.typed().map_err(bad)?),
            server::USER_TYPING => Self::UserTyping(payload.typed().map_err(bad)?),
            server::USER_STOPPED_TYPING => Self::UserStoppedTyping(payload.typed().map_err(bad)?),
            server::REQUEST_REJECTED => Self::RequestRejected(payload.typed().map_err(bad)?),
            server::ROOM_JOINED => Self::RoomJoined(payload.typed().map_err(bad)?),
            _ => return Self::decode_rooms(name, payload),
        })
    }

    /// Builds an event of the rooms protocol (and `welcome`, `sessionEnded`): all a client
    /// that speaks the rooms protocol receives besides answers (the web app). Other events
    /// are [`DecodeError::UnknownEvent`]; a client that only calls this has no code for
    /// them.
    pub fn decode_rooms(name: &str, payload: impl PayloadSource) -> Result<Self, DecodeError> {
        let bad = |error: &'static str| DecodeError::BadPayload {
            event: name.to_owned(),
            error: error.into(),
        };
        Ok(match name {
            server::WELCOME => Self::Welcome(payload.typed().map_err(bad)?),
            server::SESSION_ENDED => Self::SessionEnded(payload.typed().map_err(bad)?),
            server::USER_JOINED_ROOM => Self::MemberJoined(payload.typed().map_err(bad)?),
            server::USER_LEFT_ROOM => Self::MemberLeft(payload.typed().map_err(bad)?),
            server::ROOM_USERS => {
                let (names, room) = payload.typed_pair().map_err(bad)?;
                Self::RoomUsers(names, room)
            }
            server::RECEIVE_MESSAGE => Self::ReceiveMessage(payload.typed().map_err(bad)?),
            server::PRIVATE_MESSAGE => Self::PrivateMessage(payload.typed().map_err(bad)?),
            server::USER_TYPING_IN => Self::TypingIn(payload.typed().map_err(bad)?),
            server::READ_MARKER => Self::ReadMarker(payload.typed().map_err(bad)?),
            server::MESSAGES_READ => Self::MessagesRead(payload.typed().map_err(bad)?),
            server::PRESENCE_UPDATE => Self::PresenceUpdate(payload.typed().map_err(bad)?),
            server::PRESENCE_CHANGED => Self::PresenceChanged(payload.typed().map_err(bad)?),
            server::ERROR => Self::Error(payload.typed().map_err(bad)?),
            server::MESSAGE_DELETED => Self::MessageDeleted(payload.typed().map_err(bad)?),
            server::ANNOUNCEMENT => Self::Announcement(payload.typed().map_err(bad)?),
            other => return Err(DecodeError::UnknownEvent(other.to_owned())),
        })
    }
}

/// The first argument of a received event, deserialized on demand into the type the event
/// name calls for.
pub trait PayloadSource {
    fn typed<T: DeserializeOwned>(self) -> Result<T, &'static str>;

    /// The first two arguments (`room_users`).
    fn typed_pair<T: DeserializeOwned, U: DeserializeOwned>(self) -> Result<(T, U), &'static str>;

    /// The payload of `loginNameBad`, which echoes any JSON value. A source may return
    /// `null` instead when it has no use for the value (the browser does not show it).
    fn echoed(self) -> Result<Value, &'static str>;
}

/// A JSON value as the source of an event's arguments: the first one, or an array of the
/// arguments for events that have several ([`PayloadSource::typed_pair`]).
impl PayloadSource for Value {
    fn typed<T: DeserializeOwned>(self) -> Result<T, &'static str> {
        serde_json::from_value(self).map_err(|_| "the payload does not fit the event")
    }

    fn typed_pair<T: DeserializeOwned, U: DeserializeOwned>(self) -> Result<(T, U), &'static str> {
        serde_json::from_value(self).map_err(|_| "the arguments do not fit the event")
    }

    fn echoed(self) -> Result<Value, &'static str> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(event: ServerEvent) {
        let wire = serde_json::to_value(event.payload()).expect("serializable");
        assert_eq!(ServerEvent::decode(event.name(), wire), Ok(event));
    }

    #[test]
    fn every_event_round_trips() {
        round_trip(ServerEvent::Welcome("Ann".into()));
        round_trip(ServerEvent::LoginNameBad(json!({"a": 1})));
        round_trip(ServerEvent::LoginNameExists("Ann".into()));
        round_trip(ServerEvent::UserJoined("Ann".into()));
        round_trip(ServerEvent::UserLeft("Ann".into()));
        round_trip(ServerEvent::OnlineUsers(vec!["Ann".into(), "Bob".into()]));
        round_trip(ServerEvent::Chat(message(None)));
        round_trip(ServerEvent::Chat(message(Some("c1"))));
        round_trip(ServerEvent::SessionEnded(SessionEnd::new(
            SessionEndReason::NameTaken,
        )));
        round_trip(ServerEvent::UserTyping("Ann".into()));
        round_trip(ServerEvent::UserStoppedTyping("Ann".into()));
        round_trip(ServerEvent::RequestRejected(Rejection::new(
            "chat",
            RejectionReason::EmptyMessage,
        )));
    }

    fn message(client_id: Option<&str>) -> ChatMessage {
        ChatMessage {
            sender: "Ann".into(),
            message: "hi".into(),
            id: 7,
            sent_at: 1_700_000_000_000,
            client_id: client_id.map(Into::into),
        }
    }

    #[test]
    fn chat_payload_extends_the_original_shape() {
        let event = ServerEvent::Chat(message(None));
        assert_eq!(
            serde_json::to_value(event.payload()).expect("serializable"),
            json!({"sender": "Ann", "message": "hi", "id": 7, "sentAt": 1_700_000_000_000_i64})
        );
        let event = ServerEvent::Chat(message(Some("c1")));
        assert_eq!(
            serde_json::to_value(event.payload()).expect("serializable")["clientId"],
            json!("c1")
        );
    }

    #[test]
    fn rejection_reason_is_camel_case() {
        let r = Rejection::new("login", RejectionReason::AlreadyLoggedIn);
        assert_eq!(
            serde_json::to_value(&r).expect("serializable")["reason"],
            json!("alreadyLoggedIn")
        );
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert!(matches!(
            ServerEvent::decode("chat", json!("x")),
            Err(DecodeError::BadPayload { .. })
        ));
        assert!(matches!(
            ServerEvent::decode("nope", json!(1)),
            Err(DecodeError::UnknownEvent(_))
        ));
    }
}
