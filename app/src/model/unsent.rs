use serde::{Deserialize, Serialize};

/// One of your messages not stored by the server yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsentMessage {
    #[serde(rename = "clientId")]
    pub client_id: String,
    pub text: String,
}

/// Your unsent messages of one conversation: a room (`room`) or a DM (`with`, the other
/// party's name as they spell it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsentIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    pub messages: Vec<UnsentMessage>,
}

/// Your unsent messages, kept by the browser tab across a reload (so a reload while the
/// connection is down loses none). Put back only for the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedUnsent {
    pub name: String,
    pub conversations: Vec<UnsentIn>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_as_json() {
        let saved = SavedUnsent {
            name: "Ann".into(),
            conversations: vec![UnsentIn {
                room: Some("general".into()),
                with: None,
                messages: vec![UnsentMessage {
                    client_id: "c1".into(),
                    text: "<b>two\nlines</b> 👋".into(),
                }],
            }],
        };
        let json = serde_json::to_string(&saved).expect("serializes");
        assert_eq!(
            json,
            r#"{"name":"Ann","conversations":[{"room":"general","messages":[{"clientId":"c1","text":"<b>two\nlines</b> 👋"}]}]}"#
        );
        assert_eq!(serde_json::from_str::<SavedUnsent>(&json).ok(), Some(saved));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "{}",
            r#"{"name":"Ann"}"#,
            r#"{"name":"Ann","conversations":[{"messages":[{"text":"x"}]}]}"#,
        ] {
            assert!(serde_json::from_str::<SavedUnsent>(bad).is_err(), "{bad:?}");
        }
    }
}
