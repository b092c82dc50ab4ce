//! The chat's web app (Leptos components) and everything the server and the browser share:
//! the wire protocol, the client's state model and its Socket.IO client.

pub mod client;
pub mod components;
pub mod model;
pub mod protocol;
pub mod route;

mod chat_context;
mod shell;

pub use chat_context::{use_chat, ChatContext, Command, Outbox};
pub use components::app::App;
pub use shell::shell;
