//! Several server processes as one chat: what they share besides the database.
//!
//! - [`redis_driver`]: socketioxide's Redis adapter on a connection that reconnects and
//!   resubscribes by itself;
//! - [`bus`]: the hubs' bus, on which each server shares the events it delivers with the
//!   others.

pub mod bus;
pub mod redis_driver;

pub use bus::{BusBody, BusFrame, ClusterBus, SharedAudience};
pub use redis_driver::{DriverError, ReconnectingDriver};
