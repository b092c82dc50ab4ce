//! The hubs' bus: how the events one server's hub delivers reach the sockets of every
//! other server sharing its Redis.
//!
//! Each hub delivers to its own sockets, then publishes what it delivered to an audience
//! other servers may have members of (the lobby, a room, a user, everyone): the event's
//! name, its serialized arguments and the audience, on one Redis channel. Every other
//! hub takes it into its queue like any command and delivers it to its own sockets in
//! that audience, as it resolves it (who of its users are in the room, which of its
//! sockets are the user's). Frames from one server arrive in the order it published them.
//!
//! Events that are lists of who is online (`onlineUsers`, `room_users`,
//! `presence_update`) are one server's view and are not shared as they are. Instead each
//! server publishes who it lists (when that changes, and at least every few seconds as a
//! heartbeat), and every server merges the others' lists into its own
//! ([`crate::chat::ListedUser`]); a server silent past the lease is taken for dead.
//!
//! Changes the other servers' state must follow are published too, before the events
//! they cause: a user joining or leaving a room (their sockets elsewhere then get, or stop
//! getting, its messages) and a user logging out (their sockets elsewhere are logged out).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use socketioxide_redis::drivers::Driver;
use tokio::sync::{mpsc, Semaphore};

use super::asks::{AdminAnswer, AdminQuery, Asked, Asks};
use super::ReconnectingDriver;
use crate::chat::{Audience, ConversationId, ListedUser, UserId};
use crate::hub::{ChatHub, HubCommand};

/// The Redis channel of the bus.
const CHANNEL: &str = "chat-hub-bus";
/// Frames a server may have received and not yet taken into its queue.
const RECEIVE_BUFFER: usize = 4096;
/// Frames a server may have in its hub's queue. Past this many, the bus waits for the hub
/// (and frames arriving meanwhile wait in the receive buffer, then are dropped: the bus is
/// at most once, see below).
const IN_HUB_QUEUE: usize = 4096;
/// Frames waiting to be published. While Redis is unreachable they pile up here; past
/// this many, new ones are dropped (the other servers' clients fill gaps by id, presence
/// goes out again with the next heartbeat) rather than sent minutes late.
const OUTBOX: usize = 4096;

/// An audience other servers may have sockets of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedAudience {
    Lobby,
    Room(ConversationId),
    RoomExceptUser(ConversationId, UserId),
    User(UserId),
    Everyone,
}

impl SharedAudience {
    /// What of `audience` may be on other servers: the socket a local audience excepts
    /// is this server's, so elsewhere the whole audience is meant. `None` for one socket.
    pub fn of<C>(audience: &Audience<C>) -> Option<Self> {
        Some(match audience {
            Audience::Socket(_) => return None,
            Audience::Lobby | Audience::LobbyExcept(_) => Self::Lobby,
            Audience::Room(room) | Audience::RoomExceptSocket(room, _) => Self::Room(*room),
            Audience::RoomExceptUser(room, user) => Self::RoomExceptUser(*room, *user),
            Audience::User(user) | Audience::UserExcept(user, _) => Self::User(*user),
            Audience::Everyone => Self::Everyone,
        })
    }

    /// The same audience among this server's sockets.
    pub fn local<C>(self) -> Audience<C> {
        match self {
            Self::Lobby => Audience::Lobby,
            Self::Room(room) => Audience::Room(room),
            Self::RoomExceptUser(room, user) => Audience::RoomExceptUser(room, user),
            Self::User(user) => Audience::User(user),
            Self::Everyone => Audience::Everyone,
        }
    }
}

/// What one server says to the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusFrame {
    /// The server that published it.
    pub from: String,
    pub body: BusBody,
}

// Externally tagged: serde cannot read a `RawValue` inside an internally tagged enum.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusBody {
    /// An event it delivered, for the others to deliver to their sockets of `to`.
    Event {
        to: SharedAudience,
        event: String,
        /// The event's arguments, serialized once by the publisher.
        args: Vec<Box<RawValue>>,
    },
    /// Who it lists as online now (sent when that changes, and as a heartbeat), and whom
    /// it stopped listing without telling anyone since its last one (another server
    /// listed them).
    Presence {
        users: Vec<ListedUser>,
        #[serde(default)]
        quiet: Vec<UserId>,
    },
    /// A user joined or left a room there (stored): their sockets here follow.
    Membership {
        user: UserId,
        room: ConversationId,
        name: String,
        member: bool,
    },
    /// A user let go of their name for good there (logged out): their sockets here are
    /// logged out too.
    Retired { user: UserId },
    /// An administrator kicked this user there: their sockets here are told and closed.
    Kicked { user: UserId },
    /// A question for every other server (see [`super::asks`]).
    AdminAsk { ask: u64, query: AdminQuery },
    /// The answer to question `ask` of server `to`.
    AdminAnswer {
        to: String,
        ask: u64,
        answer: AdminAnswer,
    },
}

/// This server's end of the bus. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClusterBus {
    node: String,
    outbox: mpsc::Sender<BusFrame>,
    /// The questions this server waits on answers to.
    asks: Asks,
}

