use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;

use crate::model::ChatStore;
use crate::protocol::ClientEvent;

/// Queue of events for the server; the browser client sends them while connected, in order.
#[derive(Debug, Clone)]
pub struct Outbox(pub UnboundedSender<ClientEvent>);

impl Outbox {
    pub fn send(&self, event: ClientEvent) {
        if let Err(error) = self.0.unbounded_send(event) {
            leptos::logging::error!("chat client stopped; dropped {:?}", error.into_inner());
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
