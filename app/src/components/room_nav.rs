use leptos::prelude::*;

use super::link::Link;
use super::unread_badge::UnreadBadge;
use crate::route::{ConvKey, Route};
use crate::use_chat;

/// The rooms you are in, `general` first, each with its unread count.
#[component]
pub fn RoomNav() -> impl IntoView {
    let store = use_chat().store;
    let rooms = move || {
        store.conversations.with(|all| {
            let mut rooms: Vec<String> = all
                .iter()
                .filter(|(key, c)| matches!(key, ConvKey::Room(_)) && c.member)
                .map(|(_, c)| c.name.clone())
                .collect();
            rooms.sort_by_key(|name| (name != crate::protocol::GENERAL, name.clone()));
            rooms
        })
    };
    view! {
        <h2>"Rooms"</h2>
        <ul class="nav" data-testid="rooms">
            <For each=rooms key=|room| room.clone() children=move |room: String| {
                let key = ConvKey::Room(room.clone());
                let active = {
                    let key = key.clone();
                    move || store.route.with(|r| r.conversation().as_ref() == Some(&key))
                };
                let unread = Signal::derive(move || {
                    store.conversations.with(|all| all.get(&key).map_or(0, |c| c.unread))
                });
                let class = Signal::derive(move || if active() { "active".to_owned() } else { String::new() });
                let route = Route::room(&room);
                let data = room.clone();
                view! {
                    <li data-testid="room" data-room=data>
                        <Link route class testid="room-link">
                            <span class="name">"#" {room}</span>
                            <UnreadBadge count=unread/>
                        </Link>
                    </li>
                }
            }/>
        </ul>
    }
}
