//! The Socket.IO transport: a thin layer that turns socket events into
//! [`ClientEvent`](app::protocol::ClientEvent)s for the [hub](crate::hub) and leaves the
//! rest (rules, storage, delivery) to it. Generic over socketioxide's [`Adapter`], so the
//! same code runs on the local adapter and on a cluster's.
//!
//! socketioxide runs every event handler as its own task, with no ordering between two
//! events of one socket, and calls the connect handler after the client has been told it
//! is connected (so its first event may come before). Extractors, however, run
//! synchronously as each packet is dispatched. So all the work here happens in extractors:
//! - [`Registered`](extract::Registered), in a connect middleware (before the client is
//!   told), lets the connection in or refuses it ([`admission`]) and registers this
//!   socket's handlers;
//! - [`Listening`](extract::Listening), in the connect handler, queues its connect
//!   (protocol family, session cookie) so the hub admits it before anything it sends; its
//!   first event, if it comes first, queues the connect before itself;
//! - [`Enqueued`](extract::Enqueued) puts every incoming event on the hub's queue, in
//!   arrival order;
//! - [`Departed`](extract::Departed) puts the disconnect on the same queue, after
//!   everything the socket sent.
//!
//! The handlers themselves do nothing.
//!
//! [`admin`] is the administrators' namespace, beside the chat's.

pub mod admin;
pub mod admission;
mod extract;

use socketioxide::adapter::Adapter;
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use socketioxide_core::adapter::DefinedAdapter;

/// Makes the default namespace run the chat. The [`ChatHub`](crate::hub::ChatHub) and an
/// `Arc<`[`Admission`](admission::Admission)`>` must be the `SocketIo`'s state
/// (`SocketIo::builder().with_state(hub)`); the hub task applies what it receives.
pub fn attach<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    io.ns("/", on_connect::<A>.with(register::<A>))
}

async fn register<A: Adapter>(
    extract::Registered(admitted, _): extract::Registered<A>,
) -> Result<(), admission::Refusal> {
    admitted
}

async fn on_connect<A: Adapter>(_: extract::Listening<A>) {}
