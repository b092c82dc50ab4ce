//! The hub task: its state, the loop that applies commands in order and runs the timers
//! (typing leases, grace periods, held-back `room_users`), connects and disconnects, and
//! sessions (create, restore, log out).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::protocol::{ServerEvent, SessionEnd, SessionEndReason};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;
use tokio::sync::{mpsc, Semaphore};

use super::delivery::Delivery;
use super::limits::{Asker, Limited, UserLimitSettings, UserLimits};
use super::{CreateSessionError, HubCommand};
use crate::chat::{
    Allowance, Chat, ClaimError, ConversationId, DirectPair, Family, ListedUser, Now, Outgoing,
    RateLimiter, RetryAfter, SessionId, UserId,
};
use crate::cluster::{BusBody, BusFrame, ClusterBus};
use crate::storage::{now_ms, SessionLookup, SessionToken, Store};

/// How often a server in a cluster looks whether who it lists has changed (and tells the
/// others if so), and forgets servers gone silent.
const PRESENCE_TICK: Duration = Duration::from_millis(250);
/// The longest a server in a cluster stays silent: its heartbeat.
const PRESENCE_HEARTBEAT: Duration = Duration::from_secs(3);
/// How often a server in a cluster renews its hold on its users' names in the database
/// (a third of the lease: two renewals may fail before it lapses).
const NAME_HOLD_RENEWAL: Duration = Duration::from_secs(5);

/// How often the gauges (users online) are read.
const GAUGES: Duration = Duration::from_secs(1);

/// How often sessions unused for their lifetime are deleted.
const SESSION_SWEEP: Duration = Duration::from_secs(60 * 60);

/// Timings and limits of the hub.
#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    pub typing_lease: Duration,
    pub session_grace: Duration,
    /// The most messages a catch-up (`history {after}`) returns before asking to resync.
    pub catch_up_max: u32,
    /// History reads one socket may have in flight.
    pub reads_per_socket: usize,
    /// How often each user may send messages, typing events, reads and joins.
    pub limits: UserLimitSettings,
    /// How often one address may log in under a new name (`POST /api/session`, `login`,
    /// `register`, `join_room` with a name).
    pub logins_per_address: Option<Allowance>,
}

/// The hub task's state.
pub(super) struct Hub<A: Adapter> {
    pub(super) chat: Chat<Sid>,
    pub(super) store: Store,
    pub(super) out: Delivery<A>,
    pub(super) settings: HubSettings,
    /// Direct conversations already begun.
    pub(super) directs: HashMap<DirectPair, ConversationId>,
    /// Reads in flight, per socket.
    pub(super) reads: HashMap<Sid, Arc<Semaphore>>,
    /// How often each user has lately sent, typed, read and joined.
    limits: UserLimits,
    /// Where each socket connected from, when known.
    pub(super) addresses: HashMap<Sid, IpAddr>,
    /// How often each address has lately logged in under a new name.
    login_limits: RateLimiter<IpAddr>,
    /// This server's id (on the hubs' bus, in `list_users`).
    pub(super) node: String,
    /// Who this server last told the others it lists, and when.
    listed: (Vec<ListedUser>, Instant),
    /// When this server last renewed its holds on its users' names, and the renewal in
    /// flight (it answers the users found retired).
    names_held_at: Instant,
    renewal: Option<tokio::task::JoinHandle<Result<Vec<UserId>, crate::storage::StorageError>>>,
}

