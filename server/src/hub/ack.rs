//! Acknowledgements: the answer a client asked for with an event, sent once.

use serde::Serialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::{SendError, SocketError};

use super::delivery::spawn_disconnect;

/// Sends a serialized acknowledgement through the socket it belongs to.
type Responder = Box<dyn FnOnce(&serde_json::value::RawValue) -> Result<(), String> + Send>;

/// The text of a failure that was handled (the socket is being disconnected).
const DISCONNECTING: &str = "its queue is full: the socket is disconnected";

/// Answers one event whose client asked for an acknowledgement. Erases the adapter type,
/// so commands stay plain data.
pub struct Ack(Responder);

impl Ack {
    /// Answers through `sender`, for `socket`. A socket whose queue cannot take the answer
    /// is disconnected, like one that misses an event: its client would wait forever.
    pub fn new<A: Adapter>(sender: AckSender<A>, socket: SocketRef<A>) -> Self {
        Self(Box::new(move |payload| match sender.send(payload) {
            Ok(()) => Ok(()),
            Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                spawn_disconnect(socket);
                Err(DISCONNECTING.to_owned())
            }
            Err(error) => Err(error.to_string()),
        }))
    }

    /// Sends `payload` as the acknowledgement's argument.
    pub fn send<T: Serialize>(self, payload: &T) {
        match serde_json::value::to_raw_value(payload) {
            Ok(raw) => {
                if let Err(error) = (self.0)(&raw) {
                    tracing::warn!(%error, "could not send an acknowledgement");
                }
            }
            Err(error) => tracing::error!(%error, "unserializable acknowledgement"),
        }
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ack")
    }
}
