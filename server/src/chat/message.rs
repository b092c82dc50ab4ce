use app::protocol::{limits::MESSAGE_MAX_CHARS, RejectionReason};
use serde_json::Value;

/// Why a chat message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message must be a string")]
    NotAString,
    #[error("the message is empty")]
    Empty,
    #[error("the message has more than {MESSAGE_MAX_CHARS} characters")]
    TooLong,
}

impl From<MessageError> for RejectionReason {
    fn from(error: MessageError) -> Self {
        match error {
            MessageError::NotAString => Self::NotAString,
            MessageError::Empty => Self::EmptyMessage,
            MessageError::TooLong => Self::MessageTooLong,
        }
    }
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
    fn limit_is_in_characters() {
        let at_limit = "é".repeat(MESSAGE_MAX_CHARS);
        assert!(validate_message(&json!(at_limit)).is_ok());
        let over = "a".repeat(MESSAGE_MAX_CHARS + 1);
        assert_eq!(validate_message(&json!(over)), Err(MessageError::TooLong));
    }
}
