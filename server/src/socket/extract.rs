use std::convert::Infallible;
use std::sync::Arc;

use app::protocol::{client, ClientEvent, HistoryReply, Rejection, RejectionReason, ServerEvent};
use serde_json::Value;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{AckSender, Event, State, TryData};
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts};
use socketioxide::socket::{DisconnectReason, Socket};
use socketioxide_core::Value as SocketValue;

use super::history::{self, HistoryReader};
use super::hub::{Ack, ChatHub, HubCommand};
use crate::http::session_token;

/// Connect extractor: registers the socket's handlers synchronously, before any of its
/// events can be dispatched.
pub struct Listening;

impl FromConnectParts<LocalAdapter> for Listening {
    type Error = Infallible;

    fn from_connect_parts(
        s: &Arc<Socket<LocalAdapter>>,
        _auth: &Option<SocketValue>,
    ) -> Result<Self, Infallible> {
        s.on_fallback(on_event);
        s.on_disconnect(on_disconnect);
        tracing::debug!(sid = %s.id, "socket connected");
        // Before any event of this socket: a session cookie logs it in first.
        if let Some(hub) = state::<ChatHub, _>(s) {
            hub.send(HubCommand::Connect {
                conn: s.id,
                token: session_token(&s.req_parts().headers),
            });
        }
        Ok(Listening)
    }
}

async fn on_event(_: Enqueued) {}

async fn on_disconnect(_: Departed) {}

/// Message extractor: queues the event for the hub, in arrival order.
pub struct Enqueued;

impl FromMessageParts<LocalAdapter> for Enqueued {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<LocalAdapter>>,
        v: &mut SocketValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let Some(hub) = state::<ChatHub, _>(s) else {
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
        let ack = ack_id.map(|_| match AckSender::from_message_parts(s, v, ack_id) {
            Ok(ack) => Ack(ack),
            Err(never) => match never {},
        });
        if name == client::HISTORY {
            // A read: answered from storage beside the hub, which keeps storing and
            // broadcasting meanwhile. Every message stored before this request is in the
            // answer, every later one reaches this socket live.
            answer_history(s, payload, ack);
            return Ok(Enqueued);
        }
        hub.send(HubCommand::Event {
            conn: s.id,
            event: ClientEvent::from_wire(&name, payload),
            ack,
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
        if let Some(hub) = state::<ChatHub, _>(s) {
            hub.send(HubCommand::Disconnect { conn: s.id });
        }
        Ok(Departed)
    }
}

fn answer_history(s: &Arc<Socket<LocalAdapter>>, payload: Option<Value>, ack: Option<Ack>) {
    let Some(ack) = ack else {
        let rejection = Rejection::new(client::HISTORY, RejectionReason::AckRequired);
        let event = ServerEvent::RequestRejected(rejection);
        if let Err(error) = s.emit(event.name(), &event.payload()) {
            tracing::warn!(sid = %s.id, %error, "could not refuse a history request");
        }
        return;
    };
    let Some(reader) = state::<HistoryReader, _>(s) else {
        ack.send(&HistoryReply::refused(RejectionReason::StorageFailed));
        return;
    };
    tokio::spawn(async move {
        let reply = history::answer(&reader, &payload.unwrap_or(Value::Null)).await;
        ack.send(&reply);
    });
}

/// A value given to `SocketIo::builder().with_state`.
fn state<T: Clone + Send + Sync + 'static, A: Adapter>(s: &Arc<Socket<A>>) -> Option<T> {
    // `State` does not look at the message it is extracted from.
    let mut none = SocketValue::Str("".into(), None);
    match State::<T>::from_message_parts(s, &mut none, &None) {
        Ok(State(value)) => Some(value),
        Err(error) => {
            tracing::error!(sid = %s.id, %error, state = std::any::type_name::<T>(), "missing SocketIo state");
            None
        }
    }
}
