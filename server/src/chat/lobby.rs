use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use app::protocol::{ChatMessage, ClientEvent, Rejection, RejectionReason, ServerEvent};
use serde_json::Value;

use super::{validate_chat, validate_name, NewMessage, Outgoing};

/// How long a `typing` keeps a user shown as typing without being renewed.
pub const TYPING_LEASE: Duration = Duration::from_secs(3);
/// How long a session user stays online (and keeps the name) after their last connection
/// closes.
pub const SESSION_GRACE: Duration = Duration::from_secs(15);

/// A log-in session's id (its row in storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub i64);

#[derive(Debug)]
struct Member<C> {
    name: String,
    /// Order of login, for `onlineUsers`.
    joined: u64,
    /// `None` for a `login` without a session: gone with its connection.
    session: Option<SessionId>,
    /// The user's open connections (several tabs of one session).
    conns: Vec<C>,
    /// Announced (`userJoined`) and listed in `onlineUsers`.
    visible: bool,
    /// When the last connection closed: the name is held until `away_since + grace`.
    away_since: Option<Instant>,
}

/// What the hub must do with an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Reaction<C> {
    /// Deliver these events.
    Deliver(Vec<Outgoing<C>>),
    /// Store this message; then [`Lobby::message_stored`] says what to deliver.
    Store(NewMessage),
}

/// Why a name cannot be claimed for a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    InvalidName,
    NameTaken,
}

/// The lobby: everyone online, by connection. `C` identifies a connection (a socket id in
/// production, a plain number in tests).
///
/// Every method applies one thing that happened and returns the events it causes, in the
/// order they must be delivered. Nothing here touches the network, storage or the clock.
#[derive(Debug)]
pub struct Lobby<C> {
    /// Lower-cased name → member: names are unique ignoring case.
    members: HashMap<String, Member<C>>,
    /// Connection → its member's key.
    conns: HashMap<C, String>,
    /// Member key → when its typing lease runs out, and the connection that typed.
    typing: HashMap<String, (Instant, C)>,
    next_join: u64,
    typing_lease: Duration,
    grace: Duration,
}

impl<C: Clone + Eq + Hash> Default for Lobby<C> {
    fn default() -> Self {
        Self::new(TYPING_LEASE, SESSION_GRACE)
    }
}

impl<C: Clone + Eq + Hash> Lobby<C> {
    pub fn new(typing_lease: Duration, grace: Duration) -> Self {
        Self {
            members: HashMap::new(),
            conns: HashMap::new(),
            typing: HashMap::new(),
            next_join: 0,
            typing_lease,
            grace,
        }
    }

    /// Names of everyone online, in order of login.
    pub fn online_users(&self) -> Vec<String> {
        let mut members: Vec<&Member<C>> = self.members.values().filter(|m| m.visible).collect();
        members.sort_unstable_by_key(|m| m.joined);
        members.into_iter().map(|m| m.name.clone()).collect()
    }

    fn member_of(&self, conn: &C) -> Option<&Member<C>> {
        self.conns.get(conn).and_then(|key| self.members.get(key))
    }

    pub fn name_of(&self, conn: &C) -> Option<&str> {
        self.member_of(conn).map(|m| m.name.as_str())
    }

    /// Applies an event sent by `conn`.
    pub fn handle(&mut self, conn: &C, event: ClientEvent, now: Instant) -> Reaction<C> {
        let out = match event {
            ClientEvent::Login(raw) => self.login(conn, raw),
            ClientEvent::OnlineUsers => vec![Outgoing::only(
                conn.clone(),
                ServerEvent::OnlineUsers(self.online_users()),
            )],
            ClientEvent::Chat(raw) => return self.chat(conn, &raw),
            ClientEvent::Typing => self.typing(conn, now),
            ClientEvent::StopTyping => self.stop_typing(conn),
            // Answered from storage by the socket layer; the lobby has nothing to change.
            ClientEvent::History(_) => Vec::new(),
            ClientEvent::Unknown(name) => vec![reject(conn, name, RejectionReason::UnknownEvent)],
        };
        Reaction::Deliver(out)
    }

