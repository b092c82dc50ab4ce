use std::time::Duration;

use leptos::prelude::*;

use super::{ChatLine, LineKind};
use crate::protocol::{ClientEvent, ServerEvent};

/// The most lines kept in the message list.
const MAX_LINES: usize = 500;
/// After a reconnect, the server may still hold our old session until its heartbeat
/// times out; logging in again is retried this often until it lets the name go...
const RELOGIN_RETRY: Duration = Duration::from_secs(2);
/// ...this many times (longer than the server's ping interval + timeout). After that,
/// someone else has the name: back to the login form.
const MAX_RELOGIN_ATTEMPTS: u32 = 15;

/// State of the connection to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// First connection attempt (also what the server renders).
    Connecting,
    Online,
    /// The connection dropped; the client is trying again.
    Reconnecting,
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    InvalidName,
    NameTaken,
}

impl LoginError {
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidName => "Invalid name: 3 to 10 characters",
            Self::NameTaken => "Name already taken",
        }
    }
}

/// Something the client must do after applying an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send(ClientEvent),
    SendAfter(ClientEvent, Duration),
}

/// The client's chat state, as signals the components read.
#[derive(Debug, Clone, Copy)]
pub struct ChatStore {
    /// The name you are logged in as.
    pub me: RwSignal<Option<String>>,
    pub login_error: RwSignal<Option<LoginError>>,
    /// Online users, in order of login.
    pub users: RwSignal<Vec<String>>,
    pub lines: RwSignal<Vec<ChatLine>>,
    /// Other users currently typing.
    pub typing: RwSignal<Vec<String>>,
    pub connection: RwSignal<Connection>,
    next_line_id: StoredValue<u64>,
    /// Failed attempts to log back in after a reconnect; `None` when not doing that.
    relogin_attempts: StoredValue<Option<u32>>,
}

impl Default for ChatStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatStore {
    pub fn new() -> Self {
        Self {
            me: RwSignal::new(None),
            login_error: RwSignal::new(None),
            users: RwSignal::new(Vec::new()),
            lines: RwSignal::new(Vec::new()),
            typing: RwSignal::new(Vec::new()),
            connection: RwSignal::new(Connection::Connecting),
            next_line_id: StoredValue::new(0),
            relogin_attempts: StoredValue::new(None),
        }
    }

    /// The socket is connected (again): log back in if we were.
    pub fn connected(&self) -> Vec<Action> {
        self.connection.set(Connection::Online);
        match self.me.get_untracked() {
            Some(name) => {
                self.relogin_attempts.set_value(Some(0));
                vec![Action::Send(ClientEvent::login(&name))]
            }
            None => Vec::new(),
        }
    }

    /// Whether we are logging back in after a reconnect: what the user sends meanwhile
    /// must wait for the server's `welcome`.
    pub fn rejoining(&self) -> bool {
        self.relogin_attempts.get_value().is_some()
    }

    /// The socket dropped: nobody can be seen typing until we know again.
    pub fn connection_lost(&self) {
        self.connection.set(Connection::Reconnecting);
        self.typing.update(Vec::clear);
    }

