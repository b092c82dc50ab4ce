/// One line of the message list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Unique within the page, for keyed rendering; kept when a pending message is stored.
    pub key: u64,
    pub kind: LineKind,
    pub text: String,
    /// Position in the list: `(message id, 0)` for a stored message; `(id of the newest
    /// message known when it was added, n)` for a notice or an announcement; `(u64::MAX, n)`
    /// for a message not stored yet, which stays at the bottom.
    pub order: (u64, u64),
    /// When the server stored it (ms since the epoch), for stored messages; when it was
    /// sent, for an announcement.
    pub sent_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// A line from the app itself ("Welcome, Ann!").
    Server,
    /// A chat message; `own` when you sent it.
    Message {
        sender: String,
        /// The sender's user id (0 when unknown).
        user_id: u64,
        own: bool,
        /// The server's id, once stored.
        id: Option<u64>,
        /// This client's id for a message it sent.
        client_id: Option<String>,
        delivery: Delivery,
    },
    /// "Ann joined", "Ann left".
    Notice,
    /// A line from the chat's administrators to everyone (`announcement`); `sent_at` is
    /// when they sent it.
    Announcement,
}

/// Where one of your messages is on its way to everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Queued or sent, not yet stored by the server.
    Pending,
    /// Stored: everyone gets it.
    Sent,
    /// Refused; can be retried. The reason, for people.
    Failed(String),
    /// Refused for coming too fast: sent again by itself once the server's wait is over.
    Waiting,
}

impl ChatLine {
    /// The stored message id, if this line is one.
    pub fn message_id(&self) -> Option<u64> {
        match &self.kind {
            LineKind::Message { id, .. } => *id,
            _ => None,
        }
    }

    /// Whether this is a stored message of someone else's.
    pub fn from_others(&self) -> bool {
        matches!(
            &self.kind,
            LineKind::Message {
                own: false,
                id: Some(_),
                ..
            }
        )
    }

    /// Identifies what the line shows, for keyed rendering: a line re-renders when its
    /// delivery state changes.
    pub fn render_key(&self) -> (u64, u8) {
        let state = match &self.kind {
            LineKind::Message { delivery, .. } => match delivery {
                Delivery::Pending => 1,
                Delivery::Sent => 2,
                Delivery::Failed(_) => 3,
                Delivery::Waiting => 4,
            },
            _ => 0,
        };
        (self.key, state)
    }
}
