//! The Socket.IO transport: a thin layer that turns socket events into
//! [`ClientEvent`](app::protocol::ClientEvent)s for the chat [`hub`] and delivers what it
//! answers.
//!
//! socketioxide runs every event handler as its own task, with no ordering between two
//! events of one socket, and spawns the connect handler after the client may already have
//! been told it is connected. Extractors, however, run synchronously as each packet is
//! dispatched. So all the work here happens in extractors:
//! - [`Listening`] registers this socket's handlers while the connection is being set up,
//!   and queues its session cookie (if any) so the hub logs it in before anything it sends;
//! - [`Enqueued`] puts every incoming event on the hub's queue, in arrival order;
//! - [`Departed`] puts the disconnect on the same queue, after everything the socket sent.
//!
//! `history` reads are answered from storage beside the hub ([`history`]).
//!
//! The handlers themselves do nothing.

mod extract;
mod history;
mod hub;

pub use history::HistoryReader;
pub use hub::{ChatHub, CreateSessionError, HubCommand, HubSettings};

use socketioxide::SocketIo;

/// Makes the default namespace run the chat. The [`ChatHub`] and a [`HistoryReader`] must
/// be the `SocketIo`'s state (`SocketIo::builder().with_state(hub).with_state(reader)`);
/// [`ChatHub::run`] applies what it receives.
pub fn attach(io: &SocketIo) {
    io.ns("/", on_connect);
}

async fn on_connect(_: extract::Listening) {}
