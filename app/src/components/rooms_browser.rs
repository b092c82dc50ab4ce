use leptos::prelude::*;

use super::link::Link;
use crate::route::Route;
use crate::use_chat;

/// Every room, with how many members it has and how many are in it; open one to read
/// it, and join it from there.
#[component]
pub fn RoomsBrowser() -> impl IntoView {
    let store = use_chat().store;
    let rooms = move || store.all_rooms.get().unwrap_or_default();
    view! {
        <section class="rooms-browser" aria-label="All rooms">
            <header class="conversation-header">
                <h2 data-testid="conversation-title">"All rooms"</h2>
            </header>
            <ul class="all-rooms" data-testid="all-rooms">
                <For each=rooms key=|r| (r.room.clone(), r.members, r.online, r.member) children=move |info| {
                    let route = Route::room(&info.room);
                    let (data, label) = (info.room.clone(), info.room.clone());
                    view! {
                        <li data-testid="room-entry" data-room=data>
                            <Link route>"#" {label}</Link>
                            <span class="meta" data-testid="room-members">
                                {format!("{} members, {} online", info.members, info.online)}
                            </span>
                            {info.member.then(|| view! { <span class="tag">"joined"</span> })}
                        </li>
                    }
                }/>
            </ul>
        </section>
    }
}
