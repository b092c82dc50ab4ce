//! The message list as plain data: stored messages in id order, each once; notices where
//! they happened; your unsent messages at the bottom. Free functions over the list the
//! store keeps in a signal, so the merging rules are tested without any reactivity.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::{ChatLine, Delivery, LineKind, Message, UnsentMessage};
use crate::protocol::time::ms_from_iso;
use crate::protocol::{RejectionReason, SendReceipt};

/// Hands out line keys and notice sequence numbers.
#[derive(Debug, Clone, Default)]
pub struct Keys(u64);

impl Keys {
    pub fn fresh(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// The newest stored message's id (0 when there is none): the catch-up cursor.
pub fn newest_id(lines: &[ChatLine]) -> u64 {
    lines
        .iter()
        .filter_map(ChatLine::message_id)
        .max()
        .unwrap_or(0)
}

/// The oldest stored message's id: where the next older page ends.
pub fn oldest_id(lines: &[ChatLine]) -> Option<u64> {
    lines.iter().filter_map(ChatLine::message_id).min()
}

/// Makes every line nobody's own and drops the unsent ones (the reader changes).
pub fn disown(lines: &mut Vec<ChatLine>) {
    lines.retain_mut(|l| match &mut l.kind {
        LineKind::Message { id: None, .. } => false,
        LineKind::Message { own, .. } => {
            *own = false;
            true
        }
        _ => true,
    });
}

/// Keeps only your messages still waiting to be stored, and the announcements (which
/// cannot be read again).
pub fn forget_stored(lines: &mut Vec<ChatLine>) {
    lines.retain(|l| {
        matches!(
            &l.kind,
            LineKind::Message { id: None, .. } | LineKind::Announcement
        )
    });
}

/// Takes the stored message `id` out of the list (an administrator deleted it). Returns
/// the line it was, if the list had it.
pub fn remove_message(lines: &mut Vec<ChatLine>, id: u64) -> Option<ChatLine> {
    let at = lines.iter().position(|l| l.message_id() == Some(id))?;
    Some(lines.remove(at))
}

/// Adds a stored message unless it is already there (by id). Your own pending line with
/// the same client id becomes this message. Returns whether the list gained a message.
pub fn insert_message(
    lines: &mut Vec<ChatLine>,
    message: Message,
    own: bool,
    keys: &mut Keys,
) -> bool {
    if lines.iter().any(|l| l.message_id() == Some(message.id)) {
        return false;
    }
    // Only your own message can be your pending line (client ids are not secret).
    if let Some(client_id) = message.client_id.as_deref().filter(|_| own) {
        if let Some(at) = lines.iter().position(|l| pending_with(l, client_id)) {
            let mut line = lines.remove(at);
            mark_stored(&mut line, message.id, message.sent_at);
            insert(lines, line);
            return false;
        }
    }
    insert(
        lines,
        ChatLine {
            key: keys.fresh(),
            kind: LineKind::Message {
                sender: message.sender,
                user_id: message.user_id,
                own,
                id: Some(message.id),
                client_id: message.client_id,
                delivery: Delivery::Sent,
            },
            text: message.text,
            order: (message.id, 0),
            sent_at: Some(message.sent_at),
        },
    );
    true
}

/// The highest id up to which the list has every message from `from` on (ids are
/// gap-free per conversation), counting the `deleted` ids as had (their messages are gone
/// for good: nothing to fill): the catch-up cursor. `from` is where the list's known
/// stretch of history begins.
pub fn contiguous_from(lines: &[ChatLine], deleted: &BTreeSet<u64>, from: u64) -> u64 {
    let mut ids: Vec<u64> = lines
        .iter()
        .filter_map(ChatLine::message_id)
        .filter(|id| *id > from)
        .chain(
            deleted
                .range((Bound::Excluded(from), Bound::Unbounded))
                .copied(),
        )
        .collect();
    ids.sort_unstable();
    let mut reached = from;
    for id in ids {
        if id == reached + 1 {
            reached = id;
        } else if id > reached + 1 {
            break;
        }
    }
    reached
}

/// Adds a message you are sending, pending at the bottom.
pub fn add_pending(
    lines: &mut Vec<ChatLine>,
    (sender, user_id): (&str, u64),
    client_id: &str,
    text: &str,
    keys: &mut Keys,
) {
    let key = keys.fresh();
    lines.push(ChatLine {
        key,
        kind: LineKind::Message {
            sender: sender.to_owned(),
            user_id,
            own: true,
            id: None,
            client_id: Some(client_id.to_owned()),
            delivery: Delivery::Pending,
        },
        text: text.to_owned(),
        order: (u64::MAX, key),
        sent_at: None,
    });
}

/// Your messages not stored yet (on their way, or waiting to be sent again), oldest first.
pub fn unsent(lines: &[ChatLine]) -> Vec<UnsentMessage> {
    lines
        .iter()
        .filter_map(|l| match &l.kind {
            LineKind::Message {
                own: true,
                id: None,
                client_id: Some(client_id),
                delivery: Delivery::Pending | Delivery::Waiting,
                ..
            } => Some(UnsentMessage {
                client_id: client_id.clone(),
                text: l.text.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Whether the list has your message with this client id, stored or not.
pub fn has_own(lines: &[ChatLine], wanted: &str) -> bool {
    lines.iter().any(|l| {
        matches!(&l.kind, LineKind::Message { own: true, client_id: Some(c), .. } if c == wanted)
    })
}

/// Applies the server's answer to one of your messages.
pub fn apply_receipt(lines: &mut Vec<ChatLine>, client_id: &str, receipt: &SendReceipt) {
    match (receipt.ok, receipt.id) {
        (true, Some(id)) => {
            let sent_at = receipt
                .time
                .as_deref()
                .and_then(ms_from_iso)
                .unwrap_or_default();
            if lines.iter().any(|l| l.message_id() == Some(id)) {
                // The broadcast came first: the pending copy goes.
                lines.retain(|l| !pending_with(l, client_id));
                return;
            }
            if let Some(at) = lines.iter().position(|l| pending_with(l, client_id)) {
                let mut line = lines.remove(at);
                mark_stored(&mut line, id, sent_at);
                insert(lines, line);
            }
        }
        _ if receipt.reason == Some(RejectionReason::RateLimited) => {
            set_delivery(lines, client_id, Delivery::Waiting);
        }
        _ => {
            let why = receipt
                .message
                .clone()
                .unwrap_or_else(|| "Not sent.".to_owned());
            set_delivery(lines, client_id, Delivery::Failed(why));
        }
    }
}

/// A message just written (`client_id`) waits behind yours that wait out a rate limit, so
/// that they go in the order written; whether it does.
pub fn wait_behind(lines: &mut [ChatLine], client_id: &str) -> bool {
    let others_wait = lines.iter().any(|l| {
        matches!(&l.kind, LineKind::Message { own: true, id: None, client_id: Some(c), delivery: Delivery::Waiting, .. } if c != client_id)
    });
    if others_wait {
        set_delivery(lines, client_id, Delivery::Waiting);
    }
    others_wait
}

/// Your messages waiting to be sent again, marked on their way once more, oldest first.
pub fn resend_waiting(lines: &mut [ChatLine]) -> Vec<UnsentMessage> {
    let mut resent = Vec::new();
    for line in lines.iter_mut() {
        if let LineKind::Message {
            own: true,
            id: None,
            client_id: Some(client_id),
            delivery: delivery @ Delivery::Waiting,
            ..
        } = &mut line.kind
        {
            *delivery = Delivery::Pending;
            resent.push(UnsentMessage {
                client_id: client_id.clone(),
                text: line.text.clone(),
            });
        }
    }
    resent
}

/// Marks a failed message pending again, for a retry. Returns its text.
pub fn retry(lines: &mut [ChatLine], client_id: &str) -> Option<String> {
    let line = lines.iter_mut().find(|l| pending_with(l, client_id))?;
    if let LineKind::Message { delivery, .. } = &mut line.kind {
        *delivery = Delivery::Pending;
    }
    Some(line.text.clone())
}

fn set_delivery(lines: &mut [ChatLine], client_id: &str, state: Delivery) {
    if let Some(LineKind::Message { delivery, .. }) = lines
        .iter_mut()
        .find(|l| pending_with(l, client_id))
        .map(|l| &mut l.kind)
    {
        *delivery = state;
    }
}

/// A line of yours with this client id that is not stored yet.
fn pending_with(line: &ChatLine, wanted: &str) -> bool {
    matches!(&line.kind, LineKind::Message { id: None, own: true, client_id: Some(c), .. } if c == wanted)
}

fn mark_stored(line: &mut ChatLine, stored_id: u64, stored_at: i64) {
    if let LineKind::Message { id, delivery, .. } = &mut line.kind {
        *id = Some(stored_id);
        *delivery = Delivery::Sent;
    }
    line.order = (stored_id, 0);
    line.sent_at = Some(stored_at);
}

/// After logging in as `me` (a user id): which messages are your own. A line that
/// changes gets a fresh key, so it is drawn again. Unsent messages written by someone
/// else are dropped: they cannot be sent as `me`.
pub fn mark_own(lines: &mut Vec<ChatLine>, me: u64, keys: &mut Keys) {
    lines.retain(
        |l| !matches!(&l.kind, LineKind::Message { id: None, user_id, .. } if *user_id != me),
    );
    for line in lines {
        if let LineKind::Message { user_id, own, .. } = &mut line.kind {
            let mine = *user_id == me && me != 0;
            if *own != mine {
                *own = mine;
                line.key = keys.fresh();
            }
        }
    }
}

/// Adds a notice after the newest message known now.
pub fn add_notice(lines: &mut Vec<ChatLine>, kind: LineKind, text: String, keys: &mut Keys) {
    let key = keys.fresh();
    let after = newest_id(lines);
    insert(
        lines,
        ChatLine {
            key,
            kind,
            text,
            order: (after, key),
            sent_at: None,
        },
    );
}

/// Adds an announcement from the administrators after message `after` (the newest known
/// now), unless the list has it already (the same text sent at the same time). Returns
/// whether it was added.
pub fn add_announcement(
    lines: &mut Vec<ChatLine>,
    text: &str,
    sent_at: Option<i64>,
    after: u64,
    keys: &mut Keys,
) -> bool {
    let known = lines
        .iter()
        .any(|l| l.kind == LineKind::Announcement && l.text == text && l.sent_at == sent_at);
    if known {
        return false;
    }
    let key = keys.fresh();
    insert(
        lines,
        ChatLine {
            key,
            kind: LineKind::Announcement,
            text: text.to_owned(),
            order: (after, key),
            sent_at,
        },
    );
    true
}

/// Replaces the stored messages with the page `messages`; your unsent ones stay, and so do
/// messages newer than the page (they arrived live while it was on its way) and the
/// announcements (which cannot be read again).
pub fn replace_messages(
    lines: &mut Vec<ChatLine>,
    messages: Vec<Message>,
    me: u64,
    keys: &mut Keys,
) {
    let newest = messages.last().map(|m| m.id);
    // Pending lines, and messages newer than the page (they came live meanwhile).
    lines.retain(|l| match &l.kind {
        LineKind::Message { id: None, .. } => true,
        LineKind::Message { id: Some(id), .. } => newest.is_none_or(|newest| *id > newest),
        LineKind::Announcement => true,
        _ => false,
    });
    for message in messages {
        let own = me != 0 && message.user_id == me;
        insert_message(lines, message, own, keys);
    }
}

/// Keeps at most `max` lines, dropping the oldest. Returns whether any were dropped.
pub fn trim(lines: &mut Vec<ChatLine>, max: usize) -> bool {
    if lines.len() <= max {
        return false;
    }
    lines.drain(..lines.len() - max);
    true
}

/// Puts `line` in its place; the list is always kept in `order`.
fn insert(lines: &mut Vec<ChatLine>, line: ChatLine) {
    let at = lines.partition_point(|l| l.order <= line.order);
    lines.insert(at, line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64, sender: &str, text: &str, client_id: Option<&str>) -> Message {
        Message {
            sender: sender.into(),
            user_id: if sender == "Ann" { 1 } else { 2 },
            text: text.into(),
            id,
            sent_at: 1000 + id as i64,
            client_id: client_id.map(Into::into),
        }
    }

    fn receipt(id: u64) -> SendReceipt {
        SendReceipt::stored(
            id,
            crate::protocol::time::iso_from_ms(1000 + id as i64),
            false,
        )
    }

    fn texts(lines: &[ChatLine]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn messages_land_in_id_order_once() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        assert!(insert_message(
            &mut lines,
            msg(2, "Bob", "b", None),
            false,
            &mut keys
        ));
        assert!(insert_message(
            &mut lines,
            msg(1, "Bob", "a", None),
            false,
            &mut keys
        ));
        assert!(!insert_message(
            &mut lines,
            msg(2, "Bob", "b", None),
            false,
            &mut keys
        ));
        assert!(insert_message(
            &mut lines,
            msg(3, "Bob", "c", None),
            false,
            &mut keys
        ));
        assert_eq!(texts(&lines), vec!["a", "b", "c"]);
        assert_eq!(newest_id(&lines), 3);
        assert_eq!(oldest_id(&lines), Some(1));
    }

    #[test]
    fn notices_stay_where_they_happened() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        insert_message(&mut lines, msg(1, "Bob", "a", None), false, &mut keys);
        add_notice(&mut lines, LineKind::Notice, "Cat joined".into(), &mut keys);
        // A message missed while disconnected arrives later but sorts by its id.
        insert_message(&mut lines, msg(3, "Bob", "c", None), false, &mut keys);
        insert_message(&mut lines, msg(2, "Bob", "b", None), false, &mut keys);
        assert_eq!(texts(&lines), vec!["a", "Cat joined", "b", "c"]);
    }

    #[test]
    fn a_pending_message_becomes_the_stored_one_exactly_once() {
        // Receipt first, then the broadcast.
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        add_pending(&mut lines, ("Ann", 1), "c1", "hi", &mut keys);
        insert_message(&mut lines, msg(1, "Bob", "before", None), false, &mut keys);
        assert_eq!(
            texts(&lines),
            vec!["before", "hi"],
            "pending stays at the bottom"
        );
        assert_eq!(
            unsent(&lines),
            vec![UnsentMessage {
                client_id: "c1".into(),
                text: "hi".into()
            }]
        );
        apply_receipt(&mut lines, "c1", &receipt(2));
        assert!(!insert_message(
            &mut lines,
            msg(2, "Ann", "hi", Some("c1")),
            true,
            &mut keys
        ));
        assert_eq!(texts(&lines), vec!["before", "hi"]);
        assert!(unsent(&lines).is_empty());

        // Broadcast first, then the receipt.
        add_pending(&mut lines, ("Ann", 1), "c2", "again", &mut keys);
        let key = lines.last().map(|l| l.key);
        assert!(!insert_message(
            &mut lines,
            msg(3, "Ann", "again", Some("c2")),
            true,
            &mut keys
        ));
        apply_receipt(&mut lines, "c2", &receipt(3));
        assert_eq!(texts(&lines), vec!["before", "hi", "again"]);
        assert_eq!(lines.last().map(|l| l.key), key, "same line, now stored");
        assert_eq!(lines.last().and_then(ChatLine::message_id), Some(3));
    }

    #[test]
    fn a_refused_message_can_be_retried() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        add_pending(&mut lines, ("Ann", 1), "c1", "hi", &mut keys);
        apply_receipt(
            &mut lines,
            "c1",
            &SendReceipt::refused(crate::protocol::RejectionReason::StorageFailed),
        );
        assert!(matches!(
            &lines[0].kind,
            LineKind::Message {
                delivery: Delivery::Failed(_),
                ..
            }
        ));
        assert!(unsent(&lines).is_empty(), "not resent by itself");
        assert_eq!(retry(&mut lines, "c1"), Some("hi".into()));
        assert_eq!(unsent(&lines).len(), 1);
    }

    #[test]
    fn a_message_sent_too_fast_waits_then_goes_again_in_order() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        for (id, text) in [("c1", "one"), ("c2", "two"), ("c3", "three")] {
            add_pending(&mut lines, ("Ann", 1), id, text, &mut keys);
        }
        let limited = SendReceipt::refused(RejectionReason::RateLimited).retry_after(200);
        apply_receipt(&mut lines, "c1", &receipt(1));
        apply_receipt(&mut lines, "c3", &limited);
        apply_receipt(&mut lines, "c2", &limited);
        let waiting = |lines: &[ChatLine]| {
            lines
                .iter()
                .filter(|l| {
                    matches!(
                        &l.kind,
                        LineKind::Message {
                            delivery: Delivery::Waiting,
                            ..
                        }
                    )
                })
                .count()
        };
        assert_eq!(waiting(&lines), 2, "not failed: waiting");
        assert_eq!(unsent(&lines).len(), 2, "kept across a reload");
        let resent: Vec<String> = resend_waiting(&mut lines)
            .into_iter()
            .map(|m| m.client_id)
            .collect();
        assert_eq!(resent, vec!["c2", "c3"], "in the order written");
        assert_eq!(waiting(&lines), 0, "on their way again");
        assert!(resend_waiting(&mut lines).is_empty(), "once");
    }

    #[test]
    fn a_message_written_while_others_wait_waits_behind_them() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        add_pending(&mut lines, ("Ann", 1), "c1", "one", &mut keys);
        assert!(!wait_behind(&mut lines, "c1"), "nothing waits: it goes");
        let limited = SendReceipt::refused(RejectionReason::RateLimited).retry_after(200);
        apply_receipt(&mut lines, "c1", &limited);
        add_pending(&mut lines, ("Ann", 1), "c2", "two", &mut keys);
        assert!(wait_behind(&mut lines, "c2"), "behind c1");
        let resent: Vec<String> = resend_waiting(&mut lines)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(resent, vec!["one", "two"]);
    }

    #[test]
    fn a_resync_keeps_only_unsent_messages() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        insert_message(&mut lines, msg(1, "Bob", "old", None), false, &mut keys);
        add_notice(&mut lines, LineKind::Notice, "Cat left".into(), &mut keys);
        add_pending(&mut lines, ("Ann", 1), "c1", "mine", &mut keys);
        replace_messages(&mut lines, vec![msg(90, "Ann", "new", None)], 1, &mut keys);
        assert_eq!(texts(&lines), vec!["new", "mine"]);
        assert!(matches!(
            &lines[0].kind,
            LineKind::Message { own: true, .. }
        ));
    }

    #[test]
    fn the_catch_up_cursor_stops_at_the_first_gap() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        let none = BTreeSet::new();
        assert_eq!(contiguous_from(&lines, &none, 4), 4);
        for id in [5, 6, 8, 9] {
            insert_message(&mut lines, msg(id, "Bob", "x", None), false, &mut keys);
        }
        assert_eq!(contiguous_from(&lines, &none, 4), 6);
        insert_message(&mut lines, msg(7, "Bob", "x", None), false, &mut keys);
        assert_eq!(contiguous_from(&lines, &none, 4), 9);
        assert_eq!(contiguous_from(&lines, &none, 6), 9, "from later on");
    }

    #[test]
    fn the_catch_up_cursor_passes_over_deleted_ids() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        for id in [5, 6, 8, 11] {
            insert_message(&mut lines, msg(id, "Bob", "x", None), false, &mut keys);
        }
        let deleted = BTreeSet::from([2, 7, 9, 10]);
        assert_eq!(
            contiguous_from(&lines, &deleted, 4),
            11,
            "7, 9 and 10 are gone"
        );
        assert_eq!(
            contiguous_from(&lines, &deleted, 1),
            2,
            "3 is missing: deleted ids do not fill it"
        );
        // Deleted ids alone (every message of the stretch deleted) move it too.
        assert_eq!(contiguous_from(&[], &deleted, 8), 10);
    }

