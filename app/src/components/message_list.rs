use leptos::html::Ul;
use leptos::prelude::*;

use super::chat_line_view::ChatLineView;
use crate::use_chat;

/// How close to the top (px) scrolling starts loading older messages.
const LOAD_MARGIN: i32 = 80;
/// How close to the bottom (px) counts as "reading the newest": new lines keep it there.
const BOTTOM_MARGIN: i32 = 40;

/// The conversation. Stays scrolled to the newest line while you are there; scrolling up
/// loads older pages, keeping what you look at in place, until the first message.
#[component]
pub fn MessageList() -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let list = NodeRef::<Ul>::new();
    // Where the list was before the last change: (scroll height, scroll top, at bottom).
    let last = StoredValue::new((0, 0, true));
    let first_key = StoredValue::new(None::<u64>);

    let lines = Memo::new(move |_| store.lines());
    let first_unread = Memo::new(move |_| store.with_current(|c| c.and_then(|c| c.first_unread())));
    let seen = Memo::new(move |_| store.with_current(|c| c.and_then(|c| c.seen())));
    let (has_more, loading) = (
        move || store.with_current(|c| c.is_some_and(|c| c.has_more)),
        move || store.with_current(|c| c.is_some_and(|c| c.loading_older)),
    );
    Effect::new(move |_| {
        let first = lines.with(|lines| lines.first().map(|l| l.key));
        let Some(list) = list.get() else { return };
        let (height, top, at_bottom) = last.get_value();
        let prepended = first_key.get_value().is_some() && first != first_key.get_value();
        first_key.set_value(first);
        if at_bottom {
            list.set_scroll_top(list.scroll_height());
        } else if prepended {
            // Older lines went in above: keep the same lines in view.
            list.set_scroll_top(top + list.scroll_height() - height);
        }
        remember(&list, last);
    });

    let load_older = {
        let outbox = chat.outbox.clone();
        move || {
            if let Some(request) = store.load_older() {
                outbox.send(request);
            }
        }
    };
    let on_scroll = {
        let load_older = load_older.clone();
        move |_| {
            let Some(list) = list.get_untracked() else {
                return;
            };
            remember(&list, last);
            if list.scroll_top() < LOAD_MARGIN {
                load_older();
            }
        }
    };
    view! {
        <ul class="messages" data-testid="messages" node_ref=list aria-live="polite" on:scroll=on_scroll>
            <li class="history-edge">
                <span data-testid="history-edge">
                    {move || match (has_more(), loading()) {
                        (_, true) => "Loading older messages…",
                        (true, false) => "",
                        (false, false) => "This is the beginning of the conversation.",
                    }}
                </span>
                <button
                    class="older"
                    data-testid="load-older"
                    hidden=move || !has_more()
                    on:click={
                        let load_older = load_older.clone();
                        move |_| load_older()
                    }
                >
                    "Load older messages"
                </button>
            </li>
            <For each=move || lines.get() key=|line| line.render_key() let:line>
                <ChatLineView line first_unread seen/>
            </For>
        </ul>
    }
}

fn remember(list: &leptos::web_sys::Element, last: StoredValue<(i32, i32, bool)>) {
    let (height, top) = (list.scroll_height(), list.scroll_top());
    let at_bottom = height - top - list.client_height() <= BOTTOM_MARGIN;
    last.set_value((height, top, at_bottom));
}
