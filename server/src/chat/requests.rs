//! The rooms protocol's requests, checked: typed values from the raw JSON payloads, or the
//! reason to refuse them. Shape only; whether the sender may do it is for the rules.

use app::protocol::{PresenceStatus, RejectionReason};
use serde_json::{Map, Value};

use super::message::{is_client_id, validate_message, MessageError};
use super::RoomName;

type Fields = Map<String, Value>;

/// `join_room {username?, room}`.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinRequest {
    /// As sent: checked with the `login` rules when the socket is not logged in yet.
    pub username: Option<Value>,
    pub room: RoomName,
}

/// A message to post: `send_message` or `private_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub text: String,
    pub client_id: Option<String>,
}

/// Who a `private_message` (or a DM `typing`) is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A user's name.
    Name(String),
    /// The user logged in on this socket (`toSocketId`).
    Socket(String),
}

/// A conversation named on the wire: `room` or `with` (the other party's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Room(RoomName),
    With(String),
}

/// `typing` with a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingRequest {
    pub target: Target,
    pub is_typing: bool,
}

/// `mark_read {room | with, id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    pub target: Target,
    pub id: u64,
}

fn object(raw: &Value) -> Result<&Fields, RejectionReason> {
    raw.as_object().ok_or(RejectionReason::BadRequest)
}

fn room_field(fields: &Fields, key: &str) -> Result<RoomName, RejectionReason> {
    match fields.get(key) {
        Some(Value::String(name)) => RoomName::parse(name).ok_or(RejectionReason::BadRoomName),
        // Missing or not a string: a mistyped key.
        _ => Err(RejectionReason::BadRequest),
    }
}

fn name_field(fields: &Fields, key: &str) -> Result<Option<String>, RejectionReason> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.trim().to_owned())),
        Some(_) => Err(RejectionReason::BadRequest),
    }
}

/// Exactly one of `room` and `with`.
fn target(fields: &Fields) -> Result<Target, RejectionReason> {
    match (fields.contains_key("room"), name_field(fields, "with")?) {
        (true, None) => room_field(fields, "room").map(Target::Room),
        (false, Some(with)) => Ok(Target::With(with)),
        _ => Err(RejectionReason::BadRequest),
    }
}

fn post(fields: &Fields) -> Result<Post, RejectionReason> {
    let text = validate_message(fields.get("message").unwrap_or(&Value::Null)).map_err(
        |error| match error {
            MessageError::NotAString => RejectionReason::BadRequest,
            other => other.into(),
        },
    )?;
    let client_id = match fields.get("clientId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if is_client_id(id) => Some(id.clone()),
        Some(_) => return Err(RejectionReason::BadClientId),
    };
    Ok(Post {
        text: text.to_owned(),
        client_id,
    })
}

pub fn parse_join(raw: &Value) -> Result<JoinRequest, RejectionReason> {
    let fields = object(raw)?;
    Ok(JoinRequest {
        room: room_field(fields, "room")?,
        username: fields.get("username").filter(|v| !v.is_null()).cloned(),
    })
}

pub fn parse_leave(raw: &Value) -> Result<RoomName, RejectionReason> {
    room_field(object(raw)?, "room")
}

/// `send_message {message, room, clientId?}`.
pub fn parse_send(raw: &Value) -> Result<(RoomName, Post), RejectionReason> {
    let fields = object(raw)?;
    let room = room_field(fields, "room")?;
    Ok((room, post(fields)?))
}

/// `private_message {toUsername | toSocketId, message, clientId?}`.
pub fn parse_private(raw: &Value) -> Result<(Recipient, Post), RejectionReason> {
    let fields = object(raw)?;
    let to = match (
        name_field(fields, "toUsername")?,
        name_field(fields, "toSocketId")?,
    ) {
        (Some(name), None) => Recipient::Name(name),
        (None, Some(sid)) => Recipient::Socket(sid),
        _ => return Err(RejectionReason::BadRequest),
    };
    Ok((to, post(fields)?))
}

/// `typing {room | to, isTyping}`.
pub fn parse_typing(raw: &Value) -> Result<TypingRequest, RejectionReason> {
    let fields = object(raw)?;
    let is_typing = fields
        .get("isTyping")
        .and_then(Value::as_bool)
        .ok_or(RejectionReason::BadRequest)?;
    let target = match (fields.contains_key("room"), name_field(fields, "to")?) {
        (true, None) => Target::Room(room_field(fields, "room")?),
        (false, Some(to)) => Target::With(to),
        _ => return Err(RejectionReason::BadRequest),
    };
    Ok(TypingRequest { target, is_typing })
}

