//! Who is online on the other servers of a cluster, as each last said (its presence
//! snapshot on the hubs' bus). Plain state with no I/O, like [`super::presence`].
//!
//! A server that stops saying (killed, cut off) is forgotten once its last snapshot is
//! older than the lease: its users are then offline, unless another server lists them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use app::protocol::PresenceStatus;
use serde::{Deserialize, Serialize};

use super::{name_key, ConversationId, UserId};

/// How long another server's last presence snapshot stands: past it, that server is
/// taken for dead and its users for offline. Servers send one at least every few seconds.
pub const SERVER_LEASE: Duration = Duration::from_secs(15);

/// A user another server lists, as it lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedUser {
    pub id: UserId,
    pub name: String,
    pub status: PresenceStatus,
    /// The rooms they are in there (`general` included), in id order: for `room_users`.
    #[serde(default)]
    pub rooms: Vec<ConversationId>,
}

#[derive(Debug)]
struct ServerView {
    users: Vec<ListedUser>,
    seen: Instant,
}

/// What a new list from a server changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ListUpdate {
    /// Anything at all.
    pub changed: bool,
    /// The rooms someone entered or left there (whose `room_users` changed).
    pub rooms: BTreeSet<ConversationId>,
    /// The users it listed before and does not now.
    pub dropped: Vec<UserId>,
    /// It had been taken for dead (silent past the lease) and speaks again: its users
    /// were announced gone.
    pub returned: bool,
}

/// The other servers' lists, by server (in id order: a user two servers list is taken
/// from the same one every time).
#[derive(Debug)]
pub struct RemotePresence {
    servers: BTreeMap<String, ServerView>,
    /// The servers taken for dead, and when.
    expired: HashMap<String, Instant>,
    lease: Duration,
}

impl RemotePresence {
    pub fn new(lease: Duration) -> Self {
        Self {
            servers: BTreeMap::new(),
            expired: HashMap::new(),
            lease,
        }
    }

    /// `server` lists `users` now. Returns what that changed.
    pub fn update(&mut self, server: &str, users: Vec<ListedUser>, now: Instant) -> ListUpdate {
        let returned = self.expired.remove(server).is_some();
        let before = match self.servers.get_mut(server) {
            Some(view) => {
                view.seen = now;
                if view.users == users {
                    return ListUpdate::default();
                }
                std::mem::replace(&mut view.users, users)
            }
            None => {
                self.servers
                    .insert(server.to_owned(), ServerView { users, seen: now });
                Vec::new()
            }
        };
        let after = self
            .servers
            .get(server)
            .map(|view| view.users.as_slice())
            .unwrap_or_default();
        let pairs = |users: &[ListedUser]| -> BTreeSet<(ConversationId, UserId)> {
            users
                .iter()
                .flat_map(|user| user.rooms.iter().map(|room| (*room, user.id)))
                .collect()
        };
        let rooms = pairs(&before)
            .symmetric_difference(&pairs(after))
            .map(|(room, _)| *room)
            .collect();
        let listed: HashSet<UserId> = after.iter().map(|user| user.id).collect();
        let dropped = before
            .iter()
            .filter(|user| !listed.contains(&user.id))
            .map(|user| user.id)
            .collect();
        ListUpdate {
            changed: true,
            rooms,
            dropped,
            returned,
        }
    }

    /// The users `server` lists that no other server does.
    pub fn only_on(&self, server: &str) -> Vec<&ListedUser> {
        let Some(view) = self.servers.get(server) else {
            return Vec::new();
        };
        let elsewhere: HashSet<UserId> = self
            .servers
            .iter()
            .filter(|(other, _)| *other != server)
            .flat_map(|(_, view)| view.users.iter().map(|user| user.id))
            .collect();
        view.users
            .iter()
            .filter(|user| !elsewhere.contains(&user.id))
            .collect()
    }

    /// Forgets the servers not heard from within the lease; returns their users that no
    /// other server lists.
    pub fn expire(&mut self, now: Instant) -> Vec<ListedUser> {
        let lease = self.lease;
        let mut gone = Vec::new();
        self.servers.retain(|server, view| {
            let alive = now.saturating_duration_since(view.seen) < lease;
            if !alive {
                self.expired.insert(server.clone(), now);
                tracing::warn!(
                    server,
                    users = view.users.len(),
                    "a server has gone silent: its users are offline"
                );
                gone.append(&mut view.users);
            }
            alive
        });
        // A server taken for dead is remembered for 20 leases (5 minutes), to greet its
        // users back if it was only cut off and speaks again.
        let forget_after = self.lease * 20;
        self.expired
            .retain(|_, at| now.saturating_duration_since(*at) < forget_after);
        let mut seen = std::collections::HashSet::new();
        gone.retain(|user| self.user(user.id).is_none() && seen.insert(user.id));
        gone
    }

