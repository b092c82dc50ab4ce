use leptos::prelude::*;

use crate::protocol::PresenceStatus;

/// A dot showing someone's presence: online, away or offline.
#[component]
pub fn PresenceDot(#[prop(into)] status: Signal<PresenceStatus>) -> impl IntoView {
    view! {
        <span
            class=move || format!("dot {}", status.get().as_str())
            data-testid="presence"
            data-status=move || status.get().as_str()
            title=move || status.get().as_str()
        ></span>
    }
}
