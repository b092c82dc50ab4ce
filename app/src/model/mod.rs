//! The client's view of the chat: reactive state fed by server events. Plain Rust over
//! Leptos signals, so it runs (and is tested) without a browser.
//!
//! - [`ChatStore`]: the signals the components read, and how events change them.
//! - [`Conversation`]: one conversation's timeline and read state.
//! - [`timeline`]: the message list's merging rules (order by id, once each, pending).
//! - [`Request`] / [`Action`]: what the store asks the connection to do.
//! - [`InitialState`]: what the server rendered the page with.
//! - [`SavedUnsent`]: your unsent messages as the browser tab keeps them across a reload.

mod chat_line;
mod chat_store;
mod conversation;
mod initial_state;
mod message;
mod request;
mod time_text;
pub mod timeline;
mod typing_text;
mod unsent;

pub use chat_line::{ChatLine, Delivery, LineKind};
pub use chat_store::{ChatStore, Connection, LoginError};
pub use conversation::{Conversation, Page, MAX_LINES};
pub use initial_state::{InitialState, Me, Snapshot, INITIAL_STATE_ID};
pub use message::Message;
pub use request::{Action, HistoryPurpose, Request};
pub use time_text::time_text;
pub use typing_text::typing_text;
pub use unsent::{SavedUnsent, UnsentIn, UnsentMessage};
