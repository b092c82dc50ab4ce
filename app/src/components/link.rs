use leptos::prelude::*;

use crate::route::Route;

/// A link to a page of the app: a plain link on the server (and without JavaScript); in
/// the browser app it shows the page without a reload (a click with a modifier key
/// still opens it the browser's way).
#[component]
pub fn Link(
    route: Route,
    #[prop(optional, into)] class: Signal<String>,
    #[prop(optional)] testid: &'static str,
    children: Children,
) -> impl IntoView {
    let href = route.path();
    #[cfg(feature = "hydrate")]
    let on_click = {
        let chat = crate::use_chat();
        move |ev: leptos::ev::MouseEvent| {
            if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()
            {
                return;
            }
            ev.prevent_default();
            crate::client::router::go(chat.store, &chat.outbox, route.clone());
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let on_click = {
        drop(route);
        |_: leptos::ev::MouseEvent| {}
    };
    view! {
        <a href=href class=move || class.get() data-testid=testid on:click=on_click>
            {children()}
        </a>
    }
}
