//! Keeps your unsent messages in the tab's `sessionStorage`, so a reload while the server
//! is out of reach loses none: they come back pending and go out once welcomed. Per tab
//! (two tabs never overwrite each other's), gone when the tab closes.

use leptos::prelude::*;

use super::json;
use web_sys::Storage;

use crate::model::{ChatStore, SavedUnsent};
use crate::Outbox;

const KEY: &str = "chat.unsent";

/// Puts back what the last page of this tab left unsent, then saves every change.
pub fn keep_unsent(store: ChatStore, outbox: Outbox) {
    // An effect: it first runs once the app has hydrated (lines added before that would
    // not match the server's HTML), and again whenever the unsent messages change. It
    // returns what it saved, to skip writing the same again.
    Effect::new(move |saved: Option<Option<String>>| {
        if saved.is_none() {
            if let Some(previous) = load() {
                for request in store.restore_unsent(previous) {
                    outbox.send(request);
                }
            }
        }
        let now = store
            .unsent()
            .filter(|unsent| !unsent.conversations.is_empty())
            .and_then(|unsent| match json::to_string(&unsent) {
                Ok(json) => Some(json),
                Err(error) => {
                    leptos::logging::warn!("cannot save unsent messages: {error}");
                    None
                }
            });
        if saved.as_ref() != Some(&now) {
            save(now.as_deref());
        }
        now
    });
}

fn storage() -> Option<Storage> {
    match web_sys::window().map(|w| w.session_storage()) {
        Some(Ok(Some(storage))) => Some(storage),
        _ => {
            leptos::logging::warn!("no sessionStorage: unsent messages will not survive a reload");
            None
        }
    }
}

fn load() -> Option<SavedUnsent> {
    let json = storage()?.get_item(KEY).ok()??;
    match json::from_str(&json) {
        Ok(saved) => Some(saved),
        Err(error) => {
            leptos::logging::warn!("ignoring unreadable unsent messages: {error}");
            None
        }
    }
}

fn save(json: Option<&str>) {
    let Some(storage) = storage() else { return };
    let written = match json {
        Some(json) => storage.set_item(KEY, json),
        None => storage.remove_item(KEY),
    };
    if written.is_err() {
        leptos::logging::warn!("cannot save unsent messages (storage full or disabled)");
    }
}
