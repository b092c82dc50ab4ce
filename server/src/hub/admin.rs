//! The administrators' requests (the `/admin` namespace): who is connected, kicking a
//! user, deleting a message, announcing. They are applied in the hub's queue like every
//! other command. What needs every server of a cluster is asked of the others on the
//! hubs' bus, and the answer is put together beside the queue: the hub never waits for
//! another server.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use app::protocol::admin::{
    Announce, DeleteMessage, KickReply, KickUser, OnlineUser, UserList, UserRef, UserSocket,
};
use app::protocol::{
    Announcement, Done, MessageDeleted, PresenceStatus, Refused, RejectionReason, ServerEvent,
    SessionEndReason, GENERAL,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use tokio::sync::oneshot;

use super::core::{now, Hub};
use crate::chat::{validate_message, Audience, ConversationId, DirectPair, Outgoing, RoomName};
use crate::chat::{MessageError, UserId};
use crate::cluster::{AdminAnswer, AdminQuery, BusBody};

/// How long an administrator's request waits for the other servers' answers.
const PATIENCE: Duration = Duration::from_secs(2);

/// What an administrator asks (the payload as sent: the hub checks it).
#[derive(Debug)]
pub enum AdminRequest {
    ListUsers,
    KickUser(Option<Value>),
    DeleteMessage(Option<Value>),
    Announce(Option<Value>),
}

impl AdminRequest {
    /// The request of admin event `name`, if there is such an event.
    pub fn from_wire(name: &str, payload: Option<Value>) -> Option<Self> {
        use app::protocol::admin::event;
        Some(match name {
            event::LIST_USERS => Self::ListUsers,
            event::KICK_USER => Self::KickUser(payload),
            event::DELETE_MESSAGE => Self::DeleteMessage(payload),
            event::ANNOUNCE => Self::Announce(payload),
            _ => return None,
        })
    }
}

/// The acknowledgement of an administrator's request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AdminReply {
    Users(UserList),
    Kicked(KickReply),
    Done(Done),
    Refused(Refused),
}

impl From<RejectionReason> for AdminReply {
    fn from(reason: RejectionReason) -> Self {
        Self::Refused(Refused::new(reason))
    }
}

impl From<MessageError> for AdminReply {
    fn from(error: MessageError) -> Self {
        RejectionReason::from(error).into()
    }
}

type Reply = oneshot::Sender<AdminReply>;

/// The payload as `T`, or `badRequest`.
fn payload<T: DeserializeOwned>(payload: Option<Value>) -> Result<T, AdminReply> {
    payload
        .and_then(|value| serde_json::from_value(value).ok())
        .ok_or_else(|| RejectionReason::BadRequest.into())
}

fn answer(reply: Reply, result: Result<AdminReply, AdminReply>) {
    // The administrator may have gone: nothing to tell.
    let _ = reply.send(result.unwrap_or_else(|refused| refused));
}

impl<A: Adapter> Hub<A> {
    pub(super) async fn admin(&mut self, request: AdminRequest, reply: Reply) {
        match request {
            AdminRequest::ListUsers => self.list_users(reply),
            AdminRequest::KickUser(raw) => match payload::<KickUser>(raw) {
                Ok(KickUser {
                    username: Some(name),
                    socket_id: None,
                }) => {
                    let result = self.kick_named(&name).await;
                    answer(reply, result);
                }
                Ok(KickUser {
                    username: None,
                    socket_id: Some(socket),
                }) => self.kick_socket(&socket, reply).await,
                Ok(_) => answer(reply, Err(RejectionReason::BadRequest.into())),
                Err(refused) => answer(reply, Err(refused)),
            },
            AdminRequest::DeleteMessage(raw) => {
                let result = match payload::<DeleteMessage>(raw) {
                    Ok(request) => self.delete_message(request).await,
                    Err(refused) => Err(refused),
                };
                answer(reply, result);
            }
            AdminRequest::Announce(raw) => {
                let result = payload::<Announce>(raw).and_then(|a| self.announce(a));
                answer(reply, result);
            }
        }
    }

