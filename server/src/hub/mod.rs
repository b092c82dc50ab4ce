//! The application core: one task (the hub) that owns the chat's state and applies, in
//! order, everything that happens — socket events, connects and disconnects from the
//! socket layer, log-ins, log-outs and form posts from HTTP — storing what must be stored
//! and delivering the events the rules return. Both transports talk to it through
//! [`ChatHub`]; neither knows the other.
//!
//! Because it is one queue: every socket sees every broadcast in one order, a socket's
//! disconnect is applied after everything it sent (no ghost users), and messages are
//! stored (numbered) in the order they are delivered. Reads (history pages, listings) are
//! authorised in the queue and answered beside it, so a slow read never holds anyone up.
//!
//! - [`command`]: what can be asked of the hub;
//! - `core`: the task, its state, connects, disconnects, sessions and timers;
//! - `events`: socket events, dispatched to `posting` (messages, batched per
//!   transaction), `logins` (new users, batched likewise), `rooms` (joins, leaves,
//!   typing, read markers, presence) and `reads`;
//! - `page`: the snapshot a server-rendered page shows (its forms' posts and joins go
//!   through `posting` and `rooms` like socket events);
//! - `delivery`: events to sockets, once each, and what happens to a socket that cannot
//!   keep up;
//! - `limits`: how often each user may send, type, read and join;
//! - `admin`: the administrators' requests (who is connected, kicks, deletions,
//!   announcements), asking the other servers of a cluster where needed.

mod ack;
mod admin;
pub mod command;
mod core;
mod delivery;
mod events;
mod limits;
mod logins;
mod page;
mod posting;
mod reads;
mod rooms;

pub use ack::Ack;
pub use admin::{AdminReply, AdminRequest};
pub use command::{
    CreateSessionError, HubCommand, PageRequest, PageSnapshot, PageTarget, PostError, Queued,
};
pub use core::{run, HubSettings};
pub use delivery::spawn_disconnect;
pub use limits::UserLimitSettings;
pub use reads::{conversations_of, room_infos};

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::chat::UserId;
use crate::storage::{SessionRecord, SessionToken};

/// The most questions (from HTTP handlers, administrators) waiting in the hub's queue or
/// for its answer at once. Each takes the hub microseconds; past this many the server is
/// flooded, and a new one is refused at once (`503`) rather than queued.
const MAX_ASKS: usize = 1024;

/// The queue into the hub. Cheap to clone; every clone feeds the same task.
///
/// Socket events count against their socket's bound (see `socket::extract`), frames from
/// the other servers against the bus's (see `cluster::bus`), questions against
/// [`MAX_ASKS`]: every way into the queue is bounded.
#[derive(Debug, Clone)]
pub struct ChatHub {
    commands: mpsc::UnboundedSender<HubCommand>,
    asks: Arc<Semaphore>,
}

impl From<Unanswered> for PostError {
    fn from(unanswered: Unanswered) -> Self {
        match unanswered {
            Unanswered::Busy => Self::Busy,
            Unanswered::Gone => Self::HubGone,
        }
    }
}

/// Why a question got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unanswered {
    /// [`MAX_ASKS`] are waiting already.
    Busy,
    /// The hub has stopped.
    Gone,
}

