//! Direct messages: a conversation of exactly two users, delivered to every rooms-family
//! socket of both (the sender's copies marked `isSelf`).

use std::hash::Hash;

use app::protocol::{RejectionReason, ServerEvent};
use serde_json::Value;

use super::{Chat, Events};
use crate::chat::conversations::TypingSpot;
use crate::chat::requests::{self, Post, Recipient};
use crate::chat::{Audience, DirectPair, Outgoing, StoredMessage, UserId};

/// A direct message to store, once the recipient is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectPost {
    pub pair: DirectPair,
    pub recipient: UserId,
    pub recipient_name: String,
    pub post: Post,
}

impl<C: Clone + Eq + Hash> Chat<C> {
    /// Checks `private_message`: the sender, who it is for (to be resolved), and the post.
    pub fn check_private(
        &self,
        conn: &C,
        raw: &Value,
    ) -> Result<(UserId, Recipient, Post), RejectionReason> {
        let (to, post) = requests::parse_private(raw)?;
        let user = self.user_of(conn).ok_or(RejectionReason::NotLoggedIn)?;
        Ok((user, to, post))
    }

    /// The post, once its recipient is known (`selfMessage` when it is the sender).
    pub fn direct_post(
        &self,
        sender: UserId,
        recipient: UserId,
        recipient_name: &str,
        post: Post,
    ) -> Result<DirectPost, RejectionReason> {
        let pair = DirectPair::new(sender, recipient).ok_or(RejectionReason::SelfMessage)?;
        Ok(DirectPost {
            pair,
            recipient,
            recipient_name: recipient_name.to_owned(),
            post,
        })
    }

    /// A direct message was stored: the sender's typing to the recipient ends, then both
    /// get it.
    pub fn direct_message_stored(
        &mut self,
        recipient: UserId,
        recipient_name: &str,
        message: &StoredMessage,
    ) -> Events<C> {
        let mut out = self.end_typing(message.sender, TypingSpot::With(recipient));
        out.push(Outgoing::new(
            Audience::User(recipient),
            ServerEvent::PrivateMessage(message.to_direct_message(recipient_name, false)),
        ));
        out.push(Outgoing::new(
            Audience::User(message.sender),
            ServerEvent::PrivateMessage(message.to_direct_message(recipient_name, true)),
        ));
        out
    }
}
