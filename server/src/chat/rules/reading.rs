//! Read markers (`mark_read`: the reader's other sockets, and for a direct conversation the
//! other party's "seen" receipt) and visibility (`set_presence`).

use std::hash::Hash;

use app::protocol::{
    MessagesRead, Presence as PresenceEntry, PresenceStatus, ReadMarker, RejectionReason,
    ServerEvent,
};

use super::{Chat, Events};
use crate::chat::{Audience, ConversationId, Outgoing, RoomName, UserId};

/// A conversation whose read marker moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadTarget {
    Room(ConversationId, RoomName),
    /// A direct conversation with this user, of this name.
    With(UserId, String),
}

impl<C: Clone + Eq + Hash> Chat<C> {
    /// Checks that `user` may mark `room` read (a member).
    pub fn check_read_room(
        &self,
        user: UserId,
        room: &RoomName,
    ) -> Result<ConversationId, RejectionReason> {
        self.room_named(room)
            .filter(|id| self.conversations.is_in(user, *id))
            .ok_or(RejectionReason::NotMember)
    }

    /// `user`'s marker moved to `id` (stored), through `conn` (none for a page).
    pub fn read_marked(
        &self,
        conn: Option<&C>,
        user: UserId,
        target: &ReadTarget,
        id: u64,
    ) -> Events<C> {
        let mut out = Vec::new();
        let (room, with) = match target {
            ReadTarget::Room(_, name) => (Some(name.to_string()), None),
            ReadTarget::With(_, name) => (None, Some(name.clone())),
        };
        let to = match conn {
            Some(conn) => Audience::UserExcept(user, conn.clone()),
            None => Audience::User(user),
        };
        out.push(Outgoing::new(
            to,
            ServerEvent::ReadMarker(ReadMarker { room, with, id }),
        ));
        if let ReadTarget::With(other, _) = target {
            let me = match self.name_of(user) {
                Some(name) => name.to_owned(),
                None => return out,
            };
            out.push(Outgoing::new(
                Audience::User(*other),
                ServerEvent::MessagesRead(MessagesRead {
                    by: me.clone(),
                    with: me,
                    id,
                }),
            ));
        }
        out
    }

    /// `set_presence`: whether `conn`'s page is visible. Returns the user's status and the
    /// events (`presence_changed` when it changed).
    pub fn set_presence(
        &mut self,
        conn: &C,
        status: PresenceStatus,
    ) -> Result<(PresenceStatus, Events<C>), RejectionReason> {
        let user = self.user_of(conn).ok_or(RejectionReason::NotLoggedIn)?;
        let changed = self.presence.set_away(conn, status == PresenceStatus::Away);
        let out = match changed {
            Some((_, status)) => vec![Outgoing::new(
                Audience::Everyone,
                ServerEvent::PresenceChanged(PresenceEntry {
                    username: self.name_of(user).unwrap_or_default().to_owned(),
                    status,
                }),
            )],
            None => Vec::new(),
        };
        Ok((self.status(user), out))
    }
}
