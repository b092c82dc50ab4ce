use std::time::{Duration, Instant};

use app::protocol::ClientEvent;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;
use tokio::sync::mpsc;

use crate::chat::{Audience, Lobby, Outgoing};

/// What the socket layer tells the hub, in the order it happened.
#[derive(Debug)]
pub enum HubCommand {
    Event { conn: Sid, event: ClientEvent },
    Disconnect { conn: Sid },
}

/// The queue into the chat hub: one task that owns the [`Lobby`] and applies every
/// command in order, so all sockets see all events in one order, and a socket's
/// disconnect is always applied after everything it sent.
#[derive(Debug, Clone)]
pub struct ChatHub {
    commands: mpsc::UnboundedSender<HubCommand>,
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

    /// Applies commands until every [`ChatHub`] is dropped, and ends typing leases as they
    /// run out.
    pub async fn run(
        io: SocketIo,
        mut commands: mpsc::UnboundedReceiver<HubCommand>,
        typing_lease: Duration,
    ) {
        let mut lobby = Lobby::new(typing_lease);
        loop {
            let deadline = lobby.next_typing_deadline();
            let outgoing = tokio::select! {
                command = commands.recv() => match command {
                    Some(HubCommand::Event { conn, event }) => lobby.handle(&conn, event, Instant::now()),
                    Some(HubCommand::Disconnect { conn }) => lobby.disconnect(&conn),
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => lobby.expire_typing(Instant::now()),
            };
            deliver(&io, outgoing).await;
        }
        tracing::debug!("chat hub stopped");
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
            Audience::Everyone => io.emit(name, &payload).await.map_err(|e| e.to_string()),
            // socketioxide does not put sockets in a room of their own id, so exclusion
            // goes through the socket's own `broadcast()`. A socket already gone from the
            // namespace is excluded by `io.emit` anyway.
            Audience::EveryoneExcept(conn) => match io.get_socket(*conn) {
                Some(socket) => socket.broadcast().emit(name, &payload).await,
                None => io.emit(name, &payload).await,
            }
            .map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            tracing::warn!(event = name, ?to, %error, "could not deliver an event");
        }
    }
}
