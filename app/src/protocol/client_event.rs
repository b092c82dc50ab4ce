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
    /// `typing`: the user is typing (starts or renews the lease).
    Typing,
    /// `stopTyping`: the user stopped typing.
    StopTyping,
    /// `history`: the payload should be a [`HistoryRequest`](super::HistoryRequest) object
    /// (or nothing).
    History(Value),
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
            client::TYPING => Self::Typing,
            client::STOP_TYPING => Self::StopTyping,
            client::HISTORY => Self::History(payload),
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
            Self::Typing => client::TYPING,
            Self::StopTyping => client::STOP_TYPING,
            Self::History(_) => client::HISTORY,
            Self::Unknown(name) => name,
        }
    }

    /// The single argument sent with the event, if any.
    pub fn payload(&self) -> Option<&Value> {
        match self {
            Self::Login(value) | Self::Chat(value) | Self::History(value) => Some(value),
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
            ClientEvent::Typing,
            ClientEvent::StopTyping,
            ClientEvent::History(serde_json::json!({"before": 9})),
            ClientEvent::Unknown("dance".into()),
        ] {
            let back = ClientEvent::from_wire(event.name(), event.payload().cloned());
            assert_eq!(back, event);
        }
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
