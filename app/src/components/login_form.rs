use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::model::LoginError;
use crate::protocol::limits;
use crate::use_chat;

/// Pick a name and join. The server decides whether the name is valid and free, and keeps
/// you logged in (a session cookie) across reloads. Without JavaScript the form posts
/// itself and the server redirects back.
#[component]
pub fn LoginForm() -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        if !busy.get_untracked() {
            busy.set(true);
            let outbox = chat.outbox.clone();
            let wanted = name.get_untracked();
            leptos::task::spawn_local(async move {
                match crate::client::http::log_in(&wanted).await {
                    Ok(me) => {
                        store.logged_in(me);
                        outbox.command(crate::Command::Connect);
                    }
                    Err(error) => store.login_error.set(Some(error)),
                }
                busy.set(false);
            });
        }
    };
    view! {
        <section class="login">
            <h1>"Chat"</h1>
            <p class="lead">"Pick a name to join the chat."</p>
            <form data-testid="login-form" method="post" action="/api/session" on:submit=on_submit>
                <input type="hidden" name="next" value=move || store.route.with(|r| r.path())/>
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
                    <button type="submit" data-testid="login-button" disabled=busy>"Join"</button>
                </div>
                <p class="error" data-testid="login-error" role="alert">
                    {move || store.login_error.get().map(LoginError::message)}
                </p>
            </form>
        </section>
    }
}