    /// Applies one event from the server.
    pub fn apply(&self, event: ServerEvent) -> Vec<Action> {
        match event {
            ServerEvent::Welcome(name) => {
                self.relogin_attempts.set_value(None);
                let again = self.me.get_untracked().as_deref() == Some(name.as_str());
                self.login_error.set(None);
                self.me.set(Some(name.clone()));
                let text = if again {
                    format!("Reconnected as {name}.")
                } else {
                    format!("Welcome to the chat, {name}!")
                };
                self.push_line(LineKind::Server, text);
                return vec![Action::Send(ClientEvent::OnlineUsers)];
            }
            ServerEvent::LoginNameBad(_) => self.login_error.set(Some(LoginError::InvalidName)),
            ServerEvent::LoginNameExists(name) => match self.relogin_attempts.get_value() {
                // Probably our own previous session, not yet timed out on the server.
                Some(attempts) if attempts + 1 < MAX_RELOGIN_ATTEMPTS => {
                    self.relogin_attempts.set_value(Some(attempts + 1));
                    return vec![Action::SendAfter(ClientEvent::login(&name), RELOGIN_RETRY)];
                }
                Some(_) => {
                    self.relogin_attempts.set_value(None);
                    self.me.set(None);
                    self.users.update(Vec::clear);
                    self.login_error.set(Some(LoginError::NameTaken));
                }
                None => self.login_error.set(Some(LoginError::NameTaken)),
            },
            ServerEvent::UserJoined(name) => {
                self.users.update(|users| {
                    if !users.contains(&name) {
                        users.push(name.clone());
                    }
                });
                self.push_line(LineKind::Notice, format!("{name} joined"));
            }
            ServerEvent::UserLeft(name) => {
                self.users.update(|users| users.retain(|u| *u != name));
                self.typing.update(|typing| typing.retain(|u| *u != name));
                self.push_line(LineKind::Notice, format!("{name} left"));
            }
            ServerEvent::OnlineUsers(names) => self.users.set(names),
            ServerEvent::Chat(message) => {
                let own = self.me.get_untracked().as_deref() == Some(message.sender.as_str());
                self.typing
                    .update(|typing| typing.retain(|u| *u != message.sender));
                self.push_line(
                    LineKind::Message {
                        sender: message.sender,
                        own,
                    },
                    message.message,
                );
            }
            ServerEvent::UserTyping(name) => {
                if self.me.get_untracked().as_deref() != Some(name.as_str()) {
                    self.typing.update(|typing| {
                        if !typing.contains(&name) {
                            typing.push(name);
                        }
                    });
                }
            }
            ServerEvent::UserStoppedTyping(name) => {
                self.typing.update(|typing| typing.retain(|u| *u != name));
            }
            ServerEvent::SessionEnded(_) => self.me.set(None),
            ServerEvent::RequestRejected(rejection) => {
                leptos::logging::warn!(
                    "server refused `{}`: {}",
                    rejection.event,
                    rejection.message
                );
            }
        }
        Vec::new()
    }

