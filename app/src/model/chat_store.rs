use std::collections::BTreeMap;

use leptos::prelude::*;

use super::timeline::{self, Keys};
use super::{
    Action, ChatLine, Conversation, HistoryPurpose, InitialState, LineKind, Me, Message, Page,
    Request, SavedUnsent, UnsentIn,
};
use crate::protocol::time::ms_from_iso;
use crate::protocol::{
    Announcement, Conversations, HistoryReply, JoinReply, MemberChange, MemberEvent, Presence,
    PresenceStatus, RejectionReason, RoomInfo, RoomList, SendReceipt, ServerEvent,
    SessionEndReason, GENERAL,
};
use crate::route::{ConvKey, Route};

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
    /// A moderator removed you from the chat (`sessionEnded` `kicked`).
    Kicked,
    /// The server could not be reached or failed.
    Unavailable,
    /// Too many log-ins from this address lately.
    TooMany,
}

impl LoginError {
    pub fn message(self) -> &'static str {
        match self {
            Self::InvalidName => "Invalid name: 3 to 10 characters",
            Self::NameTaken => "Name already taken",
            Self::SessionEnded => "Your session has ended. Pick a name to join again.",
            Self::Kicked => SessionEndReason::Kicked.describe(),
            Self::Unavailable => "Cannot reach the chat right now. Try again.",
            Self::TooMany => "Too many log-ins from your address. Wait a moment and try again.",
        }
    }

    /// From the `reason` of a refused `POST /api/session` (or `?login-error=`).
    pub fn from_reason(reason: &str) -> Self {
        match reason {
            "invalidName" | "badRequest" => Self::InvalidName,
            "nameTaken" => Self::NameTaken,
            "rateLimited" => Self::TooMany,
            _ => Self::Unavailable,
        }
    }
}

