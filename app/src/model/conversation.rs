//! One conversation as the client holds it: its timeline (once a page of it is loaded),
//! read state and who is typing. Plain data; the store keeps them all in one signal.

use std::collections::BTreeSet;

use super::timeline::{self, Keys};
use super::{ChatLine, Message};

/// The most lines kept per conversation; older ones can be loaded again.
pub const MAX_LINES: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// The room's name, or the other party's name as they spell it.
    pub name: String,
    /// A room you are a member of (always true for a DM).
    pub member: bool,
    pub lines: Vec<ChatLine>,
    /// A page of its history is in `lines` (its live messages are kept too).
    pub loaded: bool,
    /// Older messages exist before the oldest line.
    pub has_more: bool,
    /// The id just before the stretch of history held: `lines` has every message from
    /// `base + 1` up to [`Conversation::contiguous`], but those in `deleted`.
    pub base: u64,
    /// Ids whose messages an administrator deleted (live, or as a history answer said):
    /// never shown again, never counted, and no gap to fill.
    pub deleted: BTreeSet<u64>,
    /// A page of older messages, or a catch-up, is on its way.
    pub loading_older: bool,
    pub catching_up: bool,
    pub read_up_to: u64,
    /// How far the other party of a DM has read.
    pub their_read_up_to: u64,
    /// Unread messages: `listed_unread` plus `fresh`.
    pub unread: u64,
    /// The newest id the server's last listing (`my_conversations`) counted up to...
    pub listed_up_to: u64,
    /// ...and its count of unread messages up to there (adjusted as you read).
    pub listed_unread: u64,
    /// Messages from others newer than that listing and than the read marker, each once
    /// (a message can arrive twice: live, and in a catch-up).
    pub fresh: Vec<u64>,
    /// The newest id known (from the server's listing or a live message).
    pub last_id: u64,
    /// Where "New messages" begins, while you look at it.
    pub divider: Option<u64>,
    /// Others typing here.
    pub typing: Vec<String>,
}

/// A page of a conversation's history, as a `history` answer gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub messages: Vec<Message>,
    /// Ids within the page's stretch whose messages an administrator deleted.
    pub deleted: Vec<u64>,
    /// Older messages exist before the page.
    pub has_more: bool,
}

impl Page {
    pub fn new(messages: Vec<Message>, has_more: bool) -> Self {
        Self {
            messages,
            deleted: Vec::new(),
            has_more,
        }
    }

    pub fn with_deleted(self, deleted: Vec<u64>) -> Self {
        Self { deleted, ..self }
    }
}

impl Conversation {
    pub fn new(name: &str, member: bool) -> Self {
        Self {
            name: name.to_owned(),
            member,
            ..Self::default()
        }
    }

    /// The highest id up to which every message is held (or known deleted): the catch-up
    /// cursor.
    pub fn contiguous(&self) -> u64 {
        timeline::contiguous_from(&self.lines, &self.deleted, self.base)
    }

    /// Replaces the history held with the newest page. Your unsent messages stay, and so
    /// do the messages newer than the page that arrived live while it was on its way.
    /// Returns whether messages are missing between the page and those (to catch up).
    pub fn load(&mut self, page: Page, me: u64, keys: &mut Keys) -> bool {
        let Page {
            messages,
            deleted,
            has_more,
        } = page;
        if let Some(last) = messages.last() {
            self.last_id = self.last_id.max(last.id);
        }
        timeline::replace_messages(&mut self.lines, messages, me, keys);
        self.delete_all(&deleted);
        self.forget_deleted_lines();
        let oldest = timeline::oldest_id(&self.lines)
            .into_iter()
            .chain(deleted.iter().copied())
            .min();
        self.base = oldest.map_or(self.last_id, |id| id - 1);
        self.has_more = has_more;
        self.loaded = true;
        timeline::newest_id(&self.lines) > self.contiguous()
    }

    /// An administrator deleted message `id`: its line goes, it counts as unread no more,
    /// and it never comes back (a page or catch-up still on its way); the catch-up cursor
    /// passes over it. Returns whether a line was removed.
    pub fn delete(&mut self, id: u64) -> bool {
        self.last_id = self.last_id.max(id);
        self.deleted.insert(id);
        self.fresh.retain(|fresh| *fresh != id);
        let removed = timeline::remove_message(&mut self.lines, id);
        let listed = id > self.read_up_to && id <= self.listed_up_to;
        if listed && removed.as_ref().is_some_and(ChatLine::from_others) {
            // The server's listing counted it.
            self.listed_unread = self.listed_unread.saturating_sub(1);
        }
        self.total();
        removed.is_some()
    }

