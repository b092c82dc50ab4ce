//! Typing leases, per conversation: a lease is started or renewed by `typing`, and ends by
//! itself after the lease time, by `isTyping: false` (`stopTyping` in the lobby), with a
//! message from the typer there, or with the disconnect of the socket that typed. Typing in
//! `general` is the lobby's typing, shown to both protocol families.

use std::hash::Hash;

use app::protocol::{Rejection, RejectionReason, ServerEvent, UserTyping};

use super::{Chat, Events, Now};
use crate::chat::conversations::TypingSpot;
use crate::chat::{Audience, Outgoing, RoomName, UserId};

/// Where a client says it is typing, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypingWhere {
    Room(RoomName),
    /// A direct conversation with this user.
    With(UserId),
}

impl<C: Clone + Eq + Hash> Chat<C> {
    /// The lobby's `typing` (no payload): starts or renews the typer's lease in `general`.
    pub fn lobby_typing(&mut self, conn: &C, now: Now) -> Events<C> {
        let Some(user) = self.user_of(conn) else {
            return vec![lobby_refusal(conn, "typing")];
        };
        let spot = TypingSpot::Room(self.general);
        self.start_typing(conn, user, spot, now)
    }

    /// The lobby's `stopTyping`.
    pub fn lobby_stop_typing(&mut self, conn: &C) -> Events<C> {
        let Some(user) = self.user_of(conn) else {
            return vec![lobby_refusal(conn, "stopTyping")];
        };
        self.end_typing(user, TypingSpot::Room(self.general))
    }

    /// `typing {room | to, isTyping}`.
    pub fn typing(
        &mut self,
        conn: &C,
        place: TypingWhere,
        is_typing: bool,
        now: Now,
    ) -> Result<Events<C>, RejectionReason> {
        let user = self.user_of(conn).ok_or(RejectionReason::NotLoggedIn)?;
        let spot = match place {
            TypingWhere::Room(name) => {
                let room = self
                    .room_named(&name)
                    .filter(|room| self.conversations.is_in(user, *room))
                    .ok_or(RejectionReason::NotMember)?;
                TypingSpot::Room(room)
            }
            TypingWhere::With(other) if other == user => return Err(RejectionReason::SelfMessage),
            TypingWhere::With(other) => TypingSpot::With(other),
        };
        Ok(if is_typing {
            self.start_typing(conn, user, spot, now)
        } else {
            self.end_typing(user, spot)
        })
    }

    fn start_typing(&mut self, conn: &C, user: UserId, spot: TypingSpot, now: Now) -> Events<C> {
        let until = now.at + self.typing_lease;
        if !self
            .conversations
            .start_typing(user, spot, conn.clone(), until)
        {
            return Vec::new();
        }
        self.typing_events(user, spot, conn, true)
    }

    /// Ends `user`'s lease at `spot`, if there is one.
    pub(super) fn end_typing(&mut self, user: UserId, spot: TypingSpot) -> Events<C> {
        match self.conversations.stop_typing(user, spot) {
            Some(conn) => self.typing_events(user, spot, &conn, false),
            None => Vec::new(),
        }
    }

    fn typing_events(
        &self,
        user: UserId,
        spot: TypingSpot,
        conn: &C,
        is_typing: bool,
    ) -> Events<C> {
        let Some(name) = self.name_of(user).map(str::to_owned) else {
            return Vec::new();
        };
        match spot {
            TypingSpot::Room(room) => {
                let mut out = Vec::new();
                if room == self.general {
                    let lobby = if is_typing {
                        ServerEvent::UserTyping(name.clone())
                    } else {
                        ServerEvent::UserStoppedTyping(name.clone())
                    };
                    out.push(Outgoing::new(Audience::LobbyExcept(conn.clone()), lobby));
                }
                let room_name = self
                    .conversations
                    .room_name(room)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                out.push(Outgoing::new(
                    Audience::RoomExceptUser(room, user),
                    ServerEvent::TypingIn(UserTyping {
                        username: name,
                        is_typing,
                        room: Some(room_name),
                        with: None,
                    }),
                ));
                out
            }
            TypingSpot::With(other) => vec![Outgoing::new(
                Audience::User(other),
                ServerEvent::TypingIn(UserTyping {
                    username: name.clone(),
                    is_typing,
                    room: None,
                    with: Some(name),
                }),
            )],
        }
    }
}

fn lobby_refusal<C>(conn: &C, event: &str) -> Outgoing<C>
where
    C: Clone,
{
    Outgoing::only(
        conn.clone(),
        ServerEvent::RequestRejected(Rejection::new(event, RejectionReason::NotLoggedIn)),
    )
}