impl ChatHub {
    /// Creates the queue; the hub runs once [`run`]'s future is spawned with the receiver.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<HubCommand>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let asks = Arc::new(Semaphore::new(MAX_ASKS));
        (Self { commands, asks }, receiver)
    }

    /// Whether the hub still takes commands (it stops only at shutdown, or if it failed).
    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }

    pub fn send(&self, command: HubCommand) {
        match self.commands.send(command) {
            Ok(()) => {}
            // Sockets still closing after the hub stopped at shutdown: nothing to do.
            Err(error) if matches!(error.0, HubCommand::Disconnect { .. }) => {
                tracing::debug!(command = ?error.0, "the chat hub has stopped; disconnect ignored");
            }
            Err(error) => {
                tracing::error!(command = ?error.0, "the chat hub has stopped; command dropped");
            }
        }
    }

    /// Asks the hub, unless [`MAX_ASKS`] questions are waiting already.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> HubCommand,
    ) -> Result<T, Unanswered> {
        let Ok(permit) = self.asks.clone().try_acquire_owned() else {
            tracing::warn!("the chat hub has too many questions waiting; one is refused");
            return Err(Unanswered::Busy);
        };
        self.ask_with(permit, make).await
    }

    /// Asks the hub once a question's place is free (for what must not be refused).
    async fn ask_in_turn<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> HubCommand,
    ) -> Result<T, Unanswered> {
        let Ok(permit) = self.asks.clone().acquire_owned().await else {
            return Err(Unanswered::Gone);
        };
        self.ask_with(permit, make).await
    }

    async fn ask_with<T>(
        &self,
        _place: tokio::sync::OwnedSemaphorePermit,
        make: impl FnOnce(oneshot::Sender<T>) -> HubCommand,
    ) -> Result<T, Unanswered> {
        let (reply, answer) = oneshot::channel();
        self.send(make(reply));
        answer.await.map_err(|_| {
            tracing::error!("the chat hub stopped before answering");
            Unanswered::Gone
        })
    }

    /// Creates a session holding `name` for a client at `address`, if the name is valid
    /// and free and the address has not logged in too often: its user's name and id, and
    /// the token.
    pub async fn create_session(
        &self,
        name: Value,
        address: Option<std::net::IpAddr>,
    ) -> Result<(String, UserId, SessionToken), CreateSessionError> {
        self.ask(|reply| HubCommand::CreateSession {
            name,
            address,
            reply,
        })
        .await
        .unwrap_or_else(|unanswered| {
            Err(match unanswered {
                Unanswered::Busy => CreateSessionError::Busy,
                Unanswered::Gone => CreateSessionError::HubGone,
            })
        })
    }

    /// Ends the session of `token` (if it is one): its name is free at once. Never
    /// refused: it waits its turn.
    pub async fn logout(&self, token: SessionToken) {
        // Gone: logged already; the session ends with its lifetime.
        let _ = self
            .ask_in_turn(|reply| HubCommand::Logout { token, reply })
            .await;
    }

    /// What a server-rendered page shows of who is online (nobody, if the hub is too
    /// busy to say: the page works, and its script connects and learns it).
    pub async fn page(&self, request: PageRequest) -> PageSnapshot {
        self.ask(|reply| HubCommand::Page { request, reply })
            .await
            .unwrap_or_default()
    }

    /// A message posted with a page's form (no socket): stored and delivered like any.
    pub async fn post_from_page(
        &self,
        user: UserId,
        target: PageTarget,
        text: String,
    ) -> Result<(), PostError> {
        self.ask(|reply| HubCommand::PagePost {
            user,
            target,
            text,
            reply,
        })
        .await
        .unwrap_or_else(|unanswered| Err(unanswered.into()))
    }

    /// Joins (`join = true`) or leaves a room from a page's form.
    pub async fn membership_from_page(
        &self,
        user: UserId,
        room: crate::chat::RoomName,
        join: bool,
    ) -> Result<(), PostError> {
        self.ask(|reply| HubCommand::PageMembership {
            user,
            room,
            join,
            reply,
        })
        .await
        .unwrap_or_else(|unanswered| Err(unanswered.into()))
    }

    /// Applies an administrator's request; its acknowledgement.
    pub async fn admin(&self, request: AdminRequest) -> AdminReply {
        self.ask(|reply| HubCommand::Admin { request, reply })
            .await
            .unwrap_or_else(|unanswered| {
                match unanswered {
                    Unanswered::Busy => app::protocol::RejectionReason::RateLimited,
                    Unanswered::Gone => app::protocol::RejectionReason::StorageFailed,
                }
                .into()
            })
    }

    /// Stops the hub once everything queued before has been applied; returns when it has
    /// (`hub` is the hub task, spawned with [`run`]).
    pub async fn stop(&self, hub: tokio::task::JoinHandle<()>) {
        self.send(HubCommand::Stop);
        if let Err(error) = hub.await {
            tracing::error!(%error, "the chat hub failed");
        }
    }

    /// A page or a form was used with `session`: its name stays held (a reader without
    /// JavaScript has no socket to hold it).
    pub fn session_used(&self, session: SessionRecord) {
        self.send(HubCommand::SessionUsed { session });
    }

    /// The reader of a page has seen `target` up to `id`.
    pub fn read_from_page(&self, user: UserId, target: PageTarget, id: u64) {
        self.send(HubCommand::PageRead { user, target, id });
    }
}
