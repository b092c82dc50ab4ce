use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;

use crate::client::{new_client_id, now_ms};
use crate::protocol::limits;
use crate::route::{percent_encode, Route};
use crate::use_chat;

/// While typing, `typing` is re-sent at most this often (the server's lease is 3 s).
const TYPING_RENEW_MS: f64 = 1000.0;

/// The message box of the conversation shown: Enter or Send posts; typing is announced to
/// the others. A message shows at once, pending until the server has stored it, even while
/// disconnected. Without JavaScript it is a plain form that posts to the server.
#[component]
pub fn MessageInput() -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let outbox = chat.outbox.clone();
    let text = RwSignal::new(String::new());
    // When `typing` was last sent, while the lease is believed active.
    let typing_since = StoredValue::new(None::<f64>);
    let input = NodeRef::<Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            if input.focus().is_err() {
                leptos::logging::warn!("cannot focus the message input");
            }
        }
    });

    let on_input = {
        let outbox = outbox.clone();
        move |ev| {
            let value = event_target_value(&ev);
            let empty = value.trim().is_empty();
            text.set(value);
            let now = now_ms();
            let is_typing = match typing_since.get_value() {
                Some(_) if empty => {
                    typing_since.set_value(None);
                    false
                }
                Some(sent) if now - sent < TYPING_RENEW_MS => return,
                _ if empty => return,
                _ => {
                    typing_since.set_value(Some(now));
                    true
                }
            };
            if let Some(request) = store.typing(is_typing) {
                outbox.send(request);
            }
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let message = text.get_untracked();
        if message.trim().is_empty() {
            return;
        }
        // The server ends the typing lease when the message arrives.
        typing_since.set_value(None);
        if let Some(request) = store.compose(&message, new_client_id()) {
            outbox.send(request);
        }
        text.set(String::new());
    };
    // Without JavaScript the form posts itself; the server stores it and shows the page.
    let action = move || match store.route.get() {
        Route::Room(room) => format!("/r/{}/messages", percent_encode(&room)),
        Route::Direct(name) => format!("/dm/{}/messages", percent_encode(&name)),
        Route::Rooms => "/".to_owned(),
    };
    view! {
        <form class="composer" method="post" action=action on:submit=on_submit>
            <input
                node_ref=input
                data-testid="message-input"
                aria-label="Message"
                name="text"
                placeholder="Write a message…"
                autocomplete="off"
                maxlength=limits::MESSAGE_MAX_CHARS
                prop:value=text
                on:input=on_input
            />
            <button type="submit" data-testid="send-button">"Send"</button>
        </form>
    }
}
