use leptos::prelude::*;

use crate::model::{ChatLine, LineKind};

/// One line of the conversation. Names and messages are text nodes, never HTML.
#[component]
pub fn ChatLineView(line: ChatLine) -> impl IntoView {
    let (class, sender) = match line.kind {
        LineKind::Server => ("server", None),
        LineKind::Notice => ("notice", None),
        LineKind::Message { sender, own: false } => ("message", Some(sender)),
        LineKind::Message { sender, own: true } => ("message own", Some(sender)),
    };
    view! {
        <li class=class>
            {sender.map(|sender| view! { <span class="sender">{sender}</span> })}
            <span class="text">{line.text}</span>
        </li>
    }
}
