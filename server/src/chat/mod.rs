//! The chat itself, free of sockets, HTTP and storage: what a valid name, room, message or
//! request is, who is online where (with or without a session), who is typing, and which
//! events go to whom. The hub feeds the [`Chat`] rules what happened (and what storage
//! answered) and delivers the [`Outgoing`] events they return, so every rule here is
//! unit-tested without a network or a database.
//!
//! - [`ids`]: users, sessions, conversations;
//! - validation: [`name`], [`room_name`], [`message`], [`history`], [`requests`];
//! - state: [`presence`] (users, sockets, names, grace periods, away),
//!   [`conversations`] (who is in which room, typing leases, `room_users` due),
//!   [`remote`] (who the other servers of a cluster list) and [`quiet_departures`]
//!   (users gone from here unannounced while another server listed them);
//! - [`rules`]: [`Chat`], which changes that state and says who is told what;
//! - [`rate_limit`]: token buckets, how often someone may do something.

mod conversations;
mod history;
mod ids;
mod message;
mod name;
mod outgoing;
mod presence;
mod quiet_departures;
mod rate_limit;
mod remote;
pub mod requests;
mod room_name;
mod rules;

pub use history::{validate_history, HistoryQuery, HistoryRange, HistoryTarget};
pub use ids::{ConversationId, DirectPair, SessionId, UserId};
pub use message::{
    validate_chat, validate_message, ChatInput, MessageError, NewMessage, StoredMessage,
};
pub use name::{name_key, validate_name, NameError};
pub use outgoing::{Audience, Outgoing};
pub use presence::{ClaimError, Family};
pub use rate_limit::{Allowance, RateLimiter, RetryAfter};
pub use remote::{ListedUser, SERVER_LEASE};
pub use room_name::RoomName;
pub use rules::{
    Chat, DirectPost, Events, JoinPlan, JoinRefusal, LoginRefusal, Now, ReadTarget, RoomPost,
    TypingWhere, TYPING_LEASE,
};
