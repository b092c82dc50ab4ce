use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::use_chat;

/// Who you are, and a way out: ends the session and frees the name. A plain form, so it
/// also works without JavaScript.
#[component]
pub fn LogoutButton() -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let outbox = chat.outbox.clone();
            leptos::task::spawn_local(async move {
                match crate::client::http::log_out().await {
                    Ok(()) => {
                        store.logged_out(None);
                        outbox.command(crate::Command::Disconnect);
                    }
                    Err(error) => leptos::logging::warn!("log-out failed: {error}"),
                }
            });
        }
    };
    view! {
        <form class="me" method="post" action="/api/logout" on:submit=on_submit>
            <span data-testid="me">{move || store.me.with(|me| me.as_ref().map(|me| me.name.clone()))}</span>
            <button type="submit" data-testid="logout-button">"Log out"</button>
        </form>
    }
}
