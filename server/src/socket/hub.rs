use std::time::{Duration, Instant};

use app::protocol::{
    ChatReceipt, ClientEvent, Rejection, RejectionReason, ServerEvent, SessionEnd, SessionEndReason,
};
use serde_json::Value;
use socketioxide::extract::AckSender;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;
use tokio::sync::{mpsc, oneshot};

use crate::chat::{Audience, ClaimError, Lobby, NewMessage, Outgoing, Reaction, SessionId};
use crate::storage::{Appended, SessionToken, StorageError, Store};

/// The most queued chats stored in one transaction.
const MAX_BATCH: usize = 256;

/// The room of the sockets the hub has admitted: broadcasts go to it, so a socket hears
/// nothing from the hub before its `Connect` is applied (and, with a session, its
/// `welcome` is the first event it gets).
const ADMITTED: &str = "chat";

/// What the socket and HTTP layers tell the hub, in the order it happened.
#[derive(Debug)]
pub enum HubCommand {
    /// A socket connected, with the session token of its cookie if it had one.
    Connect {
        conn: Sid,
        token: Option<SessionToken>,
    },
    Event {
        conn: Sid,
        event: ClientEvent,
        /// Answers the event, when the client asked for an acknowledgement.
        ack: Option<Ack>,
    },
    Disconnect {
        conn: Sid,
    },
    /// `POST /api/session`.
    CreateSession {
        name: Value,
        reply: oneshot::Sender<Result<(String, SessionToken), CreateSessionError>>,
    },
    /// `POST /api/logout`.
    Logout {
        token: SessionToken,
        reply: oneshot::Sender<()>,
    },
    /// For the server-rendered page.
    OnlineUsers {
        reply: oneshot::Sender<Vec<String>>,
    },
}

/// Answers one event whose client asked for an acknowledgement.
pub struct Ack(pub AckSender);

impl Ack {
    pub fn send<T: serde::Serialize>(self, payload: &T) {
        if let Err(error) = self.0.send(payload) {
            tracing::warn!(%error, "could not send an acknowledgement");
        }
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ack")
    }
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateSessionError {
    #[error("invalid name")]
    InvalidName,
    #[error("name taken")]
    NameTaken,
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("the chat hub has stopped")]
    HubGone,
}

/// The queue into the chat hub: one task that owns the [`Lobby`] and applies every
/// command in order, so all sockets see all events in one order, a socket's disconnect is
/// always applied after everything it sent, and messages are stored (and numbered) in the
/// order they are broadcast.
#[derive(Debug, Clone)]
pub struct ChatHub {
    commands: mpsc::UnboundedSender<HubCommand>,
}

/// Timings of the hub's rules.
#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    pub typing_lease: Duration,
    pub session_grace: Duration,
}

impl ChatHub {
    /// Creates the queue; the hub runs once [`ChatHub::run`]'s future is spawned.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<HubCommand>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        (Self { commands }, receiver)
    }

    pub fn send(&self, command: HubCommand) {
        if let Err(error) = self.commands.send(command) {
            tracing::error!(command = ?error.0, "the chat hub has stopped; command dropped");
        }
    }

    /// Creates a session holding `name`, if it is valid and free.
    pub async fn create_session(
        &self,
        name: Value,
    ) -> Result<(String, SessionToken), CreateSessionError> {
        let (reply, answer) = oneshot::channel();
        self.send(HubCommand::CreateSession { name, reply });
        answer.await.map_err(|_| CreateSessionError::HubGone)?
    }

    /// Ends the session of `token` (if it is one): its name is free at once.
    pub async fn logout(&self, token: SessionToken) {
        let (reply, answer) = oneshot::channel();
        self.send(HubCommand::Logout { token, reply });
        if answer.await.is_err() {
            tracing::error!("the chat hub stopped during a log-out");
        }
    }

    pub async fn online_users(&self) -> Vec<String> {
        let (reply, answer) = oneshot::channel();
        self.send(HubCommand::OnlineUsers { reply });
        answer.await.unwrap_or_default()
    }

    /// Applies commands until every [`ChatHub`] is dropped, and ends typing leases and
    /// grace periods as they run out.
    pub async fn run(
        io: SocketIo,
        store: Store,
        mut commands: mpsc::UnboundedReceiver<HubCommand>,
        settings: HubSettings,
    ) {
        let mut hub = Hub {
            lobby: Lobby::new(settings.typing_lease, settings.session_grace),
            store,
            io,
        };
        hub.restore_sessions().await;
        loop {
            let deadline = hub.lobby.next_deadline();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => hub.apply(command, &mut commands).await,
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => hub.expire().await,
            }
        }
        tracing::debug!("chat hub stopped");
    }
}

/// The hub task's state.
struct Hub {
    lobby: Lobby<Sid>,
    store: Store,
    io: SocketIo,
}

