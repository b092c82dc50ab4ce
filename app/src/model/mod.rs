//! The client's view of the chat: reactive state fed by server events. Plain Rust over
//! Leptos signals, so it runs (and is tested) without a browser.

mod chat_line;
mod chat_store;
mod initial_state;
mod typing_text;

pub use chat_line::{ChatLine, LineKind};
pub use chat_store::{Action, ChatStore, Connection, LoginError};
pub use initial_state::{InitialState, INITIAL_STATE_ID};
pub use typing_text::typing_text;