    /// Who is online here, with their sockets here.
    pub(super) fn users_here(&self) -> Vec<OnlineUser> {
        self.chat
            .users_here()
            .into_iter()
            .map(|(id, name, status, conns)| OnlineUser {
                username: name,
                user_id: id.0,
                status,
                sockets: conns
                    .into_iter()
                    .map(|conn| UserSocket {
                        id: conn.to_string(),
                        transport: self.out.transport_of(conn).unwrap_or("closing").to_owned(),
                        address: self.addresses.get(&conn).map(ToString::to_string),
                        node: self.node.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// `list_users`: everyone online on every server, with their sockets. The other
    /// servers are asked on the bus; the answer waits for them beside the queue.
    fn list_users(&self, reply: Reply) {
        let here = self.users_here();
        let this = self.node.clone();
        let servers: BTreeSet<String> = self.chat.servers_elsewhere().into_iter().collect();
        let Some(bus) = self.out.bus().filter(|_| !servers.is_empty()) else {
            let list = merge_user_lists(vec![(this, here)], true);
            return answer(reply, Ok(AdminReply::Users(list)));
        };
        let asked = bus.ask(AdminQuery::ListUsers);
        tokio::spawn(async move {
            let answers = asked.collect(&servers, PATIENCE, |_| false).await;
            let complete = answers.len() == servers.len();
            let mut lists = vec![(this, here)];
            lists.extend(
                answers
                    .into_iter()
                    .filter_map(|(from, answer)| match answer {
                        AdminAnswer::Users(users) => Some((from, users)),
                        AdminAnswer::KickedSocket(_) => None,
                    }),
            );
            let list = merge_user_lists(lists, complete);
            answer(reply, Ok(AdminReply::Users(list)));
        });
    }

    /// `kick_user {username}`: the user holding that name, online on any server or with
    /// a live session.
    async fn kick_named(&mut self, name: &str) -> Result<AdminReply, AdminReply> {
        let (user, name) = match self.chat.user_named(name) {
            Some(found) => found,
            None => match self.store.active_user(name).await {
                Ok(Some(record)) => (record.id, record.name),
                Ok(None) => return Err(RejectionReason::UnknownUser.into()),
                Err(error) => {
                    tracing::error!(%error, "cannot look up a user to kick");
                    return Err(RejectionReason::StorageFailed.into());
                }
            },
        };
        self.kick(user, &name).await?;
        Ok(kicked(Some((user, name))))
    }

    /// `kick_user {socketId}`: the user of that socket, wherever it is (a socket that
    /// has not logged in is closed).
    async fn kick_socket(&mut self, socket: &str, reply: Reply) {
        if let Some(result) = self.kick_socket_here(socket).await {
            return answer(reply, result);
        }
        let servers: BTreeSet<String> = self.chat.servers_elsewhere().into_iter().collect();
        let Some(bus) = self.out.bus().filter(|_| !servers.is_empty()) else {
            return answer(reply, Err(RejectionReason::UnknownSocket.into()));
        };
        let asked = bus.ask(AdminQuery::KickSocket {
            socket: socket.to_owned(),
        });
        tokio::spawn(async move {
            let found = |answer: &AdminAnswer| matches!(answer, AdminAnswer::KickedSocket(Some(_)));
            let answers = asked.collect(&servers, PATIENCE, found).await;
            let result = answers
                .into_iter()
                .find_map(|(_, answer)| match answer {
                    AdminAnswer::KickedSocket(Some(kicked)) => Some(AdminReply::Kicked(kicked)),
                    _ => None,
                })
                .ok_or_else(|| RejectionReason::UnknownSocket.into());
            answer(reply, result);
        });
    }

    /// Kicks the user of `socket` if it is connected here: `None` if it is not.
    pub(super) async fn kick_socket_here(
        &mut self,
        socket: &str,
    ) -> Option<Result<AdminReply, AdminReply>> {
        let conn: Sid = socket.parse().ok()?;
        if !self.chat.is_connected(&conn) {
            return None;
        }
        let Some(user) = self.chat.user_of(&conn) else {
            tracing::info!(sid = %conn, "an administrator closed a socket");
            self.out.close(conn);
            return Some(Ok(kicked(None)));
        };
        let name = self.chat.name_of(user).unwrap_or_default().to_owned();
        Some(match self.kick(user, &name).await {
            Ok(()) => Ok(kicked(Some((user, name)))),
            Err(refused) => Err(refused),
        })
    }

    /// Ends `user`'s sessions for good (their name is free) and closes their sockets on
    /// every server, each told why first; everyone sees them leave.
    async fn kick(&mut self, user: UserId, name: &str) -> Result<(), AdminReply> {
        if let Err(error) = self.store.retire_user(user).await {
            tracing::error!(%error, ?user, "cannot end the sessions of a user to kick");
            return Err(RejectionReason::StorageFailed.into());
        }
        tracing::info!(?user, name, "an administrator kicked a user");
        self.kick_here(user);
        self.share(BusBody::Kicked { user });
        Ok(())
    }

    /// Logs `user` out here, tells each of their sockets it was kicked, and closes them.
    pub(super) fn kick_here(&mut self, user: UserId) {
        self.directs.retain(|pair, _| !pair.contains(user));
        let Some((conns, out)) = self.chat.log_out(user, now()) else {
            return;
        };
        for conn in &conns {
            self.end_session_on(*conn, SessionEndReason::Kicked);
        }
        self.deliver(out);
        for conn in conns {
            self.out.close(conn);
        }
    }

    /// `delete_message`: gone from storage (a tombstone keeps its id) and from every
    /// client that shows the conversation (`message_deleted`).
    async fn delete_message(&mut self, request: DeleteMessage) -> Result<AdminReply, AdminReply> {
        let (conversation, told) = match (request.room, request.with) {
            (Some(room), None) => self.room_to_delete_in(&room, request.id).await?,
            (None, Some([a, b])) => self.direct_to_delete_in(&a, &b, request.id).await?,
            _ => return Err(RejectionReason::BadRequest.into()),
        };
        match self.store.delete_message(conversation, request.id).await {
            Ok(true) => {}
            Ok(false) => return Err(RejectionReason::UnknownMessage.into()),
            Err(error) => {
                tracing::error!(%error, "cannot delete a message");
                return Err(RejectionReason::StorageFailed.into());
            }
        }
        tracing::info!(
            conversation = conversation.0,
            id = request.id,
            "an administrator deleted a message"
        );
        self.deliver(told);
        Ok(AdminReply::Done(Done { ok: true }))
    }

    /// A room's id, and who is told of a deletion in it.
    async fn room_to_delete_in(
        &self,
        room: &str,
        id: u64,
    ) -> Result<(ConversationId, Vec<Outgoing<Sid>>), AdminReply> {
        let room = RoomName::parse(room).ok_or(RejectionReason::BadRoomName)?;
        let conversation = match self.store.room(&room).await {
            Ok(Some(conversation)) => conversation,
            Ok(None) => return Err(RejectionReason::UnknownConversation.into()),
            Err(error) => {
                tracing::error!(%error, "cannot look up a room");
                return Err(RejectionReason::StorageFailed.into());
            }
        };
        let event = ServerEvent::MessageDeleted(MessageDeleted {
            room: Some(room.as_str().to_owned()),
            with: None,
            id,
        });
        let mut told = vec![Outgoing::new(Audience::Room(conversation), event.clone())];
        if room.as_str() == GENERAL {
            told.push(Outgoing::new(Audience::Lobby, event));
        }
        Ok((conversation, told))
    }

    /// The DM of users `a` and `b`, and who is told of a deletion in it: each of them,
    /// named from their side.
    async fn direct_to_delete_in(
        &self,
        a: &UserRef,
        b: &UserRef,
        id: u64,
    ) -> Result<(ConversationId, Vec<Outgoing<Sid>>), AdminReply> {
        let (a, b) = (self.user_by_ref(a).await?, self.user_by_ref(b).await?);
        let pair = DirectPair::new(a.0, b.0).ok_or(RejectionReason::SelfMessage)?;
        let conversation = match self.store.direct(pair).await {
            Ok(Some(conversation)) => conversation,
            Ok(None) => return Err(RejectionReason::UnknownConversation.into()),
            Err(error) => {
                tracing::error!(%error, "cannot look up a direct conversation");
                return Err(RejectionReason::StorageFailed.into());
            }
        };
        let told = |to: UserId, with: &str| {
            let event = ServerEvent::MessageDeleted(MessageDeleted {
                room: None,
                with: Some(with.to_owned()),
                id,
            });
            Outgoing::new(Audience::User(to), event)
        };
        Ok((conversation, vec![told(a.0, &b.1), told(b.0, &a.1)]))
    }

    /// The user with that id (logged out or not), or holding that name now.
    async fn user_by_ref(&self, user: &UserRef) -> Result<(UserId, String), AdminReply> {
        let id = match user {
            UserRef::Name(name) => return self.user_by_name(name).await,
            UserRef::Id(id) => {
                UserId(i64::try_from(*id).map_err(|_| RejectionReason::UnknownUser)?)
            }
        };
        match self.store.user_name(id).await {
            Ok(Some((name, _retired))) => Ok((id, name)),
            Ok(None) => Err(RejectionReason::UnknownUser.into()),
            Err(error) => {
                tracing::error!(%error, "cannot look up a user");
                Err(RejectionReason::StorageFailed.into())
            }
        }
    }

    /// The user holding `name` (ignoring case), online or not.
    async fn user_by_name(&self, name: &str) -> Result<(UserId, String), AdminReply> {
        if let Some(found) = self.chat.user_named(name) {
            return Ok(found);
        }
        match self.store.active_user(name).await {
            Ok(Some(record)) => Ok((record.id, record.name)),
            Ok(None) => Err(RejectionReason::UnknownUser.into()),
            Err(error) => {
                tracing::error!(%error, "cannot look up a user");
                Err(RejectionReason::StorageFailed.into())
            }
        }
    }

    /// `announce`: a line to every logged-in socket and every lobby-family socket.
    fn announce(&mut self, request: Announce) -> Result<AdminReply, AdminReply> {
        let message = validate_message(&Value::String(request.message))?.to_owned();
        tracing::info!("an administrator made an announcement");
        let event = ServerEvent::Announcement(Announcement {
            message,
            time: now().iso(),
        });
        self.deliver(vec![
            Outgoing::new(Audience::Everyone, event.clone()),
            Outgoing::new(Audience::Lobby, event),
        ]);
        Ok(AdminReply::Done(Done { ok: true }))
    }

    /// Another server's question (see `cluster::asks`): answered on the bus.
    pub(super) async fn asked_on_bus(&mut self, from: String, ask: u64, query: AdminQuery) {
        let answer = match query {
            AdminQuery::ListUsers => AdminAnswer::Users(self.users_here()),
            AdminQuery::KickSocket { socket } => {
                AdminAnswer::KickedSocket(match self.kick_socket_here(&socket).await {
                    Some(Ok(AdminReply::Kicked(kicked))) => Some(kicked),
                    // Here, but it could not be kicked (the database failed): the asker
                    // hears nothing of it and says the socket is unknown; it is logged.
                    _ => None,
                })
            }
        };
        if let Some(bus) = self.out.bus() {
            bus.answer(from, ask, answer);
        }
    }
}

fn kicked(user: Option<(UserId, String)>) -> AdminReply {
    let (user_id, username) = user.map(|(id, name)| (id.0, name)).unzip();
    AdminReply::Kicked(KickReply {
        ok: true,
        username,
        user_id,
    })
}

/// One list of everyone from each server's: a user on several servers once, with all
/// their sockets, `online` if any server says so; in order of user id.
pub fn merge_user_lists(lists: Vec<(String, Vec<OnlineUser>)>, complete: bool) -> UserList {
    let mut nodes = Vec::new();
    let mut users: BTreeMap<i64, OnlineUser> = BTreeMap::new();
    for (node, list) in lists {
        nodes.push(node);
        for user in list {
            match users.get_mut(&user.user_id) {
                Some(known) => {
                    known.sockets.extend(user.sockets);
                    if user.status == PresenceStatus::Online {
                        known.status = PresenceStatus::Online;
                    }
                }
                None => {
                    users.insert(user.user_id, user);
                }
            }
        }
    }
    UserList {
        ok: true,
        users: users.into_values().collect(),
        nodes,
        complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, status: PresenceStatus, sockets: &[(&str, &str)]) -> OnlineUser {
        OnlineUser {
            username: format!("user{id}"),
            user_id: id,
            status,
            sockets: sockets
                .iter()
                .map(|(sid, node)| UserSocket {
                    id: (*sid).into(),
                    transport: "websocket".into(),
                    address: None,
                    node: (*node).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_user_on_two_servers_is_listed_once_with_every_socket() {
        let a = vec![
            user(7, PresenceStatus::Away, &[("s1", "a")]),
            user(3, PresenceStatus::Online, &[("s2", "a")]),
        ];
        let b = vec![user(7, PresenceStatus::Online, &[("s3", "b")])];
        let list = merge_user_lists(vec![("a".into(), a), ("b".into(), b)], false);
        assert_eq!(list.nodes, ["a", "b"]);
        assert!(!list.complete);
        let ids: Vec<i64> = list.users.iter().map(|u| u.user_id).collect();
        assert_eq!(ids, [3, 7], "in order of user id");
        let seven = &list.users[1];
        assert_eq!(seven.status, PresenceStatus::Online, "online somewhere");
        let sockets: Vec<(&str, &str)> = seven
            .sockets
            .iter()
            .map(|s| (s.id.as_str(), s.node.as_str()))
            .collect();
        assert_eq!(sockets, [("s1", "a"), ("s3", "b")]);
    }

    #[test]
    fn requests_are_known_by_their_event_names_only() {
        assert!(matches!(
            AdminRequest::from_wire("list_users", None),
            Some(AdminRequest::ListUsers)
        ));
        assert!(AdminRequest::from_wire("drop_tables", None).is_none());
        let refused = payload::<KickUser>(Some(serde_json::json!({"username": 3})));
        assert_eq!(refused, Err(RejectionReason::BadRequest.into()));
        let refused =
            payload::<DeleteMessage>(Some(serde_json::json!({"room": "a", "id": 1, "x": 0})));
        assert_eq!(
            refused,
            Err(RejectionReason::BadRequest.into()),
            "unknown keys"
        );
    }
}