impl Hub {
    /// Users online when the server stopped stay listed for the grace period.
    async fn restore_sessions(&mut self) {
        match self.store.present_sessions().await {
            Ok(sessions) => {
                let now = Instant::now();
                for session in &sessions {
                    self.lobby.restore(session.id, &session.name, now);
                }
                tracing::info!(count = sessions.len(), "restored online sessions");
            }
            Err(error) => tracing::error!(%error, "cannot restore the online sessions"),
        }
    }

    /// Applies `command`, and the chats queued right behind it in the same transaction.
    async fn apply(
        &mut self,
        command: HubCommand,
        queue: &mut mpsc::UnboundedReceiver<HubCommand>,
    ) {
        let mut next = Some(command);
        while let Some(command) = next.take() {
            next = match command {
                HubCommand::Event { conn, event, ack } => self.event(conn, event, ack, queue).await,
                HubCommand::Connect { conn, token } => {
                    self.admit(conn, token).await;
                    None
                }
                HubCommand::Disconnect { conn } => {
                    let out = self.lobby.disconnect(&conn, Instant::now());
                    self.deliver(out).await;
                    None
                }
                HubCommand::CreateSession { name, reply } => {
                    let result = self.create_session(name).await;
                    // The requester may have gone; the session then waits out its grace.
                    let _ = reply.send(result);
                    None
                }
                HubCommand::Logout { token, reply } => {
                    self.logout(&token).await;
                    let _ = reply.send(());
                    None
                }
                HubCommand::OnlineUsers { reply } => {
                    let _ = reply.send(self.lobby.online_users());
                    None
                }
            };
        }
    }

    /// Lets a new socket hear broadcasts from now on, and logs it in from its session.
    async fn admit(&mut self, conn: Sid, token: Option<SessionToken>) {
        let Some(socket) = self.io.get_socket(conn) else {
            // Gone before its turn: its `Disconnect` is next in the queue.
            return tracing::debug!(sid = %conn, "a socket left before it was admitted");
        };
        socket.join(ADMITTED);
        if let Some(token) = token {
            self.connect_session(conn, &token).await;
        }
    }

    async fn connect_session(&mut self, conn: Sid, token: &SessionToken) {
        let session = match self.store.find_session(token).await {
            Ok(session) => session,
            Err(error) => {
                // Closing the socket makes the client reconnect (with backoff) and try again.
                tracing::error!(%error, sid = %conn, "cannot look up a session; closing the socket");
                if let Some(Err(error)) = self.io.get_socket(conn).map(|s| s.disconnect()) {
                    tracing::warn!(%error, sid = %conn, "cannot close the socket");
                }
                return;
            }
        };
        let Some(session) = session else {
            tracing::info!(sid = %conn, "refused an unknown session");
            return self
                .end_session_on(conn, SessionEndReason::UnknownSession)
                .await;
        };
        match self.lobby.attach(&conn, session.id, &session.name) {
            Ok(out) => {
                self.persist_presence(session.id, true).await;
                self.deliver(out).await;
            }
            Err(_) => {
                tracing::info!(sid = %conn, name = %session.name, "a session's name was taken meanwhile");
                if let Err(error) = self.store.delete_session(session.id).await {
                    tracing::error!(%error, "cannot delete a session");
                }
                self.end_session_on(conn, SessionEndReason::NameTaken).await;
            }
        }
    }

    async fn end_session_on(&self, conn: Sid, reason: SessionEndReason) {
        let event = ServerEvent::SessionEnded(SessionEnd::new(reason));
        self.deliver(vec![Outgoing::only(conn, event)]).await;
    }

    /// Applies one event. A chat to store takes the chats queued right behind it along (up
    /// to [`MAX_BATCH`]), stored in one transaction and then delivered in order; the first
    /// other command met is returned, to be applied next.
    async fn event(
        &mut self,
        conn: Sid,
        event: ClientEvent,
        ack: Option<Ack>,
        queue: &mut mpsc::UnboundedReceiver<HubCommand>,
    ) -> Option<HubCommand> {
        let is_chat = matches!(event, ClientEvent::Chat(_));
        let message = match self.lobby.handle(&conn, event, Instant::now()) {
            Reaction::Deliver(out) => {
                self.deliver_refusal(is_chat, out, ack).await;
                return None;
            }
            Reaction::Store(message) => message,
        };
        let mut batch = vec![(conn, message, ack)];
        let mut next = None;
        let mut refused = None;
        while batch.len() < MAX_BATCH {
            let Ok(command) = queue.try_recv() else { break };
            match command {
                HubCommand::Event {
                    conn,
                    event: event @ ClientEvent::Chat(_),
                    ack,
                } => match self.lobby.handle(&conn, event, Instant::now()) {
                    Reaction::Store(message) => batch.push((conn, message, ack)),
                    Reaction::Deliver(out) => {
                        // Answered after the batch, in the order it came.
                        refused = Some((out, ack));
                        break;
                    }
                },
                other => {
                    next = Some(other);
                    break;
                }
            }
        }
        self.store_messages(batch).await;
        if let Some((out, ack)) = refused {
            self.deliver_refusal(true, out, ack).await;
        }
        next
    }