/// Applies commands until every [`ChatHub`](super::ChatHub) is dropped, and ends typing
/// leases and grace periods as they run out.
pub async fn run<A: Adapter>(
    io: SocketIo<A>,
    bus: Option<ClusterBus>,
    store: Store,
    mut commands: mpsc::UnboundedReceiver<HubCommand>,
    settings: HubSettings,
) {
    let node = bus
        .as_ref()
        .map_or_else(crate::cluster::node_id, |bus| bus.node().to_owned());
    let mut hub = Hub {
        node,
        chat: Chat::new(
            store.general(),
            settings.typing_lease,
            settings.session_grace,
        ),
        store,
        out: Delivery::new(io, bus),
        settings,
        directs: HashMap::new(),
        reads: HashMap::new(),
        limits: UserLimits::new(settings.limits),
        addresses: HashMap::new(),
        login_limits: RateLimiter::new(settings.logins_per_address, Instant::now()),
        listed: (Vec::new(), Instant::now()),
        names_held_at: Instant::now(),
        renewal: None,
    };
    let mut gauges = tokio::time::interval(GAUGES);
    gauges.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut session_sweep = tokio::time::interval(SESSION_SWEEP);
    session_sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut presence_tick = tokio::time::interval(PRESENCE_TICK);
    presence_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let clustered = hub.out.bus().is_some();
    if let Some(bus) = hub.out.bus() {
        hub.chat.set_node(bus.node());
    }
    if clustered {
        // The database's online sessions are every server's: a server joining a cluster
        // lists nobody until their clients connect to it.
        tracing::info!("in a cluster: online sessions are not restored");
    } else {
        hub.restore_sessions().await;
    }
    loop {
        let deadline = hub.chat.next_deadline();
        tokio::select! {
            command = commands.recv() => match command {
                Some(command) => {
                    if hub.apply(command, &mut commands).await == Flow::Stop {
                        break;
                    }
                }
                None => break,
            },
            () = sleep_until(deadline), if deadline.is_some() => hub.expire().await,
            _ = session_sweep.tick() => hub.sweep_expired_sessions(),
            _ = gauges.tick() => {
                metrics::gauge!(crate::metrics::USERS_ONLINE).set(hub.chat.online_here() as f64);
            }
            _ = presence_tick.tick(), if clustered => {
                hub.share_presence();
                hub.renew_name_holds().await;
            }
        }
    }
    tracing::debug!("chat hub stopped");
}

/// Whether the hub goes on after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

/// The time now, as the rules take it.
pub(super) fn now() -> Now {
    Now {
        at: Instant::now(),
        ms: now_ms(),
    }
}

impl<A: Adapter> Hub<A> {
    /// Counts a request of `conn`'s user (of the socket, before a log-in) against its
    /// limit, or says when to ask again.
    pub(super) fn limit(&mut self, conn: Sid, what: Limited) -> Result<(), RetryAfter> {
        let asker = match self.chat.user_of(&conn) {
            Some(user) => Asker::User(user),
            None => Asker::Socket(conn),
        };
        self.limits.take(what, asker)
    }

