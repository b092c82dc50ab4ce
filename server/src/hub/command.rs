//! What the socket and HTTP layers tell the hub, in the order it happened.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::protocol::{ClientEvent, Presence, PresenceStatus, RejectionReason};
use serde_json::Value;
use socketioxide::socket::Sid;
use tokio::sync::oneshot;

use super::Ack;
use crate::chat::{ConversationId, Family, RetryAfter, RoomName, UserId};
use crate::storage::{SessionRecord, SessionToken, StorageError};

#[derive(Debug)]
pub enum HubCommand {
    /// A socket connected from `address`, speaking `family`, with the session token of
    /// its cookie if it had one.
    Connect {
        conn: Sid,
        family: Family,
        address: Option<IpAddr>,
        token: Option<SessionToken>,
    },
    Event {
        conn: Sid,
        event: ClientEvent,
        /// Answers the event, when the client asked for an acknowledgement.
        ack: Option<Ack>,
        /// Counts the event among its socket's queued ones until it is applied.
        queued: Queued,
    },
    Disconnect {
        conn: Sid,
    },
    /// Another server said this on the hubs' bus: an event it delivered (its audience here
    /// gets it too), or who it lists as online. The permit counts it among the frames the
    /// bus may have in the hub's queue until it is applied.
    Shared(crate::cluster::BusFrame, tokio::sync::OwnedSemaphorePermit),
    /// The server is shutting down: the hub applies what was queued before this, then
    /// stops, so nothing reaches storage after it closes. Disconnects that come later are
    /// ignored: sessions are restored, with their grace period, when the server starts.
    Stop,
    /// `POST /api/session` from `address`.
    CreateSession {
        name: Value,
        address: Option<IpAddr>,
        reply: oneshot::Sender<Result<(String, UserId, SessionToken), CreateSessionError>>,
    },
    /// `POST /api/logout`.
    Logout {
        token: SessionToken,
        reply: oneshot::Sender<()>,
    },
    /// For a server-rendered page.
    Page {
        request: PageRequest,
        reply: oneshot::Sender<PageSnapshot>,
    },
    /// A message from a page's form.
    PagePost {
        user: UserId,
        target: PageTarget,
        text: String,
        reply: oneshot::Sender<Result<(), PostError>>,
    },
    /// Joining or leaving a room from a page's form.
    PageMembership {
        user: UserId,
        room: RoomName,
        join: bool,
        reply: oneshot::Sender<Result<(), PostError>>,
    },
    /// A page or a form was used with this session (no socket needed).
    SessionUsed {
        session: SessionRecord,
    },
    /// An administrator's request (the `/admin` namespace).
    Admin {
        request: super::AdminRequest,
        reply: oneshot::Sender<super::AdminReply>,
    },
    /// A page showed `target` up to `id` to its reader.
    PageRead {
        user: UserId,
        target: PageTarget,
        id: u64,
    },
}

/// One of a socket's events in the hub's queue: it counts against the socket's bound
/// (see `socket::extract`) until it is dropped, once applied.
#[derive(Debug)]
pub struct Queued(Option<Arc<AtomicUsize>>, Instant);

impl Queued {
    /// Counts one more of the socket's events (`queued`: the socket's count) unless it
    /// already has `bound` queued; then `None`.
    pub fn take(queued: &Arc<AtomicUsize>, bound: usize) -> Option<Self> {
        queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < bound).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Some(queued.clone()), Instant::now()))
    }

    /// Not counted (an event made up by the server, a test).
    pub fn uncounted() -> Self {
        Self(None, Instant::now())
    }

    /// How long the event has waited since it was queued.
    pub fn waited(&self) -> Duration {
        self.1.elapsed()
    }

    /// The hub takes the event now: records how long it waited.
    pub fn taken(&self) {
        metrics::histogram!(crate::metrics::HUB_QUEUE_WAIT_SECONDS).record(self.waited());
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if let Some(queued) = self.0.take() {
            queued.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A conversation a page names: `/r/<room>` or `/dm/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTarget {
    Room(RoomName),
    With(String),
}

/// What a page asks of the hub's state.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// The room shown, for its `room_users`.
    pub room: Option<RoomName>,
}

/// Who is online, as a page shows it.
#[derive(Debug, Clone, Default)]
pub struct PageSnapshot {
    /// Everyone online or away, in order of log-in.
    pub presence: Vec<Presence>,
    /// The members in the room shown.
    pub room_users: Vec<String>,
    /// The presence of every user online or away.
    pub statuses: HashMap<UserId, PresenceStatus>,
    /// How many members are in each room someone is in.
    pub present: HashMap<ConversationId, usize>,
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateSessionError {
    #[error("invalid name")]
    InvalidName,
    #[error("name taken")]
    NameTaken,
    #[error("too many log-ins from this address")]
    RateLimited(RetryAfter),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("the chat hub has stopped")]
    HubGone,
    #[error("the chat hub is busy")]
    Busy,
}

/// Why a form's request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("{}", .0.describe())]
    Refused(RejectionReason),
    #[error("the chat hub has stopped")]
    HubGone,
    #[error("the chat hub is busy")]
    Busy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_has_at_most_its_bound_queued_until_they_are_applied() {
        let count = Arc::new(AtomicUsize::new(0));
        let first = Queued::take(&count, 2).expect("one");
        let second = Queued::take(&count, 2).expect("two");
        assert!(Queued::take(&count, 2).is_none(), "the bound");
        drop(first);
        let third = Queued::take(&count, 2).expect("room again once one is applied");
        drop((second, third));
        assert_eq!(count.load(Ordering::Acquire), 0);
    }
}
