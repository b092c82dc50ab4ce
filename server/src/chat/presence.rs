//! Global presence: who is online, under which name, on which sockets (and in which
//! protocol family), with which session and grace period, and whether they are away.
//! Plain state with no I/O; the rules in [`super::Chat`] turn its changes into events.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;
use std::time::{Duration, Instant};

use app::protocol::{Presence as PresenceEntry, PresenceStatus};
use serde_json::Value;

use super::{name_key, validate_name, SessionId, UserId};

/// Which protocol a socket speaks, and so which events it receives
/// (`docs/protocol.md`, "Two families of events").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The original lobby protocol (`chat`, `userJoined`, ...).
    Lobby,
    /// The rooms protocol (`receive_message`, `user_joined`, ...).
    Rooms,
}

/// Why a name cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    InvalidName,
    NameTaken,
}

/// One connected socket.
#[derive(Debug, Clone)]
struct Connection {
    family: Family,
    user: Option<UserId>,
    /// Said `set_presence {status: "away"}` (its page is hidden).
    away: bool,
    /// Has been sent `presence_update` since it logged in.
    presence_sent: bool,
}

/// A user online, or holding their name during the grace period of their session.
#[derive(Debug, Clone)]
pub struct OnlineUser<C> {
    pub id: UserId,
    pub name: String,
    /// Order of log-in, for the lists of names.
    pub joined: u64,
    /// `None` for a `login` without a session: gone with its last connection.
    pub session: Option<SessionId>,
    /// Lobby-family sockets logged in as this user.
    lobby: Vec<C>,
    /// Rooms-family sockets logged in as this user.
    rooms: Vec<C>,
    /// Announced (`userJoined`) and listed.
    pub visible: bool,
    /// When the last connection closed: the name is held until `away_since + grace`.
    away_since: Option<Instant>,
    /// The status last announced (`online` or `away`).
    status: PresenceStatus,
}

impl<C> OnlineUser<C> {
    /// Rooms-family sockets of this user.
    pub fn rooms_sockets(&self) -> &[C] {
        &self.rooms
    }

    /// Every socket logged in as this user, lobby family first.
    pub fn sockets(&self) -> impl Iterator<Item = &C> {
        self.lobby.iter().chain(&self.rooms)
    }

    pub fn has_sockets(&self) -> bool {
        !self.lobby.is_empty() || !self.rooms.is_empty()
    }

    pub fn status(&self) -> PresenceStatus {
        self.status
    }
}

/// What a disconnect changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Departure {
    /// A socket that was not logged in, or not the user's last one.
    Quiet,
    /// The user's last socket: a session user's grace period starts now.
    GraceStarted(UserId),
    /// A user without a session is gone (their name is free).
    Gone(UserId),
}

/// Who is online. `C` identifies a connection (a socket id in production, a number in tests).
#[derive(Debug)]
pub struct Presence<C> {
    users: HashMap<UserId, OnlineUser<C>>,
    /// Lower-cased name → the user holding it: names are unique ignoring case.
    names: HashMap<String, UserId>,
    conns: HashMap<C, Connection>,
    /// Every lobby-family socket, logged in or not: the audience of the lobby protocol.
    lobby_conns: HashSet<C>,
    /// The users in a grace period, by when it started (mirrors `away_since`): the next
    /// deadline without looking at everyone online.
    held: BTreeSet<(Instant, UserId)>,
    next_join: u64,
    grace: Duration,
}

impl<C: Clone + Eq + Hash> Presence<C> {
    pub fn new(grace: Duration) -> Self {
        Self {
            users: HashMap::new(),
            names: HashMap::new(),
            conns: HashMap::new(),
            lobby_conns: HashSet::new(),
            held: BTreeSet::new(),
            next_join: 0,
            grace,
        }
    }

    // --- Sockets -------------------------------------------------------------------------

    /// A socket connected (not logged in yet).
    pub fn connect(&mut self, conn: &C, family: Family) {
        self.conns.insert(
            conn.clone(),
            Connection {
                family,
                user: None,
                away: false,
                presence_sent: false,
            },
        );
        if family == Family::Lobby {
            self.lobby_conns.insert(conn.clone());
        }
    }

    pub fn is_connected(&self, conn: &C) -> bool {
        self.conns.contains_key(conn)
    }

    pub fn family(&self, conn: &C) -> Option<Family> {
        self.conns.get(conn).map(|c| c.family)
    }

