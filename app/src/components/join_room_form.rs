use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::use_chat;

/// Join a room by name, creating it if nobody has yet. Without JavaScript the form posts
/// itself and the server redirects to the room.
#[component]
pub fn JoinRoomForm() -> impl IntoView {
    let chat = use_chat();
    let name = RwSignal::new(String::new());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let wanted = name.get_untracked();
            if let Some(route) = chat.store.join_room(&wanted) {
                chat.outbox.send(crate::model::Request::Join(match &route {
                    crate::route::Route::Room(room) => room.clone(),
                    _ => wanted,
                }));
                crate::client::router::go(chat.store, &chat.outbox, route);
                name.set(String::new());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        drop(chat.clone());
    };
    view! {
        <form class="join-room" method="post" action="/rooms/join" on:submit=on_submit>
            <input
                name="room"
                data-testid="join-room-input"
                aria-label="Room name"
                placeholder="Join or create a room"
                autocomplete="off"
                maxlength=crate::protocol::limits::ROOM_NAME_MAX_CHARS
                bind:value=name
            />
            <button type="submit" data-testid="join-room-button">"Join"</button>
        </form>
    }
}
