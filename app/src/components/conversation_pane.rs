use leptos::prelude::*;

use super::conversation_header::ConversationHeader;
use super::message_input::MessageInput;
use super::message_list::MessageList;
use super::typing_indicator::TypingIndicator;
use crate::use_chat;

/// The conversation shown: its name, messages, who is typing, and the message box (for
/// a room you are in).
#[component]
pub fn ConversationPane() -> impl IntoView {
    let store = use_chat().store;
    let member = move || store.with_current(|c| c.is_some_and(|c| c.member));
    view! {
        <section class="conversation" aria-label="Conversation">
            <ConversationHeader/>
            <MessageList/>
            <TypingIndicator/>
            <Show
                when=member
                fallback=|| view! { <p class="not-member" data-testid="not-member">"Join this room to write in it."</p> }
            >
                <MessageInput/>
            </Show>
        </section>
    }
}
