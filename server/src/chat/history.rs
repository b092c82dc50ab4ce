use app::protocol::limits::{HISTORY_PAGE, HISTORY_PAGE_MAX};
use app::protocol::{RejectionReason, GENERAL, LOBBY};
use serde_json::Value;

use super::RoomName;

/// A valid `history` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub target: HistoryTarget,
    pub range: HistoryRange,
}

/// Whose history, and so the shape of its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryTarget {
    /// The lobby (`general`) in the lobby protocol's shape (`chat` payloads).
    Lobby,
    /// A room, in `receive_message` payloads.
    Room(RoomName),
    /// Your direct conversation with this user, in `private_message` payloads.
    With(String),
    /// A conversation by its stored name (`conversation`), other than the lobby.
    Named(String),
}

/// Which messages a `history` request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRange {
    /// A page of `limit` messages older than `before` (the newest when `None`).
    Before { before: Option<u64>, limit: u32 },
    /// Everything newer than this id (catch-up).
    After(u64),
}

/// Checks a `history` payload: an object (or nothing) with optional `conversation`,
/// `before`, `after` and `limit`.
pub fn validate_history(raw: &Value) -> Result<HistoryQuery, RejectionReason> {
    let empty = serde_json::Map::new();
    let fields = match raw {
        Value::Null => &empty,
        Value::Object(fields) => fields,
        _ => return Err(RejectionReason::BadRequest),
    };
    if fields.keys().any(|k| {
        !matches!(
            k.as_str(),
            "conversation" | "room" | "with" | "before" | "after" | "limit"
        )
    }) {
        return Err(RejectionReason::BadRequest);
    }
    let text = |key: &str| match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(RejectionReason::BadRequest),
    };
    let target = match (text("conversation")?, text("room")?, text("with")?) {
        (None, None, None) => HistoryTarget::Lobby,
        (Some(LOBBY | GENERAL), None, None) => HistoryTarget::Lobby,
        (Some(name), None, None) => HistoryTarget::Named(name.to_owned()),
        (None, Some(room), None) => {
            HistoryTarget::Room(RoomName::parse(room).ok_or(RejectionReason::BadRoomName)?)
        }
        (None, None, Some(with)) => HistoryTarget::With(with.trim().to_owned()),
        _ => return Err(RejectionReason::BadRequest),
    };
    let id = |key: &str| match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or(RejectionReason::BadRequest),
    };
    let (before, after) = (id("before")?, id("after")?);
    let limit = match fields.get("limit") {
        None | Some(Value::Null) => HISTORY_PAGE,
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=HISTORY_PAGE_MAX).contains(n))
            .ok_or(RejectionReason::BadRequest)?,
    };
    let range = match (before, after) {
        (Some(_), Some(_)) => return Err(RejectionReason::BadRequest),
        (_, Some(after)) => HistoryRange::After(after),
        (before, None) => HistoryRange::Before { before, limit },
    };
    Ok(HistoryQuery { target, range })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn range(raw: Value) -> Result<HistoryRange, RejectionReason> {
        validate_history(&raw).map(|q| q.range)
    }

    #[test]
    fn defaults_to_the_newest_page_of_the_lobby() {
        let query = validate_history(&Value::Null).expect("valid");
        assert_eq!(query.target, HistoryTarget::Lobby);
        assert_eq!(
            validate_history(&json!({"conversation": "general"})).map(|q| q.target),
            Ok(HistoryTarget::Lobby)
        );
        assert_eq!(
            query.range,
            HistoryRange::Before {
                before: None,
                limit: 50
            }
        );
    }

    #[test]
    fn before_after_and_limit() {
        assert_eq!(
            range(json!({"before": 10, "limit": 100})),
            Ok(HistoryRange::Before {
                before: Some(10),
                limit: 100
            })
        );
        assert_eq!(range(json!({"after": 0})), Ok(HistoryRange::After(0)));
    }

    #[test]
    fn rooms_and_direct_conversations() {
        assert_eq!(
            validate_history(&json!({"room": " Rust ", "before": 9})).map(|q| q.target),
            Ok(HistoryTarget::Room(RoomName::parse("rust").expect("valid")))
        );
        assert_eq!(
            validate_history(&json!({"with": "Bob", "after": 0})).map(|q| q.target),
            Ok(HistoryTarget::With("Bob".into()))
        );
        assert_eq!(
            validate_history(&json!({"room": "no such"})).map(|q| q.target),
            Err(RejectionReason::BadRoomName)
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        for bad in [
            json!("x"),
            json!([1]),
            json!({"before": -1}),
            json!({"before": 1.5}),
            json!({"before": "1"}),
            json!({"limit": 0}),
            json!({"limit": 101}),
            json!({"before": 3, "after": 1}),
            json!({"conversation": 1}),
            json!({"befor": 3}),
            json!({"room": "rust", "with": "Bob"}),
            json!({"conversation": "lobby", "room": "rust"}),
            json!({"with": 3}),
        ] {
            assert_eq!(
                range(bad.clone()),
                Err(RejectionReason::BadRequest),
                "{bad}"
            );
        }
    }
}
