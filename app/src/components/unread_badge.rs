use leptos::prelude::*;

/// The number of unread messages of a conversation; nothing when there are none.
#[component]
pub fn UnreadBadge(#[prop(into)] count: Signal<u64>) -> impl IntoView {
    move || {
        let count = count.get();
        (count > 0).then(|| view! { <span class="badge" data-testid="badge">{count}</span> })
    }
}
