use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use app::protocol::{ClientEvent, ROOMS_PROTOCOL};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts};
use socketioxide::socket::{DisconnectReason, Socket};
use socketioxide_core::Value as SocketValue;

use super::admission::{Admission, Refusal};
use crate::chat::Family;
use crate::cookie::session_token;
use crate::http::ClientAddress;
use crate::hub::{Ack, ChatHub, HubCommand, Queued};

/// Connect-middleware extractor: lets the connection in (or not, see [`admission`]),
/// then registers the socket's handlers before socketioxide tells the client it is
/// connected (it sends the connect packet between the middleware and the connect
/// handler, so a handler registered later would miss an event sent at once), and notes
/// what its connect must tell the hub. A refused socket gets no handlers: the middleware
/// answers its refusal.
///
/// [`admission`]: super::admission
pub struct Registered<A>(pub Result<(), Refusal>, pub PhantomData<A>);

impl<A: Adapter> FromConnectParts<A> for Registered<A> {
    type Error = Infallible;

    fn from_connect_parts(
        s: &Arc<Socket<A>>,
        auth: &Option<SocketValue>,
    ) -> Result<Self, Infallible> {
        let address = client_address(s);
        let span = tracing::info_span!("socket", sid = %s.id, address = ?address);
        let _in_span = span.enter();
        s.extensions.insert(SocketSpan(span.clone()));
        if let Some(admission) = state::<Arc<Admission>, _>(s) {
            match admission.admit(address) {
                Ok(admitted) => {
                    s.extensions.insert(Arc::new(admitted));
                }
                Err(refusal) => {
                    crate::metrics::refused(refusal.code());
                    tracing::info!(sid = %s.id, ?address, %refusal, "connection refused");
                    return Ok(Registered(Err(refusal), PhantomData));
                }
            }
        }
        s.extensions.insert(QueuedEvents::default());
        s.extensions
            .insert(Arc::new(OpenConnection::counted(s.transport_type())));
        s.on_fallback(on_event::<A>);
        s.on_disconnect(on_disconnect::<A>);
        s.extensions.insert(Announcement {
            family: family(auth),
            address,
            sent: Arc::new(Mutex::new(false)),
        });
        Ok(Registered(Ok(()), PhantomData))
    }
}

