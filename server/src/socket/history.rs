//! `history`: pages of stored messages, read from storage.

use app::protocol::{HistoryReply, RejectionReason};
use serde_json::Value;

use crate::chat::{validate_history, HistoryRange};
use crate::storage::Store;

/// What `history` reads from: the store, and the most messages a catch-up
/// (`history {after}`) returns before asking the client to resync.
#[derive(Debug, Clone)]
pub struct HistoryReader {
    pub store: Store,
    pub catch_up_max: u32,
}

/// Answers one `history` request.
pub async fn answer(reader: &HistoryReader, raw: &Value) -> HistoryReply {
    let store = &reader.store;
    let query = match validate_history(raw) {
        Ok(query) => query,
        Err(reason) => return HistoryReply::refused(reason),
    };
    let conversation = match store.conversation(&query.conversation).await {
        Ok(Some(conversation)) => conversation,
        Ok(None) => return HistoryReply::refused(RejectionReason::UnknownConversation),
        Err(error) => {
            tracing::error!(%error, "cannot read a conversation");
            return HistoryReply::refused(RejectionReason::StorageFailed);
        }
    };
    let page = match query.range {
        HistoryRange::Before { before, limit } => {
            store.page_before(conversation, before, limit).await
        }
        HistoryRange::After(after) => {
            store
                .page_after(conversation, after, reader.catch_up_max)
                .await
        }
    };
    match page {
        Ok(page) => HistoryReply::page(page.messages, page.has_more, page.resync),
        Err(error) => {
            tracing::error!(%error, "cannot read history");
            HistoryReply::refused(RejectionReason::StorageFailed)
        }
    }
}