    /// A page of older messages (`history {before}`).
    pub fn add_older(&mut self, page: Page, me: u64, keys: &mut Keys) {
        let Page {
            messages,
            deleted,
            has_more,
        } = page;
        self.delete_all(&deleted);
        for message in messages {
            self.insert(message, me, keys);
        }
        if let (true, Some(lowest)) = (self.loaded, deleted.iter().min()) {
            // The page reaches down to its oldest id, deleted or not.
            self.base = self.base.min(lowest.saturating_sub(1));
        }
        self.has_more = has_more;
        self.loading_older = false;
    }

    /// The server's last listing may have counted message `id` as unread, and which it
    /// is, or whose, is not known here (it is not held): after its deletion only a new
    /// listing can say what is still unread.
    pub fn listing_may_count(&self, id: u64) -> bool {
        self.listed_unread > 0 && id > self.read_up_to && id <= self.listed_up_to
    }

    /// [`delete`](Self::delete) for each of `ids` (a history answer's `deleted`).
    pub fn delete_all(&mut self, ids: &[u64]) {
        for id in ids {
            self.delete(*id);
        }
    }

    /// Drops lines whose message is known deleted (one of yours acknowledged after its
    /// deletion was heard of).
    pub fn forget_deleted_lines(&mut self) {
        let deleted = &self.deleted;
        self.lines
            .retain(|l| l.message_id().is_none_or(|id| !deleted.contains(&id)));
    }

    /// The history held is to be read again from the newest page (it no longer matches
    /// the server's): only your unsent messages stay, and what arrives live meanwhile is
    /// kept for [`load`](Self::load).
    pub fn reload(&mut self) {
        timeline::forget_stored(&mut self.lines);
        self.loaded = false;
    }

    /// Someone else will read it next (a log-out): its messages stay, nothing of the reader
    /// does (read state, which lines were theirs, what they had not sent yet).
    pub fn forget_reader(&mut self) {
        timeline::disown(&mut self.lines);
        *self = Self {
            name: std::mem::take(&mut self.name),
            member: self.member,
            lines: std::mem::take(&mut self.lines),
            loaded: self.loaded,
            has_more: self.has_more,
            base: self.base,
            deleted: std::mem::take(&mut self.deleted),
            last_id: self.last_id,
            ..Self::default()
        };
    }

    /// Adds a message (live, caught up, or older); returns whether it is new here. Before
    /// the first page has come, a live message is held for it.
    pub fn insert(&mut self, message: Message, me: u64, keys: &mut Keys) -> bool {
        self.last_id = self.last_id.max(message.id);
        if self.deleted.contains(&message.id) {
            // Deleted since this copy was sent (a page or catch-up on its way).
            return false;
        }
        if self.loaded && message.id <= self.base {
            // Older than the stretch held: the start of an older page.
            self.base = message.id.saturating_sub(1);
        }
        let own = me != 0 && message.user_id == me;
        timeline::insert_message(&mut self.lines, message, own, keys)
    }

    /// A message from someone else arrived (live or caught up): unread unless the server's
    /// listing counted it already, or you have read past it, or it was deleted; once per id.
    pub fn count(&mut self, id: u64) {
        if id > self.listed_up_to
            && id > self.read_up_to
            && !self.fresh.contains(&id)
            && !self.deleted.contains(&id)
        {
            self.fresh.push(id);
            self.total();
        }
    }

    /// The server's listing: `unread` messages up to `last_id`, `read_up_to` its read
    /// marker then. A listing older than what is known changes nothing but what it can.
    pub fn listed(&mut self, unread: u64, last_id: u64, read_up_to: u64) {
        self.last_id = self.last_id.max(last_id);
        if last_id < self.listed_up_to {
            return;
        }
        self.listed_up_to = last_id;
        self.listed_unread = unread;
        self.fresh.retain(|id| *id > last_id);
        if read_up_to < self.read_up_to {
            // Read further here since the server made it: recount what it counted.
            self.read_to(self.read_up_to);
        } else {
            self.read_up_to = read_up_to;
            self.total();
        }
    }