    /// Moves a socket to the rooms family (for good). False if it was there already.
    pub fn switch_to_rooms(&mut self, conn: &C) -> bool {
        let Some(connection) = self.conns.get_mut(conn) else {
            return false;
        };
        if connection.family == Family::Rooms {
            return false;
        }
        connection.family = Family::Rooms;
        self.lobby_conns.remove(conn);
        if let Some(user) = connection.user.and_then(|id| self.users.get_mut(&id)) {
            user.lobby.retain(|c| c != conn);
            user.rooms.push(conn.clone());
        }
        true
    }

    /// The user logged in on `conn`.
    pub fn user_of(&self, conn: &C) -> Option<UserId> {
        self.conns.get(conn).and_then(|c| c.user)
    }

    /// Every lobby-family socket.
    pub fn lobby_sockets(&self) -> impl Iterator<Item = &C> {
        self.lobby_conns.iter()
    }

    /// Whether a rooms-family socket that is logged in still has to get `presence_update`;
    /// marks it sent.
    pub fn take_presence_due(&mut self, conn: &C) -> bool {
        match self.conns.get_mut(conn) {
            Some(c) if c.family == Family::Rooms && c.user.is_some() && !c.presence_sent => {
                c.presence_sent = true;
                true
            }
            _ => false,
        }
    }

    // --- Users ---------------------------------------------------------------------------

    pub fn user(&self, id: UserId) -> Option<&OnlineUser<C>> {
        self.users.get(&id)
    }

    pub fn users(&self) -> impl Iterator<Item = &OnlineUser<C>> {
        self.users.values()
    }

    /// The user holding `name` (ignoring case), if anyone does.
    pub fn holder_of(&self, name: &str) -> Option<UserId> {
        self.names.get(&name_key(name)).copied()
    }

    /// The user holding `session`'s name, if it is held.
    pub fn user_of_session(&self, session: SessionId) -> Option<UserId> {
        self.users
            .values()
            .find(|u| u.session == Some(session))
            .map(|u| u.id)
    }

    /// Names of everyone online, in order of log-in.
    pub fn online_names(&self) -> Vec<String> {
        self.listed().into_iter().map(|u| u.name.clone()).collect()
    }

    /// Everyone online, with their status, in order of log-in.
    pub fn presence_list(&self) -> Vec<PresenceEntry> {
        self.listed()
            .into_iter()
            .map(|u| PresenceEntry {
                username: u.name.clone(),
                status: u.status,
            })
            .collect()
    }

    fn listed(&self) -> Vec<&OnlineUser<C>> {
        let mut users: Vec<&OnlineUser<C>> = self.users.values().filter(|u| u.visible).collect();
        users.sort_unstable_by_key(|u| u.joined);
        users
    }

    /// A user's presence: `offline` when not held at all.
    pub fn status(&self, id: UserId) -> PresenceStatus {
        match self.users.get(&id) {
            Some(user) if user.visible => user.status,
            _ => PresenceStatus::Offline,
        }
    }

    /// Checks that `raw` is a valid name nobody holds.
    pub fn check_name(&self, raw: &Value) -> Result<String, ClaimError> {
        let name = validate_name(raw).map_err(|_| ClaimError::InvalidName)?;
        if self.names.contains_key(&name_key(&name)) {
            return Err(ClaimError::NameTaken);
        }
        Ok(name)
    }

    fn insert(&mut self, id: UserId, name: &str, session: Option<SessionId>) -> &mut OnlineUser<C> {
        self.names.insert(name_key(name), id);
        let next_join = &mut self.next_join;
        self.users.entry(id).or_insert_with(|| {
            let joined = *next_join;
            *next_join += 1;
            OnlineUser {
                id,
                name: name.to_owned(),
                joined,
                session,
                lobby: Vec::new(),
                rooms: Vec::new(),
                visible: false,
                away_since: None,
                status: PresenceStatus::Online,
            }
        })
    }

    /// A new session holds `name` (checked with [`Presence::check_name`]) for the grace
    /// period, waiting for its first connection. Nobody is told.
    pub fn claim(&mut self, id: UserId, session: SessionId, name: &str, now: Instant) {
        self.insert(id, name, Some(session));
        self.hold(id, Some(now));
    }

    /// Starts (`Some`) or ends a user's grace period.
    fn hold(&mut self, id: UserId, since: Option<Instant>) {
        let Some(user) = self.users.get_mut(&id) else {
            return;
        };
        if let Some(previous) = user.away_since.take() {
            self.held.remove(&(previous, id));
        }
        user.away_since = since;
        if let Some(since) = since {
            self.held.insert((since, id));
        }
    }