/// Counts the socket among the open connections of its transport until it is dropped.
struct OpenConnection(&'static str);

impl OpenConnection {
    fn counted(transport: socketioxide::TransportType) -> Self {
        let transport = match transport {
            socketioxide::TransportType::Websocket => "websocket",
            socketioxide::TransportType::Polling => "polling",
        };
        metrics::gauge!(crate::metrics::CONNECTIONS_OPEN, "transport" => transport).increment(1);
        Self(transport)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!(crate::metrics::CONNECTIONS_OPEN, "transport" => self.0).decrement(1);
    }
}

/// The span of everything logged about one socket (its id, its client's address).
#[derive(Clone)]
struct SocketSpan(tracing::Span);

fn span_of<A: Adapter>(s: &Arc<Socket<A>>) -> tracing::Span {
    s.extensions
        .get::<SocketSpan>()
        .map_or_else(tracing::Span::none, |SocketSpan(span)| span)
}

/// The client address of the socket's handshake request (see `http::client_address`).
pub(super) fn client_address<A: Adapter>(s: &Socket<A>) -> Option<IpAddr> {
    s.req_parts()
        .extensions
        .get::<ClientAddress>()
        .map(|ClientAddress(address)| *address)
}

/// Connect extractor (the socket is in its namespace now): queues its connect, unless its
/// first event came first and did.
pub struct Listening<A>(PhantomData<A>);

impl<A: Adapter> FromConnectParts<A> for Listening<A> {
    type Error = Infallible;

    fn from_connect_parts(s: &Arc<Socket<A>>, _: &Option<SocketValue>) -> Result<Self, Infallible> {
        let _in_span = span_of(s).entered();
        tracing::debug!(sid = %s.id, "socket connected");
        if let Some(hub) = state::<ChatHub, _>(s) {
            announce(s, &hub);
        }
        Ok(Listening(PhantomData))
    }
}

/// The most events of one socket waiting in the hub's queue. The hub applies tens of
/// thousands a second; a client that gets this far ahead is flooding, and is closed.
const MAX_QUEUED_EVENTS: usize = 512;

/// How many of the socket's events are in the hub's queue, and whether it is being closed
/// for having too many.
#[derive(Clone, Default)]
struct QueuedEvents(Arc<AtomicUsize>, Arc<std::sync::atomic::AtomicBool>);

/// What a socket's connect tells the hub, and whether it has been told.
#[derive(Clone)]
struct Announcement {
    family: Family,
    address: Option<IpAddr>,
    /// Held while the connect is queued: an event of the socket (on another thread) waits
    /// for it, so the hub always gets the connect first.
    sent: Arc<Mutex<bool>>,
}

/// Queues the socket's connect (protocol family, session cookie) if nothing has yet: the
/// connect handler and the socket's first event race for it, and the hub must admit the
/// socket before anything it sends.
fn announce<A: Adapter>(s: &Arc<Socket<A>>, hub: &ChatHub) {
    let Some(announcement) = s.extensions.get::<Announcement>() else {
        return tracing::error!(sid = %s.id, "a socket connected without its handlers");
    };
    let mut sent = match announcement.sent.lock() {
        Ok(sent) => sent,
        Err(poisoned) => poisoned.into_inner(),
    };
    if !*sent {
        *sent = true;
        hub.send(HubCommand::Connect {
            conn: s.id,
            family: announcement.family,
            address: announcement.address,
            token: session_token(&s.req_parts().headers),
        });
    }
}

/// `{"protocol": "rooms"}` in the connect payload: the rooms protocol from the start.
fn family(auth: &Option<SocketValue>) -> Family {
    let rooms = auth
        .as_ref()
        .and_then(|auth| auth.as_str())
        .and_then(|json| serde_json::from_str::<Value>(json).ok())
        .is_some_and(|auth| auth.get("protocol").and_then(Value::as_str) == Some(ROOMS_PROTOCOL));
    if rooms {
        Family::Rooms
    } else {
        Family::Lobby
    }
}

async fn on_event<A: Adapter>(_: Enqueued<A>) {}

async fn on_disconnect<A: Adapter>(_: Departed<A>) {}

/// Message extractor: queues the event for the hub, in arrival order.
pub struct Enqueued<A>(PhantomData<A>);

impl<A: Adapter> FromMessageParts<A> for Enqueued<A> {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut SocketValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let _in_span = span_of(s).entered();
        let done = Enqueued(PhantomData);
        let Some(hub) = state::<ChatHub, _>(s) else {
            return Ok(done);
        };
        let name = match Event::from_message_parts(s, v, ack_id) {
            Ok(Event(name)) => name,
            Err(error) => {
                tracing::warn!(sid = %s.id, %error, "dropping an event without a readable name");
                return Ok(done);
            }
        };
        // A missing or undecodable first argument becomes `None`: the rules answer it.
        let payload = match TryData::<Value>::from_message_parts(s, v, ack_id) {
            Ok(TryData(data)) => data.ok(),
            Err(never) => match never {},
        };
        announce(s, &hub);
        let sender = match Acked::from_message_parts(s, v, ack_id) {
            Ok(Acked(sender)) => sender,
            Err(never) => match never {},
        };
        let ack = sender.map(|sender| {
            let socket = match SocketRef::from_message_parts(s, v, ack_id) {
                Ok(socket) => socket,
                Err(never) => match never {},
            };
            Ack::new(sender, socket)
        });
        let queued_events = s.extensions.get::<QueuedEvents>();
        let Some(queued) = queued_events
            .as_ref()
            .and_then(|QueuedEvents(count, _)| Queued::take(count, MAX_QUEUED_EVENTS))
        else {
            // Sending faster than the hub applies, by far (a person never gets near it):
            // this client is closed; everyone else's events are not held up behind its.
            // What it sends until it is gone is dropped, without a word more.
            let closing = queued_events
                .is_some_and(|QueuedEvents(_, closing)| closing.swap(true, Ordering::AcqRel));
            if closing {
                return Ok(done);
            }
            tracing::warn!(sid = %s.id, event = %name, "too many events queued; closing the connection");
            // Its outgoing queue may be full too (a flooder that does not read): the
            // disconnect waits for room in it.
            crate::hub::spawn_disconnect(s.clone().into());
            return Ok(done);
        };
        hub.send(HubCommand::Event {
            conn: s.id,
            event: ClientEvent::from_wire(&name, payload),
            ack,
            queued,
        });
        Ok(done)
    }
}

/// The acknowledgement the event asked for, if it asked for one.
pub struct Acked<A: Adapter>(pub Option<AckSender<A>>);

impl<A: Adapter> FromMessageParts<A> for Acked<A> {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut SocketValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        if ack_id.is_none() {
            return Ok(Self(None));
        }
        AckSender::from_message_parts(s, v, ack_id).map(|ack| Self(Some(ack)))
    }
}

/// Disconnect extractor: queues the departure behind everything the socket sent.
pub struct Departed<A>(PhantomData<A>);

impl<A: Adapter> FromDisconnectParts<A> for Departed<A> {
    type Error = Infallible;

    fn from_disconnect_parts(
        s: &Arc<Socket<A>>,
        reason: DisconnectReason,
    ) -> Result<Self, Infallible> {
        let _in_span = span_of(s).entered();
        tracing::debug!(sid = %s.id, ?reason, "socket disconnected");
        if let Some(hub) = state::<ChatHub, _>(s) {
            hub.send(HubCommand::Disconnect { conn: s.id });
        }
        Ok(Departed(PhantomData))
    }
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
