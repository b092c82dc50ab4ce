//! Per-conversation state: which members of each room are in it (online), who is typing
//! where, and which rooms' `room_users` lists are due. Only rooms with someone in them are
//! held; memberships themselves are stored (the rules are told them as users come online).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;
use std::time::{Duration, Instant};

use super::{ConversationId, RoomName, UserId};

/// Rooms with more people in them than this send `room_users` at most once per
/// [`LARGE_ROOM_INTERVAL`].
pub const LARGE_ROOM: usize = 100;
pub const LARGE_ROOM_INTERVAL: Duration = Duration::from_secs(1);

/// What a typing lease is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypingSpot {
    Room(ConversationId),
    /// A direct conversation with this user.
    With(UserId),
}

#[derive(Debug)]
struct Room {
    name: RoomName,
    /// Members who are online (or away, or in their grace period).
    present: HashSet<UserId>,
    /// When `room_users` was last sent, for large rooms.
    listed_at: Option<Instant>,
}

/// A typing lease: until when, and the socket that typed.
#[derive(Debug, Clone)]
pub struct Lease<C> {
    pub until: Instant,
    pub conn: C,
}

#[derive(Debug)]
pub struct Conversations<C> {
    rooms: HashMap<ConversationId, Room>,
    by_name: HashMap<RoomName, ConversationId>,
    /// The rooms of each user who is present, `general` included.
    of_user: HashMap<UserId, Vec<ConversationId>>,
    typing: HashMap<(UserId, TypingSpot), Lease<C>>,
    /// Rooms whose `room_users` changed and is not sent yet.
    due: BTreeSet<ConversationId>,
}

impl<C: Clone + Eq + Hash> Default for Conversations<C> {
    fn default() -> Self {
        Self {
            rooms: HashMap::new(),
            by_name: HashMap::new(),
            of_user: HashMap::new(),
            typing: HashMap::new(),
            due: BTreeSet::new(),
        }
    }
}

impl<C: Clone + Eq + Hash> Conversations<C> {
    /// A user is present, member of `rooms`.
    pub fn arrive(&mut self, user: UserId, rooms: &[(ConversationId, RoomName)]) {
        for (id, name) in rooms {
            self.enter(user, *id, name);
        }
    }

    /// The user is a member of this room now (joined, or arrived).
    pub fn enter(&mut self, user: UserId, id: ConversationId, name: &RoomName) {
        let room = self.rooms.entry(id).or_insert_with(|| Room {
            name: name.clone(),
            present: HashSet::new(),
            listed_at: None,
        });
        if room.present.insert(user) {
            self.due.insert(id);
        }
        self.by_name.entry(name.clone()).or_insert(id);
        let rooms = self.of_user.entry(user).or_default();
        if !rooms.contains(&id) {
            rooms.push(id);
        }
    }

    /// The user is no longer in this room (left it).
    pub fn exit(&mut self, user: UserId, id: ConversationId) {
        if let Some(rooms) = self.of_user.get_mut(&user) {
            rooms.retain(|r| *r != id);
        }
        self.drop_from(user, id);
    }

    fn drop_from(&mut self, user: UserId, id: ConversationId) {
        let Some(room) = self.rooms.get_mut(&id) else {
            return;
        };
        if room.present.remove(&user) {
            self.due.insert(id);
        }
        if room.present.is_empty() {
            // `general` and busy rooms stay; an empty room is forgotten until someone
            // of it comes back (its `room_users` is sent to nobody).
            let name = room.name.clone();
            if !name.is_general() {
                self.rooms.remove(&id);
                self.by_name.remove(&name);
                self.due.remove(&id);
            }
        }
    }

    /// The user has gone offline: they are in none of their rooms. Returns those rooms.
    pub fn depart(&mut self, user: UserId) -> Vec<ConversationId> {
        let rooms = self.of_user.remove(&user).unwrap_or_default();
        for id in &rooms {
            self.drop_from(user, *id);
        }
        rooms
    }