    /// Deletes the sessions unused for their lifetime, beside the hub (it never waits).
    fn sweep_expired_sessions(&self) {
        let store = self.store.clone();
        tokio::spawn(async move {
            match store.delete_expired_sessions().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "expired sessions deleted"),
                Err(error) => tracing::error!(%error, "cannot delete expired sessions"),
            }
        });
    }

    /// Counts a log-in under a new name from `conn`'s address against its limit.
    pub(super) fn limit_login(&mut self, conn: Sid) -> Result<(), RetryAfter> {
        match self.addresses.get(&conn) {
            Some(address) => self.login_limits.take(*address, Instant::now()),
            None => Ok(()),
        }
    }

    /// Counts a request of `user`'s against its limit.
    pub(super) fn limit_user(&mut self, user: UserId, what: Limited) -> Result<(), RetryAfter> {
        self.limits.take(what, Asker::User(user))
    }

    /// Applies `command` (and the messages queued right behind it, stored in the same
    /// transaction), then sends what became due: `room_users` lists that changed, and
    /// `presence_update` to sockets that have just logged in.
    async fn apply(
        &mut self,
        command: HubCommand,
        queue: &mut mpsc::UnboundedReceiver<HubCommand>,
    ) -> Flow {
        let mut flow = Flow::Continue;
        let mut next = Some(command);
        while let Some(command) = next.take() {
            let conn = match &command {
                HubCommand::Connect { conn, .. } | HubCommand::Event { conn, .. } => Some(*conn),
                _ => None,
            };
            next = match command {
                HubCommand::Event {
                    conn,
                    event,
                    ack,
                    queued,
                } => {
                    queued.taken();
                    self.event(conn, event, ack, queue).await
                }
                HubCommand::Connect {
                    conn,
                    family,
                    address,
                    token,
                } => {
                    if let Some(address) = address {
                        self.addresses.insert(conn, address);
                    }
                    self.admit(conn, family, token).await;
                    None
                }
                HubCommand::Disconnect { conn } => {
                    self.disconnect(conn).await;
                    None
                }
                HubCommand::Shared(frame, _in_queue) => {
                    self.heard_on_bus(frame).await;
                    None
                }
                HubCommand::Admin { request, reply } => {
                    self.admin(request, reply).await;
                    None
                }
                HubCommand::Stop => {
                    flow = Flow::Stop;
                    None
                }
                HubCommand::CreateSession {
                    name,
                    address,
                    reply,
                } => {
                    let result = self.create_session(name, address).await;
                    // The requester may have gone; the session then waits out its grace.
                    let _ = reply.send(result);
                    None
                }
                HubCommand::Logout { token, reply } => {
                    self.logout(&token).await;
                    let _ = reply.send(());
                    None
                }
                HubCommand::Page { request, reply } => {
                    let _ = reply.send(self.page_snapshot(&request));
                    None
                }
                HubCommand::PagePost {
                    user,
                    target,
                    text,
                    reply,
                } => {
                    self.page_post(user, target, text, reply).await;
                    None
                }
                HubCommand::PageMembership {
                    user,
                    room,
                    join,
                    reply,
                } => {
                    let _ = reply.send(self.page_membership(user, room, join).await);
                    None
                }
                HubCommand::SessionUsed { session } => {
                    if self.session_still_live(session.user).await {
                        self.chat
                            .session_used(session.user, session.id, &session.name, now());
                        self.persist_presence(session.id, true).await;
                    }
                    None
                }
                HubCommand::PageRead { user, target, id } => {
                    self.page_read(user, target, id).await;
                    None
                }
            };
            self.flush(conn);
        }
        flow
    }

    /// Sends what became due after a command.
    pub(super) fn flush(&mut self, conn: Option<Sid>) {
        let mut out = self.chat.room_users_due(now());
        if let Some(update) = conn.and_then(|conn| self.chat.presence_update_due(&conn)) {
            out.push(update);
        }
        self.deliver(out);
    }

    pub(super) fn deliver(&mut self, out: Vec<Outgoing<Sid>>) {
        self.out.deliver(&self.chat, out);
    }

    /// Users online when the server stopped stay listed for the grace period.
    async fn restore_sessions(&mut self) {
        let sessions = match self.store.present_sessions().await {
            Ok(sessions) => sessions,
            Err(error) => return tracing::error!(%error, "cannot restore the online sessions"),
        };
        let now = now();
        for session in &sessions {
            match self.store.rooms_of(session.user).await {
                Ok(rooms) => {
                    self.chat
                        .restore(session.user, session.id, &session.name, &rooms, now)
                }
                Err(error) => tracing::error!(%error, "cannot restore a user's rooms"),
            }
        }
        tracing::info!(count = sessions.len(), "restored online sessions");
    }

    /// Lets a new socket hear broadcasts from now on, and logs it in from its session.
    async fn admit(&mut self, conn: Sid, family: Family, token: Option<SessionToken>) {
        if !self.out.admit(conn) {
            // Gone before its turn: its `Disconnect` is next in the queue.
            return tracing::debug!(sid = %conn, "a socket left before it was admitted");
        }
        self.chat.connect(&conn, family);
        self.reads.insert(
            conn,
            Arc::new(Semaphore::new(self.settings.reads_per_socket)),
        );
        if let Some(token) = token {
            self.connect_session(conn, &token).await;
        }
    }

    async fn connect_session(&mut self, conn: Sid, token: &SessionToken) {
        let session = match self.store.find_session(token).await {
            Ok(SessionLookup::Live(session)) => session,
            Ok(SessionLookup::Unknown) => {
                tracing::info!(sid = %conn, "refused an unknown session");
                return self.end_session_on(conn, SessionEndReason::UnknownSession);
            }
            Ok(SessionLookup::Replaced) => {
                tracing::info!(sid = %conn, "a session's name was taken meanwhile");
                return self.end_session_on(conn, SessionEndReason::NameTaken);
            }
            Err(error) => {
                // Closing the socket makes the client reconnect (with backoff) and try again.
                tracing::error!(%error, sid = %conn, "cannot look up a session; closing the socket");
                return self.out.close(conn);
            }
        };
        let rooms = match self.rooms_for(session.user).await {
            Ok(rooms) => rooms,
            Err(error) => {
                tracing::error!(%error, sid = %conn, "cannot read a user's rooms; closing the socket");
                return self.out.close(conn);
            }
        };
        if !self.chat.is_present(session.user) {
            match self.hold_name(session.user).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(sid = %conn, "a session's name was taken elsewhere meanwhile");
                    return self.end_session_on(conn, SessionEndReason::NameTaken);
                }
                Err(error) => {
                    tracing::error!(%error, sid = %conn, "cannot hold a session's name; closing the socket");
                    return self.out.close(conn);
                }
            }
        }
        let result = self.chat.log_in(
            &conn,
            session.user,
            &session.name,
            Some(session.id),
            &rooms,
            now(),
        );
        match result {
            Ok(out) => {
                self.persist_presence(session.id, true).await;
                self.deliver(out);
            }
            Err(ClaimError::NameTaken | ClaimError::InvalidName) => {
                tracing::info!(sid = %conn, name = %session.name, "a session's name is held by someone else");
                if let Err(error) = self.store.retire_user(session.user).await {
                    tracing::error!(%error, "cannot retire a user");
                }
                self.end_session_on(conn, SessionEndReason::NameTaken);
            }
        }
    }

    /// The rooms of a user coming online (none needed if they are online already).
    pub(super) async fn rooms_for(
        &self,
        user: UserId,
    ) -> Result<Vec<(ConversationId, crate::chat::RoomName)>, crate::storage::StorageError> {
        if self.chat.is_present(user) {
            return Ok(Vec::new());
        }
        self.store.rooms_of(user).await
    }

    pub(super) fn end_session_on(&mut self, conn: Sid, reason: SessionEndReason) {
        let event = ServerEvent::SessionEnded(SessionEnd::new(reason));
        self.deliver(vec![Outgoing::only(conn, event)]);
    }

    async fn disconnect(&mut self, conn: Sid) {
        let (out, gone) = self.chat.disconnect(&conn, now());
        self.deliver(out);
        self.out.forget(conn);
        self.reads.remove(&conn);
        self.addresses.remove(&conn);
        if let Some(user) = gone {
            self.retire(user).await;
        }
    }

    pub(super) async fn retire(&mut self, user: UserId) {
        self.directs.retain(|pair, _| !pair.contains(user));
        self.share(BusBody::Retired { user });
        if let Err(error) = self.store.retire_user(user).await {
            tracing::error!(%error, ?user, "cannot retire a user");
        }
    }

    async fn create_session(
        &mut self,
        name: Value,
        address: Option<IpAddr>,
    ) -> Result<(String, UserId, SessionToken), CreateSessionError> {
        let name = self.chat.check_claim(&name).map_err(|error| match error {
            ClaimError::InvalidName => CreateSessionError::InvalidName,
            ClaimError::NameTaken => CreateSessionError::NameTaken,
        })?;
        if let Some(address) = address {
            self.login_limits
                .take(address, Instant::now())
                .map_err(CreateSessionError::RateLimited)?;
        }
        let user = match self.store.create_user(&name).await {
            // Another server stored a user of this name at the same moment.
            Err(error) if error.is_unique_violation() => return Err(CreateSessionError::NameTaken),
            created => created?,
        };
        let (session, token) = match self.store.create_session(user).await {
            Ok(created) => created,
            Err(error) => {
                // Nobody holds the new user: the name is free again.
                if let Err(error) = self.store.retire_user(user).await {
                    tracing::error!(%error, "cannot retire a user whose session failed");
                }
                return Err(error.into());
            }
        };
        self.chat.claim(user, session.id, &session.name, now());
        tracing::info!(name = %session.name, "session created");
        Ok((session.name, user, token))
    }

    async fn logout(&mut self, token: &SessionToken) {
        let session = match self.store.find_session(token).await {
            Ok(SessionLookup::Live(session)) => session,
            Ok(_) => return,
            Err(error) => return tracing::error!(%error, "cannot look up a session to log out"),
        };
        if let Some((_, conns, out)) = self.chat.end_session(session.id, now()) {
            for conn in conns {
                self.end_session_on(conn, SessionEndReason::LoggedOut);
            }
            self.deliver(out);
        }
        self.retire(session.user).await;
        tracing::info!(name = %session.name, "logged out");
    }

    async fn expire(&mut self) {
        let now = now();
        let (out, sessions) = self.chat.expire(now);
        self.deliver(out);
        for (_, session) in &sessions {
            self.persist_presence(*session, false).await;
        }
        // A user still online on another server keeps the hold that server renews.
        let users: Vec<UserId> = sessions
            .iter()
            .map(|(user, _)| *user)
            .filter(|user| !self.chat.is_listed_elsewhere(*user))
            .collect();
        if let Err(error) = self.store.release_names(&users).await {
            // Their holds lapse with the lease instead.
            tracing::error!(%error, count = users.len(), "cannot release the names of users gone offline");
        }
        self.flush(None);
    }

    /// Whether a session a page found live still is, now that its use reaches the hub: a
    /// log-out (another tab) may have retired its user meanwhile, who must not take their
    /// name back. Users online are live (a log-out takes them offline first).
    async fn session_still_live(&self, user: UserId) -> bool {
        if self.chat.name_of(user).is_some() {
            return true;
        }
        match self.store.user_name(user).await {
            Ok(Some((_, false))) => self.hold_name(user).await.unwrap_or_else(|error| {
                tracing::error!(%error, "cannot hold the name of a session used");
                false
            }),
            Ok(_) => false,
            Err(error) => {
                tracing::error!(%error, "cannot look up the user of a session used");
                false
            }
        }
    }

    /// Holds `user`'s name in the database as they come online here (in a cluster, where
    /// another server may not have heard yet): false if they were retired meanwhile, their
    /// name taken by a log-in elsewhere.
    async fn hold_name(&self, user: UserId) -> Result<bool, crate::storage::StorageError> {
        Ok(self.store.hold_names(&[user]).await?.contains(&user))
    }

    /// Renews this server's holds on the names of everyone it holds, every
    /// [`NAME_HOLD_RENEWAL`], in a task of its own (the hub does not wait for the database;
    /// one renewal at a time). A user found retired meanwhile (their name taken elsewhere
    /// while the database could not be reached to renew) is logged out here.
    async fn renew_name_holds(&mut self) {
        if let Some(renewal) = self.renewal.take_if(|renewal| renewal.is_finished()) {
            // Finished: awaiting it returns at once.
            match renewal.await {
                Ok(Ok(retired)) => {
                    for user in retired {
                        tracing::warn!(
                            ?user,
                            "a user online here was retired elsewhere: logging them out"
                        );
                        self.retired_elsewhere(user, SessionEndReason::NameTaken);
                    }
                }
                Ok(Err(error)) => tracing::error!(%error, "cannot renew the holds on names"),
                Err(error) => tracing::error!(%error, "the renewal of the holds on names failed"),
            }
        }
        let now = now();
        if self.renewal.is_some() || now.at.duration_since(self.names_held_at) < NAME_HOLD_RENEWAL {
            return;
        }
        self.names_held_at = now.at;
        let users = self.chat.held_here();
        let store = self.store.clone();
        self.renewal = Some(tokio::spawn(async move { store.renew_holds(&users).await }));
    }

    /// What another server said on the hubs' bus.
    async fn heard_on_bus(&mut self, frame: BusFrame) {
        match frame.body {
            BusBody::Event { to, event, args } => {
                self.out.deliver_shared(&self.chat, to, &event, args);
            }
            BusBody::Presence { users, quiet } => {
                let now = now();
                let back = self.chat.listed_on(&frame.from, users, &quiet, now);
                self.out.deliver_here(&self.chat, back);
                let gone = self.chat.quietly_gone(now);
                self.deliver(gone);
            }
            BusBody::Membership {
                user,
                room,
                name,
                member,
            } => match crate::chat::RoomName::parse(&name) {
                Some(name) => self.chat.membership_elsewhere(user, room, &name, member),
                None => tracing::warn!(name, "a membership on the hubs' bus names no room"),
            },
            BusBody::Retired { user } => {
                self.retired_elsewhere(user, SessionEndReason::LoggedOut);
            }
            BusBody::Kicked { user } => self.kick_here(user),
            BusBody::AdminAsk { ask, query } => self.asked_on_bus(frame.from, ask, query).await,
            // The bus hands answers to whoever asked; none reach the hub.
            BusBody::AdminAnswer { .. } => {}
        }
    }

    /// A user let go of their name elsewhere (logged out on another server, or their name
    /// taken there while this server could not renew its hold): their sockets here are
    /// logged out too, told `reason`. Their going is announced to everyone unless another
    /// server still lists them (see `Chat::quietly_gone`): this server may be the only one
    /// that did.
    fn retired_elsewhere(&mut self, user: UserId, reason: SessionEndReason) {
        self.directs.retain(|pair, _| !pair.contains(user));
        let Some((conns, out)) = self.chat.log_out(user, now()) else {
            return;
        };
        for conn in conns {
            self.end_session_on(conn, reason);
        }
        self.deliver(out);
    }

    /// Tells the other servers about a change their state must follow.
    pub(super) fn share(&self, change: BusBody) {
        if let Some(bus) = self.out.bus() {
            bus.publish_change(change);
        }
    }

    /// Tells the other servers who this one lists, if that changed (or as a heartbeat),
    /// and takes the users of servers gone silent offline.
    fn share_presence(&mut self) {
        let now = now();
        let gone = self.chat.expire_silent_servers(now);
        self.out.deliver_here(&self.chat, gone);
        // `room_users` of the rooms they were in (each server sends its own).
        self.flush(None);
        let Some(bus) = self.out.bus() else {
            return;
        };
        let listed = self.chat.listed_here();
        // Whom it dropped unannounced, in every list for a lease: a list lost on the way
        // does not lose them.
        let quiet = self.chat.quiet_departures(now);
        let (last, at) = &self.listed;
        if listed != *last || now.at.duration_since(*at) >= PRESENCE_HEARTBEAT {
            bus.publish_presence(listed.clone(), quiet);
            self.listed = (listed, now.at);
        }
    }

    async fn persist_presence(&self, session: SessionId, present: bool) {
        if let Err(error) = self.store.set_present(session, present).await {
            tracing::error!(%error, ?session, present, "cannot record a session's presence");
        }
    }
}
