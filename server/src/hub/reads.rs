//! Reads: `history`, `list_rooms`, `my_conversations`. Each starts in the hub's order,
//! which fixes who is asking (the socket's user) and what the answer contains (every
//! message stored before the request; every later one reaches the socket live), and is
//! answered from storage beside the hub: what the reader may read (a DM only by its two
//! users) is checked there, against storage. A socket may have
//! [`HubSettings::reads_per_socket`] reads in flight.
//!
//! [`HubSettings::reads_per_socket`]: super::HubSettings::reads_per_socket

use std::collections::HashMap;

use app::protocol::{
    client, Conversations, DmSummary, HistoryReply, PresenceStatus, RejectionReason, RoomInfo,
    RoomList, RoomSummary,
};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use tokio::sync::OwnedSemaphorePermit;

use super::core::Hub;
use super::limits::{Denial, Limited};
use super::Ack;
use crate::chat::{
    validate_history, ConversationId, DirectPair, HistoryRange, HistoryTarget, RoomName,
    StoredMessage, UserId,
};
use crate::storage::{HistoryPage, StorageError, Store};

/// Whose history is read, resolved, and how its messages are shaped.
enum Shape {
    Lobby,
    Room(RoomName),
    /// A direct conversation, read by `reader` (`reader_name`) with `other_name`.
    Direct {
        reader: UserId,
        reader_name: String,
        other_name: String,
    },
}

impl<A: Adapter> Hub<A> {
    /// A read permit for `conn`, or the refusal (`rateLimited`).
    fn permit(&self, conn: Sid) -> Option<OwnedSemaphorePermit> {
        self.reads.get(&conn)?.clone().try_acquire_owned().ok()
    }

    /// `history`.
    pub(super) fn history(&mut self, conn: Sid, raw: Value, ack: Option<Ack>) {
        let Some(ack) = ack else {
            return self.refuse_read(conn, client::HISTORY, &raw);
        };
        let query = match validate_history(&raw) {
            Ok(query) => query,
            Err(reason) => return ack.send(&HistoryReply::<Value>::refused(reason)),
        };
        if let Err(retry) = self.limit(conn, Limited::Read) {
            let refused = HistoryReply::<Value>::refused(RejectionReason::RateLimited);
            return ack.send(&refused.retry_after(retry.ms()));
        }
        let Some(permit) = self.permit(conn) else {
            return ack.send(&HistoryReply::<Value>::refused(
                RejectionReason::RateLimited,
            ));
        };
        let reader = self
            .chat
            .user_of(&conn)
            .map(|user| (user, self.chat.name_of(user).unwrap_or_default().to_owned()));
        let store = self.store.clone();
        let general = self.chat.general();
        let catch_up_max = self.settings.catch_up_max;
        tokio::spawn(async move {
            let reply = match resolve(&store, general, query.target, reader).await {
                Ok(Some((id, shape))) => {
                    match read_page(&store, id, query.range, catch_up_max).await {
                        Ok(page) => Reply::page(page, &shape),
                        Err(error) => {
                            tracing::error!(%error, "cannot read history");
                            Reply::Refused(RejectionReason::StorageFailed)
                        }
                    }
                }
                // A direct conversation that has not begun: nothing, or a cursor from
                // another history.
                Ok(None) => Reply::Empty {
                    resync: matches!(query.range, HistoryRange::After(after) if after > 0),
                },
                Err(reason) => Reply::Refused(reason),
            };
            // The permit goes first: a client that waits for its answers before asking
            // again is never refused.
            drop(permit);
            reply.send(ack);
        });
    }

    /// A read that must carry an acknowledgement but has none.
    fn refuse_read(&mut self, conn: Sid, event: &str, raw: &Value) {
        let rooms_protocol = raw
            .as_object()
            .is_some_and(|fields| fields.contains_key("room") || fields.contains_key("with"));
        if event == client::HISTORY && !rooms_protocol {
            self.refuse_lobby(conn, event, RejectionReason::AckRequired);
        } else {
            self.refuse(conn, event, RejectionReason::AckRequired, None);
        }
    }

    /// What a listing (`list_rooms`, `my_conversations`) needs before it reads: an
    /// acknowledgement to answer, a logged-in asker and a read permit. `None` once the
    /// refusal has been sent (as `refused` shapes it).
    fn admit_listing<R: serde::Serialize>(
        &mut self,
        conn: Sid,
        event: &str,
        ack: Option<Ack>,
        refused: fn(Denial) -> R,
    ) -> Option<(Ack, UserId, OwnedSemaphorePermit)> {
        let Some(ack) = ack else {
            self.refuse_read(conn, event, &Value::Null);
            return None;
        };
        let Some(user) = self.chat.user_of(&conn) else {
            ack.send(&refused(RejectionReason::NotLoggedIn.into()));
            return None;
        };
        if let Err(retry) = self.limit(conn, Limited::Read) {
            ack.send(&refused(retry.into()));
            return None;
        }
        let Some(permit) = self.permit(conn) else {
            ack.send(&refused(RejectionReason::RateLimited.into()));
            return None;
        };
        Some((ack, user, permit))
    }

