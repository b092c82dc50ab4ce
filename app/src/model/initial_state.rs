use serde::{Deserialize, Serialize};

use crate::protocol::ChatMessage;

/// What the server knows when it renders the page, handed to the browser app so that it
/// hydrates the same view: embedded in the page as JSON (`#chat-state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialState {
    /// The reader's name, when their session cookie is valid.
    pub me: Option<String>,
    /// Online users, in order of login.
    pub users: Vec<String>,
    /// The newest page of the lobby, oldest first.
    pub history: Vec<ChatMessage>,
    /// Older messages exist before `history`.
    #[serde(rename = "hasMore")]
    pub has_more: bool,
    /// Why the last form login failed (`?login-error=`), for the page without JavaScript.
    #[serde(rename = "loginError")]
    pub login_error: Option<String>,
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
            match serde_json::from_str(&json) {
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
            me: Some("</script><b>".into()),
            ..InitialState::default()
        };
        let json = state.to_script_json();
        assert!(!json.contains('<') && !json.contains('>'), "{json}");
        let back: InitialState = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(back, state);
    }
}
