//! The browser's Socket.IO client, speaking Engine.IO v4 / Socket.IO v5 text frames over
//! the browser WebSocket (the handshake type comes from socketioxide's `engineioxide-core`;
//! the few packet shapes the chat uses are read and written by hand, for bundle size).
//!
//! - [`codec`]: text frames ↔ typed events and acknowledgements (plain Rust, tested natively).
//! - [`backoff`]: reconnection delays with jitter (plain Rust, tested natively).
//! - `browser` (hydrate only): the WebSocket session, heartbeat watchdog, acknowledgements
//!   and reconnect loop.
//! - `http` (hydrate only): log-in and log-out requests.
//! - `page` (hydrate only): the page's visibility, title and time zone.
//! - `router` (hydrate only): links and back/forward without reloads.
//! - `unsent_storage` (hydrate only): unsent messages kept across a reload of the tab.

pub mod backoff;
pub mod codec;
pub mod json;

#[cfg(feature = "hydrate")]
mod browser;
#[cfg(feature = "hydrate")]
pub mod http;
#[cfg(feature = "hydrate")]
mod page;
#[cfg(feature = "hydrate")]
pub mod router;
#[cfg(feature = "hydrate")]
mod unsent_storage;

#[cfg(feature = "hydrate")]
pub use browser::run;
#[cfg(feature = "hydrate")]
pub use page::watch_page;
#[cfg(feature = "hydrate")]
pub use unsent_storage::keep_unsent;

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

/// A new id for a message this client sends: time and randomness, unique enough that one
/// user never repeats it (the server only compares it with that user's own ids).
pub fn new_client_id() -> String {
    #[cfg(feature = "hydrate")]
    let random = js_sys::Math::random();
    #[cfg(not(feature = "hydrate"))]
    let random = 0.5;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (time, noise) = (now_ms() as u64, (random * 9_007_199_254_740_992.0) as u64);
    format!("{time:x}-{noise:x}")
}
