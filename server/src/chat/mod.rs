//! The chat itself, free of sockets and HTTP: who is online, what a valid name or message
//! is, who is typing, and which events go to whom. The socket layer feeds it
//! [`ClientEvent`](app::protocol::ClientEvent)s and delivers the [`Outgoing`] events it
//! returns, so every rule here is unit-tested without a network.

mod lobby;
mod message;
mod name;
mod outgoing;

pub use lobby::{Lobby, TYPING_LEASE};
pub use message::{validate_message, MessageError};
pub use name::{validate_name, NameError};
pub use outgoing::{Audience, Outgoing};
