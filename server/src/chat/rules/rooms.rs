//! Rooms: joining (and creating), leaving, posting, and the `room_users` lists. `general`
//! is the lobby: everyone is in it, nobody leaves it, and its messages also reach the lobby
//! protocol's sockets as `chat`.

use std::hash::Hash;

use app::protocol::{MemberChange, MemberEvent, RejectionReason, RoomJoined, RoomRef, ServerEvent};
use serde_json::Value;

use super::{Chat, Events, LoginRefusal, Now};
use crate::chat::conversations::TypingSpot;
use crate::chat::requests::{self, Post};
use crate::chat::{
    validate_chat, Audience, ConversationId, Outgoing, RoomName, StoredMessage, UserId,
};

/// What a valid `join_room` asks of storage.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinPlan {
    /// The socket is not logged in: create a user of this name first.
    LogInFirst { name: String, room: RoomName },
    /// The user becomes (or stays) a member.
    Join { user: UserId, room: RoomName },
}

/// Why a `join_room` was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinRefusal {
    Invalid(RejectionReason),
    /// The log-in it implied was refused.
    LogIn(LoginRefusal),
}

/// A message to store in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomPost {
    pub room: ConversationId,
    pub name: RoomName,
    pub sender: UserId,
    pub post: Post,
}

impl<C: Clone + Eq + Hash> Chat<C> {
    /// Checks `join_room {username?, room}`.
    pub fn check_join(&self, conn: &C, raw: &Value) -> Result<JoinPlan, JoinRefusal> {
        let request = requests::parse_join(raw).map_err(JoinRefusal::Invalid)?;
        match self.user_of(conn) {
            None => {
                let Some(username) = request.username else {
                    return Err(JoinRefusal::Invalid(RejectionReason::NotLoggedIn));
                };
                let name = self
                    .check_login(conn, &username)
                    .map_err(JoinRefusal::LogIn)?;
                Ok(JoinPlan::LogInFirst {
                    name,
                    room: request.room,
                })
            }
            Some(user) => {
                let mine = self.name_of(user).unwrap_or_default().to_lowercase();
                match request.username {
                    Some(Value::String(asked)) if asked.trim().to_lowercase() == mine => {}
                    None => {}
                    Some(_) => return Err(JoinRefusal::Invalid(RejectionReason::NameMismatch)),
                }
                Ok(JoinPlan::Join {
                    user,
                    room: request.room,
                })
            }
        }
    }

    /// `user` is a member of `room` (stored), through `conn` (none for a page's form):
    /// `room_joined` to `conn`, and if `newly` a member, `user_joined` to the room's other
    /// sockets (the user's other tabs included). `room_users` follows with the next
    /// [`Chat::room_users_due`].
    pub fn joined(
        &mut self,
        conn: Option<&C>,
        user: UserId,
        room: ConversationId,
        name: &RoomName,
        newly: bool,
        now: Now,
    ) -> Events<C> {
        let username = match self.name_of(user) {
            Some(name) if self.is_present(user) => name.to_owned(),
            // Not online: nobody is told; they are in the room when they come back.
            _ => return Vec::new(),
        };
        self.conversations.enter(user, room, name);
        let mut out = Vec::new();
        if let Some(conn) = conn {
            out.push(Outgoing::only(
                conn.clone(),
                ServerEvent::RoomJoined(RoomJoined {
                    room: name.to_string(),
                    username: username.clone(),
                    user_id: user.wire(),
                }),
            ));
        }
        if let (false, Some(conn)) = (newly, conn) {
            // Asked again: this socket gets the current list.
            out.push(Outgoing::only(
                conn.clone(),
                ServerEvent::RoomUsers(
                    self.room_users(room),
                    RoomRef {
                        room: name.to_string(),
                    },
                ),
            ));
        }
        if newly {
            let to = match conn {
                Some(conn) => Audience::RoomExceptSocket(room, conn.clone()),
                None => Audience::Room(room),
            };
            out.push(Outgoing::new(
                to,
                ServerEvent::MemberJoined(MemberEvent {
                    username,
                    room: name.to_string(),
                    time: now.iso(),
                    reason: None,
                }),
            ));
        }
        out
    }

