//! Joining and leaving rooms, typing in a conversation, read markers and presence: each
//! checked by the rules, stored when it must be, then delivered.

use app::protocol::{
    client, Done, JoinReply, LeftReply, PresenceReply, ReadReply, RejectionReason,
};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;

use super::core::{now, Hub};
use super::limits::{Denial, Limited};
use super::Ack;
use crate::chat::requests::{self, Target};
use crate::chat::{
    ConversationId, DirectPair, JoinPlan, JoinRefusal, ReadTarget, RoomName, TypingWhere, UserId,
};

impl<A: Adapter> Hub<A> {
    /// `join_room {username?, room}`.
    pub(super) async fn join(&mut self, conn: Sid, raw: &Value, ack: Option<Ack>) {
        let (user, room, (id, newly)) = match self.joining(conn, raw).await {
            Ok(joining) => joining,
            Err(reason) => return self.refuse(conn, client::JOIN_ROOM, reason, ack),
        };
        // Shared first: the other servers then deliver what follows to her sockets there.
        self.share_membership(user, id, &room, true);
        let out = self.chat.joined(Some(&conn), user, id, &room, newly, now());
        self.deliver(out);
        if let Some(ack) = ack {
            ack.send(&JoinReply {
                ok: true,
                room: Some(room.to_string()),
                username: self.chat.name_of(user).map(str::to_owned),
                user_id: Some(user.wire()),
                joined: Some(newly),
                reason: None,
                message: None,
                retry_after_ms: None,
            });
        }
    }

    /// Who joins which room (logged in first when the socket is not), with the membership
    /// stored: its conversation and whether it is new. For a log-in, the user and the
    /// membership are stored before anyone hears of it: if either cannot be, nothing
    /// happened.
    async fn joining(
        &mut self,
        conn: Sid,
        raw: &Value,
    ) -> Result<(UserId, RoomName, (ConversationId, bool)), Denial> {
        let storage_failed = RejectionReason::StorageFailed;
        match self.chat.check_join(&conn, raw) {
            Ok(JoinPlan::Join { user, room }) => {
                let joined = self.store_join(user, &room).await.ok_or(storage_failed)?;
                Ok((user, room, joined))
            }
            Ok(JoinPlan::LogInFirst { name, room }) => {
                self.limit_login(conn)?;
                let user = self.create_user(&name).await?;
                let Some(joined) = self.store_join(user, &room).await else {
                    if let Err(error) = self.store.retire_user(user).await {
                        tracing::error!(%error, "cannot retire a user whose first join failed");
                    }
                    return Err(storage_failed.into());
                };
                let out = self
                    .chat
                    .log_in(&conn, user, &name, None, &[], now())
                    .map_err(|_| {
                        tracing::error!(name, "a free name was taken meanwhile");
                        storage_failed
                    })?;
                self.deliver(out);
                Ok((user, room, joined))
            }
            Err(JoinRefusal::Invalid(reason)) => Err(reason.into()),
            Err(JoinRefusal::LogIn(refusal)) => Err(refusal.reason().into()),
        }
    }

    /// Stores `user`'s membership of `room` (`general`: always a member): its id and
    /// whether it is new, or `None` (logged) when storage failed.
    async fn store_join(&self, user: UserId, room: &RoomName) -> Option<(ConversationId, bool)> {
        if room.is_general() {
            return Some((self.chat.general(), false));
        }
        match self.store.join_room(user, room).await {
            Ok(joined) => Some(joined),
            Err(error) => {
                tracing::error!(%error, "cannot join a room");
                None
            }
        }
    }

    /// Tells the other servers that `user` is in `room` now (`member`) or not any more.
    fn share_membership(&self, user: UserId, room: ConversationId, name: &RoomName, member: bool) {
        if room != self.chat.general() {
            self.share(crate::cluster::BusBody::Membership {
                user,
                room,
                name: name.to_string(),
                member,
            });
        }
    }

