//! How often each user may send messages, typing events, reads and joins, across all their
//! sockets on this server; a socket nobody is logged in on counts on its own. A refused
//! request is answered `rateLimited` with `retryAfterMs` and changes nothing.

use std::time::Instant;

use app::protocol::RejectionReason;
use socketioxide::socket::Sid;

use crate::chat::{Allowance, RateLimiter, RetryAfter, UserId};

/// The allowance of each kind of request; `None`: unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserLimitSettings {
    /// `chat`, `send_message`, `private_message`, and a page's form.
    pub messages: Option<Allowance>,
    /// `typing`, `stopTyping` and `set_presence`.
    pub typing: Option<Allowance>,
    /// `history`, `list_rooms`, `my_conversations`.
    pub reads: Option<Allowance>,
    /// `join_room` (which creates a room that does not exist), and a page's join form.
    pub joins: Option<Allowance>,
}

impl UserLimitSettings {
    /// No limits (tests of other things).
    pub const NONE: Self = Self {
        messages: None,
        typing: None,
        reads: None,
        joins: None,
    };
}

/// What a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limited {
    Message,
    Typing,
    Read,
    Join,
}

/// Who a request counts against: its user, or its socket before a log-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Asker {
    User(UserId),
    Socket(Sid),
}

/// One bucket per asker and kind of request.
#[derive(Debug)]
pub(super) struct UserLimits {
    messages: RateLimiter<Asker>,
    typing: RateLimiter<Asker>,
    reads: RateLimiter<Asker>,
    joins: RateLimiter<Asker>,
}

impl UserLimits {
    pub(super) fn new(settings: UserLimitSettings) -> Self {
        let now = Instant::now();
        Self {
            messages: RateLimiter::new(settings.messages, now),
            typing: RateLimiter::new(settings.typing, now),
            reads: RateLimiter::new(settings.reads, now),
            joins: RateLimiter::new(settings.joins, now),
        }
    }

    /// Counts one request of `asker`'s, or says when to ask again.
    pub(super) fn take(&mut self, what: Limited, asker: Asker) -> Result<(), RetryAfter> {
        let limiter = match what {
            Limited::Message => &mut self.messages,
            Limited::Typing => &mut self.typing,
            Limited::Read => &mut self.reads,
            Limited::Join => &mut self.joins,
        };
        limiter.take(asker, Instant::now())
    }
}

/// Why a request is refused and, when it came too soon, how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Denial {
    pub reason: RejectionReason,
    pub retry_after_ms: Option<u64>,
}

impl From<RejectionReason> for Denial {
    fn from(reason: RejectionReason) -> Self {
        Self {
            reason,
            retry_after_ms: None,
        }
    }
}

impl From<RetryAfter> for Denial {
    fn from(retry: RetryAfter) -> Self {
        Self {
            reason: RejectionReason::RateLimited,
            retry_after_ms: Some(retry.ms()),
        }
    }
}
