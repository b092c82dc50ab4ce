//! The identities the chat is built on. A display name can change hands; these cannot.

/// A user: who logged in, under a name they hold while online or while their session lives.
/// A name freed and taken again belongs to a new user.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct UserId(pub i64);

/// A log-in session's id (its row in storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub i64);

/// A conversation: a room (`general` included) or a direct conversation of two users.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ConversationId(pub i64);

impl UserId {
    /// As sent on the wire (`userId`).
    pub fn wire(self) -> u64 {
        u64::try_from(self.0).unwrap_or(0)
    }
}

/// The two users of a direct conversation, in a canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectPair {
    low: UserId,
    high: UserId,
}

impl DirectPair {
    /// `None` when both are the same user: nobody has a conversation with themselves.
    pub fn new(a: UserId, b: UserId) -> Option<Self> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self { low: a, high: b }),
            std::cmp::Ordering::Greater => Some(Self { low: b, high: a }),
            std::cmp::Ordering::Equal => None,
        }
    }

    pub fn users(self) -> [UserId; 2] {
        [self.low, self.high]
    }

    pub fn contains(self, user: UserId) -> bool {
        self.low == user || self.high == user
    }

    /// The other user of the pair (`user` must be one of them).
    pub fn other(self, user: UserId) -> UserId {
        if self.low == user {
            self.high
        } else {
            self.low
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_the_same_whichever_way_round() {
        let (a, b) = (UserId(3), UserId(9));
        assert_eq!(DirectPair::new(a, b), DirectPair::new(b, a));
        assert_eq!(DirectPair::new(a, a), None);
        let pair = DirectPair::new(b, a).expect("two users");
        assert_eq!(pair.users(), [a, b]);
        assert_eq!(pair.other(a), b);
        assert_eq!(pair.other(b), a);
        assert!(pair.contains(a) && !pair.contains(UserId(4)));
    }
}
