//! Socket events: each is dispatched to its handler, and a refusal is answered the way its
//! protocol answers it (`requestRejected` for the lobby's events; for the rooms protocol's,
//! the acknowledgement when there is one, the `error` event otherwise).

use app::protocol::{
    client, ClientEvent, Done, ErrorEvent, Refused, Rejection, RejectionReason, ServerEvent,
};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use tokio::sync::mpsc;

use super::core::{now, Hub};
use super::limits::{Denial, Limited};
use super::{Ack, HubCommand};
use crate::chat::Outgoing;

impl<A: Adapter> Hub<A> {
    /// Applies one socket event. A message to store takes the messages queued right behind
    /// it along (see `posting`), a log-in the log-ins (see `logins`); the first other
    /// command met is returned, to be applied next.
    pub(super) async fn event(
        &mut self,
        conn: Sid,
        event: ClientEvent,
        ack: Option<Ack>,
        queue: &mut mpsc::UnboundedReceiver<HubCommand>,
    ) -> Option<HubCommand> {
        if !self.chat.is_connected(&conn) {
            return None;
        }
        if event.is_rooms_protocol() {
            self.chat.switch_to_rooms(&conn);
        }
        match event {
            ClientEvent::Login(raw) => {
                return self.log_in(conn, &raw, client::LOGIN, ack, queue).await
            }
            ClientEvent::Register(raw) => {
                return self.log_in(conn, &raw, client::REGISTER, ack, queue).await
            }
            ClientEvent::OnlineUsers => {
                let names = self.chat.online_names();
                self.deliver(vec![Outgoing::only(conn, ServerEvent::OnlineUsers(names))]);
            }
            event @ (ClientEvent::Chat(_)
            | ClientEvent::SendMessage(_)
            | ClientEvent::PrivateMessage(_)) => return self.post(conn, event, ack, queue).await,
            ClientEvent::Typing(raw @ Value::Object(_)) => {
                match self.limit(conn, Limited::Typing) {
                    Ok(()) => self.typing(conn, &raw, ack).await,
                    Err(retry) => self.refuse(conn, client::TYPING, retry, ack),
                }
            }
            ClientEvent::Typing(_) => match self.limit(conn, Limited::Typing) {
                Ok(()) => {
                    let out = self.chat.lobby_typing(&conn, now());
                    self.lobby_answer(out, ack);
                }
                Err(retry) => self.refuse_lobby_answering(conn, client::TYPING, retry, ack),
            },
            ClientEvent::StopTyping => match self.limit(conn, Limited::Typing) {
                Ok(()) => {
                    let out = self.chat.lobby_stop_typing(&conn);
                    self.lobby_answer(out, ack);
                }
                Err(retry) => self.refuse_lobby_answering(conn, client::STOP_TYPING, retry, ack),
            },
            ClientEvent::JoinRoom(raw) => match self.limit(conn, Limited::Join) {
                Ok(()) => self.join(conn, &raw, ack).await,
                Err(retry) => self.refuse(conn, client::JOIN_ROOM, retry, ack),
            },
            ClientEvent::LeaveRoom(raw) => self.leave(conn, &raw, ack).await,
            ClientEvent::MarkRead(raw) => self.mark_read(conn, &raw, ack).await,
            ClientEvent::SetPresence(raw) => match self.limit(conn, Limited::Typing) {
                // Like typing, a signal to everyone: it counts with typing.
                Ok(()) => self.set_presence(conn, &raw, ack),
                Err(retry) => self.refuse(conn, client::SET_PRESENCE, retry, ack),
            },
            ClientEvent::History(raw) => self.history(conn, raw, ack),
            ClientEvent::ListRooms => self.list_rooms(conn, ack),
            ClientEvent::MyConversations => self.my_conversations(conn, ack),
            ClientEvent::Unknown(name) => {
                self.refuse_lobby(conn, &name, RejectionReason::UnknownEvent);
            }
        }
        None
    }

    /// Delivers what a lobby event caused; an acknowledgement, if asked for, says whether
    /// it was refused.
    fn lobby_answer(&mut self, out: Vec<Outgoing<Sid>>, ack: Option<Ack>) {
        if let Some(ack) = ack {
            let refused = out.iter().find_map(|o| match &o.event {
                ServerEvent::RequestRejected(rejection) => Some(rejection.reason),
                _ => None,
            });
            match refused {
                Some(reason) => ack.send(&Refused::new(reason)),
                None => ack.send(&Done { ok: true }),
            }
        }
        self.deliver(out);
    }

    /// Refuses a request of the rooms protocol: in the acknowledgement if asked for, with
    /// the `error` event otherwise.
    pub(super) fn refuse(
        &mut self,
        conn: Sid,
        event: &str,
        denial: impl Into<Denial>,
        ack: Option<Ack>,
    ) {
        let Denial {
            reason,
            retry_after_ms,
        } = denial.into();
        crate::metrics::refused(reason.code());
        match ack {
            Some(ack) => ack.send(&with_retry(
                Refused::new(reason),
                retry_after_ms,
                Refused::retry_after,
            )),
            None => {
                let error = with_retry(
                    ErrorEvent::new(event, reason),
                    retry_after_ms,
                    ErrorEvent::retry_after,
                );
                self.deliver(vec![Outgoing::only(conn, ServerEvent::Error(error))]);
            }
        }
    }

    /// Refuses a request of the lobby protocol: `requestRejected`.
    pub(super) fn refuse_lobby(&mut self, conn: Sid, event: &str, denial: impl Into<Denial>) {
        let Denial {
            reason,
            retry_after_ms,
        } = denial.into();
        crate::metrics::refused(reason.code());
        let rejection = with_retry(
            Rejection::new(event, reason),
            retry_after_ms,
            Rejection::retry_after,
        );
        self.deliver(vec![Outgoing::only(
            conn,
            ServerEvent::RequestRejected(rejection),
        )]);
    }

    /// Refuses a request of the lobby protocol: `requestRejected`, and the
    /// acknowledgement if one was asked for.
    fn refuse_lobby_answering(
        &mut self,
        conn: Sid,
        event: &str,
        denial: impl Into<Denial>,
        ack: Option<Ack>,
    ) {
        let denial = denial.into();
        if let Some(ack) = ack {
            ack.send(&with_retry(
                Refused::new(denial.reason),
                denial.retry_after_ms,
                Refused::retry_after,
            ));
        }
        self.refuse_lobby(conn, event, denial);
    }
}

/// `refusal`, saying when to ask again if it came too soon.
pub(super) fn with_retry<R>(refusal: R, retry_after_ms: Option<u64>, set: fn(R, u64) -> R) -> R {
    match retry_after_ms {
        Some(ms) => set(refusal, ms),
        None => refusal,
    }
}
