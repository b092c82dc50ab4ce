//! Acknowledgement payloads (`chat` receipts, `history` answers) and the `history` request.

use serde::{Deserialize, Serialize};

use super::{ChatMessage, RejectionReason};

/// A `chat` payload with a client id (the web client's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChatPost<'a> {
    pub text: &'a str,
    #[serde(rename = "clientId")]
    pub client_id: &'a str,
}

/// The acknowledgement of a `chat`: stored (with its id) or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReceipt {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(rename = "sentAt", default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// Stored before, under the same client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ChatReceipt {
    pub fn stored(message: &ChatMessage, duplicate: bool) -> Self {
        Self {
            ok: true,
            id: Some(message.id),
            sent_at: Some(message.sent_at),
            duplicate: Some(duplicate),
            reason: None,
            message: None,
        }
    }

    pub fn refused(reason: RejectionReason) -> Self {
        Self {
            ok: false,
            id: None,
            sent_at: None,
            duplicate: None,
            reason: Some(reason),
            message: Some(reason.describe().to_owned()),
        }
    }
}

/// The acknowledgement of a `history` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryReply {
    pub ok: bool,
    /// Oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
    /// Older messages exist before the first one.
    #[serde(rename = "hasMore", default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    /// Too many messages to catch up with: reload the newest page instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl HistoryReply {
    pub fn page(messages: Vec<ChatMessage>, has_more: bool, resync: bool) -> Self {
        Self {
            ok: true,
            messages: Some(messages),
            has_more: Some(has_more),
            resync: Some(resync),
            reason: None,
            message: None,
        }
    }

    pub fn refused(reason: RejectionReason) -> Self {
        Self {
            ok: false,
            messages: None,
            has_more: None,
            resync: None,
            reason: Some(reason),
            message: Some(reason.describe().to_owned()),
        }
    }
}

/// A `history` request, as the web client sends it (the server validates any JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn receipts_have_the_documented_shape() {
        let message = ChatMessage {
            sender: "Ann".into(),
            message: "hi".into(),
            id: 3,
            sent_at: 5,
            client_id: None,
        };
        assert_eq!(
            serde_json::to_value(ChatReceipt::stored(&message, false)).expect("json"),
            json!({"ok": true, "id": 3, "sentAt": 5, "duplicate": false})
        );
        let refused = serde_json::to_value(ChatReceipt::refused(RejectionReason::StorageFailed))
            .expect("json");
        assert_eq!(refused["ok"], json!(false));
        assert_eq!(refused["reason"], json!("storageFailed"));
    }

    #[test]
    fn history_replies_round_trip() {
        let reply = HistoryReply::page(Vec::new(), true, false);
        let wire = serde_json::to_value(&reply).expect("json");
        assert_eq!(
            wire,
            json!({"ok": true, "messages": [], "hasMore": true, "resync": false})
        );
        assert_eq!(
            serde_json::from_value::<HistoryReply>(wire).expect("back"),
            reply
        );
    }
}