impl ClusterBus {
    /// Joins the bus on `driver`: what other servers publish goes into `hub`'s queue;
    /// what this server publishes goes out in order.
    pub async fn join(
        driver: ReconnectingDriver,
        hub: ChatHub,
    ) -> Result<Self, super::DriverError> {
        let node = node_id();
        let mut inbox = driver.subscribe(CHANNEL.to_owned(), RECEIVE_BUFFER).await?;
        let (outbox, mut outgoing) = mpsc::channel::<BusFrame>(OUTBOX);
        let asks = Asks::default();
        let this = node.clone();
        let answers = asks.clone();
        let in_hub_queue = Arc::new(Semaphore::new(IN_HUB_QUEUE));
        tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some((_, payload)) = inbox.next().await {
                match serde_json::from_slice::<BusFrame>(&payload) {
                    Ok(frame) if frame.from == this => {}
                    // Answers go to whoever asked, not through the hub.
                    Ok(BusFrame {
                        from,
                        body: BusBody::AdminAnswer { to, ask, answer },
                    }) => {
                        if to == this {
                            answers.answered(ask, from, answer);
                        }
                    }
                    Ok(frame) => match in_hub_queue.clone().acquire_owned().await {
                        Ok(permit) => hub.send(HubCommand::Shared(frame, permit)),
                        Err(_closed) => return,
                    },
                    Err(error) => tracing::warn!(%error, "an unreadable frame on the hubs' bus"),
                }
            }
        });
        tokio::spawn(async move {
            while let Some(frame) = outgoing.recv().await {
                let payload = match serde_json::to_vec(&frame) {
                    Ok(payload) => payload,
                    Err(error) => {
                        tracing::error!(%error, "cannot serialize a frame for the hubs' bus");
                        continue;
                    }
                };
                // At most once: Redis unreachable, the other servers miss it (their
                // clients fill such gaps by id from the database when they reconnect;
                // presence is sent again with the next heartbeat).
                if let Err(error) = driver.publish(CHANNEL.to_owned(), payload).await {
                    tracing::warn!(%error, "cannot publish on the hubs' bus");
                }
            }
        });
        tracing::info!(%node, "joined the hubs' bus");
        Ok(Self { node, outbox, asks })
    }

    /// Asks every other server `query`; their answers arrive in the [`Asked`].
    pub fn ask(&self, query: AdminQuery) -> Asked {
        let asked = self.asks.open();
        self.send(BusBody::AdminAsk {
            ask: asked.id,
            query,
        });
        asked
    }

    /// Answers question `ask` of server `to`.
    pub fn answer(&self, to: String, ask: u64, answer: AdminAnswer) {
        self.send(BusBody::AdminAnswer { to, ask, answer });
    }

    /// Publishes what this server delivered to `to` (after its own sockets got it).
    pub fn publish(&self, to: SharedAudience, event: &str, args: Vec<Box<RawValue>>) {
        self.send(BusBody::Event {
            to,
            event: event.to_owned(),
            args,
        });
    }

    /// Publishes who this server lists as online, and whom it dropped unannounced.
    pub fn publish_presence(&self, users: Vec<ListedUser>, quiet: Vec<UserId>) {
        self.send(BusBody::Presence { users, quiet });
    }

    /// This server's id on the bus (the `from` of its frames).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Publishes a change the other servers' state must follow (a membership, a user
    /// retired).
    pub fn publish_change(&self, body: BusBody) {
        self.send(body);
    }

    fn send(&self, body: BusBody) {
        let frame = BusFrame {
            from: self.node.clone(),
            body,
        };
        match self.outbox.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    "the hubs' bus is backed up (Redis unreachable?): a frame is dropped"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("the hubs' bus publisher has stopped");
            }
        }
    }
}

/// A random id for this server process.
pub fn node_id() -> String {
    let mut bytes = [0u8; 8];
    if let Err(error) = getrandom::fill(&mut bytes) {
        tracing::warn!(%error, "no randomness for the node id; using the process id");
        return format!("pid-{}", std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_elsewhere_are_the_whole_audience_and_one_socket_stays_here() {
        let room = ConversationId(7);
        let ann = UserId(3);
        let cases: [(Audience<u32>, Option<SharedAudience>); 9] = [
            (Audience::Socket(1), None),
            (Audience::Lobby, Some(SharedAudience::Lobby)),
            (Audience::LobbyExcept(1), Some(SharedAudience::Lobby)),
            (Audience::Room(room), Some(SharedAudience::Room(room))),
            (
                Audience::RoomExceptSocket(room, 1),
                Some(SharedAudience::Room(room)),
            ),
            (
                Audience::RoomExceptUser(room, ann),
                Some(SharedAudience::RoomExceptUser(room, ann)),
            ),
            (Audience::User(ann), Some(SharedAudience::User(ann))),
            (
                Audience::UserExcept(ann, 1),
                Some(SharedAudience::User(ann)),
            ),
            (Audience::Everyone, Some(SharedAudience::Everyone)),
        ];
        for (audience, shared) in cases {
            assert_eq!(SharedAudience::of(&audience), shared, "{audience:?}");
        }
        let json = serde_json::to_string(&SharedAudience::RoomExceptUser(room, ann)).expect("json");
        let back: SharedAudience = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, SharedAudience::RoomExceptUser(room, ann));
        assert_eq!(
            SharedAudience::User(ann).local::<u32>(),
            Audience::User(ann)
        );
    }

    #[test]
    fn frames_read_back_as_written() {
        let args =
            vec![RawValue::from_string(r#"{"sender":"Ann","message":"hi"}"#.into()).expect("json")];
        let frame = BusFrame {
            from: "a".into(),
            body: BusBody::Event {
                to: SharedAudience::Lobby,
                event: "chat".into(),
                args,
            },
        };
        let back: BusFrame =
            serde_json::from_slice(&serde_json::to_vec(&frame).expect("write")).expect("read");
        let BusBody::Event { to, event, args } = back.body else {
            panic!("an event");
        };
        assert_eq!((to, event.as_str()), (SharedAudience::Lobby, "chat"));
        assert_eq!(args[0].get(), r#"{"sender":"Ann","message":"hi"}"#);
    }
}
