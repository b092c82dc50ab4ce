//! Messages: the lobby's `chat`, `send_message` and `private_message` (and a page's form).
//! A message is stored (and numbered) before it is delivered; the messages queued right
//! behind it go into the same transaction (up to [`MAX_BATCH`]), then are delivered in
//! order, so a burst costs one commit.

use std::str::FromStr;

use app::protocol::time::iso_from_ms;
use app::protocol::{client, ChatReceipt, ClientEvent, RejectionReason, SendReceipt};
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use tokio::sync::{mpsc, oneshot};

use super::command::{PageTarget, PostError};
use super::core::Hub;
use super::events::with_retry;
use super::limits::{Denial, Limited};
use super::{Ack, HubCommand};
use crate::chat::requests::{Post, Recipient};
use crate::chat::{
    ConversationId, DirectPair, Family, NewMessage, RoomName, StoredMessage, UserId,
};
use crate::storage::Appended;

/// The most queued messages stored in one transaction.
const MAX_BATCH: usize = 256;

/// Where a message goes.
enum Destination {
    Room {
        id: ConversationId,
        name: RoomName,
    },
    Direct {
        pair: DirectPair,
        recipient: UserId,
        recipient_name: String,
    },
}

/// How a message is answered, stored or refused.
enum Answer {
    /// The lobby's `chat`: a [`ChatReceipt`] if asked for; refused: `requestRejected`.
    Chat { conn: Sid, ack: Option<Ack> },
    /// `send_message` / `private_message`: a [`SendReceipt`] if asked for; refused
    /// without one: `error`.
    Send {
        conn: Sid,
        event: &'static str,
        ack: Option<Ack>,
    },
    /// A page's form.
    Page(oneshot::Sender<Result<(), PostError>>),
}

/// A checked message, waiting to be stored.
struct Pending {
    to: Destination,
    message: NewMessage,
    answer: Answer,
}

/// A refused message, answered in order after the batch before it.
struct Refusal {
    answer: Answer,
    denial: Denial,
}

impl<A: Adapter> Hub<A> {
    /// A message event, and the message events queued behind it.
    pub(super) async fn post(
        &mut self,
        conn: Sid,
        event: ClientEvent,
        ack: Option<Ack>,
        queue: &mut mpsc::UnboundedReceiver<HubCommand>,
    ) -> Option<HubCommand> {
        let mut batch = Vec::new();
        let mut next = None;
        let mut refused = None;
        match self.check_post(conn, event, ack).await {
            Ok(pending) => batch.push(pending),
            Err(refusal) => refused = Some(refusal),
        }
        while refused.is_none() && batch.len() < MAX_BATCH {
            let Ok(command) = queue.try_recv() else { break };
            match command {
                HubCommand::Event {
                    conn,
                    event:
                        event @ (ClientEvent::Chat(_)
                        | ClientEvent::SendMessage(_)
                        | ClientEvent::PrivateMessage(_)),
                    ack,
                    queued,
                } if self.chat.is_connected(&conn) => {
                    queued.taken();
                    if event.is_rooms_protocol() && self.chat.family(&conn) == Some(Family::Lobby) {
                        // It changes family with this event: what comes before it (the
                        // batch) reaches it in the lobby's, so the batch ends here.
                        next = Some(HubCommand::Event {
                            conn,
                            event,
                            ack,
                            queued,
                        });
                        break;
                    }
                    match self.check_post(conn, event, ack).await {
                        Ok(pending) => batch.push(pending),
                        Err(refusal) => refused = Some(refusal),
                    }
                }
                other => {
                    next = Some(other);
                    break;
                }
            }
        }
        self.store_all(batch).await;
        if let Some(refusal) = refused {
            self.answer_refusal(refusal);
        }
        next
    }

    async fn check_post(
        &mut self,
        conn: Sid,
        event: ClientEvent,
        ack: Option<Ack>,
    ) -> Result<Pending, Refusal> {
        let (event_name, checked) = match event {
            ClientEvent::Chat(raw) => (
                client::CHAT,
                self.chat.check_chat(&conn, &raw).map(|post| {
                    (
                        room_destination(post.room, post.name),
                        post.sender,
                        post.post,
                    )
                }),
            ),
            ClientEvent::SendMessage(raw) => (
                client::SEND_MESSAGE,
                self.chat.check_send(&conn, &raw).map(|post| {
                    (
                        room_destination(post.room, post.name),
                        post.sender,
                        post.post,
                    )
                }),
            ),
            ClientEvent::PrivateMessage(raw) => {
                let checked = match self.chat.check_private(&conn, &raw) {
                    Ok((sender, to, post)) => self.direct_destination(sender, to, post).await,
                    Err(reason) => Err(reason),
                };
                (client::PRIVATE_MESSAGE, checked)
            }
            other => {
                tracing::error!(event = other.name(), "not a message");
                return Err(Refusal {
                    answer: Answer::Send {
                        conn,
                        event: client::SEND_MESSAGE,
                        ack,
                    },
                    denial: RejectionReason::BadRequest.into(),
                });
            }
        };
        let answer = if event_name == client::CHAT {
            Answer::Chat { conn, ack }
        } else {
            Answer::Send {
                conn,
                event: event_name,
                ack,
            }
        };
        let checked = checked
            .map_err(Denial::from)
            .and_then(|(to, sender, post)| {
                self.limit_user(sender, Limited::Message)
                    .map(|()| (to, sender, post))
                    .map_err(Denial::from)
            });
        match checked {
            Ok((to, sender, post)) => Ok(self.pending(to, sender, post, answer)),
            Err(denial) => Err(Refusal { answer, denial }),
        }
    }

