use leptos::either::Either;
use leptos::prelude::*;

use super::conversation_pane::ConversationPane;
use super::member_list::MemberList;
use super::rooms_browser::RoomsBrowser;
use super::sidebar::Sidebar;
use crate::route::Route;
use crate::use_chat;

/// The logged-in app: the sidebar (a drawer on phones, opened by the menu button, which
/// works without JavaScript too), the page shown, and who is in the room.
#[component]
pub fn ChatLayout() -> impl IntoView {
    let store = use_chat().store;
    let drawer = NodeRef::<leptos::html::Input>::new();
    // Following a link closes the drawer.
    Effect::new(move |_| {
        store.route.track();
        if let Some(drawer) = drawer.get_untracked() {
            drawer.set_checked(false);
        }
    });
    let notice = move || store.notice.get();
    view! {
        <div class="layout">
            <input type="checkbox" id="drawer" class="drawer-toggle" node_ref=drawer aria-hidden="true"/>
            <header class="topbar">
                <label for="drawer" class="menu" data-testid="menu" aria-label="Conversations">"☰"</label>
                <span class="brand">"Chat"</span>
            </header>
            <Sidebar/>
            <div class="page">
                {move || notice().map(|text| view! { <p class="notice-bar" data-testid="notice" role="alert">{text}</p> })}
                {move || match store.route.get() {
                    Route::Rooms => Either::Left(view! { <RoomsBrowser/> }),
                    _ => Either::Right(view! { <ConversationPane/> }),
                }}
            </div>
            <MemberList/>
        </div>
    }
}
