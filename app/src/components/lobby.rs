use leptos::prelude::*;

use super::logout_button::LogoutButton;
use super::message_input::MessageInput;
use super::message_list::MessageList;
use super::typing_indicator::TypingIndicator;
use super::user_list::UserList;

/// The lobby: the conversation and who is online.
#[component]
pub fn Lobby() -> impl IntoView {
    view! {
        <div class="lobby">
            <section class="conversation" aria-label="Lobby">
                <MessageList/>
                <TypingIndicator/>
                <MessageInput/>
            </section>
            <div class="side">
                <LogoutButton/>
                <UserList/>
            </div>
        </div>
    }
}
