use leptos::prelude::*;

use super::timeline::{self, Keys};
use super::{Action, ChatLine, HistoryPurpose, InitialState, LineKind, Request, SavedUnsent};
use crate::protocol::{ChatReceipt, HistoryReply, HistoryRequest, ServerEvent, SessionEndReason};

/// The most lines kept in the message list; older ones can be loaded again.
pub const MAX_LINES: usize = 1000;

/// State of the connection to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// First connection attempt (also what the server renders).
    Connecting,
    Online,
    /// The connection dropped; the client is trying again.
    Reconnecting,
}

/// Why you are not logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    InvalidName,
    NameTaken,
    /// Your session expired or someone took your name meanwhile.
    SessionEnded,
    /// The server could not be reached or failed.
    Unavailable,
}

impl LoginError {
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidName => "Invalid name: 3 to 10 characters",
            Self::NameTaken => "Name already taken",
            Self::SessionEnded => "Your session has ended. Pick a name to join again.",
            Self::Unavailable => "Cannot reach the chat right now. Try again.",
        }
    }

    /// From the `reason` of a refused `POST /api/session` (or `?login-error=`).
    pub fn from_reason(reason: &str) -> Self {
        match reason {
            "invalidName" | "badRequest" => Self::InvalidName,
            "nameTaken" => Self::NameTaken,
            _ => Self::Unavailable,
        }
    }
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
    /// Older messages exist before the first one shown.
    pub has_more: RwSignal<bool>,
    /// A page of older messages has been asked for.
    pub loading_older: RwSignal<bool>,
    /// Messages from others that arrived while the page was hidden.
    pub unread: RwSignal<u32>,
    /// Times can be shown in the reader's time zone (false on the server and until the
    /// browser app runs: UTC).
    pub local_time: RwSignal<bool>,
    hidden: StoredValue<bool>,
    /// Welcomed since the last log-in: later welcomes (reconnections) are silent.
    greeted: StoredValue<bool>,
    keys: StoredValue<Keys>,
}

impl Default for ChatStore {
    fn default() -> Self {
        Self::new(InitialState::default())
    }
}

impl ChatStore {
    /// The state the server rendered the page with.
    pub fn new(initial: InitialState) -> Self {
        let mut keys = Keys::default();
        let mut lines = Vec::new();
        for message in initial.history {
            let own = initial.me.as_deref() == Some(message.sender.as_str());
            timeline::insert_message(&mut lines, message, own, &mut keys);
        }
        Self {
            login_error: RwSignal::new(initial.login_error.as_deref().map(LoginError::from_reason)),
            me: RwSignal::new(initial.me),
            users: RwSignal::new(initial.users),
            lines: RwSignal::new(lines),
            typing: RwSignal::new(Vec::new()),
            connection: RwSignal::new(Connection::Connecting),
            has_more: RwSignal::new(initial.has_more),
            loading_older: RwSignal::new(false),
            unread: RwSignal::new(0),
            local_time: RwSignal::new(false),
            hidden: StoredValue::new(false),
            greeted: StoredValue::new(false),
            keys: StoredValue::new(keys),
        }
    }

    /// The server accepted a log-in (`POST /api/session`).
    pub fn logged_in(&self, name: String) {
        self.login_error.set(None);
        self.with_lines(|lines, keys| timeline::mark_own(lines, &name, keys));
        self.set_me(name);
    }

    /// Changes `me` only when the name differs: the whole lobby view depends on it, and
    /// re-rendering it would wipe what is being typed.
    fn set_me(&self, name: String) {
        if self
            .me
            .with_untracked(|me| me.as_deref() != Some(name.as_str()))
        {
            self.me.set(Some(name));
        }
    }

    /// You logged out, or your session ended (`reason`, when not by your choice).
    pub fn logged_out(&self, error: Option<LoginError>) {
        self.greeted.set_value(false);
        self.me.set(None);
        self.users.update(Vec::clear);
        self.typing.update(Vec::clear);
        self.login_error.set(error);
        self.connection.set(Connection::Connecting);
    }