    fn pending(&self, to: Destination, sender: UserId, post: Post, answer: Answer) -> Pending {
        Pending {
            to,
            message: NewMessage {
                sender,
                sender_name: self.chat.name_of(sender).unwrap_or_default().to_owned(),
                text: post.text,
                client_id: post.client_id,
            },
            answer,
        }
    }

    /// Resolves a direct message's recipient.
    async fn direct_destination(
        &self,
        sender: UserId,
        to: Recipient,
        post: Post,
    ) -> Result<(Destination, UserId, Post), RejectionReason> {
        let (recipient, recipient_name) = match to {
            Recipient::Name(name) => self.resolve_user(&name).await?,
            Recipient::Socket(sid) => {
                let user = Sid::from_str(&sid)
                    .ok()
                    .and_then(|sid| self.chat.user_of(&sid))
                    .ok_or(RejectionReason::UnknownUser)?;
                let name = self.chat.name_of(user).unwrap_or_default().to_owned();
                (user, name)
            }
        };
        let checked = self
            .chat
            .direct_post(sender, recipient, &recipient_name, post)?;
        Ok((
            Destination::Direct {
                pair: checked.pair,
                recipient,
                recipient_name: checked.recipient_name,
            },
            sender,
            checked.post,
        ))
    }

    /// The user holding `name`: online (here, on another server as it lists or as the
    /// database's name holds say, before its list arrives), or with a live session.
    /// `unknownUser` otherwise.
    pub(super) async fn resolve_user(
        &self,
        name: &str,
    ) -> Result<(UserId, String), RejectionReason> {
        if let Some(user) = self.chat.holder_of(name) {
            let name = self.chat.name_of(user).unwrap_or(name).to_owned();
            return Ok((user, name));
        }
        if let Some(listed) = self.chat.listed_elsewhere_as(name) {
            return Ok((listed.id, listed.name.clone()));
        }
        match self.store.active_user(name).await {
            Ok(Some(user)) if user.has_live_session || user.name_held => Ok((user.id, user.name)),
            Ok(_) => Err(RejectionReason::UnknownUser),
            Err(error) => {
                tracing::error!(%error, "cannot look up a user");
                Err(RejectionReason::StorageFailed)
            }
        }
    }

    /// The direct conversation of `pair`, begun if it is new.
    pub(super) async fn open_direct(
        &mut self,
        pair: DirectPair,
    ) -> Result<ConversationId, RejectionReason> {
        if let Some(id) = self.directs.get(&pair) {
            return Ok(*id);
        }
        match self.store.open_direct(pair).await {
            Ok(id) => {
                self.directs.insert(pair, id);
                Ok(id)
            }
            Err(error) => {
                tracing::error!(%error, "cannot begin a direct conversation");
                Err(RejectionReason::StorageFailed)
            }
        }
    }

