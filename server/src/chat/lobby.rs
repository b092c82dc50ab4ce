use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use app::protocol::{ChatMessage, ClientEvent, Rejection, RejectionReason, ServerEvent};
use serde_json::Value;

use super::{validate_message, validate_name, Outgoing};

/// How long a `typing` keeps a user shown as typing without being renewed.
pub const TYPING_LEASE: Duration = Duration::from_secs(3);

#[derive(Debug)]
struct Member {
    name: String,
    /// Order of login, for `onlineUsers`.
    joined: u64,
}

/// The lobby: everyone online, by connection. `C` identifies a connection (a socket id in
/// production, a plain number in tests).
///
/// Every method applies one thing that happened and returns the events it causes, in the
/// order they must be delivered.
#[derive(Debug)]
pub struct Lobby<C> {
    members: HashMap<C, Member>,
    /// Lower-cased name → connection: names are unique ignoring case.
    names: HashMap<String, C>,
    /// Connection → when its typing lease runs out.
    typing: HashMap<C, Instant>,
    next_join: u64,
    typing_lease: Duration,
}

impl<C: Clone + Eq + Hash> Default for Lobby<C> {
    fn default() -> Self {
        Self::new(TYPING_LEASE)
    }
}

impl<C: Clone + Eq + Hash> Lobby<C> {
    pub fn new(typing_lease: Duration) -> Self {
        Self {
            members: HashMap::new(),
            names: HashMap::new(),
            typing: HashMap::new(),
            next_join: 0,
            typing_lease,
        }
    }

