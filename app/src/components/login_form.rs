use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::model::LoginError;
use crate::protocol::{limits, ClientEvent};
use crate::use_chat;

/// Pick a name and join. The server decides whether the name is valid and free.
#[component]
pub fn LoginForm() -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let name = RwSignal::new(String::new());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        chat.outbox.send(ClientEvent::login(&name.get_untracked()));
    };
    view! {
        <section class="login">
            <h1>"Chat"</h1>
            <p class="lead">"Pick a name to join the lobby."</p>
            <form data-testid="login-form" on:submit=on_submit>
                <label for="name">"Your name"</label>
                <div class="row">
                    <input
                        id="name"
                        name="name"
                        data-testid="name-input"
                        autocomplete="nickname"
                        placeholder=format!("{} to {} characters", limits::NAME_MIN_CHARS, limits::NAME_MAX_CHARS)
                        bind:value=name
                    />
                    <button type="submit" data-testid="login-button">"Join"</button>
                </div>
                <p class="error" data-testid="login-error" role="alert">
                    {move || store.login_error.get().map(LoginError::message)}
                </p>
            </form>
            <noscript>
                <p class="error">"This chat needs JavaScript."</p>
            </noscript>
        </section>
    }
}
