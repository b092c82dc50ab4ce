use leptos::prelude::*;

use super::direct_nav::DirectNav;
use super::join_room_form::JoinRoomForm;
use super::link::Link;
use super::logout_button::LogoutButton;
use super::room_nav::RoomNav;
use crate::route::Route;

/// Who you are, your rooms, a way to join or find one, and your direct conversations. A
/// drawer on small screens.
#[component]
pub fn Sidebar() -> impl IntoView {
    view! {
        <nav class="sidebar" data-testid="sidebar" aria-label="Conversations">
            <LogoutButton/>
            <RoomNav/>
            <JoinRoomForm/>
            <Link route=Route::Rooms class="browse" testid="browse-rooms">"Browse all rooms"</Link>
            <DirectNav/>
        </nav>
    }
}
