//! Delivers the rules' events to sockets: each event is serialized once, then sent to every
//! socket its audience names (resolved by the rules' state), in the order produced.
//!
//! A socket whose outgoing queue is full has missed a packet. It is never kept: it gets
//! nothing more and is disconnected as soon as its queue takes the disconnect packet (or
//! closed by the heartbeat, which cannot ping it either), so its client reconnects and
//! catches up by id. No socket stays connected with a hole in what it received.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use app::protocol::ServerEvent;
use serde_json::value::{to_raw_value, RawValue};
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::socket::Sid;
use socketioxide::{SendError, SocketError, SocketIo};

use crate::chat::{Audience, Chat, Outgoing};
use crate::cluster::{ClusterBus, SharedAudience};

/// How often a lagging socket's disconnect is tried again.
const DISCONNECT_RETRY: Duration = Duration::from_millis(50);

/// An event's arguments, serialized once for all its recipients.
enum Arguments {
    One(Box<RawValue>),
    Two(Box<RawValue>, Box<RawValue>),
}

impl Arguments {
    fn of(event: &ServerEvent) -> Result<Self, serde_json::Error> {
        Ok(match event {
            ServerEvent::RoomUsers(names, room) => {
                Self::Two(to_raw_value(names)?, to_raw_value(room)?)
            }
            other => Self::One(to_raw_value(&other.payload())?),
        })
    }

    fn to_vec(&self) -> Vec<Box<RawValue>> {
        match self {
            Self::One(one) => vec![one.clone()],
            Self::Two(one, two) => vec![one.clone(), two.clone()],
        }
    }

    fn from_vec(mut args: Vec<Box<RawValue>>) -> Option<Self> {
        let second = (args.len() == 2).then(|| args.pop()).flatten();
        match (args.pop(), second, args.is_empty()) {
            (Some(one), None, true) => Some(Self::One(one)),
            (Some(one), Some(two), true) => Some(Self::Two(one, two)),
            _ => None,
        }
    }
}

/// Whether other servers deliver `event` too. Lists of who is online are one server's
/// view: shared, they would replace the others' own.
fn shared_with_other_servers(event: &ServerEvent) -> bool {
    !matches!(
        event,
        ServerEvent::OnlineUsers(_) | ServerEvent::RoomUsers(..) | ServerEvent::PresenceUpdate(_)
    )
}

pub struct Delivery<A: Adapter> {
    io: SocketIo<A>,
    /// The other servers, if there are any.
    bus: Option<ClusterBus>,
    /// Sockets admitted by the hub (this node's).
    sockets: HashMap<Sid, SocketRef<A>>,
    /// Sockets that missed a packet: sent nothing more, being disconnected.
    lagging: HashSet<Sid>,
}

impl<A: Adapter> Delivery<A> {
    pub fn new(io: SocketIo<A>, bus: Option<ClusterBus>) -> Self {
        Self {
            io,
            bus,
            sockets: HashMap::new(),
            lagging: HashSet::new(),
        }
    }

    /// Starts delivering to `sid`; false if the socket has gone already.
    pub fn admit(&mut self, sid: Sid) -> bool {
        match self.io.get_socket(sid) {
            Some(socket) => {
                self.sockets.insert(sid, socket);
                true
            }
            None => false,
        }
    }

    pub fn forget(&mut self, sid: Sid) {
        self.sockets.remove(&sid);
        self.lagging.remove(&sid);
    }

