//! Several server processes as one chat: what they share besides the database.
//!
//! - [`redis_driver`]: socketioxide's Redis adapter on a connection that reconnects and
//!   resubscribes by itself;
//! - [`bus`]: the hubs' bus, on which each server shares the events it delivers with the
//!   others;
//! - [`asks`]: questions one server asks the others on that bus (an administrator's
//!   requests), and their answers.

pub mod asks;
pub mod bus;
pub mod redis_driver;

pub use asks::{AdminAnswer, AdminQuery, Asked, Asks};
pub use bus::{node_id, BusBody, BusFrame, ClusterBus, SharedAudience};
pub use redis_driver::{DriverError, ReconnectingDriver};
