use leptos::prelude::*;

use crate::model::Connection;
use crate::use_chat;

/// A banner while the connection is down.
#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let store = use_chat().store;
    let down = move || store.connection.get() == Connection::Reconnecting;
    view! {
        <div class="connection" class:down=down data-testid="connection" role="status">
            {move || if down() { "reconnecting…" } else { "" }}
        </div>
    }
}
