use leptos::either::Either;
use leptos::prelude::*;

use super::chat_layout::ChatLayout;
use super::connection_status::ConnectionStatus;
use super::login_form::LoginForm;
use crate::model::{ChatStore, InitialState};
use crate::{ChatContext, Outbox};

/// The chat: the login view until you have a session, then your conversations. Starts
/// from what the server rendered (who you are, your conversations, who is online, the
/// newest history of the one shown).
#[component]
pub fn App() -> impl IntoView {
    let store = ChatStore::new(InitialState::current());
    let (sender, receiver) = futures::channel::mpsc::unbounded();
    let outbox = Outbox(sender);
    provide_context(ChatContext {
        store,
        outbox: outbox.clone(),
    });

    #[cfg(feature = "hydrate")]
    {
        crate::client::watch_page(store, outbox.clone());
        crate::client::router::follow_history(store, outbox.clone());
        crate::client::keep_unsent(store, outbox);
        leptos::task::spawn_local(crate::client::run(store, receiver));
    }
    #[cfg(not(feature = "hydrate"))]
    drop((outbox, receiver));

    view! {
        <main class="chat">
            <ConnectionStatus/>
            {move || match store.me.with(Option::is_some) {
                true => Either::Left(view! { <ChatLayout/> }),
                false => Either::Right(view! { <LoginForm/> }),
            }}
        </main>
    }
}