    /// The socket is connected (again). The server logs it in from the session cookie.
    pub fn connected(&self) {
        self.connection.set(Connection::Online);
    }

    /// The socket dropped: nobody can be seen typing until we know again.
    pub fn connection_lost(&self) {
        self.connection.set(Connection::Reconnecting);
        self.typing.update(Vec::clear);
        self.loading_older.set(false);
    }

    /// Whether the page is hidden (another tab, minimized): new messages count as unread.
    pub fn set_hidden(&self, hidden: bool) {
        self.hidden.set_value(hidden);
        if !hidden {
            self.unread.set(0);
        }
    }

    /// You send `text`: it shows at once as pending. Returns the request to send.
    pub fn compose(&self, text: &str, client_id: String) -> Option<Request> {
        let me = self.me.get_untracked()?;
        self.with_lines(|lines, keys| timeline::add_pending(lines, &me, &client_id, text, keys));
        Some(Request::Chat {
            client_id,
            text: text.to_owned(),
        })
    }

    /// Your unsent messages, to keep across a reload; `None` while logged out. Tracked:
    /// an effect reading it runs again when they change.
    pub fn unsent(&self) -> Option<SavedUnsent> {
        let name = self.me.get()?;
        let messages = self.lines.with(|lines| timeline::unsent(lines));
        Some(SavedUnsent { name, messages })
    }

    /// Puts back the unsent messages kept from before a reload, pending, if they are
    /// yours and not in the list already (stored meanwhile). Returns what to send.
    pub fn restore_unsent(&self, saved: SavedUnsent) -> Vec<Request> {
        let Some(me) = self.me.get_untracked() else {
            return Vec::new();
        };
        if me != saved.name {
            return Vec::new();
        }
        self.with_lines(|lines, keys| {
            let mut restored = Vec::new();
            for message in saved.messages {
                if !timeline::has_own(lines, &message.client_id) {
                    timeline::add_pending(lines, &me, &message.client_id, &message.text, keys);
                    restored.push(message.into());
                }
            }
            restored
        })
    }

    /// Sends a refused message again, with the same client id (stored at most once).
    pub fn retry(&self, client_id: &str) -> Option<Request> {
        let text = self.with_lines(|lines, _| timeline::retry(lines, client_id))?;
        Some(Request::Chat {
            client_id: client_id.to_owned(),
            text,
        })
    }

    /// The server's answer to one of your messages.
    pub fn chat_receipt(&self, client_id: &str, receipt: &ChatReceipt) {
        self.with_lines(|lines, _| timeline::apply_receipt(lines, client_id, receipt));
    }

    /// Asks for the page before the oldest message shown, unless one is on its way.
    pub fn load_older(&self) -> Option<Request> {
        if !self.has_more.get_untracked() || self.loading_older.get_untracked() {
            return None;
        }
        let before = self
            .lines
            .with_untracked(|lines| timeline::oldest_id(lines));
        self.loading_older.set(true);
        Some(Request::History {
            query: HistoryRequest {
                before,
                ..HistoryRequest::default()
            },
            purpose: HistoryPurpose::Older,
        })
    }

    /// The server's answer to a `history` request.
    pub fn history_loaded(&self, purpose: HistoryPurpose, reply: HistoryReply) -> Vec<Action> {
        if purpose == HistoryPurpose::Older {
            self.loading_older.set(false);
        }
        if !reply.ok {
            leptos::logging::warn!("history refused: {:?}", reply.message);
            return Vec::new();
        }
        if reply.resync == Some(true) {
            return vec![Action::Send(Request::History {
                query: HistoryRequest::default(),
                purpose: HistoryPurpose::Latest,
            })];
        }
        let messages = reply.messages.unwrap_or_default();
        let has_more = reply.has_more.unwrap_or(false);
        let me = self.me.get_untracked();
        match purpose {
            HistoryPurpose::Latest => {
                self.with_lines(|lines, keys| {
                    timeline::replace_messages(lines, messages, me.as_deref(), keys)
                });
                self.has_more.set(has_more);
            }
            HistoryPurpose::Older | HistoryPurpose::CatchUp => {
                let is_older = purpose == HistoryPurpose::Older;
                let gained = self.with_lines(|lines, keys| {
                    let mut gained = 0;
                    for message in messages {
                        let own = me.as_deref() == Some(message.sender.as_str());
                        let added = timeline::insert_message(lines, message, own, keys);
                        // Your own messages (from another tab) are not unread.
                        gained += u32::from(added && !own);
                    }
                    gained
                });
                if is_older {
                    self.has_more.set(has_more);
                } else {
                    self.count_unread(gained);
                    self.trim();
                }
            }
        }
        Vec::new()
    }

