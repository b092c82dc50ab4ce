//! The browser's Socket.IO client: a small layer over socketioxide's own protocol crates
//! (`engineioxide-core` for Engine.IO packets, `socketioxide-parser-common` for Socket.IO
//! packets), speaking over the browser WebSocket.
//!
//! - [`codec`]: text frames ↔ typed events (plain Rust, tested natively).
//! - [`backoff`]: reconnection delays with jitter (plain Rust, tested natively).
//! - `browser` (hydrate only): the WebSocket session, heartbeat watchdog and reconnect loop.

pub mod backoff;
pub mod codec;

#[cfg(feature = "hydrate")]
mod browser;

#[cfg(feature = "hydrate")]
pub use browser::run;

/// Milliseconds since the epoch (the browser's clock; 0 on the server, where nobody types).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}