    /// The rooms of a present user.
    pub fn rooms_of(&self, user: UserId) -> &[ConversationId] {
        self.of_user
            .get(&user)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn is_in(&self, user: UserId, id: ConversationId) -> bool {
        self.rooms
            .get(&id)
            .is_some_and(|r| r.present.contains(&user))
    }

    /// A room someone is in, by name.
    pub fn room_named(&self, name: &RoomName) -> Option<ConversationId> {
        self.by_name.get(name).copied()
    }

    pub fn room_name(&self, id: ConversationId) -> Option<&RoomName> {
        self.rooms.get(&id).map(|r| &r.name)
    }

    /// The members in a room.
    pub fn present(&self, id: ConversationId) -> impl Iterator<Item = UserId> + '_ {
        self.rooms
            .get(&id)
            .into_iter()
            .flat_map(|room| room.present.iter().copied())
    }

    /// How many members are in each room held.
    pub fn present_counts(&self) -> impl Iterator<Item = (ConversationId, usize)> + '_ {
        self.rooms
            .iter()
            .map(|(id, room)| (*id, room.present.len()))
    }

    // --- room_users ----------------------------------------------------------------------

    /// The rooms whose `room_users` is due now (marking them sent), and when the next one
    /// held back (a large room listed less than a second ago) is due.
    pub fn take_due(&mut self, now: Instant) -> (Vec<ConversationId>, Option<Instant>) {
        let mut ready = Vec::new();
        let mut next: Option<Instant> = None;
        let due = std::mem::take(&mut self.due);
        for id in due {
            let Some(room) = self.rooms.get_mut(&id) else {
                continue;
            };
            let held_until = room
                .listed_at
                .filter(|_| room.present.len() > LARGE_ROOM)
                .map(|at| at + LARGE_ROOM_INTERVAL)
                .filter(|until| *until > now);
            match held_until {
                Some(until) => {
                    next = Some(next.map_or(until, |n| n.min(until)));
                    self.due.insert(id);
                }
                None => {
                    room.listed_at = Some(now);
                    ready.push(id);
                }
            }
        }
        (ready, next)
    }

    /// The room's `room_users` is due again (someone entered or left it on another
    /// server), if anyone here is in it.
    pub fn list_again(&mut self, id: ConversationId) {
        if self.rooms.contains_key(&id) {
            self.due.insert(id);
        }
    }

    /// When a held-back `room_users` is due, if any.
    pub fn next_listing(&self) -> Option<Instant> {
        self.due
            .iter()
            .filter_map(|id| self.rooms.get(id))
            .filter(|room| room.present.len() > LARGE_ROOM)
            .filter_map(|room| room.listed_at.map(|at| at + LARGE_ROOM_INTERVAL))
            .min()
    }

    // --- Typing --------------------------------------------------------------------------

    /// Starts or renews a lease; true when it is new (to be announced).
    pub fn start_typing(
        &mut self,
        user: UserId,
        spot: TypingSpot,
        conn: C,
        until: Instant,
    ) -> bool {
        self.typing
            .insert((user, spot), Lease { until, conn })
            .is_none()
    }

    /// Ends a lease; the socket that held it, if there was one.
    pub fn stop_typing(&mut self, user: UserId, spot: TypingSpot) -> Option<C> {
        self.typing.remove(&(user, spot)).map(|lease| lease.conn)
    }

    /// The leases held through `conn`.
    pub fn typing_through(&self, conn: &C) -> Vec<(UserId, TypingSpot)> {
        let mut spots: Vec<(UserId, TypingSpot)> = self
            .typing
            .iter()
            .filter(|(_, lease)| lease.conn == *conn)
            .map(|(key, _)| *key)
            .collect();
        spots.sort_unstable();
        spots
    }

    /// The leases of `user`.
    pub fn typing_of(&self, user: UserId) -> Vec<TypingSpot> {
        let mut spots: Vec<TypingSpot> = self
            .typing
            .keys()
            .filter(|(u, _)| *u == user)
            .map(|(_, spot)| *spot)
            .collect();
        spots.sort_unstable();
        spots
    }

    /// Leases that have run out by `now`.
    pub fn expired_typing(&self, now: Instant) -> Vec<(UserId, TypingSpot)> {
        let mut expired: Vec<(Instant, UserId, TypingSpot)> = self
            .typing
            .iter()
            .filter(|(_, lease)| lease.until <= now)
            .map(|((user, spot), lease)| (lease.until, *user, *spot))
            .collect();
        expired.sort_unstable();
        expired
            .into_iter()
            .map(|(_, user, spot)| (user, spot))
            .collect()
    }

    pub fn next_typing_deadline(&self) -> Option<Instant> {
        self.typing.values().map(|lease| lease.until).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("valid")
    }

    const ANN: UserId = UserId(1);
    const BOB: UserId = UserId(2);
    const GENERAL: ConversationId = ConversationId(1);
    const RUST: ConversationId = ConversationId(2);

    #[test]
    fn members_are_in_their_rooms_while_present() {
        let mut c = Conversations::<u32>::default();
        c.arrive(ANN, &[(GENERAL, RoomName::general()), (RUST, room("rust"))]);
        c.arrive(BOB, &[(GENERAL, RoomName::general())]);
        assert!(c.is_in(ANN, RUST) && !c.is_in(BOB, RUST));
        assert_eq!(c.room_named(&room("rust")), Some(RUST));
        assert_eq!(c.take_due(Instant::now()).0, vec![GENERAL, RUST]);
        assert_eq!(c.depart(ANN), vec![GENERAL, RUST]);
        assert_eq!(c.room_named(&room("rust")), None, "nobody is in it");
        assert_eq!(c.room_named(&RoomName::general()), Some(GENERAL));
        assert_eq!(c.take_due(Instant::now()).0, vec![GENERAL]);
        assert_eq!(c.present(GENERAL).collect::<Vec<_>>(), vec![BOB]);
    }

    #[test]
    fn large_rooms_are_listed_at_most_once_a_second() {
        let mut c = Conversations::<u32>::default();
        let start = Instant::now();
        for id in 0..=LARGE_ROOM as i64 {
            c.arrive(UserId(id), &[(GENERAL, RoomName::general())]);
        }
        assert_eq!(c.take_due(start).0, vec![GENERAL]);
        c.arrive(UserId(1000), &[(GENERAL, RoomName::general())]);
        let (ready, next) = c.take_due(start + Duration::from_millis(10));
        assert!(ready.is_empty());
        assert_eq!(next, Some(start + LARGE_ROOM_INTERVAL));
        assert_eq!(c.next_listing(), Some(start + LARGE_ROOM_INTERVAL));
        assert_eq!(c.take_due(start + LARGE_ROOM_INTERVAL).0, vec![GENERAL]);
    }

    #[test]
    fn typing_leases_by_spot_and_socket() {
        let mut c = Conversations::<u32>::default();
        let start = Instant::now();
        let until = start + Duration::from_secs(3);
        assert!(c.start_typing(ANN, TypingSpot::Room(RUST), 7, until));
        assert!(
            !c.start_typing(ANN, TypingSpot::Room(RUST), 7, until),
            "renewal"
        );
        assert!(c.start_typing(ANN, TypingSpot::With(BOB), 8, until));
        assert_eq!(c.typing_through(&7), vec![(ANN, TypingSpot::Room(RUST))]);
        assert_eq!(c.typing_of(ANN).len(), 2);
        assert!(c.expired_typing(start).is_empty());
        assert_eq!(c.expired_typing(until).len(), 2);
        assert_eq!(c.stop_typing(ANN, TypingSpot::With(BOB)), Some(8));
        assert_eq!(c.stop_typing(ANN, TypingSpot::With(BOB)), None);
        assert_eq!(c.next_typing_deadline(), Some(until));
    }
}