    /// Stores a batch in one transaction, then delivers and answers each in order.
    async fn store_all(&mut self, batch: Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        let mut ready = Vec::with_capacity(batch.len());
        let mut rows = Vec::with_capacity(batch.len());
        for pending in batch {
            let conversation = match &pending.to {
                Destination::Room { id, .. } => Ok(*id),
                Destination::Direct { pair, .. } => self.open_direct(*pair).await,
            };
            match conversation {
                Ok(id) => {
                    rows.push((id, pending.message.clone()));
                    ready.push(pending);
                }
                Err(reason) => self.answer_refusal(Refusal {
                    answer: pending.answer,
                    denial: reason.into(),
                }),
            }
        }
        let started = std::time::Instant::now();
        let appended = self.store.append_all(rows).await;
        crate::metrics::storage("append_messages", started.elapsed());
        let results = match appended {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(%error, count = ready.len(), "cannot store messages");
                for pending in ready {
                    self.answer_refusal(Refusal {
                        answer: pending.answer,
                        denial: RejectionReason::StorageFailed.into(),
                    });
                }
                return;
            }
        };
        for (pending, appended) in ready.into_iter().zip(results) {
            let (message, duplicate) = match appended {
                Appended::Stored(message) => (message, false),
                Appended::Duplicate(message) => (message, true),
            };
            answer_stored(pending.answer, &message, duplicate);
            if !duplicate {
                metrics::counter!(crate::metrics::MESSAGES_STORED).increment(1);
            }
            if duplicate {
                tracing::debug!(id = message.id, "a resent message was stored before");
                continue;
            }
            let out = match &pending.to {
                Destination::Room { id, name } => {
                    self.chat.room_message_stored(*id, name, &message)
                }
                Destination::Direct {
                    recipient,
                    recipient_name,
                    ..
                } => self
                    .chat
                    .direct_message_stored(*recipient, recipient_name, &message),
            };
            self.deliver(out);
        }
    }

    fn answer_refusal(&mut self, refusal: Refusal) {
        let Refusal { answer, denial } = refusal;
        match answer {
            Answer::Chat { conn, ack } => {
                if let Some(ack) = ack {
                    let receipt = ChatReceipt::refused(denial.reason);
                    ack.send(&with_retry(
                        receipt,
                        denial.retry_after_ms,
                        ChatReceipt::retry_after,
                    ));
                }
                self.refuse_lobby(conn, client::CHAT, denial);
            }
            Answer::Send { conn, event, ack } => self.refuse(conn, event, denial, ack),
            Answer::Page(reply) => {
                let _ = reply.send(Err(PostError::Refused(denial.reason)));
            }
        }
    }

    /// A message from a page's form: the user may have no socket at all.
    pub(super) async fn page_post(
        &mut self,
        user: UserId,
        target: PageTarget,
        text: String,
        reply: oneshot::Sender<Result<(), PostError>>,
    ) {
        let post = match crate::chat::validate_message(&serde_json::Value::String(text)) {
            Ok(text) => Post {
                text: text.to_owned(),
                client_id: None,
            },
            Err(error) => {
                let _ = reply.send(Err(PostError::Refused(error.into())));
                return;
            }
        };
        let sender_name = match self.chat.name_of(user) {
            Some(name) => name.to_owned(),
            None => match self.store.user_name(user).await {
                Ok(Some((name, false))) => name,
                Ok(_) => {
                    let _ = reply.send(Err(PostError::Refused(RejectionReason::NotLoggedIn)));
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot look up a user");
                    let _ = reply.send(Err(PostError::Refused(RejectionReason::StorageFailed)));
                    return;
                }
            },
        };
        let to = match target {
            PageTarget::Room(name) => self.member_room(user, name).await,
            PageTarget::With(name) => match self.resolve_user(&name).await {
                Ok((recipient, recipient_name)) => DirectPair::new(user, recipient)
                    .map(|pair| Destination::Direct {
                        pair,
                        recipient,
                        recipient_name,
                    })
                    .ok_or(RejectionReason::SelfMessage),
                Err(reason) => Err(reason),
            },
        };
        let to = to.and_then(|to| {
            self.limit_user(user, Limited::Message)
                .map(|()| to)
                .map_err(|_| RejectionReason::RateLimited)
        });
        match to {
            Ok(to) => {
                let pending = Pending {
                    to,
                    message: NewMessage {
                        sender: user,
                        sender_name,
                        text: post.text,
                        client_id: post.client_id,
                    },
                    answer: Answer::Page(reply),
                };
                self.store_all(vec![pending]).await;
            }
            Err(reason) => {
                let _ = reply.send(Err(PostError::Refused(reason)));
            }
        }
    }

    /// A room `user` is a member of (asked of storage: they may be offline).
    async fn member_room(
        &self,
        user: UserId,
        name: RoomName,
    ) -> Result<Destination, RejectionReason> {
        let found = match self.store.room(&name).await {
            Ok(Some(id)) => self
                .store
                .is_member(user, id)
                .await
                .map(|member| member.then_some(id)),
            Ok(None) => Ok(None),
            Err(error) => Err(error),
        };
        match found {
            Ok(Some(id)) => Ok(Destination::Room { id, name }),
            Ok(None) => Err(RejectionReason::NotMember),
            Err(error) => {
                tracing::error!(%error, "cannot look up a room");
                Err(RejectionReason::StorageFailed)
            }
        }
    }
}

fn room_destination(id: ConversationId, name: RoomName) -> Destination {
    Destination::Room { id, name }
}

fn answer_stored(answer: Answer, message: &StoredMessage, duplicate: bool) {
    match answer {
        Answer::Chat { ack: Some(ack), .. } => {
            ack.send(&ChatReceipt::stored(&message.to_chat(), duplicate));
        }
        Answer::Send { ack: Some(ack), .. } => ack.send(&SendReceipt::stored(
            message.id,
            iso_from_ms(message.sent_at),
            duplicate,
        )),
        Answer::Chat { ack: None, .. } | Answer::Send { ack: None, .. } => {}
        Answer::Page(reply) => {
            let _ = reply.send(Ok(()));
        }
    }
}
