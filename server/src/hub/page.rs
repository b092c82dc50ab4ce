//! What the server-rendered pages ask of the hub's state: who is online, who is in the
//! room shown, the presence of the reader's correspondents.

use socketioxide::adapter::Adapter;

use super::core::Hub;
use super::{PageRequest, PageSnapshot};

impl<A: Adapter> Hub<A> {
    pub(super) fn page_snapshot(&self, request: &PageRequest) -> PageSnapshot {
        let room_users = request
            .room
            .as_ref()
            .and_then(|room| self.chat.room_named(room))
            .map(|room| self.chat.room_users(room))
            .unwrap_or_default();
        PageSnapshot {
            presence: self.chat.presence_list(),
            room_users,
            statuses: self.chat.statuses(),
            present: self.chat.present_counts().into_iter().collect(),
        }
    }
}
