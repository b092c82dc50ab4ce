use leptos::either::EitherOf3;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::protocol::GENERAL;
use crate::route::{percent_encode, Route};
use crate::use_chat;

/// The conversation's name, and for a room you can leave (not `general`) a way out; for a
/// room you are not in, a way in. Plain forms: they work without JavaScript.
#[component]
pub fn ConversationHeader() -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let title = move || match store.route.get() {
        Route::Room(room) => format!("#{room}"),
        Route::Direct(name) => store.with_current(|c| c.map_or(name, |c| c.name.clone())),
        Route::Rooms => "Rooms".to_owned(),
    };
    let member = move || store.with_current(|c| c.is_some_and(|c| c.member));
    let action = move || {
        let outbox = chat.outbox.clone();
        match store.route.get() {
            Route::Room(room) if room != GENERAL && member() => {
                let path = format!("/r/{}/leave", percent_encode(&room));
                let on_submit = move |ev: SubmitEvent| {
                    ev.prevent_default();
                    #[cfg(feature = "hydrate")]
                    {
                        outbox.send(crate::model::Request::Leave(room.clone()));
                        crate::client::router::go(store, &outbox, Route::default());
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = (&outbox, &room);
                };
                EitherOf3::A(view! {
                    <form method="post" action=path on:submit=on_submit>
                        <button type="submit" class="leave" data-testid="leave-room">"Leave"</button>
                    </form>
                })
            }
            Route::Room(room) if !member() => {
                let path = format!("/r/{}/join", percent_encode(&room));
                let on_submit = move |ev: SubmitEvent| {
                    ev.prevent_default();
                    #[cfg(feature = "hydrate")]
                    outbox.send(crate::model::Request::Join(room.clone()));
                    #[cfg(not(feature = "hydrate"))]
                    let _ = (&outbox, &room);
                };
                EitherOf3::B(view! {
                    <form method="post" action=path on:submit=on_submit>
                        <button type="submit" class="join" data-testid="join-this-room">"Join this room"</button>
                    </form>
                })
            }
            _ => EitherOf3::C(()),
        }
    };
    view! {
        <header class="conversation-header">
            <h2 data-testid="conversation-title">{title}</h2>
            {action}
        </header>
    }
}
