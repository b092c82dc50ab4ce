use serde::{Deserialize, Serialize};

use super::Message;
use crate::protocol::{DmSummary, Presence, RoomInfo, RoomSummary};

/// Who you are: your name and your user id (which messages are yours).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    #[serde(rename = "userId")]
    pub user_id: u64,
}

/// The conversation a page shows, as the server rendered it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Its newest page, oldest first.
    pub messages: Vec<Message>,
    /// Older messages exist before them.
    #[serde(rename = "hasMore")]
    pub has_more: bool,
    /// The ids of deleted messages in the stretch the page covers (no gap to fill).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<u64>,
    /// Your read marker before this page was shown: where "New messages" begins.
    #[serde(rename = "readUpTo")]
    pub read_up_to: u64,
    /// How far the other party of a DM has read ("Seen").
    #[serde(rename = "theirReadUpTo")]
    pub their_read_up_to: u64,
    /// You are a member (always, for a DM or `general`).
    pub member: bool,
    /// The room exists (a room nobody has joined yet does not).
    pub exists: bool,
    /// The other party of a DM, as they spell their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
}

/// What the server knows when it renders a page, handed to the browser app so that it
/// hydrates the same view: embedded in the page as JSON (`#chat-state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialState {
    /// The reader, when their session cookie is valid.
    pub me: Option<Me>,
    /// The page's path (`/`, `/r/<room>`, `/dm/<name>`, `/rooms`).
    pub path: String,
    /// The conversation shown.
    pub conversation: Option<Snapshot>,
    /// Your rooms and direct conversations, with unread counts.
    pub rooms: Vec<RoomSummary>,
    pub dms: Vec<DmSummary>,
    /// Everyone online or away, in order of log-in.
    pub presence: Vec<Presence>,
    /// The members in the room shown.
    #[serde(rename = "roomUsers")]
    pub room_users: Vec<String>,
    /// Every room (the `/rooms` page).
    #[serde(rename = "allRooms", default, skip_serializing_if = "Option::is_none")]
    pub all_rooms: Option<Vec<RoomInfo>>,
    /// Why the last form login failed (`?login-error=`), for the page without JavaScript.
    #[serde(rename = "loginError")]
    pub login_error: Option<String>,
    /// Why the last form of the page without JavaScript was refused (`?error=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The id of the `<script type="application/json">` element holding the state.
pub const INITIAL_STATE_ID: &str = "chat-state";

impl InitialState {
    /// JSON safe inside a `<script>` element: no `<`, `>` or `&` can end it early.
    pub fn to_script_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| "{}".to_owned())
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
    }

    /// The state the server embedded in the page (the default when there is none).
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        {
            leptos::prelude::use_context::<Self>().unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            Self::from_page().unwrap_or_default()
        }
    }

    #[cfg(not(feature = "ssr"))]
    fn from_page() -> Option<Self> {
        #[cfg(feature = "hydrate")]
        {
            let json = web_sys::window()?
                .document()?
                .get_element_by_id(INITIAL_STATE_ID)?
                .text_content()?;
            match crate::client::json::from_str(&json) {
                Ok(state) => Some(state),
                Err(_) => {
                    leptos::logging::warn!("the page's initial state is unreadable");
                    None
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        let state = InitialState {
            me: Some(Me {
                name: "</script><b>".into(),
                user_id: 1,
            }),
            ..InitialState::default()
        };
        let json = state.to_script_json();
        assert!(!json.contains('<') && !json.contains('>'), "{json}");
        let back: InitialState = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(back, state);
    }
}