    /// A session was used without a socket (a page, a form): its user holds their name
    /// for another grace period, unless a socket of theirs holds it anyway.
    pub fn touch(&mut self, id: UserId, session: SessionId, name: &str, now: Instant) {
        match self.users.get(&id) {
            Some(user) if user.has_sockets() => {}
            Some(_) => self.hold(id, Some(now)),
            None if !self.names.contains_key(&name_key(name)) => {
                self.claim(id, session, name, now);
            }
            // Someone else holds the name: the session will hear it was replaced.
            None => {}
        }
    }

    /// After a restart: a user that was online is listed again and holds their name for
    /// the grace period, time enough to reconnect without noise.
    pub fn restore(&mut self, id: UserId, session: SessionId, name: &str, now: Instant) -> bool {
        if self.names.contains_key(&name_key(name)) || self.users.contains_key(&id) {
            return false;
        }
        self.insert(id, name, Some(session)).visible = true;
        self.hold(id, Some(now));
        true
    }

    /// Logs `conn` in as `id`. `Err` when someone else holds the name. `Ok(true)` when the
    /// user becomes visible now (was not listed).
    pub fn log_in(
        &mut self,
        conn: &C,
        id: UserId,
        name: &str,
        session: Option<SessionId>,
    ) -> Result<bool, ClaimError> {
        match self.names.get(&name_key(name)) {
            Some(holder) if *holder != id => return Err(ClaimError::NameTaken),
            _ => {}
        }
        let Some(connection) = self.conns.get_mut(conn) else {
            // Gone already; its disconnect has been applied.
            return Ok(false);
        };
        connection.user = Some(id);
        connection.presence_sent = false;
        let family = connection.family;
        let away = connection.away;
        self.hold(id, None);
        let user = self.insert(id, name, session);
        let announce = !user.visible;
        user.visible = true;
        match family {
            Family::Lobby => user.lobby.push(conn.clone()),
            Family::Rooms => user.rooms.push(conn.clone()),
        }
        if announce {
            user.status = if away {
                PresenceStatus::Away
            } else {
                PresenceStatus::Online
            };
        }
        Ok(announce)
    }

    /// `conn` says whether its page is hidden. Returns the user's new status if it changed.
    pub fn set_away(&mut self, conn: &C, away: bool) -> Option<(UserId, PresenceStatus)> {
        let connection = self.conns.get_mut(conn)?;
        connection.away = away;
        let id = connection.user?;
        self.refresh_status(id)
    }

    /// Recomputes a visible user's status from their sockets; returns it if it changed.
    pub fn refresh_status(&mut self, id: UserId) -> Option<(UserId, PresenceStatus)> {
        let user = self.users.get(&id)?;
        if !user.visible || !user.has_sockets() {
            return None;
        }
        let all_away = user
            .lobby
            .iter()
            .chain(&user.rooms)
            .all(|c| self.conns.get(c).is_some_and(|c| c.away));
        let status = if all_away {
            PresenceStatus::Away
        } else {
            PresenceStatus::Online
        };
        let user = self.users.get_mut(&id)?;
        if user.status == status {
            return None;
        }
        user.status = status;
        Some((id, status))
    }

    /// `conn` has gone.
    pub fn disconnect(&mut self, conn: &C, now: Instant) -> Departure {
        self.lobby_conns.remove(conn);
        let Some(connection) = self.conns.remove(conn) else {
            return Departure::Quiet;
        };
        let Some(id) = connection.user else {
            return Departure::Quiet;
        };
        let Some(user) = self.users.get_mut(&id) else {
            return Departure::Quiet;
        };
        user.lobby.retain(|c| c != conn);
        user.rooms.retain(|c| c != conn);
        if user.has_sockets() {
            return Departure::Quiet;
        }
        if user.session.is_some() {
            self.hold(id, Some(now));
            return Departure::GraceStarted(id);
        }
        self.remove(id);
        Departure::Gone(id)
    }

    /// Drops a user (their name is free); their sockets, if any, stay connected, logged out.
    pub fn remove(&mut self, id: UserId) -> Option<(OnlineUser<C>, Vec<C>)> {
        self.hold(id, None);
        let user = self.users.remove(&id)?;
        if self.names.get(&name_key(&user.name)) == Some(&id) {
            self.names.remove(&name_key(&user.name));
        }
        let conns: Vec<C> = user.lobby.iter().chain(&user.rooms).cloned().collect();
        for conn in &conns {
            if let Some(connection) = self.conns.get_mut(conn) {
                connection.user = None;
            }
        }
        Some((user, conns))
    }