    /// `leave_room {room}`.
    pub(super) async fn leave(&mut self, conn: Sid, raw: &Value, ack: Option<Ack>) {
        let (user, id, room) = match self.chat.check_leave(&conn, raw) {
            Ok(checked) => checked,
            Err(reason) => return self.refuse(conn, client::LEAVE_ROOM, reason, ack),
        };
        if let Err(error) = self.store.leave_room(user, id).await {
            tracing::error!(%error, "cannot leave a room");
            return self.refuse(
                conn,
                client::LEAVE_ROOM,
                RejectionReason::StorageFailed,
                ack,
            );
        }
        self.share_membership(user, id, &room, false);
        let out = self.chat.left(user, id, &room, now());
        self.deliver(out);
        if let Some(ack) = ack {
            ack.send(&LeftReply {
                ok: true,
                room: room.as_str(),
            });
        }
    }

    /// `typing {room | to, isTyping}`.
    pub(super) async fn typing(&mut self, conn: Sid, raw: &Value, ack: Option<Ack>) {
        let request = match requests::parse_typing(raw) {
            Ok(request) => request,
            Err(reason) => return self.refuse(conn, client::TYPING, reason, ack),
        };
        let place = match request.target {
            Target::Room(room) => TypingWhere::Room(room),
            Target::With(name) => match self.resolve_user(&name).await {
                Ok((user, _)) => TypingWhere::With(user),
                Err(reason) => return self.refuse(conn, client::TYPING, reason, ack),
            },
        };
        match self.chat.typing(&conn, place, request.is_typing, now()) {
            Ok(out) => {
                self.deliver(out);
                if let Some(ack) = ack {
                    ack.send(&Done { ok: true });
                }
            }
            Err(reason) => self.refuse(conn, client::TYPING, reason, ack),
        }
    }

    /// `mark_read {room | with, id}`.
    pub(super) async fn mark_read(&mut self, conn: Sid, raw: &Value, ack: Option<Ack>) {
        let request = match requests::parse_mark_read(raw) {
            Ok(request) => request,
            Err(reason) => return self.refuse(conn, client::MARK_READ, reason, ack),
        };
        let Some(user) = self.chat.user_of(&conn) else {
            return self.refuse(conn, client::MARK_READ, RejectionReason::NotLoggedIn, ack);
        };
        let target = match request.target {
            Target::Room(room) => self
                .chat
                .check_read_room(user, &room)
                .map(|id| (id, ReadTarget::Room(id, room))),
            Target::With(name) => self.direct_target(user, &name).await,
        };
        match target {
            Ok((id, target)) => match self.read(Some(conn), user, id, &target, request.id).await {
                Ok(reply) => {
                    if let Some(ack) = ack {
                        ack.send(&reply);
                    }
                }
                Err(reason) => self.refuse(conn, client::MARK_READ, reason, ack),
            },
            Err(RejectionReason::UnknownConversation) => {
                // No message between the two yet: nothing to mark.
                if let Some(ack) = ack {
                    ack.send(&ReadReply {
                        ok: true,
                        read_up_to: Some(0),
                        unread: Some(0),
                        reason: None,
                        message: None,
                        retry_after_ms: None,
                    });
                }
            }
            Err(reason) => self.refuse(conn, client::MARK_READ, reason, ack),
        }
    }

    /// Your direct conversation with `name`: `unknownConversation` if it has not begun.
    async fn direct_target(
        &mut self,
        user: UserId,
        name: &str,
    ) -> Result<(crate::chat::ConversationId, ReadTarget), RejectionReason> {
        let (other, other_name) = self.resolve_user(name).await?;
        let pair = DirectPair::new(user, other).ok_or(RejectionReason::SelfMessage)?;
        let id = match self.directs.get(&pair) {
            Some(id) => *id,
            None => match self.store.direct(pair).await {
                Ok(Some(id)) => {
                    self.directs.insert(pair, id);
                    id
                }
                Ok(None) => return Err(RejectionReason::UnknownConversation),
                Err(error) => {
                    tracing::error!(%error, "cannot look up a direct conversation");
                    return Err(RejectionReason::StorageFailed);
                }
            },
        };
        Ok((id, ReadTarget::With(other, other_name)))
    }