    /// You have read up to `id`: what is unread is what is newer.
    pub fn read_to(&mut self, id: u64) {
        self.read_up_to = self.read_up_to.max(id);
        let marker = self.read_up_to;
        self.fresh.retain(|fresh| *fresh > marker);
        self.listed_unread = if marker >= self.listed_up_to {
            0
        } else if self.loaded && self.base <= marker {
            // Every message after the marker is held: count them exactly.
            let listed_up_to = self.listed_up_to;
            self.lines
                .iter()
                .filter(|l| l.from_others())
                .filter_map(ChatLine::message_id)
                .filter(|id| *id > marker && *id <= listed_up_to)
                .count() as u64
        } else {
            self.listed_unread.min(self.listed_up_to - marker)
        };
        self.total();
    }

    fn total(&mut self) {
        self.unread = self.listed_unread + self.fresh.len() as u64;
    }

    /// Whether a message with this id leaves a hole below it (a packet was missed).
    pub fn has_gap_before(&self, id: u64) -> bool {
        self.loaded && id > self.contiguous() + 1
    }

    /// Messages from others after the read marker, among those held.
    pub fn count_unread(&self) -> u64 {
        self.lines
            .iter()
            .filter(|l| l.from_others() && l.message_id().is_some_and(|id| id > self.read_up_to))
            .count() as u64
    }

    /// Where the page of older messages ends (`history {before}`): the start of the stretch
    /// held, which a deleted message may begin.
    pub fn older_before(&self) -> u64 {
        let start = self.base + 1;
        timeline::oldest_id(&self.lines).map_or(start, |id| id.min(start))
    }

    /// Keeps at most [`MAX_LINES`], dropping the oldest (which can be loaded again).
    pub fn trim(&mut self) {
        if timeline::trim(&mut self.lines, MAX_LINES) {
            self.has_more = true;
            self.base = timeline::oldest_id(&self.lines).map_or(self.base, |id| id - 1);
        }
    }

    /// The first message from others after `divider`: where "New messages" is drawn.
    pub fn first_unread(&self) -> Option<u64> {
        let divider = self.divider?;
        self.lines
            .iter()
            .filter(|l| l.from_others())
            .filter_map(ChatLine::message_id)
            .find(|id| *id > divider)
    }

    /// Your last message the other party has read: where "Seen" is drawn.
    pub fn seen(&self) -> Option<u64> {
        self.lines
            .iter()
            .filter(|l| matches!(l.kind, super::LineKind::Message { own: true, .. }))
            .filter_map(ChatLine::message_id)
            .filter(|id| *id <= self.their_read_up_to)
            .max()
    }

