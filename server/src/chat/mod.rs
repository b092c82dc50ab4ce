//! The chat itself, free of sockets, HTTP and storage: who is online (with or without a
//! session), what a valid name, message or history request is, who is typing, and which
//! events go to whom. The socket layer feeds it
//! [`ClientEvent`](app::protocol::ClientEvent)s and delivers the [`Outgoing`] events it
//! returns, so every rule here is unit-tested without a network or a database.

mod history;
mod lobby;
mod message;
mod name;
mod outgoing;

pub use history::{validate_history, HistoryQuery, HistoryRange};
pub use lobby::{ClaimError, Lobby, Reaction, SessionId, SESSION_GRACE, TYPING_LEASE};
pub use message::{validate_chat, validate_message, ChatInput, MessageError, NewMessage};
pub use name::{validate_name, NameError};
pub use outgoing::{Audience, Outgoing};