    fn push_line(&self, kind: LineKind, text: String) {
        let id = self.next_line_id.get_value();
        self.next_line_id.set_value(id + 1);
        self.lines.update(|lines| {
            lines.push(ChatLine { id, kind, text });
            if lines.len() > MAX_LINES {
                lines.drain(..lines.len() - MAX_LINES);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ChatMessage, Rejection, RejectionReason};
    use serde_json::json;

    fn chat(sender: &str, text: &str) -> ServerEvent {
        ServerEvent::Chat(ChatMessage {
            sender: sender.into(),
            message: text.into(),
        })
    }

    thread_local! {
        /// Signals need a live reactive owner (and, on the server build, its arena).
        static OWNER: Owner = Owner::new();
    }

    fn new_store() -> ChatStore {
        OWNER.with(Owner::set);
        ChatStore::new()
    }

    fn logged_in_as(name: &str) -> ChatStore {
        let store = new_store();
        store.connected();
        let actions = store.apply(ServerEvent::Welcome(name.into()));
        assert_eq!(actions, vec![Action::Send(ClientEvent::OnlineUsers)]);
        store.apply(ServerEvent::UserJoined(name.into()));
        store
    }

    #[test]
    fn welcome_starts_with_a_server_line() {
        let store = logged_in_as("Ann");
        let lines = store.lines.get_untracked();
        assert_eq!(lines[0].kind, LineKind::Server);
        assert_eq!(lines[0].text, "Welcome to the chat, Ann!");
        assert_eq!(lines[1].text, "Ann joined");
        assert_eq!(store.users.get_untracked(), vec!["Ann"]);
    }

    #[test]
    fn login_errors() {
        let store = new_store();
        store.apply(ServerEvent::LoginNameBad(json!("ab")));
        assert_eq!(
            store.login_error.get_untracked(),
            Some(LoginError::InvalidName)
        );
        store.apply(ServerEvent::LoginNameExists("Ann".into()));
        assert_eq!(
            store.login_error.get_untracked().map(LoginError::message),
            Some("Name already taken")
        );
        store.apply(ServerEvent::Welcome("Bob".into()));
        assert_eq!(store.login_error.get_untracked(), None);
    }

    #[test]
    fn own_messages_are_marked() {
        let store = logged_in_as("Ann");
        store.apply(chat("Ann", "mine"));
        store.apply(chat("Bob", "theirs"));
        let kinds: Vec<LineKind> = store
            .lines
            .get_untracked()
            .into_iter()
            .skip(2)
            .map(|l| l.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                LineKind::Message {
                    sender: "Ann".into(),
                    own: true
                },
                LineKind::Message {
                    sender: "Bob".into(),
                    own: false
                },
            ]
        );
    }

    #[test]
    fn users_follow_joins_and_leaves() {
        let store = logged_in_as("Ann");
        store.apply(ServerEvent::OnlineUsers(vec!["Ann".into(), "Bob".into()]));
        store.apply(ServerEvent::UserJoined("Cat".into()));
        store.apply(ServerEvent::UserJoined("Cat".into()));
        store.apply(ServerEvent::UserLeft("Bob".into()));
        assert_eq!(store.users.get_untracked(), vec!["Ann", "Cat"]);
        assert_eq!(
            store.lines.get_untracked().last().map(|l| l.text.clone()),
            Some("Bob left".into())
        );
    }

    #[test]
    fn typing_list_never_sticks() {
        let store = logged_in_as("Ann");
        store.apply(ServerEvent::UserTyping("Bob".into()));
        store.apply(ServerEvent::UserTyping("Bob".into()));
        store.apply(ServerEvent::UserTyping("Cat".into()));
        store.apply(ServerEvent::UserTyping("Ann".into()));
        assert_eq!(
            store.typing.get_untracked(),
            vec!["Bob", "Cat"],
            "never yourself, never twice"
        );
        store.apply(chat("Bob", "done"));
        assert_eq!(store.typing.get_untracked(), vec!["Cat"]);
        store.apply(ServerEvent::UserLeft("Cat".into()));
        assert!(store.typing.get_untracked().is_empty());
        store.apply(ServerEvent::UserTyping("Dan".into()));
        store.connection_lost();
        assert!(store.typing.get_untracked().is_empty());
        assert_eq!(store.connection.get_untracked(), Connection::Reconnecting);
    }

    #[test]
    fn reconnect_logs_back_in() {
        let store = logged_in_as("Ann");
        store.connection_lost();
        assert_eq!(
            store.connected(),
            vec![Action::Send(ClientEvent::login("Ann"))]
        );
        // The old session still holds the name: retry later, no error shown.
        assert_eq!(
            store.apply(ServerEvent::LoginNameExists("Ann".into())),
            vec![Action::SendAfter(ClientEvent::login("Ann"), RELOGIN_RETRY)]
        );
        assert_eq!(store.login_error.get_untracked(), None);
        assert!(store.rejoining(), "sending waits for the welcome");
        store.apply(ServerEvent::Welcome("Ann".into()));
        assert!(!store.rejoining());
        assert_eq!(
            store.lines.get_untracked().last().map(|l| l.text.clone()),
            Some("Reconnected as Ann.".into())
        );
    }

    #[test]
    fn a_name_taken_for_good_sends_back_to_the_login_form() {
        let store = logged_in_as("Ann");
        store.connection_lost();
        store.connected();
        for _ in 1..MAX_RELOGIN_ATTEMPTS {
            let retry = store.apply(ServerEvent::LoginNameExists("Ann".into()));
            assert!(matches!(retry[..], [Action::SendAfter(..)]));
        }
        assert!(store
            .apply(ServerEvent::LoginNameExists("Ann".into()))
            .is_empty());
        assert_eq!(store.me.get_untracked(), None);
        assert!(!store.rejoining());
        assert_eq!(
            store.login_error.get_untracked(),
            Some(LoginError::NameTaken)
        );
    }

    #[test]
    fn the_list_is_bounded() {
        let store = logged_in_as("Ann");
        for i in 0..(MAX_LINES + 10) {
            store.apply(chat("Bob", &i.to_string()));
        }
        let lines = store.lines.get_untracked();
        assert_eq!(lines.len(), MAX_LINES);
        assert_eq!(
            lines.last().map(|l| l.text.clone()),
            Some((MAX_LINES + 9).to_string())
        );
    }

    #[test]
    fn rejections_change_nothing() {
        let store = logged_in_as("Ann");
        let before = store.lines.get_untracked();
        store.apply(ServerEvent::RequestRejected(Rejection::new(
            "chat",
            RejectionReason::EmptyMessage,
        )));
        assert_eq!(store.lines.get_untracked(), before);
    }
}