    /// `list_rooms`.
    pub(super) fn list_rooms(&mut self, conn: Sid, ack: Option<Ack>) {
        let Some((ack, user, permit)) =
            self.admit_listing(conn, client::LIST_ROOMS, ack, refused_rooms)
        else {
            return;
        };
        let online: HashMap<ConversationId, usize> =
            self.chat.present_counts().into_iter().collect();
        let store = self.store.clone();
        tokio::spawn(async move {
            let rows = store.list_rooms(user).await;
            drop(permit);
            match rows {
                Ok(rows) => ack.send(&RoomList {
                    ok: true,
                    rooms: Some(
                        rows.into_iter()
                            .map(|row| RoomInfo {
                                online: online.get(&row.id).copied().unwrap_or(0) as u64,
                                member: row.unread.is_some(),
                                unread: row.unread.unwrap_or(0),
                                room: row.name,
                                members: row.members,
                                last_id: row.last_id,
                            })
                            .collect(),
                    ),
                    reason: None,
                    message: None,
                    retry_after_ms: None,
                }),
                Err(error) => {
                    tracing::error!(%error, "cannot list the rooms");
                    ack.send(&refused_rooms(RejectionReason::StorageFailed.into()));
                }
            }
        });
    }

    /// `my_conversations`.
    pub(super) fn my_conversations(&mut self, conn: Sid, ack: Option<Ack>) {
        let Some((ack, user, permit)) =
            self.admit_listing(conn, client::MY_CONVERSATIONS, ack, refused_conversations)
        else {
            return;
        };
        let statuses = self.chat.statuses();
        let store = self.store.clone();
        tokio::spawn(async move {
            let answer = conversations_of(&store, user, &statuses).await;
            drop(permit);
            match answer {
                Ok(answer) => ack.send(&answer),
                Err(error) => {
                    tracing::error!(%error, "cannot list a user's conversations");
                    ack.send(&refused_conversations(
                        RejectionReason::StorageFailed.into(),
                    ));
                }
            }
        });
    }
}

/// Every room as `user` sees it, with `online` counts of the rooms someone is in.
pub async fn room_infos(
    store: &Store,
    user: UserId,
    online: &HashMap<ConversationId, usize>,
) -> Result<Vec<RoomInfo>, StorageError> {
    Ok(store
        .list_rooms(user)
        .await?
        .into_iter()
        .map(|row| RoomInfo {
            online: online.get(&row.id).copied().unwrap_or(0) as u64,
            member: row.unread.is_some(),
            unread: row.unread.unwrap_or(0),
            room: row.name,
            members: row.members,
            last_id: row.last_id,
        })
        .collect())
}

/// `user`'s rooms and direct conversations, with `statuses` of the users online.
pub async fn conversations_of(
    store: &Store,
    user: UserId,
    statuses: &HashMap<UserId, PresenceStatus>,
) -> Result<Conversations, StorageError> {
    let (rooms, directs) = store.my_conversations(user).await?;
    Ok(Conversations {
        ok: true,
        rooms: Some(
            rooms
                .into_iter()
                .map(|row| RoomSummary {
                    room: row.name,
                    unread: row.unread,
                    last_id: row.last_id,
                    read_up_to: row.read_up_to,
                })
                .collect(),
        ),
        dms: Some(
            directs
                .into_iter()
                .filter(|row| !row.other_retired)
                .map(|row| DmSummary {
                    status: statuses
                        .get(&row.other)
                        .copied()
                        .unwrap_or(PresenceStatus::Offline),
                    with: row.other_name,
                    user_id: row.other.wire(),
                    unread: row.unread,
                    last_id: row.last_id,
                    read_up_to: row.read_up_to,
                    their_read_up_to: row.their_read_up_to,
                })
                .collect(),
        ),
        reason: None,
        message: None,
        retry_after_ms: None,
    })
}

fn refused_rooms(denial: Denial) -> RoomList {
    RoomList {
        ok: false,
        rooms: None,
        reason: Some(denial.reason),
        message: Some(denial.reason.describe().to_owned()),
        retry_after_ms: denial.retry_after_ms,
    }
}

fn refused_conversations(denial: Denial) -> Conversations {
    Conversations {
        ok: false,
        rooms: None,
        dms: None,
        reason: Some(denial.reason),
        message: Some(denial.reason.describe().to_owned()),
        retry_after_ms: denial.retry_after_ms,
    }
}