/// The client's chat state, as signals the components read. Every conversation's data
/// is in [`ChatStore::conversations`]; the page shows the one [`ChatStore::route`] names.
#[derive(Debug, Clone, Copy)]
pub struct ChatStore {
    /// You, once logged in.
    pub me: RwSignal<Option<Me>>,
    pub login_error: RwSignal<Option<LoginError>>,
    /// The page shown.
    pub route: RwSignal<Route>,
    pub conversations: RwSignal<BTreeMap<ConvKey, Conversation>>,
    /// Everyone online or away, in order of log-in.
    pub presence: RwSignal<Vec<Presence>>,
    /// The members in the room shown, and which room that list is of.
    pub room_users: RwSignal<(String, Vec<String>)>,
    /// Every room, for the rooms page (`None` until listed).
    pub all_rooms: RwSignal<Option<Vec<RoomInfo>>>,
    pub connection: RwSignal<Connection>,
    /// Times can be shown in the reader's time zone (false on the server and until the
    /// browser app runs: UTC).
    pub local_time: RwSignal<bool>,
    /// The page is hidden (another tab, minimized): messages count as unread, you are away.
    pub hidden: RwSignal<bool>,
    /// A refusal worth showing (a room name that is not one, a DM to nobody).
    pub notice: RwSignal<Option<String>>,
    /// Welcomed since the last log-in: later welcomes (reconnections) are silent.
    greeted: StoredValue<bool>,
    /// Line keys, unique across conversations (the message list is keyed by them).
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
        let me_id = initial.me.as_ref().map_or(0, |me| me.user_id);
        let route = Route::parse(&initial.path);
        let mut conversations = BTreeMap::new();
        conversations.insert(ConvKey::general(), Conversation::new(GENERAL, true));
        for room in &initial.rooms {
            let c = conversations
                .entry(ConvKey::Room(room.room.clone()))
                .or_insert_with(|| Conversation::new(&room.room, true));
            c.member = true;
            c.listed(room.unread, room.last_id, room.read_up_to);
        }
        for dm in &initial.dms {
            let c = conversations
                .entry(ConvKey::with(&dm.with))
                .or_insert_with(|| Conversation::new(&dm.with, true));
            c.their_read_up_to = dm.their_read_up_to;
            c.listed(dm.unread, dm.last_id, dm.read_up_to);
        }
        if let (Some(key), Some(snapshot)) = (route.conversation(), initial.conversation) {
            let name = match (&key, &snapshot.with) {
                (ConvKey::Room(room), _) => room.clone(),
                (ConvKey::With(_), Some(with)) => with.clone(),
                (ConvKey::With(lower), None) => lower.clone(),
            };
            let c = conversations
                .entry(key)
                .or_insert_with(|| Conversation::new(&name, snapshot.member));
            c.member = snapshot.member || c.name == GENERAL;
            c.read_up_to = c.read_up_to.max(snapshot.read_up_to);
            c.their_read_up_to = c.their_read_up_to.max(snapshot.their_read_up_to);
            if snapshot.exists {
                c.load(
                    Page::new(snapshot.messages, snapshot.has_more).with_deleted(snapshot.deleted),
                    me_id,
                    &mut keys,
                );
            }
            // The page showed it: read now; "New messages" where it was read up to.
            c.divider = (c.unread > 0).then_some(snapshot.read_up_to);
            let newest = c.last_id;
            c.read_to(newest);
        }
        // The page's members are those of the room it shows.
        let shown_room = match &route {
            Route::Room(room) => room.clone(),
            _ => String::new(),
        };
        Self {
            login_error: RwSignal::new(initial.login_error.as_deref().map(LoginError::from_reason)),
            me: RwSignal::new(initial.me),
            route: RwSignal::new(route),
            conversations: RwSignal::new(conversations),
            presence: RwSignal::new(initial.presence),
            room_users: RwSignal::new((shown_room, initial.room_users)),
            all_rooms: RwSignal::new(initial.all_rooms),
            connection: RwSignal::new(Connection::Connecting),
            local_time: RwSignal::new(false),
            hidden: RwSignal::new(false),
            notice: RwSignal::new(initial.error),
            greeted: StoredValue::new(false),
            keys: StoredValue::new(keys),
        }
    }

    fn me_id(&self) -> u64 {
        self.me
            .with_untracked(|me| me.as_ref().map_or(0, |me| me.user_id))
    }

    fn my_name(&self) -> Option<String> {
        self.me
            .with_untracked(|me| me.as_ref().map(|me| me.name.clone()))
    }

    /// The conversation shown, if the page shows one.
    pub fn current(&self) -> Option<ConvKey> {
        self.route.with_untracked(Route::conversation)
    }

    /// Changes one conversation (created if new, named `name`), with the line keys.
    fn change<T>(
        &self,
        key: &ConvKey,
        name: &str,
        f: impl FnOnce(&mut Conversation, &mut Keys) -> T,
    ) -> Option<T> {
        let (mut f, mut result) = (Some(f), None);
        self.change_any(key, name, &mut |c, keys| {
            result = f.take().map(|f| f(c, keys));
        });
        result
    }

    /// [`ChatStore::change`] without its type parameters: the map's code exists once.
    fn change_any(
        &self,
        key: &ConvKey,
        name: &str,
        f: &mut dyn FnMut(&mut Conversation, &mut Keys),
    ) {
        let mut keys = self.keys.get_value();
        self.conversations.try_update(|all| {
            let c = all
                .entry(key.clone())
                .or_insert_with(|| Conversation::new(name, matches!(key, ConvKey::With(_))));
            f(c, &mut keys);
        });
        self.keys.set_value(keys);
    }

    fn name_of(&self, key: &ConvKey) -> String {
        self.conversations
            .with_untracked(|all| match (all.get(key), key) {
                (Some(c), _) => c.name.clone(),
                (None, ConvKey::Room(room)) => room.clone(),
                (None, ConvKey::With(name)) => name.clone(),
            })
    }

    /// Whether you are reading `key` now: shown, and the page visible.
    fn reading(&self, key: &ConvKey) -> bool {
        self.current().as_ref() == Some(key) && !self.hidden.get_untracked()
    }

    // --- Logging in and out -------------------------------------------------------------

    /// The server accepted a log-in (`POST /api/session`).
    pub fn logged_in(&self, me: Me) {
        self.login_error.set(None);
        let id = me.user_id;
        let mut keys = self.keys.get_value();
        self.conversations.update(|all| {
            for c in all.values_mut() {
                timeline::mark_own(&mut c.lines, id, &mut keys);
            }
        });
        self.keys.set_value(keys);
        if self
            .me
            .with_untracked(|current| current.as_ref() != Some(&me))
        {
            self.me.set(Some(me));
        }
    }

    /// You logged out, or your session ended (`reason`, when not by your choice).
    pub fn logged_out(&self, error: Option<LoginError>) {
        self.greeted.set_value(false);
        self.me.set(None);
        self.presence.update(Vec::clear);
        self.room_users.update(|(_, users)| users.clear());
        // The next user (this tab may log in again) has `general` and nothing else, and
        // nothing of this one's in it: read state, own lines, unsent messages.
        self.conversations.update(|all| {
            all.retain(|key, _| *key == ConvKey::general());
            for c in all.values_mut() {
                c.forget_reader();
            }
        });
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
        self.conversations.update(|all| {
            for c in all.values_mut() {
                c.typing.clear();
                c.loading_older = false;
                c.catching_up = false;
            }
        });
    }

    /// Logged in on this connection: learn the conversations, catch up with what was
    /// missed in each one held, refresh the room shown, then send what waited.
    fn welcomed(&self, name: String) -> Vec<Action> {
        self.login_error.set(None);
        if !self.greeted.get_value() {
            self.greeted.set_value(true);
            self.notice_in(
                &ConvKey::general(),
                format!("Welcome to the chat, {name}!"),
                LineKind::Server,
            );
        }
        let mut actions = vec![Action::Send(Request::MyConversations)];
        let held: Vec<(ConvKey, u64)> = self.conversations.with_untracked(|all| {
            all.iter()
                .filter(|(_, c)| c.loaded)
                .map(|(key, c)| (key.clone(), c.contiguous()))
                .collect()
        });
        for (key, after) in held {
            actions.extend(self.catch_up(&key, after));
        }
        if let Some(key) = self.current() {
            let loaded = self
                .conversations
                .with_untracked(|all| all.get(&key).is_some_and(|c| c.loaded));
            if !loaded {
                let name = self.name_of(&key);
                actions.push(Action::Send(Request::History {
                    query: history_query(&key, &name, None, None),
                    of: key,
                    purpose: HistoryPurpose::Latest,
                }));
            }
        }
        if self.hidden.get_untracked() {
            actions.push(Action::Send(Request::SetPresence(PresenceStatus::Away)));
        }
        // Those waiting out a rate limit go now with the rest, once: on their way again.
        let _on_their_way = self.resend_waiting();
        let unsent: Vec<(ConvKey, String, Vec<super::UnsentMessage>)> =
            self.conversations.with_untracked(|all| {
                all.iter()
                    .map(|(key, c)| (key.clone(), c.name.clone(), timeline::unsent(&c.lines)))
                    .filter(|(_, _, unsent)| !unsent.is_empty())
                    .collect()
            });
        for (key, name, messages) in unsent {
            for message in messages {
                actions.push(Action::Send(Request::Send {
                    to: key.clone(),
                    name: name.clone(),
                    client_id: message.client_id,
                    text: message.text,
                }));
            }
        }
        actions
    }

    /// `history {after}` for one conversation, unless one is on its way.
    fn catch_up(&self, key: &ConvKey, after: u64) -> Option<Action> {
        let name = self.name_of(key);
        let start = self.change(key, &name, |c, _| {
            let start = !c.catching_up;
            c.catching_up = true;
            start
        })?;
        start.then(|| {
            Action::Send(Request::History {
                of: key.clone(),
                query: history_query(key, &name, None, Some(after)),
                purpose: HistoryPurpose::CatchUp,
            })
        })
    }

    /// `join_room` for the room shown (you are in it): its `room_users` comes back.
    fn refresh_room(&self) -> Option<Action> {
        let Some(ConvKey::Room(room)) = self.current() else {
            return None;
        };
        if room == GENERAL {
            // Everyone online is in it: the presence list says who.
            return None;
        }
        let member = self.conversations.with_untracked(|all| {
            all.get(&ConvKey::Room(room.clone()))
                .is_some_and(|c| c.member)
        });
        member.then_some(Action::Send(Request::Join(room)))
    }

    // --- Navigation ---------------------------------------------------------------------

    /// Shows `route`: what to ask the server for it (its history if not held yet, the
    /// room's members, read markers, the rooms list).
    pub fn navigate(&self, route: Route) -> Vec<Request> {
        if let Some(previous) = self.current() {
            let name = self.name_of(&previous);
            self.change(&previous, &name, |c, _| c.divider = None);
        }
        self.notice.set(None);
        if self.route.with_untracked(|r| *r != route) {
            self.route.set(route.clone());
        }
        let mut requests = Vec::new();
        match route.conversation() {
            Some(key) => {
                let name = match &route {
                    Route::Direct(name) => self
                        .conversations
                        .with_untracked(|all| all.get(&key).map(|c| c.name.clone()))
                        .unwrap_or_else(|| name.clone()),
                    _ => self.name_of(&key),
                };
                let (loaded, member) = self
                    .change(&key, &name, |c, _| {
                        c.divider = (c.unread > 0).then_some(c.read_up_to);
                        (c.loaded, c.member)
                    })
                    .unwrap_or_default();
                if let ConvKey::Room(room) = &key {
                    self.room_users.set((room.clone(), Vec::new()));
                    if member {
                        requests.push(Request::Join(room.clone()));
                    }
                }
                if !loaded {
                    requests.push(Request::History {
                        of: key.clone(),
                        query: history_query(&key, &name, None, None),
                        purpose: HistoryPurpose::Latest,
                    });
                }
                requests.extend(self.mark_read(&key));
            }
            None => requests.push(Request::ListRooms),
        }
        requests
    }

    /// The room a join box asks for, normalized (its page), or `None` with a notice when
    /// it is not a valid room name.
    pub fn join_room(&self, wanted: &str) -> Option<Route> {
        let room = wanted.trim().to_ascii_lowercase();
        let valid = (1..=crate::protocol::limits::ROOM_NAME_MAX_CHARS).contains(&room.len())
            && room
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            self.notice
                .set(Some(RejectionReason::BadRoomName.describe().to_owned()));
            return None;
        }
        Some(Route::Room(room))
    }

    /// Marks the conversation read up to its newest message, if you are reading it and
    /// something is unread.
    fn mark_read(&self, key: &ConvKey) -> Option<Request> {
        if !self.reading(key) {
            return None;
        }
        let name = self.name_of(key);
        let newest = self.change(key, &name, |c, _| {
            let newest = c.newest().max(c.last_id);
            let due = c.unread > 0 || newest > c.read_up_to;
            c.read_to(newest);
            (due && newest > 0).then_some(newest)
        })??;
        Some(Request::MarkRead {
            to: key.clone(),
            name,
            id: newest,
        })
    }

    /// Whether the page is hidden: new messages count as unread; you are away.
    pub fn set_hidden(&self, hidden: bool) -> Vec<Request> {
        if self.hidden.get_untracked() == hidden {
            return Vec::new();
        }
        self.hidden.set(hidden);
        if self.me.with_untracked(Option::is_none) {
            return Vec::new();
        }
        let status = if hidden {
            PresenceStatus::Away
        } else {
            PresenceStatus::Online
        };
        let mut requests = vec![Request::SetPresence(status)];
        if let Some(key) = self.current() {
            requests.extend(self.mark_read(&key));
        }
        requests
    }

    /// All unread messages (the page title while hidden).
    pub fn total_unread(&self) -> u64 {
        self.conversations
            .with(|all| all.values().map(|c| c.unread).sum())
    }

    // --- Sending ------------------------------------------------------------------------

    /// You send `text` to the conversation shown: it shows at once as pending (or, if
    /// messages of yours there wait out a rate limit, waits behind them: `None`).
    pub fn compose(&self, text: &str, client_id: String) -> Option<Request> {
        let me = self.me.get_untracked()?;
        let key = self.current()?;
        let name = self.name_of(&key);
        let waits = self.change(&key, &name, |c, keys| {
            timeline::add_pending(&mut c.lines, (&me.name, me.user_id), &client_id, text, keys);
            timeline::wait_behind(&mut c.lines, &client_id)
        })?;
        if waits {
            return None;
        }
        Some(Request::Send {
            to: key,
            name,
            client_id,
            text: text.to_owned(),
        })
    }

    /// Sends a refused message again, with the same client id (stored at most once).
    pub fn retry(&self, client_id: &str) -> Option<Request> {
        let key = self.current()?;
        let name = self.name_of(&key);
        let text = self.change(&key, &name, |c, _| timeline::retry(&mut c.lines, client_id))??;
        Some(Request::Send {
            to: key,
            name,
            client_id: client_id.to_owned(),
            text,
        })
    }

    /// The server's answer to one of your messages. Refused for coming too fast, it
    /// waits, and is sent again after the server's wait.
    pub fn send_receipt(
        &self,
        key: &ConvKey,
        client_id: &str,
        receipt: &SendReceipt,
    ) -> Vec<Action> {
        let name = self.name_of(key);
        self.change(key, &name, |c, _| {
            timeline::apply_receipt(&mut c.lines, client_id, receipt);
            if let Some(id) = receipt.id {
                c.last_id = c.last_id.max(id);
            }
            // Stored, then deleted before this answer came: it goes too.
            c.forget_deleted_lines();
        });
        if receipt.ok {
            return Vec::new();
        }
        if receipt.reason == Some(RejectionReason::RateLimited) {
            // Without a wait said, a second: the server's own limits refill faster.
            return vec![Action::ResendAfter(receipt.retry_after_ms.unwrap_or(1000))];
        }
        leptos::logging::warn!(
            "message refused: {}",
            receipt.message.as_deref().unwrap_or_default()
        );
        Vec::new()
    }

    /// Your messages that were refused for coming too fast, to send again now, in the
    /// order written in each conversation.
    pub fn resend_waiting(&self) -> Vec<Request> {
        let keys: Vec<(ConvKey, String)> = self.conversations.with_untracked(|all| {
            all.iter()
                .map(|(key, c)| (key.clone(), c.name.clone()))
                .collect()
        });
        let mut requests = Vec::new();
        for (key, name) in keys {
            let resent = self
                .change(&key, &name, |c, _| timeline::resend_waiting(&mut c.lines))
                .unwrap_or_default();
            requests.extend(resent.into_iter().map(|message| Request::Send {
                to: key.clone(),
                name: name.clone(),
                client_id: message.client_id,
                text: message.text,
            }));
        }
        requests
    }

    /// "I am typing" (or stopped) in the conversation shown.
    pub fn typing(&self, is_typing: bool) -> Option<Request> {
        let key = self.current()?;
        self.me
            .with_untracked(Option::is_some)
            .then(|| Request::Typing {
                name: self.name_of(&key),
                to: key,
                is_typing,
            })
    }

    /// Asks for the page before the oldest message shown, unless one is on its way.
    pub fn load_older(&self) -> Option<Request> {
        let key = self.current()?;
        let name = self.name_of(&key);
        let before = self.change(&key, &name, |c, _| {
            if !c.has_more || c.loading_older || !c.loaded {
                return None;
            }
            c.loading_older = true;
            Some(c.older_before())
        })??;
        Some(Request::History {
            query: history_query(&key, &name, Some(before), None),
            of: key,
            purpose: HistoryPurpose::Older,
        })
    }

    // --- Answers ------------------------------------------------------------------------

    /// A request could not go out (not welcomed yet): what waited for it stops waiting.
    pub fn request_dropped(&self, request: &Request) {
        if let Request::History { of, .. } = request {
            let name = self.name_of(of);
            self.change(of, &name, |c, _| {
                c.loading_older = false;
                c.catching_up = false;
            });
        }
    }

    /// The server's answer to a `history` request.
    pub fn history_loaded(
        &self,
        key: &ConvKey,
        purpose: HistoryPurpose,
        reply: HistoryReply<Message>,
    ) -> Vec<Action> {
        let name = self.name_of(key);
        let me = self.me_id();
        if !reply.ok {
            self.change(key, &name, |c, _| {
                c.loading_older = false;
                c.catching_up = false;
                let transient = matches!(
                    reply.reason,
                    Some(RejectionReason::RateLimited | RejectionReason::StorageFailed)
                );
                if purpose == HistoryPurpose::Latest && !transient {
                    // A room nobody has created: empty, to be joined. (A transient refusal
                    // leaves it unloaded: the next welcome or opening asks again.)
                    c.loaded = true;
                    c.has_more = false;
                }
            });
            leptos::logging::warn!(
                "history refused: {}",
                reply.message.as_deref().unwrap_or_default()
            );
            return Vec::new();
        }
        if reply.resync == Some(true) {
            self.change(key, &name, |c, _| {
                c.catching_up = false;
                c.reload();
            });
            return vec![Action::Send(Request::History {
                of: key.clone(),
                query: history_query(key, &name, None, None),
                purpose: HistoryPurpose::Latest,
            })];
        }
        // Deleted by an administrator: known, and no gap to fill.
        let page = Page::new(
            reply.messages.unwrap_or_default(),
            reply.has_more.unwrap_or(false),
        )
        .with_deleted(reply.deleted);
        let gap = self.change(key, &name, |c, keys| match purpose {
            HistoryPurpose::Latest => {
                c.catching_up = false;
                c.load(page, me, keys).then(|| c.contiguous())
            }
            HistoryPurpose::Older => {
                c.add_older(page, me, keys);
                None
            }
            HistoryPurpose::CatchUp => {
                c.delete_all(&page.deleted);
                for message in page.messages {
                    let (own, id) = (me != 0 && message.user_id == me, message.id);
                    c.insert(message, me, keys);
                    if !own {
                        c.count(id);
                    }
                }
                c.catching_up = false;
                c.trim();
                None
            }
        });
        let mut actions: Vec<Action> = gap
            .flatten()
            .and_then(|after| self.catch_up(key, after))
            .into_iter()
            .collect();
        actions.extend(self.mark_read(key).map(Action::Send));
        actions
    }

    /// The answer to `my_conversations`: your rooms and DMs, their unread counts.
    pub fn conversations_listed(&self, listing: Conversations) -> Vec<Action> {
        if !listing.ok {
            return Vec::new();
        }
        self.conversations.update(|all| {
            let rooms = listing.rooms.unwrap_or_default();
            for c in all
                .iter_mut()
                .filter(|(k, _)| matches!(k, ConvKey::Room(_)))
                .map(|(_, c)| c)
            {
                c.member = c.name == GENERAL || rooms.iter().any(|r| r.room == c.name);
            }
            for room in rooms {
                let c = all
                    .entry(ConvKey::Room(room.room.clone()))
                    .or_insert_with(|| Conversation::new(&room.room, true));
                c.member = true;
                c.listed(room.unread, room.last_id, room.read_up_to);
            }
            for dm in listing.dms.unwrap_or_default() {
                let c = all
                    .entry(ConvKey::with(&dm.with))
                    .or_insert_with(|| Conversation::new(&dm.with, true));
                c.name = dm.with;
                c.their_read_up_to = c.their_read_up_to.max(dm.their_read_up_to);
                c.listed(dm.unread, dm.last_id, dm.read_up_to);
            }
        });
        // Now that your rooms are known: the members of the room shown, and its marker.
        let mut actions: Vec<Action> = self.refresh_room().into_iter().collect();
        if let Some(key) = self.current() {
            actions.extend(self.mark_read(&key).map(Action::Send));
        }
        actions
    }

    /// The answer to `join_room`.
    pub fn join_answered(&self, reply: JoinReply) -> Vec<Request> {
        if !reply.ok {
            self.notice.set(reply.message);
            return Vec::new();
        }
        let Some(room) = reply.room else {
            return Vec::new();
        };
        let key = ConvKey::Room(room.clone());
        self.change(&key, &room, |c, _| c.member = true);
        Vec::new()
    }

    /// The answer to `list_rooms`.
    pub fn rooms_listed(&self, list: RoomList) {
        if list.ok {
            self.all_rooms.set(list.rooms);
        }
    }

    // --- Server events ------------------------------------------------------------------

    /// Applies one event from the server.
    pub fn apply(&self, event: ServerEvent) -> Vec<Action> {
        match event {
            ServerEvent::Welcome(name) => {
                let someone_else = self.my_name().is_some_and(|me| {
                    crate::protocol::name_key(&me) != crate::protocol::name_key(&name)
                });
                if someone_else {
                    // The cookie is another user's now (logged out and in again in another
                    // tab): nothing of this tab's user, unsent messages least of all, may
                    // go out as them.
                    self.logged_out(Some(LoginError::SessionEnded));
                    return vec![Action::Stop];
                }
                return self.welcomed(name);
            }
            ServerEvent::SessionEnded(end) => {
                let error = match end.reason {
                    SessionEndReason::LoggedOut => None,
                    SessionEndReason::UnknownSession | SessionEndReason::NameTaken => {
                        Some(LoginError::SessionEnded)
                    }
                    SessionEndReason::Kicked => Some(LoginError::Kicked),
                };
                self.logged_out(error);
                return vec![Action::Stop];
            }
            ServerEvent::ReceiveMessage(message) => {
                let key = ConvKey::Room(message.room.clone());
                let name = message.room.clone();
                return self.received(&key, &name, message.into());
            }
            ServerEvent::PrivateMessage(message) => {
                let other = if message.is_self {
                    message.to.clone()
                } else {
                    message.from.clone()
                };
                return self.received(&ConvKey::with(&other), &other, message.into());
            }
            ServerEvent::MemberJoined(change) => return self.member_changed(change, true),
            ServerEvent::MemberLeft(change) => return self.member_changed(change, false),
            ServerEvent::RoomUsers(names, room)
                if self.current() == Some(ConvKey::Room(room.room.clone())) =>
            {
                self.room_users.set((room.room, names));
            }
            ServerEvent::TypingIn(typing) => {
                let Some((key, name)) = named(&typing.room, &typing.with) else {
                    return Vec::new();
                };
                self.change(&key, &name, |c, _| {
                    c.typing.retain(|n| *n != typing.username);
                    if typing.is_typing {
                        c.typing.push(typing.username);
                    }
                });
            }
            ServerEvent::ReadMarker(marker) => {
                if let Some((key, name)) = named(&marker.room, &marker.with) {
                    self.change(&key, &name, |c, _| c.read_to(marker.id));
                }
            }
            ServerEvent::MessagesRead(read) => {
                let key = ConvKey::with(&read.by);
                self.change(&key, &read.by, |c, _| {
                    c.their_read_up_to = c.their_read_up_to.max(read.id);
                });
            }
            ServerEvent::PresenceUpdate(list) => self.presence.set(list),
            ServerEvent::PresenceChanged(change) => {
                // The lobby tells who comes and goes: "Ann joined", "Ann left".
                let text = self.presence.try_update(|list| {
                    match list.iter_mut().find(|p| p.username == change.username) {
                        Some(_) if change.status == PresenceStatus::Offline => {
                            list.retain(|p| p.username != change.username);
                            Some(format!("{} left", change.username))
                        }
                        Some(entry) => {
                            entry.status = change.status;
                            None
                        }
                        None if change.status != PresenceStatus::Offline => {
                            let text = format!("{} joined", change.username);
                            list.push(change);
                            Some(text)
                        }
                        None => None,
                    }
                });
                if let Some(Some(text)) = text {
                    self.notice_in(&ConvKey::general(), text, LineKind::Notice);
                }
            }
            ServerEvent::MessageDeleted(deleted) => {
                return self.message_deleted(&deleted.room, &deleted.with, deleted.id);
            }
            ServerEvent::Announcement(announcement) => self.announced(announcement),
            ServerEvent::Error(error) => {
                leptos::logging::warn!("server refused `{}`: {}", error.event, error.msg);
                self.notice.set(Some(error.msg));
            }
            ServerEvent::RequestRejected(rejection) => {
                leptos::logging::warn!(
                    "server refused `{}`: {}",
                    rejection.event,
                    rejection.message
                );
            }
            // The lobby protocol's events: this client speaks the rooms protocol.
            _ => {}
        }
        Vec::new()
    }

    /// A live message: into its conversation, counted unread (marked read at once if you
    /// are reading it); a hole before it is filled from history.
    fn received(&self, key: &ConvKey, name: &str, message: Message) -> Vec<Action> {
        let me = self.me_id();
        let own = me != 0 && message.user_id == me;
        let sender = message.sender.clone();
        let id = message.id;
        let (gap, after) = self
            .change(key, name, |c, keys| {
                let gap = c.has_gap_before(id);
                let after = c.contiguous();
                c.typing.retain(|n| *n != sender);
                c.insert(message, me, keys);
                if !own {
                    c.count(id);
                }
                c.trim();
                (gap, after)
            })
            .unwrap_or_default();
        let mut actions = Vec::new();
        if gap {
            actions.extend(self.catch_up(key, after));
        }
        if !own {
            actions.extend(self.mark_read(key).map(Action::Send));
        }
        actions
    }

    /// `user_joined` / `user_left`: a notice in the room; your own (another tab's) joins
    /// and leaves change your rooms.
    fn member_changed(&self, change: MemberEvent, joined: bool) -> Vec<Action> {
        let key = ConvKey::Room(change.room.clone());
        let mine = self.my_name().as_deref() == Some(change.username.as_str());
        if mine {
            match change.reason {
                None if joined => {
                    self.change(&key, &change.room, |c, _| c.member = true);
                }
                Some(MemberChange::Left) => {
                    self.change(&key, &change.room, |c, _| c.member = false);
                }
                _ => {}
            }
            return Vec::new();
        }
        // Who comes online and goes offline is told in `general`, from presence.
        let text = match (joined, change.reason) {
            (true, None) => format!("{} joined", change.username),
            (false, Some(MemberChange::Left)) => format!("{} left", change.username),
            _ => return Vec::new(),
        };
        if !joined {
            self.change(&key, &change.room, |c, _| {
                c.typing.retain(|n| *n != change.username)
            });
        }
        self.notice_in(&key, text, LineKind::Notice);
        Vec::new()
    }

    /// `message_deleted`: the message leaves its conversation at once (if held), is never
    /// counted or shown again, and leaves no gap. A conversation this tab does not know
    /// has nothing to remove (its history will not have it).
    fn message_deleted(
        &self,
        room: &Option<String>,
        with: &Option<String>,
        id: u64,
    ) -> Vec<Action> {
        let Some((key, name)) = named(room, with) else {
            return Vec::new();
        };
        if self
            .conversations
            .with_untracked(|all| !all.contains_key(&key))
        {
            return Vec::new();
        }
        // An id past a hole: the messages before it were missed (as for a message).
        let changed = self.change(&key, &name, |c, _| {
            let gap = c.has_gap_before(id).then(|| c.contiguous());
            let removed = c.delete(id);
            (gap, !removed && c.listing_may_count(id))
        });
        let (gap, recount) = changed.unwrap_or_default();
        let mut actions: Vec<Action> = gap
            .and_then(|after| self.catch_up(&key, after))
            .into_iter()
            .collect();
        if recount {
            actions.push(Action::Send(Request::MyConversations));
        }
        actions
    }

    /// `announcement`: a line from the administrators, in `general` and in the
    /// conversation shown (wherever you look); on a page without one, also the notice bar.
    fn announced(&self, announcement: Announcement) {
        let sent_at = ms_from_iso(&announcement.time);
        let mut shown_in = vec![ConvKey::general()];
        match self.current() {
            Some(key) if key != ConvKey::general() => shown_in.push(key),
            Some(_) => {}
            None => self
                .notice
                .set(Some(format!("Announcement: {}", announcement.message))),
        }
        for key in shown_in {
            let name = self.name_of(&key);
            self.change(&key, &name, |c, keys| {
                let after = c.newest().max(c.last_id);
                timeline::add_announcement(
                    &mut c.lines,
                    &announcement.message,
                    sent_at,
                    after,
                    keys,
                );
                c.trim();
            });
        }
    }

    fn notice_in(&self, key: &ConvKey, text: String, kind: LineKind) {
        let name = self.name_of(key);
        self.change(key, &name, |c, keys| {
            timeline::add_notice(&mut c.lines, kind, text, keys);
            c.trim();
        });
    }

    // --- Unsent messages across a reload --------------------------------------------------

    /// Your unsent messages, to keep across a reload; `None` while logged out. Tracked:
    /// an effect reading it runs again when they change.
    pub fn unsent(&self) -> Option<SavedUnsent> {
        let name = self.me.with(|me| me.as_ref().map(|me| me.name.clone()))?;
        let conversations = self.conversations.with(|all| {
            all.iter()
                .map(|(key, c)| {
                    let (room, with) = match key {
                        ConvKey::Room(room) => (Some(room.clone()), None),
                        ConvKey::With(_) => (None, Some(c.name.clone())),
                    };
                    UnsentIn {
                        room,
                        with,
                        messages: timeline::unsent(&c.lines),
                    }
                })
                .filter(|u| !u.messages.is_empty())
                .collect()
        });
        Some(SavedUnsent {
            name,
            conversations,
        })
    }

    /// Puts back the unsent messages kept from before a reload, pending, if they are
    /// yours and not in the list already (stored meanwhile). Returns what to send.
    pub fn restore_unsent(&self, saved: SavedUnsent) -> Vec<Request> {
        let Some(me) = self.me.get_untracked() else {
            return Vec::new();
        };
        if me.name != saved.name {
            return Vec::new();
        }
        let mut restored = Vec::new();
        for unsent in saved.conversations {
            let (key, name) = match (unsent.room, unsent.with) {
                (Some(room), _) => (ConvKey::Room(room.clone()), room),
                (None, Some(with)) => (ConvKey::with(&with), with),
                (None, None) => continue,
            };
            self.change(&key, &name, |c, keys| {
                for message in unsent.messages {
                    if !timeline::has_own(&c.lines, &message.client_id) {
                        timeline::add_pending(
                            &mut c.lines,
                            (&me.name, me.user_id),
                            &message.client_id,
                            &message.text,
                            keys,
                        );
                        restored.push(Request::Send {
                            to: key.clone(),
                            name: name.clone(),
                            client_id: message.client_id,
                            text: message.text,
                        });
                    }
                }
            });
        }
        restored
    }

    /// The lines of the conversation shown (tracked).
    pub fn lines(&self) -> Vec<ChatLine> {
        let key = self.route.with(Route::conversation);
        self.conversations.with(|all| {
            key.and_then(|key| all.get(&key).map(|c| c.lines.clone()))
                .unwrap_or_default()
        })
    }

    /// Reads the conversation shown (tracked).
    pub fn with_current<T: Default>(&self, f: impl FnOnce(Option<&Conversation>) -> T) -> T {
        let (mut f, mut result) = (Some(f), None);
        self.with_current_any(&mut |c| result = f.take().map(|f| f(c)));
        result.unwrap_or_default()
    }

    fn with_current_any(&self, f: &mut dyn FnMut(Option<&Conversation>)) {
        let key = self.route.with(Route::conversation);
        self.conversations
            .with(|all| f(key.and_then(|key| all.get(&key))));
    }
}

