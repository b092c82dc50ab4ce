use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;

use crate::model::{ChatStore, Request};

/// What the components ask of the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Send this while logged in (dropped otherwise: unsent messages stay pending in the
    /// store and go out once logged in again).
    Send(Request),
    /// You just logged in: connect.
    Connect,
    /// You logged out: disconnect.
    Disconnect,
}

/// Queue of commands for the browser's connection, applied in order.
#[derive(Debug, Clone)]
pub struct Outbox(pub UnboundedSender<Command>);

impl Outbox {
    pub fn send(&self, request: Request) {
        self.command(Command::Send(request));
    }

    pub fn command(&self, command: Command) {
        if self.0.unbounded_send(command).is_err() {
            // Only when the app is gone: nothing is listening any more.
            leptos::logging::error!("chat client stopped; a command was dropped");
        }
    }
}

/// What every component of the chat gets from [`App`](crate::App).
#[derive(Debug, Clone)]
pub struct ChatContext {
    pub store: ChatStore,
    pub outbox: Outbox,
}

/// The chat context provided by [`App`](crate::App).
pub fn use_chat() -> ChatContext {
    expect_context::<ChatContext>()
}
