use leptos::prelude::*;

use crate::protocol::PresenceStatus;

/// A dot showing someone's presence: online, away or offline (`data-status`, which the
/// stylesheet colours).
#[component]
pub fn PresenceDot(#[prop(into)] status: Signal<PresenceStatus>) -> impl IntoView {
    view! {
        <span class="dot" data-testid="presence" data-status=move || status.get().as_str()></span>
    }
}
