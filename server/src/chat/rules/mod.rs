//! The chat's rules: [`Chat`] holds global [`Presence`] and per-conversation
//! [`Conversations`] state, applies one thing that happened at a time and returns the
//! events it causes, addressed ([`Outgoing`]), in the order they must be delivered.
//! Nothing here touches the network, storage or the clock: the hub asks storage what the
//! rules need (a new user's id, a room's id, a stored message) and hands it over.
//!
//! - [`session`]: log-ins, sessions, disconnects and grace periods;
//! - [`rooms`]: joining, leaving and posting to rooms (`general` included), `room_users`;
//! - [`direct`]: direct messages;
//! - [`typing`]: typing leases per conversation;
//! - [`reading`]: read markers and presence (`set_presence`);
//! - [`cluster`]: the users other servers list.

mod cluster;
mod direct;
mod reading;
mod rooms;
mod session;
mod typing;

pub use direct::DirectPost;
pub use reading::ReadTarget;
pub use rooms::{JoinPlan, JoinRefusal, RoomPost};
pub use session::LoginRefusal;
pub use typing::TypingWhere;

use std::hash::Hash;
use std::time::{Duration, Instant};

use app::protocol::time::iso_from_ms;
use app::protocol::{Presence as PresenceEntry, PresenceStatus};

use super::conversations::Conversations;
use super::presence::{Family, Presence};
use super::quiet_departures::QuietDepartures;
use super::remote::{RemotePresence, SERVER_LEASE};
use super::{Audience, ConversationId, Outgoing, RoomName, UserId};

/// How long a `typing` keeps a user shown as typing without being renewed.
pub const TYPING_LEASE: Duration = Duration::from_secs(3);

/// The time, as the rules need it: a monotonic instant for leases and grace periods, and
/// the wall clock (ms since the epoch) for the `time` of events.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub at: Instant,
    pub ms: i64,
}

impl Now {
    pub fn iso(self) -> String {
        iso_from_ms(self.ms)
    }
}

/// The whole chat. `C` identifies a connection (a socket id in production, a number in
/// tests).
#[derive(Debug)]
pub struct Chat<C> {
    presence: Presence<C>,
    conversations: Conversations<C>,
    /// Who the other servers list (nobody on a server of its own).
    remote: RemotePresence,
    /// Users gone from here unannounced, while another server listed them.
    quiet: QuietDepartures,
    general: ConversationId,
    typing_lease: Duration,
}

/// The events of one change.
pub type Events<C> = Vec<Outgoing<C>>;

impl<C: Clone + Eq + Hash> Chat<C> {
    /// `general` is the lobby's conversation.
    pub fn new(general: ConversationId, typing_lease: Duration, grace: Duration) -> Self {
        Self {
            presence: Presence::new(grace),
            conversations: Conversations::default(),
            remote: RemotePresence::new(SERVER_LEASE),
            quiet: QuietDepartures::default(),
            general,
            typing_lease,
        }
    }

    pub fn general(&self) -> ConversationId {
        self.general
    }

    // --- Sockets -------------------------------------------------------------------------

    /// A socket connected, speaking `family`.
    pub fn connect(&mut self, conn: &C, family: Family) {
        self.presence.connect(conn, family);
    }

    pub fn is_connected(&self, conn: &C) -> bool {
        self.presence.is_connected(conn)
    }

    pub fn family(&self, conn: &C) -> Option<Family> {
        self.presence.family(conn)
    }

    /// `conn` used the rooms protocol: it gets that protocol's events from now on.
    pub fn switch_to_rooms(&mut self, conn: &C) {
        self.presence.switch_to_rooms(conn);
    }

    /// `presence_update` for a rooms-family socket that is logged in and has not had it
    /// since it logged in.
    pub fn presence_update_due(&mut self, conn: &C) -> Option<Outgoing<C>> {
        self.presence.take_presence_due(conn).then(|| {
            Outgoing::only(
                conn.clone(),
                app::protocol::ServerEvent::PresenceUpdate(self.presence_list()),
            )
        })
    }

    // --- Who is who ----------------------------------------------------------------------

    pub fn user_of(&self, conn: &C) -> Option<UserId> {
        self.presence.user_of(conn)
    }

    pub fn name_of(&self, user: UserId) -> Option<&str> {
        self.presence.user(user).map(|u| u.name.as_str())
    }

    /// Whether the user is listed: online, or in their grace period (they are in their
    /// rooms). A new session's user is not, until their first socket.
    pub fn is_present(&self, user: UserId) -> bool {
        self.presence.user(user).is_some_and(|u| u.visible)
    }

    /// The user holding `name` now (online or in a grace period), ignoring case.
    pub fn holder_of(&self, name: &str) -> Option<UserId> {
        self.presence.holder_of(name)
    }

    /// The users listed here (online, away, or in their grace period), in order of log-in,
    /// with their status and sockets.
    pub fn users_here(&self) -> Vec<(UserId, String, PresenceStatus, Vec<C>)> {
        let mut users: Vec<_> = self.presence.users().filter(|u| u.visible).collect();
        users.sort_by_key(|u| u.joined);
        users
            .into_iter()
            .map(|u| {
                (
                    u.id,
                    u.name.clone(),
                    u.status(),
                    u.sockets().cloned().collect(),
                )
            })
            .collect()
    }