pub fn parse_mark_read(raw: &Value) -> Result<ReadRequest, RejectionReason> {
    let fields = object(raw)?;
    let id = fields
        .get("id")
        .and_then(Value::as_u64)
        .ok_or(RejectionReason::BadRequest)?;
    Ok(ReadRequest {
        target: target(fields)?,
        id,
    })
}

/// `set_presence {status: "online" | "away"}`.
pub fn parse_presence(raw: &Value) -> Result<PresenceStatus, RejectionReason> {
    match object(raw)?.get("status").and_then(Value::as_str) {
        Some("online") => Ok(PresenceStatus::Online),
        Some("away") => Ok(PresenceStatus::Away),
        _ => Err(RejectionReason::BadRequest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("valid")
    }

    #[test]
    fn join_needs_a_room_and_keeps_the_username_as_sent() {
        assert_eq!(
            parse_join(&json!({"username": 7, "room": "Rust"})),
            Ok(JoinRequest {
                username: Some(json!(7)),
                room: room("rust")
            })
        );
        assert_eq!(
            parse_join(&json!({"room": "a b"})),
            Err(RejectionReason::BadRoomName)
        );
        assert_eq!(
            parse_join(&json!({"room": 3})),
            Err(RejectionReason::BadRequest)
        );
        assert_eq!(parse_join(&json!({})), Err(RejectionReason::BadRequest));
        assert_eq!(parse_join(&json!("rust")), Err(RejectionReason::BadRequest));
    }

    #[test]
    fn posts_follow_the_chat_rules() {
        assert_eq!(
            parse_send(&json!({"room": "rust", "message": " hi ", "clientId": "c-1"})),
            Ok((
                room("rust"),
                Post {
                    text: " hi ".into(),
                    client_id: Some("c-1".into())
                }
            ))
        );
        let refused = |payload: Value| parse_send(&payload).err();
        assert_eq!(
            refused(json!({"room": "rust", "message": " "})),
            Some(RejectionReason::EmptyMessage)
        );
        assert_eq!(
            refused(json!({"room": "rust", "message": "x".repeat(2001)})),
            Some(RejectionReason::MessageTooLong)
        );
        assert_eq!(
            refused(json!({"room": "rust", "message": 5})),
            Some(RejectionReason::BadRequest)
        );
        assert_eq!(
            refused(json!({"room": "rust", "message": "hi", "clientId": "a b"})),
            Some(RejectionReason::BadClientId)
        );
    }

    #[test]
    fn a_private_message_names_one_recipient() {
        assert!(matches!(
            parse_private(&json!({"toUsername": " Bob ", "message": "hi"})),
            Ok((Recipient::Name(name), _)) if name == "Bob"
        ));
        assert!(matches!(
            parse_private(&json!({"toSocketId": "abc", "message": "hi"})),
            Ok((Recipient::Socket(_), _))
        ));
        for bad in [
            json!({"message": "hi"}),
            json!({"toUsername": "Bob", "toSocketId": "x", "message": "hi"}),
            json!({"toUsername": 1, "message": "hi"}),
        ] {
            assert_eq!(
                parse_private(&bad).err(),
                Some(RejectionReason::BadRequest),
                "{bad}"
            );
        }
    }

    #[test]
    fn typing_and_read_markers_name_one_conversation() {
        assert_eq!(
            parse_typing(&json!({"room": "Rust", "isTyping": true})),
            Ok(TypingRequest {
                target: Target::Room(room("rust")),
                is_typing: true
            })
        );
        assert_eq!(
            parse_typing(&json!({"to": "Bob", "isTyping": false})).map(|t| t.target),
            Ok(Target::With("Bob".into()))
        );
        assert_eq!(
            parse_typing(&json!({"room": "rust", "isTyping": "yes"})),
            Err(RejectionReason::BadRequest)
        );
        assert_eq!(
            parse_mark_read(&json!({"with": "Bob", "id": 4})),
            Ok(ReadRequest {
                target: Target::With("Bob".into()),
                id: 4
            })
        );
        for bad in [
            json!({"with": "Bob"}),
            json!({"with": "Bob", "id": -1}),
            json!({"room": "rust", "with": "Bob", "id": 1}),
            json!({"id": 1}),
        ] {
            assert_eq!(
                parse_mark_read(&bad),
                Err(RejectionReason::BadRequest),
                "{bad}"
            );
        }
    }

    #[test]
    fn presence_is_online_or_away() {
        assert_eq!(
            parse_presence(&json!({"status": "away"})),
            Ok(PresenceStatus::Away)
        );
        assert_eq!(
            parse_presence(&json!({"status": "online"})),
            Ok(PresenceStatus::Online)
        );
        assert_eq!(
            parse_presence(&json!({"status": "offline"})),
            Err(RejectionReason::BadRequest)
        );
    }
}
