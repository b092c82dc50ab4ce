use leptos::prelude::*;

use crate::use_chat;

/// Who is online, with a count; you are highlighted.
#[component]
pub fn UserList() -> impl IntoView {
    let store = use_chat().store;
    view! {
        <aside class="users" data-testid="users" aria-label="Online users">
            <h2>
                "Online " <span class="count" data-testid="user-count">{move || store.users.with(Vec::len)}</span>
            </h2>
            <ul>
                <For each=move || store.users.get() key=|name| name.clone() children=move |name| {
                    let label = name.clone();
                    let is_me = move || store.me.with(|me| me.as_deref() == Some(name.as_str()));
                    view! { <li data-testid="user" class:me=is_me>{label}</li> }
                }/>
            </ul>
        </aside>
    }
}
