use app::protocol::limits::{HISTORY_PAGE, HISTORY_PAGE_MAX};
use app::protocol::{RejectionReason, LOBBY};
use serde_json::Value;

/// A valid `history` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub conversation: String,
    pub range: HistoryRange,
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
    if fields
        .keys()
        .any(|k| !matches!(k.as_str(), "conversation" | "before" | "after" | "limit"))
    {
        return Err(RejectionReason::BadRequest);
    }
    let conversation = match fields.get("conversation") {
        None | Some(Value::Null) => LOBBY.to_owned(),
        Some(Value::String(name)) => name.clone(),
        Some(_) => return Err(RejectionReason::BadRequest),
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
    Ok(HistoryQuery {
        conversation,
        range,
    })
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
        assert_eq!(query.conversation, "lobby");
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
        ] {
            assert_eq!(
                range(bad.clone()),
                Err(RejectionReason::BadRequest),
                "{bad}"
            );
        }
    }
}
