//! Several server processes as one chat: what they share besides the database.
//!
//! - [`redis_driver`]: socketioxide's Redis adapter on a connection that reconnects and
//!   resubscribes by itself.

pub mod redis_driver;

pub use redis_driver::{DriverError, ReconnectingDriver};