    /// A `login` without a session: the name lasts as long as the connection.
    fn login(&mut self, conn: &C, raw: Value) -> Vec<Outgoing<C>> {
        if self.conns.contains_key(conn) {
            return vec![reject(conn, "login", RejectionReason::AlreadyLoggedIn)];
        }
        let name = match validate_name(&raw) {
            Ok(name) => name,
            Err(_) => return vec![Outgoing::only(conn.clone(), ServerEvent::LoginNameBad(raw))],
        };
        let key = name.to_lowercase();
        if self.members.contains_key(&key) {
            return vec![Outgoing::only(
                conn.clone(),
                ServerEvent::LoginNameExists(name),
            )];
        }
        self.insert_member(key.clone(), name.clone(), None, true, None);
        self.connect_member(conn, &key);
        vec![
            Outgoing::only(conn.clone(), ServerEvent::Welcome(name.clone())),
            Outgoing::everyone(ServerEvent::UserJoined(name)),
        ]
    }

    fn insert_member(
        &mut self,
        key: String,
        name: String,
        session: Option<SessionId>,
        visible: bool,
        away_since: Option<Instant>,
    ) {
        self.members.insert(
            key,
            Member {
                name,
                joined: self.next_join,
                session,
                conns: Vec::new(),
                visible,
                away_since,
            },
        );
        self.next_join += 1;
    }

    fn connect_member(&mut self, conn: &C, key: &str) {
        if let Some(member) = self.members.get_mut(key) {
            member.conns.push(conn.clone());
            member.away_since = None;
            self.conns.insert(conn.clone(), key.to_owned());
        }
    }

    /// Checks that `raw` is a valid name nobody holds, for a new session.
    pub fn check_claim(&self, raw: &Value) -> Result<String, ClaimError> {
        let name = validate_name(raw).map_err(|_| ClaimError::InvalidName)?;
        if self.members.contains_key(&name.to_lowercase()) {
            return Err(ClaimError::NameTaken);
        }
        Ok(name)
    }

    /// A new session holds `name` (checked with [`Lobby::check_claim`]) for the grace
    /// period, waiting for its first connection. Nobody is told yet.
    pub fn claim(&mut self, session: SessionId, name: &str, now: Instant) {
        self.insert_member(
            name.to_lowercase(),
            name.to_owned(),
            Some(session),
            false,
            Some(now),
        );
    }

    /// After a restart: a session that was online is listed again, and holds its name for
    /// the grace period, time enough to reconnect without noise.
    pub fn restore(&mut self, session: SessionId, name: &str, now: Instant) {
        let key = name.to_lowercase();
        if !self.members.contains_key(&key) {
            self.insert_member(key, name.to_owned(), Some(session), true, Some(now));
        }
    }

    /// `conn` opened with `session`'s cookie. `Err` when someone else holds the name.
    pub fn attach(
        &mut self,
        conn: &C,
        session: SessionId,
        name: &str,
    ) -> Result<Vec<Outgoing<C>>, ClaimError> {
        let key = name.to_lowercase();
        let (name, announce) = match self.members.get_mut(&key) {
            Some(member) if member.session == Some(session) => {
                let announce = !member.visible;
                member.visible = true;
                (member.name.clone(), announce)
            }
            Some(_) => return Err(ClaimError::NameTaken),
            None => {
                self.insert_member(key.clone(), name.to_owned(), Some(session), true, None);
                (name.to_owned(), true)
            }
        };
        self.connect_member(conn, &key);
        let mut out = vec![Outgoing::only(
            conn.clone(),
            ServerEvent::Welcome(name.clone()),
        )];
        if announce {
            out.push(Outgoing::everyone(ServerEvent::UserJoined(name)));
        }
        Ok(out)
    }

    /// Whether `session` holds its name now.
    pub fn holds(&self, session: SessionId) -> bool {
        self.members.values().any(|m| m.session == Some(session))
    }