    /// The user holding `name` (ignoring case) here or, as far as this server has heard,
    /// on another server: their id and name as they spell it.
    pub fn user_named(&self, name: &str) -> Option<(UserId, String)> {
        if let Some(id) = self.holder_of(name) {
            return Some((id, self.name_of(id).unwrap_or(name).to_owned()));
        }
        self.listed_elsewhere_as(name)
            .map(|user| (user.id, user.name.clone()))
    }

    /// How many users are logged in here (online or away).
    pub fn online_here(&self) -> usize {
        self.presence.users().filter(|u| u.visible).count()
    }

    /// Names of everyone online: here in order of log-in, then those only other servers
    /// list.
    pub fn online_names(&self) -> Vec<String> {
        let mut names = self.presence.online_names();
        names.extend(self.listed_elsewhere().map(|user| user.name.clone()));
        names
    }

    /// Everyone online with their status, in the order of [`Chat::online_names`].
    pub fn presence_list(&self) -> Vec<PresenceEntry> {
        let mut list = self.presence.presence_list();
        list.extend(self.listed_elsewhere().map(|user| PresenceEntry {
            username: user.name.clone(),
            status: user.status,
        }));
        list
    }

    pub fn status(&self, user: UserId) -> PresenceStatus {
        self.presence.status(user)
    }

    /// The rooms a present user is in, `general` first.
    pub fn rooms_of(&self, user: UserId) -> Vec<(ConversationId, RoomName)> {
        self.conversations
            .rooms_of(user)
            .iter()
            .filter_map(|id| {
                self.conversations
                    .room_name(*id)
                    .map(|name| (*id, name.clone()))
            })
            .collect()
    }

    /// A room someone is in, by name.
    pub fn room_named(&self, name: &RoomName) -> Option<ConversationId> {
        self.conversations.room_named(name)
    }

    /// Names of the members in a room: those here in order of log-in, then those only
    /// other servers list, by name.
    pub fn room_users(&self, id: ConversationId) -> Vec<String> {
        let mut users: Vec<(u64, &str)> = self
            .conversations
            .present(id)
            .filter_map(|u| self.presence.user(u))
            .map(|u| (u.joined, u.name.as_str()))
            .collect();
        users.sort_unstable();
        let here = users.into_iter().map(|(_, name)| name.to_owned());
        let elsewhere = self.in_room_elsewhere(id).map(|user| user.name.clone());
        here.chain(elsewhere).collect()
    }

    /// The presence of every user online or away.
    pub fn statuses(&self) -> std::collections::HashMap<UserId, PresenceStatus> {
        self.presence
            .users()
            .filter(|u| u.visible)
            .map(|u| (u.id, u.status()))
            .collect()
    }

    /// How many members are in each room someone is in, on any server.
    pub fn present_counts(&self) -> Vec<(ConversationId, usize)> {
        let mut counts: std::collections::BTreeMap<ConversationId, usize> =
            self.conversations.present_counts().collect();
        for user in self.remote.users() {
            for room in &user.rooms {
                if !self.conversations.is_in(user.id, *room) {
                    *counts.entry(*room).or_default() += 1;
                }
            }
        }
        counts.into_iter().collect()
    }

    // --- Delivery ------------------------------------------------------------------------

    /// Calls `deliver` once for every socket `audience` names.
    pub fn for_each_recipient(&self, audience: &Audience<C>, mut deliver: impl FnMut(&C)) {
        match audience {
            Audience::Socket(conn) => {
                if self.presence.is_connected(conn) {
                    deliver(conn);
                }
            }
            Audience::Lobby => self.presence.lobby_sockets().for_each(deliver),
            Audience::LobbyExcept(except) => self
                .presence
                .lobby_sockets()
                .filter(|c| *c != except)
                .for_each(deliver),
            Audience::Room(id) => {
                for user in self.conversations.present(*id) {
                    self.sockets_of(user, None, &mut deliver);
                }
            }
            Audience::RoomExceptSocket(id, except) => {
                for user in self.conversations.present(*id) {
                    self.sockets_of(user, Some(except), &mut deliver);
                }
            }
            Audience::RoomExceptUser(id, except) => {
                for user in self.conversations.present(*id).filter(|u| u != except) {
                    self.sockets_of(user, None, &mut deliver);
                }
            }
            Audience::User(user) => self.sockets_of(*user, None, &mut deliver),
            Audience::UserExcept(user, except) => {
                self.sockets_of(*user, Some(except), &mut deliver);
            }
            Audience::Everyone => {
                for user in self.presence.users() {
                    user.rooms_sockets().iter().for_each(&mut deliver);
                }
            }
        }
    }

    /// The rooms-family sockets of `user`, but `except`.
    fn sockets_of(&self, user: UserId, except: Option<&C>, deliver: &mut impl FnMut(&C)) {
        if let Some(user) = self.presence.user(user) {
            for conn in user.rooms_sockets() {
                if Some(conn) != except {
                    deliver(conn);
                }
            }
        }
    }

    /// When the next typing lease, grace period or held-back `room_users` is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.conversations.next_typing_deadline(),
            self.presence.next_deadline(),
            self.conversations.next_listing(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
pub(crate) mod tests;
