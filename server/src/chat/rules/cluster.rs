//! The users other servers of a cluster list: merged into the lists of who is online, who
//! is in each room and the names taken; offline for everyone here when their server goes
//! silent, and back when it speaks again; and the users who left here unannounced while
//! another server listed them (see `chat::quiet_departures`).

use std::hash::Hash;

use app::protocol::{MemberChange, MemberEvent, ServerEvent};

use super::session::{offline_announcement, presence_changed};
use super::{Chat, Events, Now};
use crate::chat::remote::ListedUser;
use crate::chat::{Audience, ConversationId, Outgoing, RoomName, UserId};

impl<C: Clone + Eq + Hash> Chat<C> {
    /// Who this server lists, for the others (its presence snapshot).
    pub fn listed_here(&self) -> Vec<ListedUser> {
        let mut listed: Vec<ListedUser> = self
            .presence
            .users()
            .filter(|user| user.visible)
            .map(|user| {
                let mut rooms = self.conversations.rooms_of(user.id).to_vec();
                rooms.sort_unstable();
                ListedUser {
                    id: user.id,
                    name: user.name.clone(),
                    status: user.status(),
                    rooms,
                }
            })
            .collect();
        // In one order, so that an unchanged list compares equal.
        listed.sort_unstable_by_key(|user| user.id);
        listed
    }

    /// Every user whose name this server holds: online here, away, in their grace period,
    /// or claimed by a page (listed or not yet).
    pub fn held_here(&self) -> Vec<UserId> {
        self.presence.users().map(|user| user.id).collect()
    }

    /// This server is `node` on the hubs' bus.
    pub fn set_node(&mut self, node: &str) {
        self.quiet.set_node(node);
    }

    /// `server` lists `users` now; `quiet` are the users it dropped unannounced lately.
    /// The rooms someone entered or left there have their `room_users` due. Returns the
    /// events for this server's sockets only: if `server` had been taken for dead (cut
    /// off, not killed), its users that nobody else lists are online again.
    pub fn listed_on(
        &mut self,
        server: &str,
        users: Vec<ListedUser>,
        quiet: &[UserId],
        now: Now,
    ) -> Events<C> {
        let update = self.remote.update(server, users, now.at);
        for room in update.rooms {
            self.conversations.list_again(room);
        }
        for user in update.dropped {
            self.quiet.dropped_by(server, user, quiet.contains(&user));
        }
        if !update.returned {
            return Vec::new();
        }
        let mut out = Vec::new();
        for user in self.remote.only_on(server) {
            if self.presence.user(user.id).is_some_and(|here| here.visible) {
                continue;
            }
            out.push(Outgoing::new(
                Audience::Lobby,
                ServerEvent::UserJoined(user.name.clone()),
            ));
            for room in &user.rooms {
                let Some(room_name) = self.conversations.room_name(*room) else {
                    continue; // Nobody here is in it.
                };
                out.push(Outgoing::new(
                    Audience::Room(*room),
                    ServerEvent::MemberJoined(MemberEvent {
                        username: user.name.clone(),
                        room: room_name.to_string(),
                        time: now.iso(),
                        reason: Some(MemberChange::Online),
                    }),
                ));
            }
            out.push(presence_changed(&user.name, user.status));
        }
        out
    }

    /// The users who went from here unannounced and whom nobody lists any more: if every
    /// server that dropped them did so unannounced too (they left everywhere at once),
    /// the one with the lowest node id tells everyone. Returns the events for everyone.
    pub fn quietly_gone(&mut self, now: Now) -> Events<C> {
        let mut out = Vec::new();
        for user in self.quiet.users() {
            if self.remote.user(user).is_some() || self.presence.user(user).is_some() {
                continue;
            }
            if let Some(gone) = self.quiet.settle(user) {
                out.extend(offline_announcement(&gone.name, &gone.rooms, now));
            }
        }
        out
    }

    /// The users this server dropped unannounced lately, for its next presence snapshot.
    pub fn quiet_departures(&mut self, now: Now) -> Vec<UserId> {
        self.quiet.recent(now.at, crate::chat::SERVER_LEASE)
    }

    /// Forgets the servers that have gone silent. Their users that nobody else lists are
    /// offline, as if they had gone here: the lobby, their rooms and everyone are told.
    /// Each server tells its own sockets (these events are not shared).
    pub fn expire_silent_servers(&mut self, now: Now) -> Events<C> {
        self.quiet.expire(now.at, crate::chat::SERVER_LEASE);
        let mut out = Vec::new();
        for user in self.remote.expire(now.at) {
            for room in &user.rooms {
                self.conversations.list_again(*room);
            }
            if self.presence.user(user.id).is_some() {
                continue;
            }
            self.quiet.forget(user.id);
            let rooms: Vec<(ConversationId, RoomName)> = user
                .rooms
                .iter()
                // The rooms nobody here is in have nobody here to tell.
                .filter_map(|room| Some((*room, self.conversations.room_name(*room)?.clone())))
                .collect();
            out.extend(offline_announcement(&user.name, &rooms, now));
        }
        out
    }

    /// The users only other servers list in `room`, each once, by name.
    pub(super) fn in_room_elsewhere(
        &self,
        room: ConversationId,
    ) -> impl Iterator<Item = &ListedUser> {
        self.remote
            .in_room(room)
            .into_iter()
            .filter(move |user| !self.conversations.is_in(user.id, room))
    }

    /// The other servers alive (heard from within the lease).
    pub fn servers_elsewhere(&self) -> Vec<String> {
        self.remote.servers()
    }

    /// The user another server lists under `name` (ignoring case), if one does.
    pub fn listed_elsewhere_as(&self, name: &str) -> Option<&ListedUser> {
        let key = crate::chat::name_key(name);
        self.remote
            .users()
            .into_iter()
            .find(|user| crate::chat::name_key(&user.name) == key)
    }

    /// The users only other servers list, each once.
    pub(super) fn listed_elsewhere(&self) -> impl Iterator<Item = &ListedUser> {
        self.remote.users().into_iter().filter(|user| {
            self.presence
                .user(user.id)
                .is_none_or(|local| !local.visible)
        })
    }

    /// `user` joined (`member`) or left `room` on another server: their sockets here are
    /// in it from now on, or not any more. Nobody is told here: that server told everyone.
    pub fn membership_elsewhere(
        &mut self,
        user: UserId,
        room: ConversationId,
        name: &RoomName,
        member: bool,
    ) {
        if !self.is_present(user) {
            return;
        }
        if member {
            self.conversations.enter(user, room, name);
        } else {
            self.conversations.exit(user, room);
        }
    }

    /// Whether another server lists `user` (they are online there).
    pub fn is_listed_elsewhere(&self, user: UserId) -> bool {
        self.remote.user(user).is_some()
    }
}