    /// `session` logged out: it lets go of its name at once. Returns its connections
    /// (still open, now logged out) and the events for everyone.
    pub fn end_session(&mut self, session: SessionId) -> (Vec<C>, Vec<Outgoing<C>>) {
        let Some(key) = self
            .members
            .iter()
            .find(|(_, m)| m.session == Some(session))
            .map(|(key, _)| key.clone())
        else {
            return (Vec::new(), Vec::new());
        };
        let mut out = self.end_typing(&key);
        let Some(member) = self.members.remove(&key) else {
            return (Vec::new(), out);
        };
        for conn in &member.conns {
            self.conns.remove(conn);
        }
        if member.visible {
            out.push(Outgoing::everyone(ServerEvent::UserLeft(member.name)));
        }
        (member.conns, out)
    }

    /// Checks a `chat` from `conn`: a message to store, or why not.
    fn chat(&mut self, conn: &C, raw: &Value) -> Reaction<C> {
        let Some(sender) = self.name_of(conn).map(str::to_owned) else {
            return Reaction::Deliver(vec![reject(conn, "chat", RejectionReason::NotLoggedIn)]);
        };
        match validate_chat(raw) {
            Ok(input) => Reaction::Store(NewMessage {
                sender,
                text: input.text.to_owned(),
                client_id: input.client_id.map(str::to_owned),
            }),
            Err(error) => Reaction::Deliver(vec![reject(conn, "chat", error.into())]),
        }
    }

    /// `conn`'s message was stored: its typing ends, and everyone gets it.
    pub fn message_stored(&mut self, conn: &C, message: ChatMessage) -> Vec<Outgoing<C>> {
        let mut out = match self.conns.get(conn).cloned() {
            Some(key) => self.end_typing(&key),
            None => Vec::new(),
        };
        out.push(Outgoing::everyone(ServerEvent::Chat(message)));
        out
    }

    fn typing(&mut self, conn: &C, now: Instant) -> Vec<Outgoing<C>> {
        let Some(key) = self.conns.get(conn).cloned() else {
            return vec![reject(conn, "typing", RejectionReason::NotLoggedIn)];
        };
        let Some(name) = self.members.get(&key).map(|m| m.name.clone()) else {
            return Vec::new();
        };
        let was_typing = self
            .typing
            .insert(key, (now + self.typing_lease, conn.clone()))
            .is_some();
        if was_typing {
            Vec::new()
        } else {
            vec![Outgoing::everyone_except(
                conn.clone(),
                ServerEvent::UserTyping(name),
            )]
        }
    }

    fn stop_typing(&mut self, conn: &C) -> Vec<Outgoing<C>> {
        match self.conns.get(conn).cloned() {
            Some(key) => self.end_typing(&key),
            None => vec![reject(conn, "stopTyping", RejectionReason::NotLoggedIn)],
        }
    }

    /// Ends the typing lease of the member `key`, if it has one.
    fn end_typing(&mut self, key: &str) -> Vec<Outgoing<C>> {
        match (self.typing.remove(key), self.members.get(key)) {
            (Some((_, typer)), Some(member)) => vec![Outgoing::everyone_except(
                typer,
                ServerEvent::UserStoppedTyping(member.name.clone()),
            )],
            _ => Vec::new(),
        }
    }

    /// `conn` has gone. Its user's typing ends with their last connection. A user without
    /// a session leaves now; a session user is held for the grace period from `now`.
    pub fn disconnect(&mut self, conn: &C, now: Instant) -> Vec<Outgoing<C>> {
        let Some(key) = self.conns.remove(conn) else {
            return Vec::new();
        };
        let Some(member) = self.members.get_mut(&key) else {
            return Vec::new();
        };
        member.conns.retain(|c| c != conn);
        if !member.conns.is_empty() {
            if self
                .typing
                .get(&key)
                .is_some_and(|(_, typer)| typer == conn)
            {
                return self.end_typing(&key);
            }
            return Vec::new();
        }
        let mut out = self.end_typing(&key);
        let Some(member) = self.members.get_mut(&key) else {
            return out;
        };
        if member.session.is_some() {
            member.away_since = Some(now);
        } else if let Some(member) = self.members.remove(&key) {
            out.push(Outgoing::everyone_except(
                conn.clone(),
                ServerEvent::UserLeft(member.name),
            ));
        }
        out
    }