/// The conversation a `room` / `with` pair of fields names, and its name as spelled.
fn named(room: &Option<String>, with: &Option<String>) -> Option<(ConvKey, String)> {
    match (room, with) {
        (Some(room), _) => Some((ConvKey::Room(room.clone()), room.clone())),
        (None, Some(with)) => Some((ConvKey::with(with), with.clone())),
        (None, None) => None,
    }
}

/// The `history` request of a conversation.
fn history_query(
    key: &ConvKey,
    name: &str,
    before: Option<u64>,
    after: Option<u64>,
) -> crate::protocol::HistoryRequest {
    let (room, with) = match key {
        ConvKey::Room(room) => (Some(room.clone()), None),
        ConvKey::With(_) => (None, Some(name.to_owned())),
    };
    crate::protocol::HistoryRequest {
        room,
        with,
        before,
        after,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Snapshot;
    use crate::protocol::{MessageDeleted, RoomMessage, SessionEnd};

    /// Runs a test inside a reactive owner: when `server` is built alongside, leptos'
    /// `ssr` turns on sandboxed arenas, and signals then need an owner's arena.
    fn in_owner(test: impl FnOnce()) {
        leptos::prelude::Owner::new().with(test)
    }

    const ANN: u64 = 1;
    const BOB: u64 = 2;

    fn message(id: u64, user_id: u64) -> Message {
        Message {
            id,
            sender: if user_id == ANN { "Ann" } else { "Bob" }.into(),
            user_id,
            text: format!("m{id}"),
            sent_at: 1_000 + id as i64,
            client_id: None,
        }
    }

    /// Ann's tab on `path`, rendered with `general`'s messages `ids` (Bob's) when it is
    /// the page shown.
    fn ann_on(path: &str, ids: &[u64]) -> ChatStore {
        ChatStore::new(InitialState {
            me: Some(Me {
                name: "Ann".into(),
                user_id: ANN,
            }),
            path: path.into(),
            conversation: (path == "/").then(|| Snapshot {
                messages: ids.iter().map(|id| message(*id, BOB)).collect(),
                member: true,
                exists: true,
                ..Snapshot::default()
            }),
            ..InitialState::default()
        })
    }

    fn ids_in(store: &ChatStore, key: &ConvKey) -> Vec<u64> {
        store.conversations.with_untracked(|all| {
            all[key]
                .lines
                .iter()
                .filter_map(ChatLine::message_id)
                .collect()
        })
    }

    fn catch_ups(actions: &[Action]) -> Vec<Option<u64>> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(Request::History {
                    purpose: HistoryPurpose::CatchUp,
                    query,
                    ..
                }) => Some(query.after),
                _ => None,
            })
            .collect()
    }

    fn live(id: u64, user_id: u64) -> ServerEvent {
        let m = message(id, user_id);
        ServerEvent::ReceiveMessage(RoomMessage {
            id,
            username: m.sender,
            message: m.text,
            time: crate::protocol::time::iso_from_ms(m.sent_at),
            room: GENERAL.into(),
            user_id,
            client_id: None,
        })
    }

    fn deleted(id: u64) -> ServerEvent {
        ServerEvent::MessageDeleted(MessageDeleted {
            room: Some(GENERAL.into()),
            with: None,
            id,
        })
    }

    #[test]
    fn a_live_delete_removes_the_line_and_the_cursor_passes_over_its_id() {
        in_owner(|| {
            let general = ConvKey::general();
            let store = ann_on("/", &[1, 2, 3]);
            store.apply(ServerEvent::Welcome("Ann".into()));
            // Not looking: what comes counts as unread.
            store.set_hidden(true);
            assert!(catch_ups(&store.apply(live(4, BOB))).is_empty());
            assert_eq!(store.total_unread(), 1);

            assert!(catch_ups(&store.apply(deleted(2))).is_empty());
            assert!(catch_ups(&store.apply(deleted(4))).is_empty());
            assert_eq!(ids_in(&store, &general), vec![1, 3]);
            assert_eq!(store.total_unread(), 0, "a deleted message is not unread");
            // The next message is no jump past a hole...
            assert!(catch_ups(&store.apply(live(5, BOB))).is_empty());
            assert_eq!(store.total_unread(), 1);
            // ...and a reconnection catches up from after it, not from the deleted ids.
            store.connection_lost();
            let welcome = store.apply(ServerEvent::Welcome("Ann".into()));
            assert_eq!(catch_ups(&welcome), vec![Some(5)]);
            // The delete of a conversation this tab does not hold changes nothing.
            store.apply(ServerEvent::MessageDeleted(MessageDeleted {
                room: None,
                with: Some("Cat".into()),
                id: 1,
            }));
            assert!(store
                .conversations
                .with_untracked(|all| !all.contains_key(&ConvKey::with("Cat"))));
        })
    }

    #[test]
    fn a_history_reply_with_deleted_ids_leaves_no_gap() {
        in_owner(|| {
            let general = ConvKey::general();
            let store = ann_on("/", &[1, 2, 3]);
            let welcome = store.apply(ServerEvent::Welcome("Ann".into()));
            assert_eq!(catch_ups(&welcome), vec![Some(3)]);
            // Missed while away: 4 and 6; 5 was deleted, and so was 3, held here.
            let reply = HistoryReply::page(vec![message(4, BOB), message(6, BOB)], false, false)
                .with_deleted(vec![3, 5]);
            let actions = store.history_loaded(&general, HistoryPurpose::CatchUp, reply);
            assert!(catch_ups(&actions).is_empty(), "nothing left to fill");
            assert_eq!(ids_in(&store, &general), vec![1, 2, 4, 6]);
            assert!(catch_ups(&store.apply(live(7, BOB))).is_empty());
            store.connection_lost();
            assert_eq!(
                catch_ups(&store.apply(ServerEvent::Welcome("Ann".into()))),
                vec![Some(7)]
            );

            // A room opened now: its newest page, with deleted ids inside it and at its end.
            let rust = ConvKey::Room("rust".into());
            store.navigate(Route::Room("rust".into()));
            let reply = HistoryReply::page(vec![message(2, BOB), message(4, BOB)], true, false)
                .with_deleted(vec![1, 3, 5]);
            let actions = store.history_loaded(&rust, HistoryPurpose::Latest, reply);
            assert!(catch_ups(&actions).is_empty());
            let live_in_rust = ServerEvent::ReceiveMessage(RoomMessage {
                room: "rust".into(),
                ..match live(6, BOB) {
                    ServerEvent::ReceiveMessage(m) => m,
                    _ => unreachable!(),
                }
            });
            assert!(catch_ups(&store.apply(live_in_rust)).is_empty());
            assert_eq!(ids_in(&store, &rust), vec![2, 4, 6]);
            match store.load_older() {
                Some(Request::History { query, .. }) => {
                    assert_eq!(query.before, Some(1), "the stretch begins with deleted 1");
                }
                other => panic!("no older page asked: {other:?}"),
            }
        })
    }

    #[test]
    fn a_page_rendered_with_deleted_ids_leaves_no_gap() {
        in_owner(|| {
            let store = ChatStore::new(InitialState {
                me: Some(Me {
                    name: "Ann".into(),
                    user_id: ANN,
                }),
                path: "/".into(),
                conversation: Some(Snapshot {
                    messages: [1, 2, 4].map(|id| message(id, BOB)).to_vec(),
                    deleted: vec![3, 5],
                    member: true,
                    exists: true,
                    ..Snapshot::default()
                }),
                ..InitialState::default()
            });
            let welcome = store.apply(ServerEvent::Welcome("Ann".into()));
            assert_eq!(catch_ups(&welcome), vec![Some(5)], "from after deleted 5");
            assert!(catch_ups(&store.apply(live(6, BOB))).is_empty());
        })
    }

    #[test]
    fn a_delete_the_last_listing_may_have_counted_asks_for_a_new_listing() {
        in_owner(|| {
            let store = ann_on("/", &[1, 2]);
            store.apply(ServerEvent::Welcome("Ann".into()));
            // `ops`, never opened: 2 unread after Ann's marker at 3, up to 5.
            store.conversations_listed(crate::protocol::Conversations {
                ok: true,
                rooms: Some(vec![crate::protocol::RoomSummary {
                    room: "ops".into(),
                    unread: 2,
                    last_id: 5,
                    read_up_to: 3,
                }]),
                dms: Some(Vec::new()),
                reason: None,
                message: None,
                retry_after_ms: None,
            });
            let in_ops = |id| {
                ServerEvent::MessageDeleted(MessageDeleted {
                    room: Some("ops".into()),
                    with: None,
                    id,
                })
            };
            assert_eq!(
                store.apply(in_ops(4)),
                vec![Action::Send(Request::MyConversations)],
                "4 may be one of the 2: only the server can recount"
            );
            assert_eq!(store.apply(in_ops(2)), vec![], "read already: not counted");
            assert_eq!(store.apply(in_ops(9)), vec![], "newer than the listing");
            // Held here: counted exactly, nothing to ask.
            assert_eq!(store.apply(deleted(2)), vec![]);
            assert_eq!(ids_in(&store, &ConvKey::general()), vec![1]);
        })
    }

    fn announcements(store: &ChatStore, key: &ConvKey) -> Vec<String> {
        store.conversations.with_untracked(|all| {
            all.get(key)
                .map(|c| {
                    c.lines
                        .iter()
                        .filter(|l| l.kind == LineKind::Announcement)
                        .map(|l| l.text.clone())
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    fn announcement(text: &str) -> ServerEvent {
        ServerEvent::Announcement(Announcement {
            message: text.into(),
            time: "2026-12-01T11:43:35.123Z".into(),
        })
    }

    #[test]
    fn an_announcement_line_is_added_once_where_you_look_and_in_general() {
        in_owner(|| {
            let text = "<b>maintenance</b> at 5";
            let store = ann_on("/", &[1]);
            store.apply(announcement(text));
            store.apply(announcement(text));
            assert_eq!(announcements(&store, &ConvKey::general()), vec![text]);
            let line = store.conversations.with_untracked(|all| {
                all[&ConvKey::general()]
                    .lines
                    .iter()
                    .find(|l| l.kind == LineKind::Announcement)
                    .cloned()
            });
            let line = line.expect("an announcement line");
            assert_eq!(line.sent_at, ms_from_iso("2026-12-01T11:43:35.123Z"));
            assert_eq!(line.order.0, 1, "after the newest message");
            assert_eq!(store.total_unread(), 0, "not a message");

            // Looking at a room: there, and in general, once each.
            let store = ann_on("/r/rust", &[]);
            store.apply(announcement(text));
            store.apply(announcement(text));
            assert_eq!(announcements(&store, &ConvKey::general()), vec![text]);
            assert_eq!(
                announcements(&store, &ConvKey::Room("rust".into())),
                vec![text]
            );
            assert_eq!(store.notice.get_untracked(), None);

            // On the rooms page, which shows no conversation: the notice bar says it too.
            let store = ann_on("/rooms", &[]);
            store.apply(announcement(text));
            assert_eq!(announcements(&store, &ConvKey::general()), vec![text]);
            assert_eq!(
                store.notice.get_untracked(),
                Some(format!("Announcement: {text}"))
            );
        })
    }

    #[test]
    fn kicked_is_logged_out_with_the_kicked_error_and_stops() {
        in_owner(|| {
            let store = ann_on("/", &[1]);
            store.apply(ServerEvent::Welcome("Ann".into()));
            let actions = store.apply(ServerEvent::SessionEnded(SessionEnd::new(
                SessionEndReason::Kicked,
            )));
            assert_eq!(
                actions,
                vec![Action::Stop],
                "no reconnection with the dead session"
            );
            assert_eq!(store.me.get_untracked(), None);
            assert_eq!(store.login_error.get_untracked(), Some(LoginError::Kicked));
            assert_eq!(
                LoginError::Kicked.message(),
                "A moderator removed you from the chat."
            );
            assert_ne!(
                LoginError::Kicked.message(),
                LoginError::SessionEnded.message()
            );
            // The other endings keep their own errors.
            let store = ann_on("/", &[]);
            store.apply(ServerEvent::SessionEnded(SessionEnd::new(
                SessionEndReason::UnknownSession,
            )));
            assert_eq!(
                store.login_error.get_untracked(),
                Some(LoginError::SessionEnded)
            );
        })
    }
}