    /// Checks `leave_room {room}`: the user and the room to leave.
    pub fn check_leave(
        &self,
        conn: &C,
        raw: &Value,
    ) -> Result<(UserId, ConversationId, RoomName), RejectionReason> {
        let name = requests::parse_leave(raw)?;
        let user = self.user_of(conn).ok_or(RejectionReason::NotLoggedIn)?;
        if name.is_general() {
            return Err(RejectionReason::CannotLeave);
        }
        let room = self
            .room_named(&name)
            .filter(|room| self.conversations.is_in(user, *room))
            .ok_or(RejectionReason::NotMember)?;
        Ok((user, room, name))
    }

    /// `user` left `room` (stored): their typing there ends, and the room, them included,
    /// is told.
    pub fn left(
        &mut self,
        user: UserId,
        room: ConversationId,
        name: &RoomName,
        now: Now,
    ) -> Events<C> {
        if !self.is_present(user) {
            return Vec::new();
        }
        let mut out = self.end_typing(user, TypingSpot::Room(room));
        let event = ServerEvent::MemberLeft(MemberEvent {
            username: self.name_of(user).unwrap_or_default().to_owned(),
            room: name.to_string(),
            time: now.iso(),
            reason: Some(MemberChange::Left),
        });
        self.conversations.exit(user, room);
        // Resolved after the change: the room without them, and them.
        out.push(Outgoing::new(Audience::Room(room), event.clone()));
        out.push(Outgoing::new(Audience::User(user), event));
        out
    }

    /// Checks `send_message {message, room, clientId?}`.
    pub fn check_send(&self, conn: &C, raw: &Value) -> Result<RoomPost, RejectionReason> {
        let (name, post) = requests::parse_send(raw)?;
        let user = self.user_of(conn).ok_or(RejectionReason::NotLoggedIn)?;
        let room = self
            .room_named(&name)
            .filter(|room| self.conversations.is_in(user, *room))
            .ok_or(RejectionReason::NotMember)?;
        Ok(self.room_post(user, room, name, post))
    }

    /// Checks the lobby's `chat` (a message to `general`).
    pub fn check_chat(&self, conn: &C, raw: &Value) -> Result<RoomPost, RejectionReason> {
        let user = self.user_of(conn).ok_or(RejectionReason::NotLoggedIn)?;
        let input = validate_chat(raw).map_err(RejectionReason::from)?;
        let post = Post {
            text: input.text.to_owned(),
            client_id: input.client_id.map(str::to_owned),
        };
        Ok(self.room_post(user, self.general, RoomName::general(), post))
    }

    /// A post from a user who may have no socket (a page's form), to a room they are a
    /// member of (checked in storage).
    pub fn room_post(
        &self,
        user: UserId,
        room: ConversationId,
        name: RoomName,
        post: Post,
    ) -> RoomPost {
        RoomPost {
            room,
            name,
            sender: user,
            post,
        }
    }

    /// A message was stored in a room: the sender's typing there ends, then every member
    /// gets it (in `general`, the lobby protocol's sockets as `chat` too).
    pub fn room_message_stored(
        &mut self,
        room: ConversationId,
        name: &RoomName,
        message: &StoredMessage,
    ) -> Events<C> {
        let mut out = self.end_typing(message.sender, TypingSpot::Room(room));
        if room == self.general {
            out.push(Outgoing::new(
                Audience::Lobby,
                ServerEvent::Chat(message.to_chat()),
            ));
        }
        out.push(Outgoing::new(
            Audience::Room(room),
            ServerEvent::ReceiveMessage(message.to_room_message(name.as_str())),
        ));
        out
    }

    /// `room_users` for the rooms whose list changed (large rooms at most once a second).
    pub fn room_users_due(&mut self, now: Now) -> Events<C> {
        let (rooms, _) = self.conversations.take_due(now.at);
        rooms
            .into_iter()
            .filter_map(|room| {
                let name = self.conversations.room_name(room)?.to_string();
                Some(Outgoing::new(
                    Audience::Room(room),
                    ServerEvent::RoomUsers(self.room_users(room), RoomRef { room: name }),
                ))
            })
            .collect()
    }
}