    /// Applies one event from the server.
    pub fn apply(&self, event: ServerEvent) -> Vec<Action> {
        match event {
            ServerEvent::Welcome(name) => return self.welcomed(name),
            ServerEvent::SessionEnded(end) => {
                let error = match end.reason {
                    SessionEndReason::LoggedOut => None,
                    SessionEndReason::UnknownSession | SessionEndReason::NameTaken => {
                        Some(LoginError::SessionEnded)
                    }
                };
                self.logged_out(error);
                return vec![Action::Stop];
            }
            ServerEvent::LoginNameBad(_) => self.login_error.set(Some(LoginError::InvalidName)),
            ServerEvent::LoginNameExists(_) => self.login_error.set(Some(LoginError::NameTaken)),
            ServerEvent::UserJoined(name) => {
                self.users.update(|users| {
                    if !users.contains(&name) {
                        users.push(name.clone());
                    }
                });
                self.notice(LineKind::Notice, format!("{name} joined"));
            }
            ServerEvent::UserLeft(name) => {
                self.users.update(|users| users.retain(|u| *u != name));
                self.typing.update(|typing| typing.retain(|u| *u != name));
                self.notice(LineKind::Notice, format!("{name} left"));
            }
            ServerEvent::OnlineUsers(names) => self.users.set(names),
            ServerEvent::Chat(message) => {
                let own = self.me.get_untracked().as_deref() == Some(message.sender.as_str());
                self.typing
                    .update(|typing| typing.retain(|u| *u != message.sender));
                let gained = self
                    .with_lines(|lines, keys| timeline::insert_message(lines, message, own, keys));
                if gained && !own {
                    self.count_unread(1);
                }
                self.trim();
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
            ServerEvent::RequestRejected(rejection) => {
                leptos::logging::warn!(
                    "server refused `{}`: {}",
                    rejection.event,
                    rejection.message
                );
            }
            _ => {}
        }
        Vec::new()
    }

    /// Logged in on this connection: catch up with what was missed, then send what waited.
    fn welcomed(&self, name: String) -> Vec<Action> {
        self.login_error.set(None);
        if !self.greeted.get_value() {
            self.greeted.set_value(true);
            self.notice(LineKind::Server, format!("Welcome to the chat, {name}!"));
        }
        self.set_me(name);
        // Everything after the newest message shown (from the start when none is): more
        // than the server's catch-up limit comes back as a resync, the newest page instead.
        let newest = self
            .lines
            .with_untracked(|lines| timeline::newest_id(lines));
        let catch_up = Request::History {
            query: HistoryRequest {
                after: Some(newest),
                ..HistoryRequest::default()
            },
            purpose: HistoryPurpose::CatchUp,
        };
        let mut actions = vec![
            Action::Send(Request::Event(crate::protocol::ClientEvent::OnlineUsers)),
            Action::Send(catch_up),
        ];
        let unsent = self.lines.with_untracked(|lines| timeline::unsent(lines));
        actions.extend(unsent.into_iter().map(|m| Action::Send(m.into())));
        actions
    }

    fn notice(&self, kind: LineKind, text: String) {
        self.with_lines(|lines, keys| timeline::add_notice(lines, kind, text, keys));
        self.trim();
    }

    fn count_unread(&self, count: u32) {
        if count > 0 && self.hidden.get_value() {
            self.unread.update(|unread| *unread += count);
        }
    }

    fn trim(&self) {
        let trimmed = self.with_lines(|lines, _| timeline::trim(lines, MAX_LINES));
        if trimmed {
            self.has_more.set(true);
        }
    }

    fn with_lines<T: Default>(&self, change: impl FnOnce(&mut Vec<ChatLine>, &mut Keys) -> T) -> T {
        let mut keys = self.keys.get_value();
        // `None` only once the app is gone, when nothing matters any more.
        let result = self
            .lines
            .try_update(|lines| change(lines, &mut keys))
            .unwrap_or_default();
        self.keys.set_value(keys);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnsentMessage;
    use crate::protocol::{ChatMessage, ClientEvent, RejectionReason, SessionEnd};

    thread_local! {
        /// Signals need a live reactive owner (and, on the server build, its arena).
        static OWNER: Owner = Owner::new();
    }

    fn msg(id: u64, sender: &str, text: &str) -> ChatMessage {
        ChatMessage {
            sender: sender.into(),
            message: text.into(),
            id,
            sent_at: 0,
            client_id: None,
        }
    }

    fn store_with(me: Option<&str>, history: Vec<ChatMessage>) -> ChatStore {
        OWNER.with(Owner::set);
        ChatStore::new(InitialState {
            me: me.map(Into::into),
            users: me.into_iter().map(Into::into).collect(),
            history,
            has_more: true,
            login_error: None,
        })
    }

    fn texts(store: &ChatStore) -> Vec<String> {
        store
            .lines
            .get_untracked()
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    fn catch_up(after: u64) -> Action {
        Action::Send(Request::History {
            query: HistoryRequest {
                after: Some(after),
                ..HistoryRequest::default()
            },
            purpose: HistoryPurpose::CatchUp,
        })
    }

    #[test]
    fn starts_from_the_server_rendered_state() {
        let store = store_with(
            Some("Ann"),
            vec![msg(4, "Ann", "mine"), msg(5, "Bob", "hi")],
        );
        assert_eq!(texts(&store), vec!["mine", "hi"]);
        assert!(matches!(
            store.lines.get_untracked()[0].kind,
            LineKind::Message { own: true, .. }
        ));
        assert!(store.has_more.get_untracked());
    }

    #[test]
    fn a_welcome_catches_up_and_sends_what_waited() {
        let store = store_with(Some("Ann"), vec![msg(5, "Bob", "hi")]);
        let queued = store.compose("while offline", "c1".into());
        assert!(queued.is_some());
        let actions = store.apply(ServerEvent::Welcome("Ann".into()));
        assert_eq!(
            actions,
            vec![
                Action::Send(Request::Event(ClientEvent::OnlineUsers)),
                catch_up(5),
                Action::Send(Request::Chat {
                    client_id: "c1".into(),
                    text: "while offline".into()
                }),
            ]
        );
        assert_eq!(
            texts(&store),
            vec!["hi", "Welcome to the chat, Ann!", "while offline"]
        );
        // A reconnection is silent, and the cursor follows what arrived.
        store.apply(ServerEvent::Chat(msg(6, "Bob", "new")));
        store.connection_lost();
        let actions = store.apply(ServerEvent::Welcome("Ann".into()));
        assert_eq!(actions[1], catch_up(6));
        assert_eq!(
            texts(&store)
                .iter()
                .filter(|t| t.starts_with("Welcome"))
                .count(),
            1
        );
    }

    #[test]
    fn catch_up_merges_by_id_and_resync_reloads() {
        let store = store_with(Some("Ann"), vec![msg(1, "Bob", "a")]);
        store.apply(ServerEvent::Chat(msg(3, "Bob", "c")));
        let reply = HistoryReply::page(vec![msg(2, "Bob", "b"), msg(3, "Bob", "c")], true, false);
        assert!(store
            .history_loaded(HistoryPurpose::CatchUp, reply)
            .is_empty());
        assert_eq!(texts(&store), vec!["a", "b", "c"]);

        let resync = HistoryReply::page(Vec::new(), false, true);
        let actions = store.history_loaded(HistoryPurpose::CatchUp, resync);
        assert_eq!(
            actions,
            vec![Action::Send(Request::History {
                query: HistoryRequest::default(),
                purpose: HistoryPurpose::Latest
            })]
        );
        let latest = HistoryReply::page(vec![msg(90, "Bob", "newest")], true, false);
        store.history_loaded(HistoryPurpose::Latest, latest);
        assert_eq!(texts(&store), vec!["newest"]);
    }

    #[test]
    fn older_pages_are_asked_once_and_end_at_the_beginning() {
        let store = store_with(Some("Ann"), vec![msg(51, "Bob", "x")]);
        let request = store.load_older();
        assert_eq!(
            request,
            Some(Request::History {
                query: HistoryRequest {
                    before: Some(51),
                    ..HistoryRequest::default()
                },
                purpose: HistoryPurpose::Older
            })
        );
        assert_eq!(store.load_older(), None, "one page at a time");
        let page = HistoryReply::page(vec![msg(1, "Bob", "first")], false, false);
        store.history_loaded(HistoryPurpose::Older, page);
        assert_eq!(texts(&store), vec!["first", "x"]);
        assert!(!store.has_more.get_untracked());
        assert_eq!(store.load_older(), None, "nothing before the beginning");
    }

    #[test]
    fn unread_counts_others_while_hidden() {
        let store = store_with(Some("Ann"), Vec::new());
        store.apply(ServerEvent::Chat(msg(1, "Bob", "seen")));
        store.set_hidden(true);
        store.apply(ServerEvent::Chat(msg(2, "Bob", "unseen")));
        store.apply(ServerEvent::Chat(msg(3, "Ann", "from my other tab")));
        store.apply(ServerEvent::Chat(msg(2, "Bob", "unseen")));
        assert_eq!(store.unread.get_untracked(), 1);
        store.set_hidden(false);
        assert_eq!(store.unread.get_untracked(), 0);
    }

    #[test]
    fn a_catch_up_counts_only_others_as_unread() {
        let store = store_with(Some("Ann"), vec![msg(1, "Bob", "seen")]);
        store.set_hidden(true);
        let missed = vec![
            msg(2, "Ann", "tab"),
            msg(3, "Bob", "new"),
            msg(4, "Ann", "tab"),
        ];
        store.history_loaded(
            HistoryPurpose::CatchUp,
            HistoryReply::page(missed, true, false),
        );
        assert_eq!(store.unread.get_untracked(), 1, "only Bob's message");
    }

    #[test]
    fn logging_in_under_another_name_changes_whose_messages_are_own() {
        let store = store_with(None, vec![msg(1, "Ann", "a"), msg(2, "Bob", "b")]);
        store.logged_in("Bob".into());
        let own: Vec<bool> = store
            .lines
            .get_untracked()
            .iter()
            .map(|l| matches!(l.kind, LineKind::Message { own: true, .. }))
            .collect();
        assert_eq!(own, vec![false, true]);
        assert_eq!(store.me.get_untracked().as_deref(), Some("Bob"));
    }

    #[test]
    fn a_refused_message_is_marked_and_retried_with_its_id() {
        let store = store_with(Some("Ann"), Vec::new());
        store.compose("hi", "c1".into());
        store.chat_receipt("c1", &ChatReceipt::refused(RejectionReason::StorageFailed));
        assert!(matches!(
            &store.lines.get_untracked()[0].kind,
            LineKind::Message {
                delivery: crate::model::Delivery::Failed(_),
                ..
            }
        ));
        assert_eq!(
            store.retry("c1"),
            Some(Request::Chat {
                client_id: "c1".into(),
                text: "hi".into()
            })
        );
    }

    #[test]
    fn an_ended_session_goes_back_to_the_login_form() {
        let store = store_with(Some("Ann"), Vec::new());
        let actions = store.apply(ServerEvent::SessionEnded(SessionEnd::new(
            SessionEndReason::NameTaken,
        )));
        assert_eq!(actions, vec![Action::Stop]);
        assert_eq!(store.me.get_untracked(), None);
        assert_eq!(
            store.login_error.get_untracked(),
            Some(LoginError::SessionEnded)
        );
        assert!(
            store.compose("no", "c2".into()).is_none(),
            "nobody to send as"
        );
    }

    fn unsent(client_id: &str, text: &str) -> UnsentMessage {
        UnsentMessage {
            client_id: client_id.into(),
            text: text.into(),
        }
    }

    #[test]
    fn unsent_messages_are_kept_and_put_back_after_a_reload() {
        let before = store_with(Some("Ann"), vec![msg(1, "Bob", "hi")]);
        before.compose("one", "c1".into());
        before.compose("two", "c2".into());
        let saved = before.unsent().expect("logged in");
        assert_eq!(
            saved,
            SavedUnsent {
                name: "Ann".into(),
                messages: vec![unsent("c1", "one"), unsent("c2", "two")]
            }
        );

        // The page reloads; "one" was stored before it did, so it is in the history.
        let stored = ChatMessage {
            client_id: Some("c1".into()),
            ..msg(2, "Ann", "one")
        };
        let after = store_with(Some("Ann"), vec![msg(1, "Bob", "hi"), stored]);
        let resend = after.restore_unsent(saved.clone());
        assert_eq!(
            resend,
            vec![Request::Chat {
                client_id: "c2".into(),
                text: "two".into()
            }]
        );
        assert_eq!(texts(&after), vec!["hi", "one", "two"]);
        assert_eq!(
            after.unsent().map(|s| s.messages),
            Some(vec![unsent("c2", "two")])
        );
        assert!(
            after.restore_unsent(saved).is_empty(),
            "put back once, not twice"
        );
        let actions = after.apply(ServerEvent::Welcome("Ann".into()));
        assert_eq!(
            actions.last(),
            Some(&Action::Send(Request::Chat {
                client_id: "c2".into(),
                text: "two".into()
            })),
            "sent after the welcome"
        );
    }

    #[test]
    fn unsent_messages_of_another_name_are_never_sent() {
        let saved = SavedUnsent {
            name: "Ann".into(),
            messages: vec![unsent("c1", "as Ann")],
        };
        let bob = store_with(Some("Bob"), Vec::new());
        assert!(bob.restore_unsent(saved.clone()).is_empty());
        assert!(texts(&bob).is_empty());
        assert!(store_with(None, Vec::new())
            .restore_unsent(saved)
            .is_empty());
        assert_eq!(store_with(None, Vec::new()).unsent(), None);

        // Ann writes while offline, logs out, and Bob logs in on the same page.
        let store = store_with(Some("Ann"), Vec::new());
        store.compose("as Ann", "c1".into());
        store.logged_out(None);
        store.logged_in("Bob".into());
        let actions = store.apply(ServerEvent::Welcome("Bob".into()));
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, Action::Send(Request::Chat { .. }))),
            "{actions:?}"
        );
        assert_eq!(texts(&store), vec!["Welcome to the chat, Bob!"]);
    }

    #[test]
    fn typing_list_never_sticks() {
        let store = store_with(Some("Ann"), Vec::new());
        store.apply(ServerEvent::UserTyping("Bob".into()));
        store.apply(ServerEvent::UserTyping("Bob".into()));
        store.apply(ServerEvent::UserTyping("Ann".into()));
        assert_eq!(store.typing.get_untracked(), vec!["Bob"]);
        store.apply(ServerEvent::Chat(msg(1, "Bob", "done")));
        assert!(store.typing.get_untracked().is_empty());
        store.apply(ServerEvent::UserTyping("Cat".into()));
        store.connection_lost();
        assert!(store.typing.get_untracked().is_empty());
    }
}