    /// Ends every typing lease and grace period that has run out by `now`. Returns the
    /// events, and the sessions that let go of their names.
    pub fn expire(&mut self, now: Instant) -> (Vec<Outgoing<C>>, Vec<SessionId>) {
        let mut out = self.expire_typing(now);
        let mut gone: Vec<(u64, String)> = self
            .members
            .iter()
            .filter(|(_, m)| m.away_since.is_some_and(|since| since + self.grace <= now))
            .map(|(key, m)| (m.joined, key.clone()))
            .collect();
        gone.sort_unstable();
        let mut sessions = Vec::new();
        for (_, key) in gone {
            if let Some(member) = self.members.remove(&key) {
                sessions.extend(member.session);
                if member.visible {
                    out.push(Outgoing::everyone(ServerEvent::UserLeft(member.name)));
                }
            }
        }
        (out, sessions)
    }

    fn expire_typing(&mut self, now: Instant) -> Vec<Outgoing<C>> {
        let mut expired: Vec<(u64, String)> = self
            .typing
            .iter()
            .filter(|(_, (deadline, _))| *deadline <= now)
            .filter_map(|(key, _)| self.members.get(key).map(|m| (m.joined, key.clone())))
            .collect();
        expired.sort_unstable();
        expired
            .into_iter()
            .flat_map(|(_, key)| self.end_typing(&key))
            .collect()
    }

    /// When the next typing lease or grace period runs out, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let typing = self.typing.values().map(|(deadline, _)| *deadline);
        let grace = self
            .members
            .values()
            .filter_map(|m| m.away_since.map(|since| since + self.grace));
        typing.chain(grace).min()
    }
}

