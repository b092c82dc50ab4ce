//! The page around the app: its visibility (away, and the unread count in the title while
//! hidden) and the reader's time zone.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::model::ChatStore;
use crate::Outbox;

/// The title of the page with nothing unread.
const TITLE: &str = "Chat";

/// Follows the page's visibility and keeps the title's unread count; switches times to the
/// reader's zone. Lives as long as the page.
pub fn watch_page(store: ChatStore, outbox: Outbox) {
    // Effects run once the app has hydrated.
    Effect::new(move |_| {
        store.local_time.set(true);
        mark_ready();
    });
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    for request in store.set_hidden(document.hidden()) {
        outbox.send(request);
    }
    let on_change = Closure::<dyn FnMut()>::new({
        let document = document.clone();
        move || {
            for request in store.set_hidden(document.hidden()) {
                outbox.send(request);
            }
        }
    });
    if document
        .add_event_listener_with_callback("visibilitychange", on_change.as_ref().unchecked_ref())
        .is_err()
    {
        leptos::logging::warn!("cannot follow the page's visibility");
    }
    // The listener lives as long as the page.
    on_change.forget();
    Effect::new(move |_| {
        let unread = if store.hidden.get() {
            store.total_unread()
        } else {
            0
        };
        let title = match unread {
            0 => TITLE.to_owned(),
            unread => format!("({unread}) {TITLE}"),
        };
        document.set_title(&title);
    });
}

/// Tells tests (and styles) that the app is live: `<body data-hydrated="true">`.
fn mark_ready() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        if body.set_attribute("data-hydrated", "true").is_err() {
            leptos::logging::warn!("cannot mark the page ready");
        }
    }
}