    /// Users whose grace period has run out by `now`, oldest log-in first.
    pub fn expired(&self, now: Instant) -> Vec<UserId> {
        let mut gone: Vec<(u64, UserId)> = self
            .held
            .iter()
            .take_while(|(since, _)| *since + self.grace <= now)
            .filter_map(|(_, id)| self.users.get(id))
            .map(|u| (u.joined, u.id))
            .collect();
        gone.sort_unstable();
        gone.into_iter().map(|(_, id)| id).collect()
    }

    /// When the next grace period runs out, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.held.first().map(|(since, _)| *since + self.grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ANN: UserId = UserId(1);
    const BOB: UserId = UserId(2);

    fn presence() -> Presence<u32> {
        Presence::new(Duration::from_secs(10))
    }

    #[test]
    fn sockets_of_both_families_belong_to_one_user() {
        let mut p = presence();
        p.connect(&1, Family::Lobby);
        p.connect(&2, Family::Rooms);
        assert_eq!(p.log_in(&1, ANN, "Ann", None), Ok(true));
        assert_eq!(p.log_in(&2, ANN, "Ann", None), Ok(false), "already listed");
        assert_eq!(
            p.user(ANN).map(|u| u.rooms_sockets().to_vec()),
            Some(vec![2])
        );
        assert_eq!(p.lobby_sockets().collect::<Vec<_>>(), vec![&1]);
        assert!(p.switch_to_rooms(&1));
        assert!(!p.switch_to_rooms(&1));
        assert_eq!(p.lobby_sockets().count(), 0);
        assert_eq!(p.user(ANN).map(|u| u.rooms_sockets().len()), Some(2));
    }

    #[test]
    fn names_are_unique_ignoring_case() {
        let mut p = presence();
        p.connect(&1, Family::Lobby);
        p.log_in(&1, ANN, "Ann", None).expect("free");
        assert_eq!(p.check_name(&json!("aNN")), Err(ClaimError::NameTaken));
        assert_eq!(p.check_name(&json!("x")), Err(ClaimError::InvalidName));
        p.connect(&2, Family::Lobby);
        assert_eq!(p.log_in(&2, BOB, "ANN", None), Err(ClaimError::NameTaken));
        assert_eq!(p.holder_of("ann"), Some(ANN));
    }

    #[test]
    fn away_only_when_every_socket_is_hidden() {
        let mut p = presence();
        p.connect(&1, Family::Rooms);
        p.connect(&2, Family::Rooms);
        p.log_in(&1, ANN, "Ann", None).expect("free");
        p.log_in(&2, ANN, "Ann", None).expect("same user");
        assert_eq!(p.set_away(&1, true), None, "the other tab is visible");
        assert_eq!(p.set_away(&2, true), Some((ANN, PresenceStatus::Away)));
        assert_eq!(p.status(ANN), PresenceStatus::Away);
        assert_eq!(p.set_away(&1, false), Some((ANN, PresenceStatus::Online)));
        assert_eq!(p.disconnect(&1, Instant::now()), Departure::Quiet);
        assert_eq!(
            p.refresh_status(ANN),
            Some((ANN, PresenceStatus::Away)),
            "only the hidden tab is left"
        );
    }

    #[test]
    fn a_session_user_is_held_for_the_grace_period() {
        let mut p = presence();
        let start = Instant::now();
        p.claim(ANN, SessionId(7), "Ann", start);
        assert!(p.online_names().is_empty(), "not listed before connecting");
        assert_eq!(p.check_name(&json!("ann")), Err(ClaimError::NameTaken));
        p.connect(&1, Family::Rooms);
        assert_eq!(p.log_in(&1, ANN, "Ann", Some(SessionId(7))), Ok(true));
        assert_eq!(p.disconnect(&1, start), Departure::GraceStarted(ANN));
        assert_eq!(p.online_names(), vec!["Ann"]);
        assert!(p.expired(start + Duration::from_secs(9)).is_empty());
        assert_eq!(p.expired(start + Duration::from_secs(10)), vec![ANN]);
        assert_eq!(p.next_deadline(), Some(start + Duration::from_secs(10)));
    }

    #[test]
    fn a_user_without_a_session_goes_with_their_last_socket() {
        let mut p = presence();
        p.connect(&1, Family::Lobby);
        p.log_in(&1, ANN, "Ann", None).expect("free");
        assert_eq!(p.disconnect(&1, Instant::now()), Departure::Gone(ANN));
        assert_eq!(p.holder_of("Ann"), None);
        assert_eq!(
            p.disconnect(&1, Instant::now()),
            Departure::Quiet,
            "twice is harmless"
        );
    }
}
