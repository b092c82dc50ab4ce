use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

impl RejectionReason {
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
}

impl Rejection {
    pub fn new(event: impl Into<String>, reason: RejectionReason) -> Self {
        Self {
            event: event.into(),
            reason,
            message: reason.describe().to_owned(),
        }
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
}

impl SessionEndReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::UnknownSession => "Your session has expired. Pick a name to join again.",
            Self::NameTaken => "Someone else has taken your name. Pick a name to join again.",
            Self::LoggedOut => "You have logged out.",
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
}

/// The single argument of a server event, borrowed for serialization.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Payload<'a> {
    Name(&'a str),
    Raw(&'a Value),
    Names(&'a [String]),
    Chat(&'a ChatMessage),
    Rejection(&'a Rejection),
    SessionEnd(&'a SessionEnd),
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
            server::WELCOME => Self::Welcome(payload.typed().map_err(bad)?),
            server::LOGIN_NAME_BAD => Self::LoginNameBad(payload.echoed().map_err(bad)?),
            server::LOGIN_NAME_EXISTS => Self::LoginNameExists(payload.typed().map_err(bad)?),
            server::USER_JOINED => Self::UserJoined(payload.typed().map_err(bad)?),
            server::USER_LEFT => Self::UserLeft(payload.typed().map_err(bad)?),
            server::ONLINE_USERS => Self::OnlineUsers(payload.typed().map_err(bad)?),
            server::CHAT => Self::Chat(payload.typed().map_err(bad)?),
            server::USER_TYPING => Self::UserTyping(payload.typed().map_err(bad)?),
            server::USER_STOPPED_TYPING => Self::UserStoppedTyping(payload.typed().map_err(bad)?),
            server::REQUEST_REJECTED => Self::RequestRejected(payload.typed().map_err(bad)?),
            server::SESSION_ENDED => Self::SessionEnded(payload.typed().map_err(bad)?),
            other => return Err(DecodeError::UnknownEvent(other.to_owned())),
        })
    }
}

/// The first argument of a received event, deserialized on demand into the type the event
/// name calls for.
pub trait PayloadSource {
    fn typed<T: DeserializeOwned>(self) -> Result<T, &'static str>;

    /// The payload of `loginNameBad`, which echoes any JSON value. A source may return
    /// `null` instead when it has no use for the value (the browser does not show it).
    fn echoed(self) -> Result<Value, &'static str>;
}

impl PayloadSource for Value {
    fn typed<T: DeserializeOwned>(self) -> Result<T, &'static str> {
        serde_json::from_value(self).map_err(|_| "the payload does not fit the event")
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
