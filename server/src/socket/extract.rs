use std::convert::Infallible;
use std::sync::Arc;

use app::protocol::ClientEvent;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Event, State, TryData};
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts};
use socketioxide::socket::{DisconnectReason, Socket};
use socketioxide_core::Value as SocketValue;

use super::hub::{ChatHub, HubCommand};

/// Connect extractor: registers the socket's handlers synchronously, before any of its
/// events can be dispatched.
pub struct Listening;

impl<A: Adapter> FromConnectParts<A> for Listening {
    type Error = Infallible;

    fn from_connect_parts(
        s: &Arc<Socket<A>>,
        _auth: &Option<SocketValue>,
    ) -> Result<Self, Infallible> {
        s.on_fallback(on_event);
        s.on_disconnect(on_disconnect);
        tracing::debug!(sid = %s.id, "socket connected");
        Ok(Listening)
    }
}

async fn on_event(_: Enqueued) {}

async fn on_disconnect(_: Departed) {}

/// Message extractor: queues the event for the hub, in arrival order.
pub struct Enqueued;

impl<A: Adapter> FromMessageParts<A> for Enqueued {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut SocketValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let Some(hub) = hub_of(s) else {
            return Ok(Enqueued);
        };
        let name = match Event::from_message_parts(s, v, ack_id) {
            Ok(Event(name)) => name,
            Err(error) => {
                tracing::warn!(sid = %s.id, %error, "dropping an event without a readable name");
                return Ok(Enqueued);
            }
        };
        // A missing or undecodable first argument becomes `None`: the rules answer it.
        let payload = match TryData::<Value>::from_message_parts(s, v, ack_id) {
            Ok(TryData(data)) => data.ok(),
            Err(never) => match never {},
        };
        hub.send(HubCommand::Event {
            conn: s.id,
            event: ClientEvent::from_wire(&name, payload),
        });
        Ok(Enqueued)
    }
}

/// Disconnect extractor: queues the departure behind everything the socket sent.
pub struct Departed;

impl<A: Adapter> FromDisconnectParts<A> for Departed {
    type Error = Infallible;

    fn from_disconnect_parts(
        s: &Arc<Socket<A>>,
        reason: DisconnectReason,
    ) -> Result<Self, Infallible> {
        tracing::debug!(sid = %s.id, ?reason, "socket disconnected");
        if let Some(hub) = hub_of(s) {
            hub.send(HubCommand::Disconnect { conn: s.id });
        }
        Ok(Departed)
    }
}

fn hub_of<A: Adapter>(s: &Arc<Socket<A>>) -> Option<ChatHub> {
    // `State` reads the value given to `SocketIo::builder().with_state`; its extraction
    // does not look at the message.
    let mut none = SocketValue::Str("".into(), None);
    match State::<ChatHub>::from_message_parts(s, &mut none, &None) {
        Ok(State(hub)) => Some(hub),
        Err(error) => {
            tracing::error!(sid = %s.id, %error, "the chat hub is not installed in this SocketIo");
            None
        }
    }
}
