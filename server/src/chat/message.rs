use app::protocol::limits::{CLIENT_ID_MAX_CHARS, MESSAGE_MAX_CHARS};
use app::protocol::time::iso_from_ms;
use app::protocol::{ChatMessage, DirectMessage, RejectionReason, RoomMessage};
use serde_json::Value;

use super::UserId;

/// A message to store, validated, with its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub sender: UserId,
    /// The sender's name when sending (kept with the message).
    pub sender_name: String,
    pub text: String,
    /// The sending client's id for the message, if it gave one.
    pub client_id: Option<String>,
}

/// A stored message, in any conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: u64,
    pub sender: UserId,
    pub sender_name: String,
    pub text: String,
    /// Milliseconds since the Unix epoch, server clock.
    pub sent_at: i64,
    pub client_id: Option<String>,
}

impl StoredMessage {
    /// The lobby protocol's `chat` payload.
    pub fn to_chat(&self) -> ChatMessage {
        ChatMessage {
            sender: self.sender_name.clone(),
            message: self.text.clone(),
            id: self.id,
            sent_at: self.sent_at,
            client_id: self.client_id.clone(),
        }
    }

    /// The rooms protocol's `receive_message` payload.
    pub fn to_room_message(&self, room: &str) -> RoomMessage {
        RoomMessage {
            id: self.id,
            username: self.sender_name.clone(),
            message: self.text.clone(),
            time: iso_from_ms(self.sent_at),
            room: room.to_owned(),
            user_id: self.sender.wire(),
            client_id: self.client_id.clone(),
        }
    }

    /// The rooms protocol's `private_message` payload, `to` being the recipient's name.
    pub fn to_direct_message(&self, to: &str, is_self: bool) -> DirectMessage {
        DirectMessage {
            id: self.id,
            from: self.sender_name.clone(),
            to: to.to_owned(),
            message: self.text.clone(),
            time: iso_from_ms(self.sent_at),
            user_id: self.sender.wire(),
            client_id: self.client_id.clone(),
            is_self,
        }
    }
}

/// A valid `chat` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatInput<'a> {
    pub text: &'a str,
    pub client_id: Option<&'a str>,
}

/// Why a chat message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message must be a string")]
    NotAString,
    #[error("the message is empty")]
    Empty,
    #[error("the message has more than {MESSAGE_MAX_CHARS} characters")]
    TooLong,
    #[error("the clientId is missing or malformed")]
    BadClientId,
}

impl From<MessageError> for RejectionReason {
    fn from(error: MessageError) -> Self {
        match error {
            MessageError::NotAString => Self::NotAString,
            MessageError::Empty => Self::EmptyMessage,
            MessageError::TooLong => Self::MessageTooLong,
            MessageError::BadClientId => Self::BadClientId,
        }
    }
}

/// Checks a `chat` payload: the text alone (the original protocol), or
/// `{"text": ..., "clientId": ...}`.
pub fn validate_chat(raw: &Value) -> Result<ChatInput<'_>, MessageError> {
    match raw {
        Value::Object(fields) => {
            let text = validate_message(fields.get("text").unwrap_or(&Value::Null))?;
            let client_id = match fields.get("clientId") {
                Some(Value::String(id)) if is_client_id(id) => id.as_str(),
                _ => return Err(MessageError::BadClientId),
            };
            Ok(ChatInput {
                text,
                client_id: Some(client_id),
            })
        }
        other => Ok(ChatInput {
            text: validate_message(other)?,
            client_id: None,
        }),
    }
}

/// Whether `id` is a valid `clientId`: 1 to 64 characters from `A-Z a-z 0-9 - _`.
pub fn is_client_id(id: &str) -> bool {
    (1..=CLIENT_ID_MAX_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a chat message as sent by a client. The text is kept exactly as sent.
pub fn validate_message(raw: &Value) -> Result<&str, MessageError> {
    let Value::String(text) = raw else {
        return Err(MessageError::NotAString);
    };
    if text.trim().is_empty() {
        return Err(MessageError::Empty);
    }
    // Cheap check first: a string of at most N bytes has at most N characters.
    if text.len() > MESSAGE_MAX_CHARS && text.chars().count() > MESSAGE_MAX_CHARS {
        return Err(MessageError::TooLong);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_text_as_sent() {
        assert_eq!(
            validate_message(&json!("  hi <b>there</b> ")),
            Ok("  hi <b>there</b> ")
        );
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert_eq!(validate_message(&json!("")), Err(MessageError::Empty));
        assert_eq!(validate_message(&json!(" \n\t ")), Err(MessageError::Empty));
    }

    #[test]
    fn rejects_non_strings() {
        for value in [
            json!(null),
            json!(1),
            json!({"message": "hi"}),
            json!(["hi"]),
        ] {
            assert_eq!(validate_message(&value), Err(MessageError::NotAString));
        }
    }

    #[test]
    fn chat_payload_is_text_or_an_object_with_a_client_id() {
        assert_eq!(
            validate_chat(&json!("hi")),
            Ok(ChatInput {
                text: "hi",
                client_id: None
            })
        );
        assert_eq!(
            validate_chat(&json!({"text": "hi", "clientId": "a-B_9"})),
            Ok(ChatInput {
                text: "hi",
                client_id: Some("a-B_9")
            })
        );
        assert_eq!(
            validate_chat(&json!({"text": 1, "clientId": "a"})),
            Err(MessageError::NotAString)
        );
        assert_eq!(
            validate_chat(&json!({"text": " ", "clientId": "a"})),
            Err(MessageError::Empty)
        );
        for bad in [
            json!(null),
            json!(""),
            json!("a b"),
            json!("x".repeat(65)),
            json!(3),
        ] {
            assert_eq!(
                validate_chat(&json!({"text": "hi", "clientId": bad})),
                Err(MessageError::BadClientId)
            );
        }
        assert_eq!(
            validate_chat(&json!({"text": "hi"})),
            Err(MessageError::BadClientId)
        );
    }

    #[test]
    fn limit_is_in_characters() {
        let at_limit = "é".repeat(MESSAGE_MAX_CHARS);
        assert!(validate_message(&json!(at_limit)).is_ok());
        let over = "a".repeat(MESSAGE_MAX_CHARS + 1);
        assert_eq!(validate_message(&json!(over)), Err(MessageError::TooLong));
    }
}
