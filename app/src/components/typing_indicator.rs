use leptos::prelude::*;

use crate::model::typing_text;
use crate::use_chat;

/// Who is typing in the conversation shown: "Ann is typing…", "Ann and Bob are
/// typing…", "3 people are typing…".
#[component]
pub fn TypingIndicator() -> impl IntoView {
    let store = use_chat().store;
    view! {
        <p class="typing" data-testid="typing" aria-live="polite">
            {move || store.with_current(|c| c.map(|c| typing_text(&c.typing)).unwrap_or_default())}
        </p>
    }
}