    #[test]
    fn a_removed_message_leaves_the_rest_in_place() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        for id in 1..=3 {
            insert_message(
                &mut lines,
                msg(id, "Bob", &id.to_string(), None),
                false,
                &mut keys,
            );
        }
        add_notice(&mut lines, LineKind::Notice, "Cat joined".into(), &mut keys);
        let removed = remove_message(&mut lines, 2).expect("held");
        assert_eq!(removed.text, "2");
        assert_eq!(texts(&lines), vec!["1", "3", "Cat joined"]);
        assert!(remove_message(&mut lines, 2).is_none(), "once");
        assert!(remove_message(&mut lines, 9).is_none(), "never held");
    }

    #[test]
    fn an_announcement_is_added_once_and_outlives_a_resync() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        insert_message(&mut lines, msg(1, "Bob", "a", None), false, &mut keys);
        assert!(add_announcement(
            &mut lines,
            "<b>down</b> at 5",
            Some(7),
            1,
            &mut keys
        ));
        assert!(!add_announcement(
            &mut lines,
            "<b>down</b> at 5",
            Some(7),
            1,
            &mut keys
        ));
        assert!(
            add_announcement(&mut lines, "<b>down</b> at 5", Some(8), 1, &mut keys),
            "sent again later"
        );
        insert_message(&mut lines, msg(2, "Bob", "b", None), false, &mut keys);
        assert_eq!(
            texts(&lines),
            vec!["a", "<b>down</b> at 5", "<b>down</b> at 5", "b"]
        );
        // After message 4, known before the page that holds it has come.
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        add_announcement(&mut lines, "soon", Some(7), 4, &mut keys);
        replace_messages(
            &mut lines,
            vec![
                msg(3, "Bob", "c", None),
                msg(4, "Bob", "d", None),
                msg(5, "Bob", "e", None),
            ],
            1,
            &mut keys,
        );
        assert_eq!(texts(&lines), vec!["c", "d", "soon", "e"]);
        forget_stored(&mut lines);
        assert_eq!(texts(&lines), vec!["soon"]);
        assert_eq!(newest_id(&lines), 0, "not a message");
    }

    #[test]
    fn trimming_drops_the_oldest() {
        let (mut lines, mut keys) = (Vec::new(), Keys::default());
        for id in 1..=5 {
            insert_message(
                &mut lines,
                msg(id, "Bob", &id.to_string(), None),
                false,
                &mut keys,
            );
        }
        assert!(trim(&mut lines, 3));
        assert_eq!(texts(&lines), vec!["3", "4", "5"]);
        assert!(!trim(&mut lines, 3));
    }
}