fn reject<C>(conn: &C, event: impl Into<String>, reason: RejectionReason) -> Outgoing<C>
where
    C: Clone,
{
    Outgoing::only(
        conn.clone(),
        ServerEvent::RequestRejected(Rejection::new(event, reason)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Out = Vec<Outgoing<u32>>;

    fn at(lobby: &mut Lobby<u32>, conn: u32, event: ClientEvent) -> Out {
        deliver(lobby.handle(&conn, event, Instant::now()))
    }

    fn deliver(reaction: Reaction<u32>) -> Out {
        match reaction {
            Reaction::Deliver(out) => out,
            Reaction::Store(message) => {
                panic!("expected events, got a message to store: {message:?}")
            }
        }
    }

    fn stored(id: u64, sender: &str, text: &str) -> ChatMessage {
        ChatMessage {
            sender: sender.into(),
            message: text.into(),
            id,
            sent_at: 0,
            client_id: None,
        }
    }

    fn logged_in(names: &[&str]) -> Lobby<u32> {
        let mut lobby = Lobby::default();
        for (conn, name) in names.iter().enumerate() {
            let out = at(&mut lobby, conn as u32, ClientEvent::login(name));
            assert!(matches!(out[0].event, ServerEvent::Welcome(_)), "{out:?}");
        }
        lobby
    }

    fn rejected(reason: RejectionReason, event: &str, conn: u32) -> Out {
        vec![reject(&conn, event, reason)]
    }

    #[test]
    fn login_welcomes_then_tells_everyone() {
        let mut lobby = Lobby::default();
        let out = at(&mut lobby, 1, ClientEvent::login("Ann"));
        assert_eq!(
            out,
            vec![
                Outgoing::only(1, ServerEvent::Welcome("Ann".into())),
                Outgoing::everyone(ServerEvent::UserJoined("Ann".into())),
            ]
        );
        assert_eq!(lobby.online_users(), vec!["Ann"]);
    }

    #[test]
    fn bad_names_are_echoed_as_sent() {
        let mut lobby = Lobby::default();
        for raw in [
            json!(null),
            json!(7),
            json!("ab"),
            json!("abcdefghijk"),
            json!({"n": 1}),
        ] {
            let out = at(&mut lobby, 1, ClientEvent::Login(raw.clone()));
            assert_eq!(out, vec![Outgoing::only(1, ServerEvent::LoginNameBad(raw))]);
        }
        assert!(lobby.online_users().is_empty());
    }

    #[test]
    fn taken_names_are_refused_ignoring_case() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            at(&mut lobby, 9, ClientEvent::login("ann")),
            vec![Outgoing::only(
                9,
                ServerEvent::LoginNameExists("ann".into())
            )]
        );
        assert_eq!(
            at(&mut lobby, 9, ClientEvent::login(" Ann ")),
            vec![Outgoing::only(
                9,
                ServerEvent::LoginNameExists("Ann".into())
            )]
        );
        assert_eq!(lobby.online_users(), vec!["Ann"]);
    }

    #[test]
    fn a_socket_logs_in_once() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::login("Other")),
            rejected(RejectionReason::AlreadyLoggedIn, "login", 0)
        );
        assert_eq!(lobby.online_users(), vec!["Ann"]);
    }

    #[test]
    fn online_users_in_login_order() {
        let mut lobby = logged_in(&["Cat", "Ann", "Bob"]);
        assert_eq!(
            at(&mut lobby, 42, ClientEvent::OnlineUsers),
            vec![Outgoing::only(
                42,
                ServerEvent::OnlineUsers(vec!["Cat".into(), "Ann".into(), "Bob".into()])
            )]
        );
    }

    #[test]
    fn chat_is_stored_then_goes_to_everyone() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            lobby.handle(&0, ClientEvent::chat("hello"), Instant::now()),
            Reaction::Store(NewMessage {
                sender: "Ann".into(),
                text: "hello".into(),
                client_id: None
            })
        );
        assert_eq!(
            lobby.message_stored(&0, stored(1, "Ann", "hello")),
            vec![Outgoing::everyone(ServerEvent::Chat(stored(
                1, "Ann", "hello"
            )))]
        );
    }

    #[test]
    fn bad_chats_change_nothing_but_answer_the_sender() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            at(&mut lobby, 5, ClientEvent::chat("hi")),
            rejected(RejectionReason::NotLoggedIn, "chat", 5)
        );
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::chat("")),
            rejected(RejectionReason::EmptyMessage, "chat", 0)
        );
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::Chat(json!(12))),
            rejected(RejectionReason::NotAString, "chat", 0)
        );
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::chat(&"x".repeat(2001))),
            rejected(RejectionReason::MessageTooLong, "chat", 0)
        );
    }

    #[test]
    fn unknown_events_are_rejected() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::Unknown("dance".into())),
            rejected(RejectionReason::UnknownEvent, "dance", 0)
        );
    }

    #[test]
    fn disconnect_frees_the_name_and_tells_the_others() {
        let mut lobby = logged_in(&["Ann", "Bob"]);
        assert_eq!(
            lobby.disconnect(&0, Instant::now()),
            vec![Outgoing::everyone_except(
                0,
                ServerEvent::UserLeft("Ann".into())
            )]
        );
        assert_eq!(lobby.online_users(), vec!["Bob"]);
        assert!(matches!(
            at(&mut lobby, 7, ClientEvent::login("ANN"))[0].event,
            ServerEvent::Welcome(_)
        ));
    }

    #[test]
    fn anonymous_disconnect_is_silent() {
        let mut lobby = logged_in(&["Ann"]);
        assert!(lobby.disconnect(&99, Instant::now()).is_empty());
        assert!(lobby.disconnect(&0, Instant::now()).len() == 1);
        assert!(
            lobby.disconnect(&0, Instant::now()).is_empty(),
            "twice is harmless"
        );
    }

    #[test]
    fn typing_is_announced_once_to_the_others() {
        let mut lobby = logged_in(&["Ann", "Bob"]);
        let start = Instant::now();
        assert_eq!(
            deliver(lobby.handle(&0, ClientEvent::Typing, start)),
            vec![Outgoing::everyone_except(
                0,
                ServerEvent::UserTyping("Ann".into())
            )]
        );
        assert!(
            deliver(lobby.handle(&0, ClientEvent::Typing, start)).is_empty(),
            "renewal is silent"
        );
        assert_eq!(lobby.next_deadline(), Some(start + TYPING_LEASE));
    }

    #[test]
    fn typing_requires_login() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            at(&mut lobby, 3, ClientEvent::Typing),
            rejected(RejectionReason::NotLoggedIn, "typing", 3)
        );
        assert_eq!(
            at(&mut lobby, 3, ClientEvent::StopTyping),
            rejected(RejectionReason::NotLoggedIn, "stopTyping", 3)
        );
    }

    #[test]
    fn stop_typing_ends_the_lease() {
        let mut lobby = logged_in(&["Ann"]);
        at(&mut lobby, 0, ClientEvent::Typing);
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::StopTyping),
            vec![Outgoing::everyone_except(
                0,
                ServerEvent::UserStoppedTyping("Ann".into())
            )]
        );
        assert!(at(&mut lobby, 0, ClientEvent::StopTyping).is_empty());
        assert_eq!(lobby.next_deadline(), None);
    }

    #[test]
    fn chat_ends_typing_first() {
        let mut lobby = logged_in(&["Ann"]);
        at(&mut lobby, 0, ClientEvent::Typing);
        assert!(matches!(
            lobby.handle(&0, ClientEvent::chat("done"), Instant::now()),
            Reaction::Store(_)
        ));
        let out = lobby.message_stored(&0, stored(1, "Ann", "done"));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].event, ServerEvent::UserStoppedTyping("Ann".into()));
        assert!(matches!(out[1].event, ServerEvent::Chat(_)));
    }

    #[test]
    fn disconnect_ends_typing_before_leaving() {
        let mut lobby = logged_in(&["Ann"]);
        at(&mut lobby, 0, ClientEvent::Typing);
        let out = lobby.disconnect(&0, Instant::now());
        assert_eq!(
            out.iter().map(|o| o.event.name()).collect::<Vec<_>>(),
            vec!["userStoppedTyping", "userLeft"]
        );
        assert_eq!(lobby.next_deadline(), None);
    }

    #[test]
    fn leases_expire() {
        let mut lobby = logged_in(&["Ann", "Bob", "Cat"]);
        let start = Instant::now();
        deliver(lobby.handle(&0, ClientEvent::Typing, start));
        deliver(lobby.handle(&1, ClientEvent::Typing, start + Duration::from_secs(2)));
        assert!(lobby
            .expire(start + Duration::from_millis(2999))
            .0
            .is_empty());
        let (out, _) = lobby.expire(start + TYPING_LEASE);
        assert_eq!(
            out,
            vec![Outgoing::everyone_except(
                0,
                ServerEvent::UserStoppedTyping("Ann".into())
            )]
        );
        assert_eq!(lobby.next_deadline(), Some(start + Duration::from_secs(5)));
        // Renewing pushes the deadline out.
        deliver(lobby.handle(&1, ClientEvent::Typing, start + Duration::from_secs(4)));
        assert!(lobby.expire(start + Duration::from_secs(6)).0.is_empty());
        assert_eq!(lobby.expire(start + Duration::from_secs(7)).0.len(), 1);
    }

    const ANN: SessionId = SessionId(1);
    const BOB: SessionId = SessionId(2);

    fn names(out: &Out) -> Vec<&'static str> {
        out.iter().map(|o| o.event.name()).collect()
    }

    #[test]
    fn a_session_joins_once_across_tabs_and_leaves_after_the_grace_period() {
        let mut lobby = Lobby::new(TYPING_LEASE, Duration::from_secs(10));
        let start = Instant::now();
        lobby.claim(ANN, "Ann", start);
        assert!(
            lobby.online_users().is_empty(),
            "not listed before connecting"
        );
        assert_eq!(
            lobby.attach(&1, ANN, "Ann"),
            Ok(vec![
                Outgoing::only(1, ServerEvent::Welcome("Ann".into())),
                Outgoing::everyone(ServerEvent::UserJoined("Ann".into())),
            ])
        );
        // A second tab: welcomed, nobody else is told.
        assert_eq!(
            lobby.attach(&2, ANN, "Ann"),
            Ok(vec![Outgoing::only(2, ServerEvent::Welcome("Ann".into()))])
        );
        assert!(lobby.disconnect(&1, start).is_empty());
        assert!(
            lobby.disconnect(&2, start).is_empty(),
            "grace, no userLeft yet"
        );
        assert_eq!(lobby.online_users(), vec!["Ann"]);
        assert_eq!(lobby.next_deadline(), Some(start + Duration::from_secs(10)));
        // A reload within the grace period: back without noise.
        assert_eq!(
            lobby.attach(&3, ANN, "Ann"),
            Ok(vec![Outgoing::only(3, ServerEvent::Welcome("Ann".into()))])
        );
        assert_eq!(lobby.next_deadline(), None);
        lobby.disconnect(&3, start);
        assert!(lobby.expire(start + Duration::from_secs(9)).0.is_empty());
        assert_eq!(
            lobby.expire(start + Duration::from_secs(10)),
            (
                vec![Outgoing::everyone(ServerEvent::UserLeft("Ann".into()))],
                vec![ANN]
            )
        );
        assert!(lobby.online_users().is_empty());
    }

    #[test]
    fn a_held_name_cannot_be_taken() {
        let mut lobby = Lobby::default();
        let now = Instant::now();
        lobby.claim(ANN, "Ann", now);
        assert_eq!(lobby.check_claim(&json!("ANN")), Err(ClaimError::NameTaken));
        assert_eq!(lobby.check_claim(&json!("x")), Err(ClaimError::InvalidName));
        assert_eq!(
            at(&mut lobby, 9, ClientEvent::login("ann")),
            vec![Outgoing::only(
                9,
                ServerEvent::LoginNameExists("ann".into())
            )]
        );
        assert_eq!(lobby.attach(&9, BOB, "Ann"), Err(ClaimError::NameTaken));
        assert_eq!(lobby.check_claim(&json!(" Bob ")), Ok("Bob".into()));
    }

    #[test]
    fn a_session_socket_cannot_log_in_as_someone_else() {
        let mut lobby = Lobby::default();
        lobby.attach(&1, ANN, "Ann").expect("free name");
        assert_eq!(
            at(&mut lobby, 1, ClientEvent::login("Bob")),
            rejected(RejectionReason::AlreadyLoggedIn, "login", 1)
        );
        assert_eq!(lobby.online_users(), vec!["Ann"]);
    }

    #[test]
    fn logging_out_frees_the_name_at_once() {
        let mut lobby = Lobby::default();
        lobby.attach(&1, ANN, "Ann").expect("free name");
        lobby.attach(&2, ANN, "Ann").expect("same session");
        deliver(lobby.handle(&1, ClientEvent::Typing, Instant::now()));
        let (conns, out) = lobby.end_session(ANN);
        assert_eq!(conns, vec![1, 2]);
        assert_eq!(names(&out), vec!["userStoppedTyping", "userLeft"]);
        assert_eq!(lobby.name_of(&1), None, "the tabs are logged out");
        assert!(lobby.disconnect(&2, Instant::now()).is_empty());
        assert_eq!(lobby.check_claim(&json!("Ann")), Ok("Ann".into()));
        assert!(!lobby.holds(ANN));
    }

    #[test]
    fn typing_ends_with_the_tab_that_typed() {
        let mut lobby = Lobby::default();
        lobby.attach(&1, ANN, "Ann").expect("free name");
        lobby.attach(&2, ANN, "Ann").expect("same session");
        deliver(lobby.handle(&2, ClientEvent::Typing, Instant::now()));
        assert!(lobby.disconnect(&1, Instant::now()).is_empty());
        assert_eq!(
            lobby.disconnect(&2, Instant::now()),
            vec![Outgoing::everyone_except(
                2,
                ServerEvent::UserStoppedTyping("Ann".into())
            )]
        );
    }

    #[test]
    fn restored_sessions_come_back_quietly() {
        let mut lobby = Lobby::new(TYPING_LEASE, Duration::from_secs(5));
        let start = Instant::now();
        lobby.restore(ANN, "Ann", start);
        lobby.restore(BOB, "Bob", start);
        assert_eq!(lobby.online_users(), vec!["Ann", "Bob"]);
        assert_eq!(
            lobby.attach(&1, ANN, "Ann"),
            Ok(vec![Outgoing::only(1, ServerEvent::Welcome("Ann".into()))])
        );
        let (out, sessions) = lobby.expire(start + Duration::from_secs(5));
        assert_eq!(
            out,
            vec![Outgoing::everyone(ServerEvent::UserLeft("Bob".into()))]
        );
        assert_eq!(sessions, vec![BOB]);
    }
}
