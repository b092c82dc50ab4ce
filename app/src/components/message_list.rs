use leptos::html::Ul;
use leptos::prelude::*;

use super::chat_line_view::ChatLineView;
use crate::use_chat;

/// Every line of the conversation, kept scrolled to the newest.
#[component]
pub fn MessageList() -> impl IntoView {
    let store = use_chat().store;
    let list = NodeRef::<Ul>::new();
    Effect::new(move |_| {
        store.lines.track();
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
    view! {
        <ul class="messages" data-testid="messages" node_ref=list aria-live="polite">
            <For each=move || store.lines.get() key=|line| line.id let:line>
                <ChatLineView line/>
            </For>
        </ul>
    }
}