    /// Moves `user`'s marker (stored), and tells their other sockets (and the other party
    /// of a DM) when it moved.
    async fn read(
        &mut self,
        conn: Option<Sid>,
        user: UserId,
        id: crate::chat::ConversationId,
        target: &ReadTarget,
        up_to: u64,
    ) -> Result<ReadReply, RejectionReason> {
        let outcome = match self.store.mark_read(user, id, up_to).await {
            Ok(Some(outcome)) => outcome,
            Ok(None) => return Err(RejectionReason::NotMember),
            Err(error) => {
                tracing::error!(%error, "cannot store a read marker");
                return Err(RejectionReason::StorageFailed);
            }
        };
        if outcome.moved {
            let out = self
                .chat
                .read_marked(conn.as_ref(), user, target, outcome.read_up_to);
            self.deliver(out);
        }
        Ok(ReadReply {
            ok: true,
            read_up_to: Some(outcome.read_up_to),
            unread: Some(outcome.unread),
            reason: None,
            message: None,
            retry_after_ms: None,
        })
    }

    /// `set_presence {status}`.
    pub(super) fn set_presence(&mut self, conn: Sid, raw: &Value, ack: Option<Ack>) {
        let result =
            requests::parse_presence(raw).and_then(|status| self.chat.set_presence(&conn, status));
        match result {
            Ok((status, out)) => {
                self.deliver(out);
                if let Some(ack) = ack {
                    ack.send(&PresenceReply { ok: true, status });
                }
            }
            Err(reason) => self.refuse(conn, client::SET_PRESENCE, reason, ack),
        }
    }

    /// Joining or leaving a room from a page's form.
    pub(super) async fn page_membership(
        &mut self,
        user: UserId,
        room: RoomName,
        join: bool,
    ) -> Result<(), super::PostError> {
        use super::PostError::Refused;
        if room.is_general() {
            return if join {
                Ok(())
            } else {
                Err(Refused(RejectionReason::CannotLeave))
            };
        }
        if join {
            if self.limit_user(user, Limited::Join).is_err() {
                return Err(Refused(RejectionReason::RateLimited));
            }
            let (id, newly) = self.store.join_room(user, &room).await.map_err(|error| {
                tracing::error!(%error, "cannot join a room");
                Refused(RejectionReason::StorageFailed)
            })?;
            self.share_membership(user, id, &room, true);
            let out = self.chat.joined(None, user, id, &room, newly, now());
            self.deliver(out);
            return Ok(());
        }
        let id = match self.store.room(&room).await {
            Ok(Some(id)) => id,
            Ok(None) => return Err(Refused(RejectionReason::NotMember)),
            Err(error) => {
                tracing::error!(%error, "cannot look up a room");
                return Err(Refused(RejectionReason::StorageFailed));
            }
        };
        match self.store.leave_room(user, id).await {
            Ok(true) => {
                self.share_membership(user, id, &room, false);
                let out = self.chat.left(user, id, &room, now());
                self.deliver(out);
                Ok(())
            }
            Ok(false) => Err(Refused(RejectionReason::NotMember)),
            Err(error) => {
                tracing::error!(%error, "cannot leave a room");
                Err(Refused(RejectionReason::StorageFailed))
            }
        }
    }

    /// A page showed `target` up to `id` to `user`.
    pub(super) async fn page_read(&mut self, user: UserId, target: super::PageTarget, id: u64) {
        let resolved = match target {
            super::PageTarget::Room(room) => match self.store.room(&room).await {
                Ok(Some(conversation)) => Ok((conversation, ReadTarget::Room(conversation, room))),
                Ok(None) => Err(RejectionReason::UnknownConversation),
                Err(error) => {
                    tracing::error!(%error, "cannot look up a room");
                    Err(RejectionReason::StorageFailed)
                }
            },
            super::PageTarget::With(name) => self.direct_target(user, &name).await,
        };
        if let Ok((conversation, target)) = resolved {
            if let Err(reason) = self.read(None, user, conversation, &target, id).await {
                tracing::debug!(?reason, "a page's read marker was not stored");
            }
        }
    }
}