    /// Delivers what the rules answered an event with; for a chat refused, the
    /// acknowledgement says why too.
    async fn deliver_refusal(&self, is_chat: bool, out: Vec<Outgoing<Sid>>, ack: Option<Ack>) {
        if let (true, Some(ack)) = (is_chat, ack) {
            let reason = out.iter().find_map(|o| match &o.event {
                ServerEvent::RequestRejected(r) => Some(r.reason),
                _ => None,
            });
            if let Some(reason) = reason {
                ack.send(&ChatReceipt::refused(reason));
            }
        }
        self.deliver(out).await;
    }

    async fn store_messages(&mut self, batch: Vec<(Sid, NewMessage, Option<Ack>)>) {
        let (senders, messages): (Vec<(Sid, Option<Ack>)>, Vec<NewMessage>) = batch
            .into_iter()
            .map(|(conn, message, ack)| ((conn, ack), message))
            .unzip();
        let results = match self.store.append_all(self.store.lobby(), messages).await {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(%error, count = senders.len(), "cannot store messages");
                for (conn, ack) in senders {
                    if let Some(ack) = ack {
                        ack.send(&ChatReceipt::refused(RejectionReason::StorageFailed));
                    }
                    let rejection = Rejection::new("chat", RejectionReason::StorageFailed);
                    let refusal = Outgoing::only(conn, ServerEvent::RequestRejected(rejection));
                    self.deliver(vec![refusal]).await;
                }
                return;
            }
        };
        for ((conn, ack), appended) in senders.into_iter().zip(results) {
            match appended {
                Appended::Stored(message) => {
                    if let Some(ack) = ack {
                        ack.send(&ChatReceipt::stored(&message, false));
                    }
                    let out = self.lobby.message_stored(&conn, message);
                    self.deliver(out).await;
                }
                Appended::Duplicate(message) => {
                    tracing::debug!(sid = %conn, id = message.id, "a resent message was stored before");
                    if let Some(ack) = ack {
                        ack.send(&ChatReceipt::stored(&message, true));
                    }
                }
            }
        }
    }

    async fn create_session(
        &mut self,
        name: Value,
    ) -> Result<(String, SessionToken), CreateSessionError> {
        let name = self.lobby.check_claim(&name).map_err(|error| match error {
            ClaimError::InvalidName => CreateSessionError::InvalidName,
            ClaimError::NameTaken => CreateSessionError::NameTaken,
        })?;
        let (session, token) = self.store.create_session(&name).await?;
        self.lobby.claim(session.id, &session.name, Instant::now());
        tracing::info!(name = %session.name, "session created");
        Ok((session.name, token))
    }

    async fn logout(&mut self, token: &SessionToken) {
        let session = match self.store.find_session(token).await {
            Ok(Some(session)) => session,
            Ok(None) => return,
            Err(error) => return tracing::error!(%error, "cannot look up a session to log out"),
        };
        let (conns, out) = self.lobby.end_session(session.id);
        for conn in conns {
            self.end_session_on(conn, SessionEndReason::LoggedOut).await;
        }
        self.deliver(out).await;
        if let Err(error) = self.store.delete_session(session.id).await {
            tracing::error!(%error, "cannot delete a session");
        }
        tracing::info!(name = %session.name, "logged out");
    }

    async fn expire(&mut self) {
        let (out, sessions) = self.lobby.expire(Instant::now());
        self.deliver(out).await;
        for session in sessions {
            self.persist_presence(session, false).await;
        }
    }

    async fn persist_presence(&self, session: SessionId, present: bool) {
        if let Err(error) = self.store.set_present(session, present).await {
            tracing::error!(%error, ?session, present, "cannot record a session's presence");
        }
    }

    async fn deliver(&self, outgoing: Vec<Outgoing<Sid>>) {
        deliver(&self.io, outgoing).await;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

async fn deliver(io: &SocketIo, outgoing: Vec<Outgoing<Sid>>) {
    for Outgoing { to, event } in outgoing {
        let name = event.name();
        let payload = event.payload();
        let result = match &to {
            Audience::Only(conn) => match io.get_socket(*conn) {
                Some(socket) => socket.emit(name, &payload).map_err(|e| e.to_string()),
                None => Err("socket already gone".to_owned()),
            },
            Audience::Everyone => io
                .to(ADMITTED)
                .emit(name, &payload)
                .await
                .map_err(|e| e.to_string()),
            // socketioxide does not put sockets in a room of their own id, so exclusion
            // goes through the socket's own operators (which leave the socket out). A
            // socket already gone from the namespace is out of the room anyway.
            Audience::EveryoneExcept(conn) => match io.get_socket(*conn) {
                Some(socket) => socket.to(ADMITTED).emit(name, &payload).await,
                None => io.to(ADMITTED).emit(name, &payload).await,
            }
            .map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            tracing::warn!(event = name, ?to, %error, "could not deliver an event");
        }
    }
}