    /// The newest stored message's id among those held.
    pub fn newest(&self) -> u64 {
        timeline::newest_id(&self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64, user_id: u64) -> Message {
        Message {
            id,
            sender: if user_id == 1 { "Ann" } else { "Bob" }.into(),
            user_id,
            text: format!("m{id}"),
            sent_at: 0,
            client_id: None,
        }
    }

    #[test]
    fn a_loaded_conversation_tracks_its_catch_up_cursor_and_gaps() {
        let mut keys = Keys::default();
        let mut c = Conversation::new("rust", true);
        assert!(!c.has_gap_before(9), "nothing held: nothing to fill");
        c.load(Page::new(vec![msg(4, 2), msg(5, 1)], true), 1, &mut keys);
        assert_eq!((c.base, c.contiguous(), c.last_id), (3, 5, 5));
        assert!(!c.has_gap_before(6));
        assert!(c.has_gap_before(7));
        assert!(c.insert(msg(7, 2), 1, &mut keys));
        assert_eq!(c.contiguous(), 5, "6 is missing");
        assert!(c.insert(msg(6, 2), 1, &mut keys));
        assert_eq!(c.contiguous(), 7);
        assert!(!c.insert(msg(6, 2), 1, &mut keys), "once");
        // An older page extends the stretch held downwards.
        c.insert(msg(3, 2), 1, &mut keys);
        assert_eq!((c.base, c.contiguous()), (2, 7));
    }

    #[test]
    fn messages_that_arrive_while_the_first_page_is_on_its_way_are_kept() {
        let mut keys = Keys::default();
        let ids = |c: &Conversation| -> Vec<u64> {
            c.lines.iter().filter_map(ChatLine::message_id).collect()
        };
        // 5 and 7 arrive live before the newest page (made when 4 was the newest) comes.
        let mut c = Conversation::new("rust", true);
        c.insert(msg(5, 2), 1, &mut keys);
        c.insert(msg(7, 2), 1, &mut keys);
        let gap = c.load(Page::new(vec![msg(3, 2), msg(4, 2)], true), 1, &mut keys);
        assert_eq!(ids(&c), vec![3, 4, 5, 7]);
        assert!(gap, "6 is missing: to catch up after {}", c.contiguous());
        assert_eq!(c.contiguous(), 5);
        // A page that already holds what came live: each once, nothing missing.
        let mut c = Conversation::new("rust", true);
        c.insert(msg(2, 2), 1, &mut keys);
        assert!(!c.load(Page::new(vec![msg(1, 2), msg(2, 2)], false), 1, &mut keys));
        assert_eq!(ids(&c), vec![1, 2]);
        // An empty page (nothing stored then): the live message is the start.
        let mut c = Conversation::new("rust", true);
        c.insert(msg(1, 2), 1, &mut keys);
        assert!(!c.load(Page::new(Vec::new(), false), 1, &mut keys));
        assert_eq!((ids(&c), c.contiguous()), (vec![1], 1));
        // Reading again after a resync forgets what was held, keeps what comes meanwhile.
        c.reload();
        c.insert(msg(9, 2), 1, &mut keys);
        assert!(!c.load(Page::new(vec![msg(8, 2)], true), 1, &mut keys));
        assert_eq!(ids(&c), vec![8, 9]);
    }

    #[test]
    fn each_unread_message_counts_once_whatever_the_order_of_listing_and_catch_up() {
        let mut keys = Keys::default();
        let mut c = Conversation::new("rust", true);
        c.load(Page::new(vec![msg(1, 2), msg(2, 2)], false), 1, &mut keys);
        c.listed(2, 2, 0);
        assert_eq!(c.unread, 2);
        // 3 arrives live, then a catch-up brings 3 again and 4 (a packet that was missed).
        c.insert(msg(3, 2), 1, &mut keys);
        c.count(3);
        for id in [3, 4] {
            c.insert(msg(id, 2), 1, &mut keys);
            c.count(id);
        }
        assert_eq!(c.unread, 4);
        // A listing made before 4 arrived (it counted up to 3): 4 stays counted, once.
        c.listed(3, 3, 0);
        assert_eq!(c.unread, 4);
        // Reading up to 2 here, then a stale listing that has not seen that read.
        c.read_to(2);
        assert_eq!(c.unread, 2);
        c.listed(3, 3, 0);
        assert_eq!(
            c.unread, 2,
            "read here since: the listing does not bring it back"
        );
        c.read_to(9);
        assert_eq!((c.unread, c.read_up_to), (0, 9));
    }

    #[test]
    fn unread_of_a_conversation_held_in_no_detail() {
        let mut c = Conversation::new("ops", true);
        c.listed(5, 10, 5);
        c.count(11);
        c.count(11);
        assert_eq!(c.unread, 6);
        c.read_to(8);
        assert_eq!(
            c.unread, 3,
            "at most the two after the marker up to 10, and 11"
        );
    }

    #[test]
    fn unread_divider_and_seen() {
        let mut keys = Keys::default();
        let mut c = Conversation::new("Bob", true);
        c.load(
            Page::new(vec![msg(1, 1), msg(2, 2), msg(3, 1), msg(4, 2)], false),
            1,
            &mut keys,
        );
        c.read_up_to = 2;
        assert_eq!(c.count_unread(), 1);
        c.divider = Some(1);
        assert_eq!(
            c.first_unread(),
            Some(2),
            "the first of Bob's after the marker"
        );
        c.their_read_up_to = 3;
        assert_eq!(c.seen(), Some(3));
        c.their_read_up_to = 2;
        assert_eq!(c.seen(), Some(1));
    }

    fn ids(c: &Conversation) -> Vec<u64> {
        c.lines.iter().filter_map(ChatLine::message_id).collect()
    }

    #[test]
    fn a_live_delete_removes_the_line_and_the_cursor_passes_over_its_id() {
        let mut keys = Keys::default();
        let mut c = Conversation::new("general", true);
        c.load(
            Page::new(vec![msg(1, 2), msg(2, 2), msg(3, 2)], false),
            1,
            &mut keys,
        );
        assert!(c.delete(3), "held: its line goes");
        assert_eq!((ids(&c), c.contiguous()), (vec![1, 2], 3));
        assert!(!c.has_gap_before(4), "3 is gone for good, not missing");
        c.insert(msg(4, 2), 1, &mut keys);
        assert!(c.delete(2));
        assert_eq!((ids(&c), c.contiguous()), (vec![1, 4], 4));
        // A copy of it still on its way (a catch-up asked before the delete) stays out.
        assert!(!c.insert(msg(2, 2), 1, &mut keys));
        assert!(!c.delete(2), "once");
        assert_eq!(ids(&c), vec![1, 4]);
        // The delete of a message not received yet: nothing to remove, no gap later.
        assert!(!c.delete(5));
        assert_eq!(c.last_id, 5);
        assert!(!c.has_gap_before(6));
        assert!(!c.insert(msg(5, 2), 1, &mut keys));
        assert_eq!(c.contiguous(), 5);
    }

    #[test]
    fn a_deleted_message_counts_as_unread_no_more() {
        let mut keys = Keys::default();
        let mut c = Conversation::new("rust", true);
        c.load(Page::new(vec![msg(1, 2), msg(2, 2)], false), 1, &mut keys);
        c.listed(2, 2, 0);
        for id in [3, 4] {
            c.insert(msg(id, 2), 1, &mut keys);
            c.count(id);
        }
        assert_eq!(c.unread, 4);
        c.delete(4);
        assert_eq!((c.unread, c.fresh.clone()), (3, vec![3]), "no longer fresh");
        c.delete(2);
        assert_eq!(c.unread, 2, "the listing counted it");
        c.count(4);
        assert_eq!(c.unread, 2, "a catch-up cannot count it again");
        c.read_to(1);
        assert_eq!(c.unread, 1, "3 is all that is left unread");
    }

    #[test]
    fn a_history_answer_with_deleted_ids_leaves_no_gap() {
        let mut keys = Keys::default();
        // The newest page: 3 and 6 of 2..=6 were deleted, and so was 7, the newest.
        let mut c = Conversation::new("rust", true);
        let gap = c.load(
            Page::new(vec![msg(4, 2), msg(5, 2)], true).with_deleted(vec![3, 6, 7]),
            1,
            &mut keys,
        );
        assert!(!gap);
        assert_eq!((c.base, c.contiguous(), c.last_id), (2, 7, 7));
        assert!(!c.has_gap_before(8));
        assert_eq!(
            c.older_before(),
            3,
            "the older page ends where the stretch begins"
        );
        // A catch-up after a reconnection: 8 came live, then 8 was deleted and 9 sent
        // while the connection was down.
        c.insert(msg(8, 2), 1, &mut keys);
        c.count(8);
        assert_eq!(c.unread, 1);
        let after = c.contiguous();
        assert_eq!(after, 8);
        c.delete_all(&[8]);
        c.insert(msg(9, 2), 1, &mut keys);
        c.count(9);
        assert_eq!((ids(&c), c.contiguous(), c.unread), (vec![4, 5, 9], 9, 1));
        // An older page whose oldest message was deleted: the stretch reaches down to it.
        c.loading_older = true;
        c.add_older(
            Page::new(vec![msg(2, 2)], false).with_deleted(vec![1]),
            1,
            &mut keys,
        );
        assert_eq!((c.base, c.contiguous(), c.loading_older), (0, 9, false));
        assert_eq!(ids(&c), vec![2, 4, 5, 9]);
        // A page made before a deletion it did not know of: the message stays out.
        let mut c = Conversation::new("rust", true);
        c.delete(2);
        assert!(!c.load(
            Page::new(vec![msg(1, 2), msg(2, 2), msg(3, 2)], false),
            1,
            &mut keys
        ));
        assert_eq!((ids(&c), c.contiguous()), (vec![1, 3], 3));
        // Every message of the page deleted.
        let mut c = Conversation::new("rust", true);
        assert!(!c.load(
            Page::new(Vec::new(), true).with_deleted(vec![5, 6]),
            1,
            &mut keys
        ));
        assert_eq!((c.base, c.contiguous(), c.older_before()), (4, 6, 5));
    }
}
