//! Log-ins (`login`, `register`, `join_room` with a name, a session cookie), sessions,
//! disconnects, grace periods and log-outs: who comes online and goes offline, and who is
//! told.

use std::hash::Hash;

use app::protocol::{
    MemberChange, MemberEvent, Presence as PresenceEntry, PresenceStatus, Rejection,
    RejectionReason, ServerEvent,
};
use serde_json::Value;

use super::{Chat, Events, Now};
use crate::chat::presence::{ClaimError, Departure};
use crate::chat::{validate_name, Audience, ConversationId, Outgoing, RoomName, SessionId, UserId};

/// Why a log-in was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginRefusal {
    AlreadyLoggedIn,
    /// Not a valid name: the value as sent.
    BadName(Value),
    /// Someone online has it (trimmed).
    NameTaken(String),
}

impl LoginRefusal {
    pub fn reason(&self) -> RejectionReason {
        match self {
            Self::AlreadyLoggedIn => RejectionReason::AlreadyLoggedIn,
            Self::BadName(_) => RejectionReason::InvalidName,
            Self::NameTaken(_) => RejectionReason::NameTaken,
        }
    }

    /// The lobby protocol's answer to `login` (and `register`).
    pub fn lobby_event(self, event: &str) -> ServerEvent {
        match self {
            Self::AlreadyLoggedIn => ServerEvent::RequestRejected(Rejection::new(
                event,
                RejectionReason::AlreadyLoggedIn,
            )),
            Self::BadName(raw) => ServerEvent::LoginNameBad(raw),
            Self::NameTaken(name) => ServerEvent::LoginNameExists(name),
        }
    }
}

impl<C: Clone + Eq + Hash> Chat<C> {
    /// Checks a log-in of `conn` as `raw`: the name to create a user for, or why not.
    pub fn check_login(&self, conn: &C, raw: &Value) -> Result<String, LoginRefusal> {
        if self.presence.user_of(conn).is_some() {
            return Err(LoginRefusal::AlreadyLoggedIn);
        }
        let name = validate_name(raw).map_err(|_| LoginRefusal::BadName(raw.clone()))?;
        if self.presence.holder_of(&name).is_some() || self.remote.holds(&name) {
            return Err(LoginRefusal::NameTaken(name));
        }
        Ok(name)
    }

    /// Checks a name for a new session (`POST /api/session`).
    pub fn check_claim(&self, raw: &Value) -> Result<String, ClaimError> {
        let name = self.presence.check_name(raw)?;
        if self.remote.holds(&name) {
            return Err(ClaimError::NameTaken);
        }
        Ok(name)
    }

    /// A new session holds its name for the grace period before its first socket.
    pub fn claim(&mut self, user: UserId, session: SessionId, name: &str, now: Now) {
        self.presence.claim(user, session, name, now.at);
    }

    /// A session was used by a page or a form (no socket): its name stays held.
    pub fn session_used(&mut self, user: UserId, session: SessionId, name: &str, now: Now) {
        self.presence.touch(user, session, name, now.at);
    }

    /// After a restart: a user online then is listed again for the grace period, in
    /// `rooms` (besides `general`). Nobody is told.
    pub fn restore(
        &mut self,
        user: UserId,
        session: SessionId,
        name: &str,
        rooms: &[(ConversationId, RoomName)],
        now: Now,
    ) {
        if self.presence.restore(user, session, name, now.at) {
            self.arrive(user, rooms);
        }
    }

    fn arrive(&mut self, user: UserId, rooms: &[(ConversationId, RoomName)]) {
        self.quiet.forget(user);
        self.conversations
            .enter(user, self.general, &RoomName::general());
        self.conversations.arrive(user, rooms);
    }

    /// `conn` is logged in as `user` (a new user, or a session's): `welcome`, and if the
    /// user was not online, everyone is told. `rooms` are the user's rooms besides
    /// `general` (used when the user comes online). `Err` when someone else holds the name.
    pub fn log_in(
        &mut self,
        conn: &C,
        user: UserId,
        name: &str,
        session: Option<SessionId>,
        rooms: &[(ConversationId, RoomName)],
        now: Now,
    ) -> Result<Events<C>, ClaimError> {
        let announce = self.presence.log_in(conn, user, name, session)?;
        let name = self.name_of(user).unwrap_or(name).to_owned();
        let mut out = vec![Outgoing::only(
            conn.clone(),
            ServerEvent::Welcome(name.clone()),
        )];
        if announce && self.remote.user(user).is_some() {
            // Online on another server already (moving here from one that is shutting
            // down, or in two places): listed here too, and nobody needs telling.
            self.arrive(user, rooms);
        } else if announce {
            // Listed from now on: in their rooms too.
            self.arrive(user, rooms);
            out.push(Outgoing::new(
                Audience::Lobby,
                ServerEvent::UserJoined(name.clone()),
            ));
            for (room, room_name) in self.rooms_of(user) {
                out.push(Outgoing::new(
                    Audience::RoomExceptUser(room, user),
                    ServerEvent::MemberJoined(MemberEvent {
                        username: name.clone(),
                        room: room_name.to_string(),
                        time: now.iso(),
                        reason: Some(MemberChange::Online),
                    }),
                ));
            }
            out.push(presence_changed(&name, self.presence.status(user)));
        } else if let Some((_, status)) = self.presence.refresh_status(user) {
            out.push(presence_changed(&name, status));
        }
        Ok(out)
    }

