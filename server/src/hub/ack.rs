//! Acknowledgements: the answer a client asked for with an event, sent once.

use serde::Serialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::AckSender;

/// Sends a serialized acknowledgement through the socket it belongs to.
type Responder = Box<dyn FnOnce(&serde_json::value::RawValue) -> Result<(), String> + Send>;

/// Answers one event whose client asked for an acknowledgement. Erases the adapter type,
/// so commands stay plain data.
pub struct Ack(Responder);

impl Ack {
    pub fn new<A: Adapter>(sender: AckSender<A>) -> Self {
        Self(Box::new(move |payload| {
            sender.send(payload).map_err(|e| e.to_string())
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