/// Which conversation a history request reads, if the reader may: `Ok(None)` for a direct
/// conversation that has not begun.
async fn resolve(
    store: &Store,
    general: ConversationId,
    target: HistoryTarget,
    reader: Option<(UserId, String)>,
) -> Result<Option<(ConversationId, Shape)>, RejectionReason> {
    let failed = |error: StorageError| {
        tracing::error!(%error, "cannot look up a conversation");
        RejectionReason::StorageFailed
    };
    match target {
        HistoryTarget::Lobby => Ok(Some((general, Shape::Lobby))),
        HistoryTarget::Room(name) => match store.room(&name).await.map_err(failed)? {
            Some(id) => Ok(Some((id, Shape::Room(name)))),
            None => Err(RejectionReason::UnknownConversation),
        },
        HistoryTarget::With(name) => {
            let (reader, reader_name) = reader.ok_or(RejectionReason::NotLoggedIn)?;
            let other = store
                .active_user(&name)
                .await
                .map_err(failed)?
                .ok_or(RejectionReason::UnknownUser)?;
            let pair = DirectPair::new(reader, other.id).ok_or(RejectionReason::SelfMessage)?;
            let id = store.direct(pair).await.map_err(failed)?;
            Ok(id.map(|id| {
                (
                    id,
                    Shape::Direct {
                        reader,
                        reader_name,
                        other_name: other.name,
                    },
                )
            }))
        }
        HistoryTarget::Named(name) => {
            let (id, pair) = store
                .conversation_named(&name)
                .await
                .map_err(failed)?
                .ok_or(RejectionReason::UnknownConversation)?;
            let Some(pair) = pair else {
                let room = RoomName::parse(&name).ok_or(RejectionReason::UnknownConversation)?;
                return Ok(Some((id, Shape::Room(room))));
            };
            let (reader, reader_name) = reader.ok_or(RejectionReason::NotAllowed)?;
            if !pair.contains(reader) {
                return Err(RejectionReason::NotAllowed);
            }
            let other_name = store
                .user_name(pair.other(reader))
                .await
                .map_err(failed)?
                .map(|(name, _)| name)
                .unwrap_or_default();
            Ok(Some((
                id,
                Shape::Direct {
                    reader,
                    reader_name,
                    other_name,
                },
            )))
        }
    }
}

async fn read_page(
    store: &Store,
    id: ConversationId,
    range: HistoryRange,
    catch_up_max: u32,
) -> Result<HistoryPage, StorageError> {
    match range {
        HistoryRange::Before { before, limit } => store.page_before(id, before, limit).await,
        HistoryRange::After(after) => store.page_after(id, after, catch_up_max).await,
    }
}

/// A history answer, in the shape of the conversation's live events.
enum Reply {
    Lobby(HistoryReply),
    Room(HistoryReply<app::protocol::RoomMessage>),
    Direct(HistoryReply<app::protocol::DirectMessage>),
    /// A conversation that has not begun.
    Empty {
        resync: bool,
    },
    Refused(RejectionReason),
}

impl Reply {
    fn page(page: HistoryPage, shape: &Shape) -> Self {
        let HistoryPage {
            messages,
            has_more,
            resync,
            deleted,
        } = page;
        match shape {
            Shape::Lobby => Self::Lobby(
                HistoryReply::page(
                    messages.iter().map(StoredMessage::to_chat).collect(),
                    has_more,
                    resync,
                )
                .with_deleted(deleted),
            ),
            Shape::Room(name) => Self::Room(
                HistoryReply::page(
                    messages
                        .iter()
                        .map(|m| m.to_room_message(name.as_str()))
                        .collect(),
                    has_more,
                    resync,
                )
                .with_deleted(deleted),
            ),
            Shape::Direct {
                reader,
                reader_name,
                other_name,
            } => Self::Direct(
                HistoryReply::page(
                    messages
                        .iter()
                        .map(|m| {
                            let mine = m.sender == *reader;
                            let to = if mine { other_name } else { reader_name };
                            m.to_direct_message(to, mine)
                        })
                        .collect(),
                    has_more,
                    resync,
                )
                .with_deleted(deleted),
            ),
        }
    }

    fn send(self, ack: Ack) {
        match self {
            Self::Lobby(reply) => ack.send(&reply),
            Self::Room(reply) => ack.send(&reply),
            Self::Direct(reply) => ack.send(&reply),
            Self::Empty { resync } => {
                ack.send(&HistoryReply::<Value>::page(Vec::new(), false, resync));
            }
            Self::Refused(reason) => ack.send(&HistoryReply::<Value>::refused(reason)),
        }
    }
}