    /// The transport a socket here uses now (`websocket` or `polling`).
    pub fn transport_of(&self, sid: Sid) -> Option<&'static str> {
        self.sockets
            .get(&sid)
            .map(|socket| match socket.transport_type() {
                socketioxide::TransportType::Websocket => "websocket",
                socketioxide::TransportType::Polling => "polling",
            })
    }

    /// Disconnects a socket (so that its client reconnects).
    pub fn close(&mut self, sid: Sid) {
        if let Some(socket) = self.sockets.get(&sid).cloned() {
            self.lagging.insert(sid);
            spawn_disconnect(socket);
        }
    }

    /// Delivers `outgoing` in order; audiences are resolved against `chat` as it is now.
    pub fn deliver(&mut self, chat: &Chat<Sid>, outgoing: Vec<Outgoing<Sid>>) {
        for Outgoing { to, event } in outgoing {
            let name = event.name();
            let arguments = match Arguments::of(&event) {
                Ok(arguments) => arguments,
                Err(error) => {
                    tracing::error!(event = name, %error, "unserializable event");
                    continue;
                }
            };
            self.send(chat, &to, name, &arguments);
            if let (Some(bus), Some(shared)) = (&self.bus, SharedAudience::of(&to)) {
                if shared_with_other_servers(&event) {
                    bus.publish(shared, name, arguments.to_vec());
                }
            }
        }
    }

    /// Delivers what another server delivered to its sockets of the same audience.
    pub fn deliver_shared(
        &mut self,
        chat: &Chat<Sid>,
        to: SharedAudience,
        event: &str,
        args: Vec<Box<RawValue>>,
    ) {
        let Some(arguments) = Arguments::from_vec(args) else {
            return tracing::warn!(event, "a shared event without one or two arguments");
        };
        self.send(chat, &to.local(), event, &arguments);
    }

    /// Delivers `outgoing` to this server's sockets only (what every server tells its
    /// own sockets itself).
    pub fn deliver_here(&mut self, chat: &Chat<Sid>, outgoing: Vec<Outgoing<Sid>>) {
        for Outgoing { to, event } in outgoing {
            match Arguments::of(&event) {
                Ok(arguments) => self.send(chat, &to, event.name(), &arguments),
                Err(error) => tracing::error!(event = event.name(), %error, "unserializable event"),
            }
        }
    }

    /// The other servers, if there are any.
    pub fn bus(&self) -> Option<&ClusterBus> {
        self.bus.as_ref()
    }

    /// Sends one serialized event to every socket of `to` here.
    fn send(&mut self, chat: &Chat<Sid>, to: &Audience<Sid>, name: &str, arguments: &Arguments) {
        let mut overflowed = Vec::new();
        let mut delivered = 0u64;
        chat.for_each_recipient(to, |sid| {
            if self.lagging.contains(sid) {
                return;
            }
            let Some(socket) = self.sockets.get(sid) else {
                return;
            };
            let sent = match arguments {
                Arguments::One(one) => socket.emit(name, one),
                Arguments::Two(one, two) => socket.emit(name, &(one, two)),
            };
            match sent {
                Ok(()) => delivered += 1,
                Err(SendError::Socket(SocketError::InternalChannelFull)) => overflowed.push(*sid),
                // Closing: its disconnect is on its way to the hub.
                Err(SendError::Socket(SocketError::Closed)) => {}
                Err(error) => {
                    tracing::warn!(event = name, %sid, %error, "could not deliver an event")
                }
            }
        });
        metrics::counter!(crate::metrics::DELIVERIES).increment(delivered);
        metrics::counter!(crate::metrics::PACKETS_DROPPED).increment(overflowed.len() as u64);
        for sid in overflowed {
            tracing::warn!(
                %sid,
                event = name,
                "a socket's outgoing queue is full: it missed an event and is disconnected"
            );
            self.close(sid);
        }
    }
}

/// Disconnects `socket` as soon as its queue takes the disconnect packet.
pub fn spawn_disconnect<A: Adapter>(socket: SocketRef<A>) {
    tokio::spawn(async move {
        loop {
            match socket.clone().disconnect() {
                Ok(()) | Err(SocketError::Closed) => return,
                Err(SocketError::InternalChannelFull) => tokio::time::sleep(DISCONNECT_RETRY).await,
            }
        }
    });
}