    /// Names of everyone online, in order of login.
    pub fn online_users(&self) -> Vec<String> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_unstable_by_key(|m| m.joined);
        members.into_iter().map(|m| m.name.clone()).collect()
    }

    pub fn name_of(&self, conn: &C) -> Option<&str> {
        self.members.get(conn).map(|m| m.name.as_str())
    }

    /// Applies an event sent by `conn`.
    pub fn handle(&mut self, conn: &C, event: ClientEvent, now: Instant) -> Vec<Outgoing<C>> {
        match event {
            ClientEvent::Login(raw) => self.login(conn, raw),
            ClientEvent::OnlineUsers => vec![Outgoing::only(
                conn.clone(),
                ServerEvent::OnlineUsers(self.online_users()),
            )],
            ClientEvent::Chat(raw) => self.chat(conn, &raw),
            ClientEvent::Typing => self.typing(conn, now),
            ClientEvent::StopTyping => self.stop_typing(conn),
            ClientEvent::Unknown(name) => vec![reject(conn, name, RejectionReason::UnknownEvent)],
        }
    }

    fn login(&mut self, conn: &C, raw: Value) -> Vec<Outgoing<C>> {
        if self.members.contains_key(conn) {
            return vec![reject(conn, "login", RejectionReason::AlreadyLoggedIn)];
        }
        let name = match validate_name(&raw) {
            Ok(name) => name,
            Err(_) => return vec![Outgoing::only(conn.clone(), ServerEvent::LoginNameBad(raw))],
        };
        let key = name.to_lowercase();
        if self.names.contains_key(&key) {
            return vec![Outgoing::only(
                conn.clone(),
                ServerEvent::LoginNameExists(name),
            )];
        }
        self.names.insert(key, conn.clone());
        self.members.insert(
            conn.clone(),
            Member {
                name: name.clone(),
                joined: self.next_join,
            },
        );
        self.next_join += 1;
        vec![
            Outgoing::only(conn.clone(), ServerEvent::Welcome(name.clone())),
            Outgoing::everyone(ServerEvent::UserJoined(name)),
        ]
    }

    fn chat(&mut self, conn: &C, raw: &Value) -> Vec<Outgoing<C>> {
        let Some(sender) = self.name_of(conn).map(str::to_owned) else {
            return vec![reject(conn, "chat", RejectionReason::NotLoggedIn)];
        };
        let message = match validate_message(raw) {
            Ok(text) => text.to_owned(),
            Err(error) => return vec![reject(conn, "chat", error.into())],
        };
        let mut out = self.end_typing(conn);
        out.push(Outgoing::everyone(ServerEvent::Chat(ChatMessage {
            sender,
            message,
        })));
        out
    }

    fn typing(&mut self, conn: &C, now: Instant) -> Vec<Outgoing<C>> {
        let Some(name) = self.name_of(conn).map(str::to_owned) else {
            return vec![reject(conn, "typing", RejectionReason::NotLoggedIn)];
        };
        let was_typing = self
            .typing
            .insert(conn.clone(), now + self.typing_lease)
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
        if !self.members.contains_key(conn) {
            return vec![reject(conn, "stopTyping", RejectionReason::NotLoggedIn)];
        }
        self.end_typing(conn)
    }

    /// Ends `conn`'s typing lease, if it has one.
    fn end_typing(&mut self, conn: &C) -> Vec<Outgoing<C>> {
        match (self.typing.remove(conn), self.members.get(conn)) {
            (Some(_), Some(member)) => vec![Outgoing::everyone_except(
                conn.clone(),
                ServerEvent::UserStoppedTyping(member.name.clone()),
            )],
            _ => Vec::new(),
        }
    }

    /// `conn` has gone: its lease ends, its name is freed, and the others are told.
    pub fn disconnect(&mut self, conn: &C) -> Vec<Outgoing<C>> {
        let mut out = self.end_typing(conn);
        if let Some(member) = self.members.remove(conn) {
            self.names.remove(&member.name.to_lowercase());
            out.push(Outgoing::everyone_except(
                conn.clone(),
                ServerEvent::UserLeft(member.name),
            ));
        }
        out
    }

    /// Ends every typing lease that has run out by `now`.
    pub fn expire_typing(&mut self, now: Instant) -> Vec<Outgoing<C>> {
        let mut expired: Vec<(u64, C)> = self
            .typing
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .filter_map(|(conn, _)| self.members.get(conn).map(|m| (m.joined, conn.clone())))
            .collect();
        expired.sort_unstable_by_key(|(joined, _)| *joined);
        expired
            .into_iter()
            .flat_map(|(_, conn)| self.end_typing(&conn))
            .collect()
    }

    /// When the next typing lease runs out, if anyone is typing.
    pub fn next_typing_deadline(&self) -> Option<Instant> {
        self.typing.values().min().copied()
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
        lobby.handle(&conn, event, Instant::now())
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
    fn chat_goes_to_everyone() {
        let mut lobby = logged_in(&["Ann"]);
        assert_eq!(
            at(&mut lobby, 0, ClientEvent::chat("hello")),
            vec![Outgoing::everyone(ServerEvent::Chat(ChatMessage {
                sender: "Ann".into(),
                message: "hello".into()
            }))]
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
            lobby.disconnect(&0),
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
        assert!(lobby.disconnect(&99).is_empty());
        assert!(lobby.disconnect(&0).len() == 1);
        assert!(lobby.disconnect(&0).is_empty(), "twice is harmless");
    }

    #[test]
    fn typing_is_announced_once_to_the_others() {
        let mut lobby = logged_in(&["Ann", "Bob"]);
        let start = Instant::now();
        assert_eq!(
            lobby.handle(&0, ClientEvent::Typing, start),
            vec![Outgoing::everyone_except(
                0,
                ServerEvent::UserTyping("Ann".into())
            )]
        );
        assert!(
            lobby.handle(&0, ClientEvent::Typing, start).is_empty(),
            "renewal is silent"
        );
        assert_eq!(lobby.next_typing_deadline(), Some(start + TYPING_LEASE));
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
        assert_eq!(lobby.next_typing_deadline(), None);
    }

    #[test]
    fn chat_ends_typing_first() {
        let mut lobby = logged_in(&["Ann"]);
        at(&mut lobby, 0, ClientEvent::Typing);
        let out = at(&mut lobby, 0, ClientEvent::chat("done"));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].event, ServerEvent::UserStoppedTyping("Ann".into()));
        assert!(matches!(out[1].event, ServerEvent::Chat(_)));
    }

    #[test]
    fn disconnect_ends_typing_before_leaving() {
        let mut lobby = logged_in(&["Ann"]);
        at(&mut lobby, 0, ClientEvent::Typing);
        let out = lobby.disconnect(&0);
        assert_eq!(
            out.iter().map(|o| o.event.name()).collect::<Vec<_>>(),
            vec!["userStoppedTyping", "userLeft"]
        );
        assert_eq!(lobby.next_typing_deadline(), None);
    }

    #[test]
    fn leases_expire() {
        let mut lobby = logged_in(&["Ann", "Bob", "Cat"]);
        let start = Instant::now();
        lobby.handle(&0, ClientEvent::Typing, start);
        lobby.handle(&1, ClientEvent::Typing, start + Duration::from_secs(2));
        assert!(lobby
            .expire_typing(start + Duration::from_millis(2999))
            .is_empty());
        let out = lobby.expire_typing(start + TYPING_LEASE);
        assert_eq!(
            out,
            vec![Outgoing::everyone_except(
                0,
                ServerEvent::UserStoppedTyping("Ann".into())
            )]
        );
        assert_eq!(
            lobby.next_typing_deadline(),
            Some(start + Duration::from_secs(5))
        );
        // Renewing pushes the deadline out.
        lobby.handle(&1, ClientEvent::Typing, start + Duration::from_secs(4));
        assert!(lobby
            .expire_typing(start + Duration::from_secs(6))
            .is_empty());
        assert_eq!(lobby.expire_typing(start + Duration::from_secs(7)).len(), 1);
    }
}
