use leptos::prelude::*;

use crate::model::{ChatLine, LineKind};

/// One line of the conversation. Names and messages are text nodes, never HTML.
#[component]
pub fn ChatLineView(line: ChatLine) -> impl IntoView {
    match line.kind {
        LineKind::Server => view! { <li class="server">{line.text}</li> }.into_any(),
        LineKind::Notice => view! { <li class="notice">{line.text}</li> }.into_any(),
        LineKind::Message { sender, own } => view! {
            <li class="message" class:own=own>
                <span class="sender">{sender}</span>
                <span class="text">{line.text}</span>
            </li>
        }
        .into_any(),
    }
}