    /// `conn` has gone. Returns the events, and the user if one without a session is gone
    /// with it (their name is free: the user is retired).
    pub fn disconnect(&mut self, conn: &C, now: Now) -> (Events<C>, Option<UserId>) {
        let mut out = Vec::new();
        for (user, spot) in self.conversations.typing_through(conn) {
            out.extend(self.end_typing(user, spot));
        }
        let user = self.presence.user_of(conn);
        let name = user.and_then(|u| self.name_of(u)).map(str::to_owned);
        match self.presence.disconnect(conn, now.at) {
            Departure::Quiet => {
                if let (Some(user), Some(name)) = (user, name) {
                    if let Some((_, status)) = self.presence.refresh_status(user) {
                        out.push(presence_changed(&name, status));
                    }
                }
                (out, None)
            }
            Departure::GraceStarted(_) => (out, None),
            Departure::Gone(user) => {
                out.extend(self.went_offline(user, name.as_deref().unwrap_or_default(), now));
                (out, Some(user))
            }
        }
    }

    /// Ends every typing lease and grace period that has run out by `now`. Returns the
    /// events, and the users who went offline with their sessions (their name is free; the
    /// session lives on and may take it again).
    pub fn expire(&mut self, now: Now) -> (Events<C>, Vec<(UserId, SessionId)>) {
        let mut out = Vec::new();
        for (user, spot) in self.conversations.expired_typing(now.at) {
            out.extend(self.end_typing(user, spot));
        }
        let mut sessions = Vec::new();
        for user in self.presence.expired(now.at) {
            out.extend(self.leave_for_good(user, now));
            if let Some((gone, _)) = self.presence.remove(user) {
                sessions.extend(gone.session.map(|session| (user, session)));
            }
        }
        (out, sessions)
    }

    /// `session` logged out: its user lets go of their name at once. Returns the user,
    /// their sockets (still open, now logged out) and the events for everyone.
    pub fn end_session(
        &mut self,
        session: SessionId,
        now: Now,
    ) -> Option<(UserId, Vec<C>, Events<C>)> {
        let user = self.presence.user_of_session(session)?;
        let (conns, out) = self.log_out(user, now)?;
        Some((user, conns, out))
    }

    /// `user` lets go of their name at once, with or without a session (logged out, or
    /// their name taken elsewhere). Returns their sockets (still open, now logged out) and
    /// the events for everyone; `None` if they are not online here.
    pub fn log_out(&mut self, user: UserId, now: Now) -> Option<(Vec<C>, Events<C>)> {
        self.presence.user(user)?;
        let out = self.leave_for_good(user, now);
        let (_, conns) = self.presence.remove(user)?;
        Some((conns, out))
    }

    /// The events of a user who is going (typing ends, then they go offline), before they
    /// are removed from presence.
    fn leave_for_good(&mut self, user: UserId, now: Now) -> Events<C> {
        let mut out = Vec::new();
        for spot in self.conversations.typing_of(user) {
            out.extend(self.end_typing(user, spot));
        }
        let name = self.name_of(user).unwrap_or_default().to_owned();
        if self.presence.user(user).is_some_and(|u| u.visible) {
            out.extend(self.went_offline(user, &name, now));
        } else {
            self.conversations.depart(user);
        }
        out
    }

    /// A listed user is offline now: the lobby, their rooms and everyone are told; unless
    /// another server still lists them (they are online there).
    /// If another server lists them, nobody is told now (see [`QuietDepartures`]).
    ///
    /// [`QuietDepartures`]: crate::chat::quiet_departures::QuietDepartures
    fn went_offline(&mut self, user: UserId, name: &str, now: Now) -> Events<C> {
        let rooms = self.rooms_of(user);
        self.conversations.depart(user);
        if self.remote.user(user).is_some() {
            self.quiet.record(user, name, rooms, now.at);
            return Vec::new();
        }
        offline_announcement(name, &rooms, now)
    }
}

/// The events of a user going offline: the lobby, each of their `rooms` and everyone are
/// told.
pub(super) fn offline_announcement<C>(
    name: &str,
    rooms: &[(ConversationId, RoomName)],
    now: Now,
) -> Events<C> {
    let mut out = vec![Outgoing::new(
        Audience::Lobby,
        ServerEvent::UserLeft(name.to_owned()),
    )];
    for (room, room_name) in rooms {
        out.push(Outgoing::new(
            Audience::Room(*room),
            ServerEvent::MemberLeft(MemberEvent {
                username: name.to_owned(),
                room: room_name.to_string(),
                time: now.iso(),
                reason: Some(MemberChange::Offline),
            }),
        ));
    }
    out.push(presence_changed(name, PresenceStatus::Offline));
    out
}

pub(super) fn presence_changed<C>(name: &str, status: PresenceStatus) -> Outgoing<C> {
    Outgoing::new(
        Audience::Everyone,
        ServerEvent::PresenceChanged(PresenceEntry {
            username: name.to_owned(),
            status,
        }),
    )
}