    /// The other servers heard from within the lease, in id order.
    pub fn servers(&self) -> Vec<String> {
        self.servers.keys().cloned().collect()
    }

    /// The user, if another server lists them.
    pub fn user(&self, id: UserId) -> Option<&ListedUser> {
        self.servers
            .values()
            .flat_map(|view| &view.users)
            .find(|user| user.id == id)
    }

    /// Whether another server lists someone under `name` (ignoring case).
    pub fn holds(&self, name: &str) -> bool {
        let key = name_key(name);
        self.servers
            .values()
            .flat_map(|view| &view.users)
            .any(|user| name_key(&user.name) == key)
    }

    /// The users other servers list in `room`, each once.
    pub fn in_room(&self, room: ConversationId) -> Vec<&ListedUser> {
        self.users()
            .into_iter()
            .filter(|user| user.rooms.contains(&room))
            .collect()
    }

    /// Everyone the other servers list, each once (the first status seen), by name.
    pub fn users(&self) -> Vec<&ListedUser> {
        let mut seen = std::collections::HashSet::new();
        let mut users: Vec<&ListedUser> = self
            .servers
            .values()
            .flat_map(|view| &view.users)
            .filter(|user| seen.insert(user.id))
            .collect();
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: i64, name: &str) -> ListedUser {
        ListedUser {
            id: UserId(id),
            name: name.into(),
            status: PresenceStatus::Online,
            rooms: vec![ConversationId(1)],
        }
    }

    #[test]
    fn a_silent_server_takes_its_users_offline_unless_another_lists_them() {
        let start = Instant::now();
        let mut remote = RemotePresence::new(Duration::from_secs(15));
        assert!(
            remote
                .update("a", vec![listed(1, "Ann"), listed(2, "Bob")], start)
                .changed
        );
        assert!(
            !remote
                .update("a", vec![listed(1, "Ann"), listed(2, "Bob")], start)
                .changed
        );
        assert!(
            remote
                .update("b", vec![listed(2, "Bob")], start + Duration::from_secs(10))
                .changed
        );
        assert_eq!(
            remote.only_on("a"),
            vec![&listed(1, "Ann")],
            "Bob is on b too"
        );
        assert!(remote.holds("ANN"));
        assert_eq!(
            remote
                .users()
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            vec!["Ann", "Bob"],
            "each once"
        );

        assert!(remote.expire(start + Duration::from_secs(14)).is_empty());
        let gone = remote.expire(start + Duration::from_secs(16));
        assert_eq!(gone, vec![listed(1, "Ann")], "Bob is still on b");
        assert!(!remote.holds("ann"));
        assert!(remote.user(UserId(2)).is_some());
        let back = remote.update("a", vec![listed(1, "Ann")], start + Duration::from_secs(17));
        assert!(back.returned, "a was taken for dead");
        assert!(
            !remote
                .update("a", Vec::new(), start + Duration::from_secs(18))
                .returned
        );
    }

    #[test]
    fn a_new_list_names_the_rooms_someone_entered_or_left() {
        let start = Instant::now();
        let mut remote = RemotePresence::new(Duration::from_secs(15));
        let (rust, go) = (ConversationId(7), ConversationId(8));
        let mut ann = listed(1, "Ann");
        ann.rooms.push(rust);
        let update = remote.update("a", vec![ann.clone(), listed(2, "Bob")], start);
        assert_eq!(update.rooms, BTreeSet::from([ConversationId(1), rust]));
        ann.rooms = vec![ConversationId(1), go];
        let update = remote.update("a", vec![ann.clone()], start);
        assert_eq!(
            update.rooms,
            BTreeSet::from([ConversationId(1), rust, go]),
            "Ann left rust, entered go; Bob left"
        );
        assert_eq!(update.dropped, vec![UserId(2)]);
        ann.status = PresenceStatus::Away;
        let update = remote.update("a", vec![ann], start);
        assert!(
            update.changed && update.rooms.is_empty(),
            "a change of status moves nobody"
        );
        assert_eq!(remote.in_room(go).len(), 1);
        assert!(remote.in_room(rust).is_empty());
    }
}
